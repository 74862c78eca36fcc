"""What the teacher cost outside the generation queue: writing inputs like
the failing ones ("similar"), writing inputs for the topic tree or Magpie
("synth") and judging evaluation answers ("judge").

The `generations` table holds one teacher answer per dataset row, and these
requests answer no row, so a record there would show up in the curator as a
row's history. They are summed per purpose in the store's `meta` table
instead (key `teacher_costs`, a JSON object), so `status` and the Chat screen
can show them and nothing is paid without being counted.
"""

from __future__ import annotations

import json
from typing import Any

from distill_tui.core.generate.pricing import Usage
from distill_tui.core.store import Store

META_KEY = "teacher_costs"
SIMILAR = "similar"
JUDGE = "judge"
SYNTH = "synth"
REVISE = "revise"  # minimal revisions of the student's wrong answers (`pairs`)
# What each purpose is called where a total is broken down (`status`).
LABELS = {
    SYNTH: "synthesis",
    SIMILAR: "similar inputs",
    JUDGE: "judging",
    REVISE: "revising the student's answers",
}
_FIELDS = ("requests", "input_tokens", "output_tokens", "usd")


def _load(raw: str | None) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def record(store: Store, purpose: str, usage: Usage, usd: float | None) -> None:
    """Add one request's tokens and cost to `purpose`'s total (atomic, so two
    processes recording at once both count). A cost of None (no known price)
    is counted in `unknown` instead of being added as 0."""
    with store.tx() as c:
        row = c.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
        data = _load(row[0] if row else None)
        entry: dict[str, Any] = {k: 0 for k in _FIELDS} | data.get(purpose, {})
        entry["requests"] += 1
        entry["input_tokens"] += usage.input_tokens
        entry["output_tokens"] += usage.output_tokens
        if usd is None:
            entry["unknown"] = entry.get("unknown", 0) + 1
        else:
            entry["usd"] += usd
        data[purpose] = entry
        c.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (META_KEY, json.dumps(data))
        )


def totals(store: Store) -> dict[str, dict[str, float]]:
    """purpose -> {"requests", "input_tokens", "output_tokens", "usd"}."""
    return _load(store.get_meta(META_KEY))


def unknown_requests(store: Store) -> int:
    """Requests outside the queue whose cost is unknown (no price)."""
    return int(sum(v.get("unknown", 0) for v in totals(store).values()))


def total_usd(store: Store, purpose: str | None = None) -> float:
    data = totals(store)
    keys = [purpose] if purpose else list(data)
    return float(sum(data.get(k, {}).get("usd", 0.0) for k in keys))


def describe(store: Store) -> str:
    """Where the money outside the queue went, largest first:
    "$0.0120 for synthesis, $0.0010 for judging"; "" when nothing was."""
    data = totals(store)
    parts = sorted(
        ((float(v.get("usd", 0.0)), LABELS.get(k, k)) for k, v in data.items()),
        reverse=True,
    )
    return ", ".join(f"${usd:.4f} for {label}" for usd, label in parts if usd > 0)
