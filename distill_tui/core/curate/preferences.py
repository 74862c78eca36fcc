"""What curation teaches besides the accepted rows: preference pairs and
labelled rows for DPO and KTO, and their export beside the SFT split.

- An edited, accepted row is a pair: the human's edit is *chosen*, the
  teacher's answer *rejected* (source "edit").
- An accepted row whose earlier answer was rejected (and then regenerated) is a
  pair: the accepted answer is chosen, each rejected answer rejected (source
  "regen"). A rejection names its generation (events.generation_id); one
  recorded before that column existed is matched to the answer the row held at
  the time of the event.
- An accepted row the trained student answered wrongly is a pair: the
  accepted answer chosen, the student's own answer rejected (source
  "student"; `distill-tui pairs --from RUN`, engine/train/student_pairs.py).
  These fix what *this* student gets wrong (on-policy pairs, as in CLAIR,
  arXiv 2408.06266).
- Every accepted answer is a desirable row and every rejected answer an
  undesirable one in TRL's KTO format `{prompt, completion, label}`.

The same (row, chosen, rejected) is one pair, whichever way it was made (a
row rejected, regenerated to the same text, then edited is one pair, not two).

The split follows the SFT export's (core/dataset/export.py): the same input
groups, and a group with a row in SFT valid or test goes to preference valid,
so no preference-train row is one the SFT validation measures. Groups with no
accepted row take a side from the seed and their own text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.config import Project
from distill_tui.core.curate.curation import original_output
from distill_tui.core.dataset.export import (
    Sample,
    _group_keys,
    _rank,
    _write_all,
    accepted_samples,
    near_duplicate_links,
    split_samples,
)
from distill_tui.core.store import Store
from distill_tui.core.train.objectives import reads_sft_split

SOURCES = ("edit", "regen", "student")
MANIFEST = "pref.json"
FILES = ("train.jsonl", "valid.jsonl", "kto_train.jsonl", "kto_valid.jsonl")


@dataclass(frozen=True)
class Pair:
    row_id: int
    input: str
    chosen: str
    rejected: str
    source: str  # "edit" | "regen"


@dataclass(frozen=True)
class Labelled:
    row_id: int
    input: str
    completion: str
    label: bool  # desirable
    source: str  # "accepted" | "rejected" | a pair's source


@dataclass(frozen=True)
class PrefExportResult:
    counts: dict[str, int]  # train/valid pairs, kto_train/kto_valid rows
    by_source: dict[str, int]
    paths: list[Path]


def _rejected_generations(store: Store, row_id: int, current: int | None) -> list[int]:
    """Generations of this row a reviewer rejected, other than the current one,
    oldest first. An event without a generation id (recorded before the column
    existed) means the answer the row held then: the newest generation created
    no later than the event."""
    c = store.conn
    found: list[int] = []
    for gen_id, after, at in c.execute(
        "SELECT generation_id, after, at FROM events WHERE row_id = ? AND kind = 'decision'"
        " ORDER BY id",
        (row_id,),
    ):
        if json.loads(after or "{}").get("decision") != "rejected":
            continue
        if gen_id is None:
            g = c.execute(
                "SELECT id FROM generations WHERE row_id = ? AND created_at <= ?"
                " ORDER BY created_at DESC, id DESC LIMIT 1",
                (row_id, at),
            ).fetchone()
            gen_id = None if g is None else g[0]
        if gen_id is not None and gen_id != current and gen_id not in found:
            found.append(int(gen_id))
    return found


def pairs(store: Store) -> list[Pair]:
    """Every preference pair the curation history holds, by row id."""
    c = store.conn
    out: list[Pair] = []
    for r in c.execute(
        "SELECT id, input, output, edited, generation_id FROM rows"
        " WHERE decision = 'accepted' AND status = 'done' AND output IS NOT NULL ORDER BY id"
    ).fetchall():
        chosen = r["output"]
        if r["edited"]:
            original = original_output(store, r["id"])
            if original is not None and original != chosen:
                out.append(Pair(r["id"], r["input"], chosen, original, "edit"))
        for gen_id in _rejected_generations(store, r["id"], r["generation_id"]):
            (text,) = c.execute("SELECT output FROM generations WHERE id = ?", (gen_id,)).fetchone()
            if text != chosen:
                out.append(Pair(r["id"], r["input"], chosen, text, "regen"))
        for text, revision in c.execute(
            "SELECT answer, revision FROM student_answers WHERE row_id = ? ORDER BY id",
            (r["id"],),
        ).fetchall():
            better = revision if revision and revision.strip() != text.strip() else chosen
            if text.strip() != better.strip():
                out.append(Pair(r["id"], r["input"], better, text, "student"))
    seen: set[tuple[int, str, str]] = set()
    unique = []
    for p in out:
        key = (p.row_id, p.chosen, p.rejected)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


_SOURCE_WORDS = {
    "edit": "from edits",
    "regen": "from regenerations",
    "student": "from the student's mistakes",
}


def sources_text(by_source: dict[str, int]) -> str:
    """'8 from edits, 6 from regenerations' (sources with no pair left out)."""
    parts = [f"{by_source.get(k, 0)} {w}" for k, w in _SOURCE_WORDS.items() if by_source.get(k)]
    return ", ".join(parts) or "none yet"


def add_student_answers(
    store: Store,
    run_id: str,
    answers: list[tuple[int, str]],
    revisions: dict[tuple[int, str], str] | None = None,
) -> int:
    """Keep the student's wrong answers (row id, answer) as the rejected side
    of pairs, with the teacher's minimal revision of each where there is one
    (`revisions`, the chosen side then); returns how many are new (the same
    answer to a row is kept once)."""
    import time

    revised = revisions or {}
    with store.tx() as c:
        before = c.execute("SELECT COUNT(*) FROM student_answers").fetchone()[0]
        c.executemany(
            "INSERT OR IGNORE INTO student_answers (row_id, run_id, answer, revision,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            [
                (row_id, run_id, text, revised.get((row_id, text)), time.time())
                for row_id, text in answers
            ],
        )
        after = c.execute("SELECT COUNT(*) FROM student_answers").fetchone()[0]
    return int(after - before)


def labelled(store: Store, found: list[Pair] | None = None) -> list[Labelled]:
    """KTO rows: every accepted answer desirable, every rejected answer (the
    rejected side of each pair and each row rejected now) undesirable."""
    found = pairs(store) if found is None else found
    by_row: dict[int, list[Pair]] = {}
    for p in found:
        by_row.setdefault(p.row_id, []).append(p)
    out: list[Labelled] = []
    for r in store.conn.execute(
        "SELECT id, input, output, decision FROM rows WHERE decision IS NOT NULL"
        " AND status = 'done' AND output IS NOT NULL ORDER BY id"
    ):
        good = r["decision"] == "accepted"
        out.append(Labelled(r["id"], r["input"], r["output"], good, r["decision"]))
        for p in by_row.get(r["id"], []):
            out.append(Labelled(p.row_id, p.input, p.rejected, False, p.source))
    return out


def counts(store: Store) -> dict[str, int]:
    """Pairs by source and KTO rows by label, for the Train screen."""
    found = pairs(store)
    rows = labelled(store, found)
    out = {s: sum(p.source == s for p in found) for s in SOURCES}
    out["desirable"] = sum(r.label for r in rows)
    out["undesirable"] = sum(not r.label for r in rows)
    return out


def sides(store: Store, settings: Project, row_ids: set[int], seed: int) -> dict[int, str]:
    """row id -> "train" | "valid", leak-free against the SFT split."""
    split = settings.split
    accepted = accepted_samples(store)
    sft = split_samples(
        accepted,
        split.valid_fraction,
        split.test_fraction,
        seed,
        settings.train.batch_size,
        near_duplicate_links(store),
    )
    sft_side = {s.row_id: ("train" if k == "train" else "valid") for k, v in sft.items() for s in v}
    have = {s.row_id for s in accepted}
    extra = [
        Sample(r[0], r[1], "")
        for r in store.conn.execute("SELECT id, input FROM rows ORDER BY id")
        if r[0] in row_ids and r[0] not in have
    ]
    keys = _group_keys([*accepted, *extra], near_duplicate_links(store))
    group_side: dict[str, str] = {}
    for row_id, key in keys.items():
        side = sft_side.get(row_id)
        if side is not None and group_side.get(key) != "valid":
            group_side[key] = side
    held_out = split.valid_fraction + split.test_fraction
    out: dict[int, str] = {}
    for row_id in row_ids:
        key = keys[row_id]
        if key not in group_side:
            # No accepted row in the group: a side from the seed and its text alone.
            group_side[key] = "valid" if int(_rank(seed, key), 16) / 16**64 < held_out else "train"
        out[row_id] = group_side[key]
    return out


def _record(settings: Project, fmt: str, inp: str, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"prompt": inp}
    if fmt == "chat" and settings.task.instructions.strip():
        rec["system"] = settings.task.instructions
    rec.update(fields)
    return rec


def export_preferences(
    root: Path, store: Store, settings: Project, fmt: str | None = None, seed: int | None = None
) -> PrefExportResult:
    """Write data/pref/{train,valid}.jsonl (pairs) and kto_{train,valid}.jsonl."""
    fmt = fmt or settings.split.format
    seed = settings.split.seed if seed is None else seed
    found = pairs(store)
    rows = labelled(store, found)
    side = sides(store, settings, {p.row_id for p in found} | {r.row_id for r in rows}, seed)
    lines: dict[str, list[str]] = {name: [] for name in FILES}

    def put(name: str, rec: dict[str, Any]) -> None:
        lines[name].append(json.dumps(rec, ensure_ascii=False) + "\n")

    for p in found:
        put(
            f"{side[p.row_id]}.jsonl",
            _record(
                settings,
                fmt,
                p.input,
                chosen=p.chosen,
                rejected=p.rejected,
                source=p.source,
                row_id=p.row_id,
            ),
        )
    for r in rows:
        put(
            f"kto_{side[r.row_id]}.jsonl",
            _record(
                settings,
                fmt,
                r.input,
                completion=r.completion,
                label=r.label,
                source=r.source,
                row_id=r.row_id,
            ),
        )
    out_dir = paths.pref_dir(root)
    files = {out_dir / name: "".join(lines[name]).encode("utf-8") for name in FILES}
    cnt = {name.removesuffix(".jsonl"): len(lines[name]) for name in FILES}
    by_source = {s: sum(p.source == s for p in found) for s in SOURCES}
    manifest = {
        "format": fmt,
        "seed": seed,
        "counts": cnt,
        "by_source": by_source,
        "files": {p.name: hashlib.sha256(d).hexdigest() for p, d in files.items()},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = {out_dir / MANIFEST: (json.dumps(manifest, indent=1) + "\n").encode(), **files}
    _write_all(ordered, [])
    return PrefExportResult(cnt, by_source, sorted(ordered))


def export_for_run(root: Path, store: Store, settings: Project, objective: str) -> str:
    """Export what a run of `objective` trains on (data/, and data/pref/ for
    DPO and KTO); returns what was written, in one line."""
    from distill_tui.core.dataset.export import export_dataset

    res = export_dataset(root, store, settings)
    said = ", ".join(f"{k} {n}" for k, n in res.counts.items() if n) + " rows to data/"
    if not reads_sft_split(objective):
        pref = export_preferences(root, store, settings)
        c = pref.counts
        said += f"; pairs train {c['train']}, valid {c['valid']} to data/pref/"
    return said
