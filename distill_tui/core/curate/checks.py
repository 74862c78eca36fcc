"""Checks that flag rows worth a second look before training.

Flags: `duplicate` (same input once case and spacing are ignored),
`near-duplicate` (character 5-gram Jaccard >= 0.8, found with MinHash
buckets: core/dataset/dedup.py), `empty` output, `truncated` (the teacher stopped at max_tokens),
`too-long` (more than `[train] max_seq_length` tokens once templated for the
student, which mlx-lm would cut), `bad-json` (task.output_format = "json" and
the output does not parse).

Results go to the `checks` table. Per-row results are reused while the row's
text and the relevant settings are unchanged (a fingerprint), so re-running
after a few edits only re-tokenizes those rows; the duplicate flags, which
depend on other rows, are recomputed every run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from distill_tui.core.config import Project
from distill_tui.core.curate import curation
from distill_tui.core.dataset import dedup
from distill_tui.core.dataset.export import messages_for, normalize
from distill_tui.core.store import Store

FLAGS = ("duplicate", "near-duplicate", "empty", "truncated", "too-long", "bad-json")
TRUNCATED_STOPS = ("max_tokens", "length")
NEAR_DUP_THRESHOLD = dedup.THRESHOLD
KEEP_CHARS = 4000  # texts up to this long keep their shingle set while links are found

# Takes the messages the student is trained on and returns their token count
# once templated; built from the student's tokenizer by the engine.
TokenCounter = Callable[[list[dict]], int]


@dataclass
class CheckSummary:
    checked: int = 0  # rows whose per-row checks ran (not reused)
    counts: dict[str, int] = field(default_factory=lambda: {f: 0 for f in FLAGS})
    tokens_known: bool = False


def duplicate_links(inputs: list[tuple[int, str]]) -> tuple[dict[int, int], dict[int, int]]:
    """(exact, near): each maps a row id to the earlier row it duplicates."""
    exact: dict[int, int] = {}
    first: dict[str, int] = {}
    unique: list[tuple[int, str]] = []
    for row_id, text in sorted(inputs):
        key = normalize(text)
        if key in first:
            exact[row_id] = first[key]
        else:
            first[key] = row_id
            unique.append((row_id, text))

    # Shingle sets cover the whole text; a long one is made again when it is
    # compared (the few heads of a bucket stay in a small cache) rather than
    # kept for every row: a store of long documents would not fit in memory.
    texts = dict(unique)
    short: dict[int, set[int]] = {}

    @functools.lru_cache(maxsize=256)
    def long_set(row_id: int) -> set[int]:
        return dedup.shingles(texts[row_id])

    def set_of(row_id: int) -> set[int]:
        got = short.get(row_id)
        return long_set(row_id) if got is None else got

    buckets: dict[tuple, list[int]] = {}
    for row_id, text in unique:
        s = dedup.shingles(text)
        if len(text) <= KEEP_CHARS:
            short[row_id] = s
        for band in dedup.band_keys(s):
            buckets.setdefault(band, []).append(row_id)
    near: dict[int, int] = {}
    for members in buckets.values():
        if len(members) < 2:
            continue
        # Compare each row with the earlier ones in the bucket; a bucket of
        # hundreds is a cluster, so comparing with a few heads is enough.
        for i, row_id in enumerate(members[1:], 1):
            if row_id in near:
                continue
            for other in members[: min(i, dedup.HEADS)]:
                if dedup.similar_enough(set_of(row_id), set_of(other)):
                    near[row_id] = near.get(other, other)
                    break
    return exact, near


def _fingerprint(
    settings: Project, tokenizer_id: str, inp: str, out: str | None, stop: str | None
) -> str:
    h = hashlib.sha256()
    for part in (
        tokenizer_id,
        settings.split.format,
        settings.task.instructions,
        settings.task.output_format,
        str(settings.train.max_seq_length),
        stop or "",
        inp,
        "\0" if out is None else "\1" + out,
    ):
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()[:32]


def row_flags(
    settings: Project, inp: str, out: str | None, stop: str | None, count: TokenCounter | None
) -> tuple[list[str], int | None]:
    """The per-row flags and the templated token count (None if unknown)."""
    if out is None:
        return [], None
    flags = []
    if not out.strip():
        flags.append("empty")
    if stop in TRUNCATED_STOPS:
        flags.append("truncated")
    tokens = None
    if count is not None:
        tokens = count(messages_for(settings, inp, out, settings.split.format))
        if tokens > settings.train.max_seq_length:
            flags.append("too-long")
    if json_problem(settings, out) is not None:
        flags.append("bad-json")
    return flags, tokens


def json_problem(settings: Project, out: str | None) -> str | None:
    """On a JSON task, why this output does not parse, in words that say
    where ("not valid JSON: line 1 column 12: Expecting ','"); None when it
    parses, is empty (flagged `empty` instead) or the task is not JSON."""
    if settings.task.output_format != "json" or out is None or not out.strip():
        return None
    try:
        json.loads(out)
    except json.JSONDecodeError as e:
        return f"not valid JSON: line {e.lineno} column {e.colno}: {e.msg}"
    except ValueError as e:  # e.g. a number too long to convert
        return f"not valid JSON: {e}"
    return None


def invalid_json(store: Store, settings: Project, ids: list[int]) -> dict[int, str]:
    """The rows among `ids` whose output is not valid JSON on a JSON task,
    each with what is wrong: asked about before they are accepted."""
    if settings.task.output_format != "json" or not ids:
        return {}
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        q = ",".join("?" * len(chunk))
        for row_id, out in store.conn.execute(
            f"SELECT id, output FROM rows WHERE id IN ({q})", chunk
        ):
            problem = json_problem(settings, out)
            if problem is not None:
                found[row_id] = problem
    return found


def recheck_json(store: Store, settings: Project, row_id: int) -> str | None:
    """Set or clear one row's `bad-json` flag at once (after an edit), without
    waiting for the next full check; returns what is wrong, or None. The row's
    other flags stay; its token count, made for the old text, is dropped; its
    fingerprint is left as it was, so the next full check sees the changed
    text and checks (and counts) the row again."""
    row = store.conn.execute("SELECT output FROM rows WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        return None
    problem = json_problem(settings, row[0])
    with store.tx() as c:
        old = c.execute("SELECT flags FROM checks WHERE row_id = ?", (row_id,)).fetchone()
        flags = [f for f in (old[0].split() if old else []) if f != "bad-json"]
        if problem is not None:
            flags.append("bad-json")
        if old is None:
            if problem is not None:
                c.execute(
                    "INSERT INTO checks (row_id, fingerprint, flags) VALUES (?, '', ?)",
                    (row_id, " ".join(flags)),
                )
        else:
            c.execute(
                "UPDATE checks SET flags = ?, tokens = NULL WHERE row_id = ?",
                (" ".join(flags), row_id),
            )
    return problem


def edit_checked(
    store: Store,
    settings: Project,
    row_id: int,
    output: str | None = None,
    input: str | None = None,
) -> tuple[bool, str | None]:
    """`curation.edit`, then the row's `bad-json` flag put in step at once:
    whether anything changed, and what is wrong with the new output (None
    when it parses, or nothing changed). The Curate screen and `curate --edit`
    both edit through here."""
    changed = curation.edit(store, row_id, output, input)
    return changed, recheck_json(store, settings, row_id) if changed else None


def undo_checked(store: Store, settings: Project) -> curation.UndoResult | None:
    """`curation.undo`, then the `bad-json` flags of the rows whose edit it
    undid, so a flag never outlives the text it was about."""
    res = curation.undo(store)
    if res is not None and res.kind == "edit":
        for row_id in res.row_ids:
            recheck_json(store, settings, row_id)
    return res


def run_checks(
    store: Store,
    settings: Project,
    count: TokenCounter | None = None,
    tokenizer_id: str = "",
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckSummary:
    """Check every row and store the results; returns the flag counts."""
    c = store.conn
    rows = c.execute(
        "SELECT r.id, r.input, r.output, g.stop_reason FROM rows r"
        " LEFT JOIN generations g ON g.id = r.generation_id ORDER BY r.id"
    ).fetchall()
    old = {
        r[0]: (r[1], r[2], r[3])
        for r in c.execute("SELECT row_id, fingerprint, tokens, flags FROM checks")
    }
    exact, near = duplicate_links([(r[0], r[1]) for r in rows])
    tid = tokenizer_id if count is not None else ""
    summary = CheckSummary(tokens_known=count is not None)
    updates: list[tuple] = []
    for i, (row_id, inp, out, stop) in enumerate(rows):
        if cancel is not None and cancel.is_set():
            break
        fp = _fingerprint(settings, tid, inp, out, stop)
        prev = old.get(row_id)
        if prev is not None and prev[0] == fp:
            tokens = prev[1]
            flags = [f for f in prev[2].split() if f not in ("duplicate", "near-duplicate")]
        else:
            flags, tokens = row_flags(settings, inp, out, stop, count)
            summary.checked += 1
        detail: dict[str, int] = {}
        if row_id in exact:
            flags.insert(0, "duplicate")
            detail["duplicate"] = exact[row_id]
        elif row_id in near:
            flags.insert(0, "near-duplicate")
            detail["near-duplicate"] = near[row_id]
        for f in flags:
            summary.counts[f] += 1
        new = (fp, tokens, " ".join(flags))
        if prev != new or detail:
            updates.append((row_id, *new, json.dumps(detail) if detail else None))
        if progress is not None and i % 1000 == 0:
            progress(i, len(rows))
    with store.tx() as w:
        w.executemany(
            "INSERT OR REPLACE INTO checks (row_id, fingerprint, tokens, flags, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            updates,
        )
    if progress is not None:
        progress(len(rows), len(rows))
    return summary
