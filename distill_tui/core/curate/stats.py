"""Numbers for the curator's stats panel: counts, the token-length spread of
accepted rows, and how much data the task needs against what is accepted."""

from __future__ import annotations

from dataclasses import dataclass

from distill_tui.core.store import Store

# The distillation guide's rule of thumb for how many good examples a task needs.
TASK_SIZES: tuple[tuple[str, int, int], ...] = (
    ("simple classification", 100, 500),
    ("text transformation", 500, 2_000),
    ("complex generation", 2_000, 10_000),
)


@dataclass(frozen=True)
class Stats:
    counts: dict[str, int]  # status and decision counts, plus flagged
    accepted_tokens: list[int]  # templated student tokens (or chars // 4 if unknown)
    tokens_estimated: bool


def stats(store: Store) -> Stats:
    c = store.conn
    counts = {k: int(v) for k, v in store.counts().items() if isinstance(v, int)}
    counts["flagged"] = int(
        c.execute(
            "SELECT COUNT(*) FROM checks k JOIN rows r ON r.id = k.row_id WHERE k.flags != ''"
        ).fetchone()[0]
    )
    toks: list[int] = []
    estimated = False
    for tokens, chars in c.execute(
        "SELECT k.tokens, length(r.input) + length(r.output) FROM rows r"
        " LEFT JOIN checks k ON k.row_id = r.id WHERE r.decision = 'accepted'"
    ):
        if tokens is None:
            # Before the checks have tokenized, four characters a token is the
            # usual English estimate; the panel says it is an estimate.
            estimated = True
            tokens = (chars or 0) // 4
        toks.append(int(tokens))
    return Stats(counts, toks, estimated)


def histogram(values: list[int], bins: int = 8) -> list[tuple[int, int, int]]:
    """(low, high, count) buckets of equal width covering the values."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    width = max(1, -(-(hi - lo + 1) // bins))
    out = [[lo + i * width, lo + (i + 1) * width - 1, 0] for i in range(bins)]
    for v in values:
        out[min((v - lo) // width, bins - 1)][2] += 1
    while out and out[-1][2] == 0:
        out.pop()
    return [(a, b, n) for a, b, n in out]


def percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def size_verdicts(accepted: int) -> list[tuple[str, str, str]]:
    """(task kind, guide range, verdict) for the panel's table."""
    out = []
    for kind, lo, hi in TASK_SIZES:
        if accepted < lo:
            verdict = f"{lo - accepted:,} short"
        elif accepted <= hi:
            verdict = "in range"
        else:
            verdict = "more than enough"
        out.append((kind, f"{lo:,}-{hi:,}", verdict))
    return out
