"""Curation: accept, reject, edit and regenerate rows, with undo and history.

Every change is written to the store at once (a dropped SSH connection loses
nothing) and recorded in `events` as JSON `before`/`after` states, so the last
action can be undone and the teacher's original stays next to an edit. One user
action is one *group* of events (a bulk accept of 5,000 rows undoes as one).
Events that were undone keep their place in history with kind `<kind>.undone`.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from distill_tui.core.errors import UserError
from distill_tui.core.store import Store, sha

DECISIONS = ("accepted", "rejected")
UNDOABLE = ("decision", "edit", "regenerate")

# A short list to start from; users add their own (kept in the store's meta).
DEFAULT_REASONS = ("wrong", "incomplete", "format", "hallucination", "too long", "off task")
_REASONS_KEY = "curate.reasons"


@dataclass(frozen=True)
class UndoResult:
    kind: str
    row_ids: list[int]
    skipped: int  # rows changed since by someone else, left alone


def _group() -> str:
    return uuid.uuid4().hex[:12]


def _event(
    c: sqlite3.Connection,
    row_id: int,
    kind: str,
    before: dict,
    after: dict,
    generation_id: int | None = None,
) -> None:
    c.execute(
        "INSERT INTO events (row_id, kind, before, after, at, generation_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (row_id, kind, json.dumps(before), json.dumps(after), time.time(), generation_id),
    )


# -- decisions -----------------------------------------------------------------
def decide(
    store: Store, ids: Sequence[int], decision: str | None, reason: str | None = None
) -> int:
    """Set the decision of `ids` (None clears it); returns how many changed.

    Only rows with an output (status 'done') can be decided: a single id that
    has none is a user mistake; in a bulk call such rows are skipped."""
    if decision is not None and decision not in DECISIONS:
        raise UserError(f"unknown decision {decision!r} (use accepted or rejected)")
    reason = (reason or "").strip() or None
    if decision != "rejected":
        reason = None  # a reason explains a rejection; an accepted row has none
    group = _group()
    changed = 0
    with store.tx() as c:
        for row_id in ids:
            row = c.execute(
                "SELECT status, decision, reason, generation_id FROM rows WHERE id = ?", (row_id,)
            ).fetchone()
            if row is None:
                if len(ids) == 1:
                    raise UserError(f"no row with id {row_id}")
                continue
            if row["status"] != "done":
                if len(ids) == 1:
                    raise UserError(f"row {row_id} has no output to review ({row['status']})")
                continue
            if (row["decision"], row["reason"]) == (decision, reason):
                continue
            c.execute(
                "UPDATE rows SET decision = ?, reason = ?, updated_at = ? WHERE id = ?",
                (decision, reason, time.time(), row_id),
            )
            _event(
                c,
                row_id,
                "decision",
                {"decision": row["decision"], "reason": row["reason"]},
                {"decision": decision, "reason": reason, "group": group},
                # The answer decided on: a rejected one regenerated and then
                # accepted makes a preference pair (core/curate/preferences.py).
                generation_id=row["generation_id"],
            )
            changed += 1
    return changed


def accept(store: Store, ids: Sequence[int]) -> int:
    return decide(store, ids, "accepted")


def reject(store: Store, ids: Sequence[int], reason: str | None = None) -> int:
    return decide(store, ids, "rejected", reason)


def missing_ids(store: Store, ids: Sequence[int]) -> list[int]:
    """The ids in `ids` that are not rows (for a CLI error before any write)."""
    have: set[int] = set()
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        q = ",".join("?" * len(chunk))
        have.update(
            r[0] for r in store.conn.execute(f"SELECT id FROM rows WHERE id IN ({q})", chunk)
        )
    return [i for i in ids if i not in have]


# -- edits ---------------------------------------------------------------------
def edit(store: Store, row_id: int, output: str | None = None, input: str | None = None) -> bool:
    """Replace the output and/or input by hand; returns False if nothing changed.

    None means 'not touched'. Each field is compared with what is stored
    before anything is written: only a field that differs is written and named
    in the event, so a field the user did not change stays byte-for-byte as it
    was. The teacher's answer stays in `generations`; the text before this edit
    is in the event, so undo and diffs work after any number of edits."""
    with store.tx() as c:
        row = c.execute(
            "SELECT input, output, edited, status FROM rows WHERE id = ?", (row_id,)
        ).fetchone()
        if row is None:
            raise UserError(f"no row with id {row_id}")
        changed: dict[str, str] = {}
        if input is not None and input != row["input"]:
            changed["input"] = input
        if output is not None and output != row["output"]:
            changed["output"] = output
        if not changed:
            return False
        # An empty answer would be accepted, exported and trained on (and be
        # a DPO "chosen"): refused as an empty input is.
        if "output" in changed and not changed["output"].strip():
            raise UserError("the output cannot be empty")
        if "input" in changed:
            if not changed["input"].strip():
                raise UserError("the input cannot be empty")
            other = c.execute(
                "SELECT id FROM rows WHERE input_sha = ? AND id != ?",
                (sha(changed["input"]), row_id),
            ).fetchone()
            if other is not None:
                raise UserError(f"row {other[0]} already has this input")
        # An edited output on a pending/failed row makes it reviewable.
        has_output = "output" in changed or row["output"] is not None
        status = "done" if has_output and row["status"] != "running" else row["status"]
        sets = dict(changed, edited=1, status=status, updated_at=time.time())
        if "input" in changed:
            sets["input_sha"] = sha(changed["input"])
        c.execute(
            f"UPDATE rows SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
            (*sets.values(), row_id),
        )
        _event(
            c,
            row_id,
            "edit",
            {**{k: row[k] for k in changed}, "edited": row["edited"], "status": row["status"]},
            {**changed, "edited": 1, "status": status, "group": _group()},
        )
    return True


def original_output(store: Store, row_id: int) -> str | None:
    """The teacher's answer for this row (before any hand edit)."""
    c = store.conn
    g = c.execute(
        "SELECT g.output FROM rows r JOIN generations g ON g.id = r.generation_id WHERE r.id = ?",
        (row_id,),
    ).fetchone()
    if g is not None:
        return str(g[0])
    # Imported rows may carry an output without a generation: the first edit
    # event remembers what was there.
    # (An edit of the input alone does not name the output.)
    for (before,) in c.execute(
        "SELECT before FROM events WHERE row_id = ? AND kind = 'edit' ORDER BY id", (row_id,)
    ):
        state = json.loads(before)
        if "output" in state:
            return state["output"]
    row = c.execute("SELECT output FROM rows WHERE id = ?", (row_id,)).fetchone()
    return None if row is None else row[0]


def diff_lines(original: str, current: str, context: int = 2) -> list[str]:
    """A unified diff of the teacher's original against the current text."""
    return list(
        difflib.unified_diff(
            original.splitlines(),
            current.splitlines(),
            "teacher",
            "edited",
            n=context,
            lineterm="",
        )
    )


# -- regenerate ----------------------------------------------------------------
def regenerate(store: Store, ids: Sequence[int]) -> int:
    """Send done or failed rows back to the queue (status 'pending').

    As in `queue.regenerate`, the current output stays visible until the new
    answer arrives, and the queue's `complete` adds that answer to
    `generations` beside the earlier ones and clears the decision."""
    group = _group()
    n = 0
    with store.tx() as c:
        for row_id in ids:
            row = c.execute("SELECT status FROM rows WHERE id = ?", (row_id,)).fetchone()
            if row is None:
                raise UserError(f"no row with id {row_id}")
            if row["status"] not in ("done", "failed"):
                continue
            c.execute(
                "UPDATE rows SET status = 'pending', updated_at = ? WHERE id = ?",
                (time.time(), row_id),
            )
            _event(
                c,
                row_id,
                "regenerate",
                {"status": row["status"]},
                {"status": "pending", "group": group},
            )
            n += 1
    return n


# -- undo ----------------------------------------------------------------------
def last_action(store: Store) -> tuple[str, int] | None:
    """(kind, number of rows) of what `undo` would revert, for the UI."""
    events = _last_group(store.conn)
    return (events[0]["kind"], len(events)) if events else None


def _last_group(c: sqlite3.Connection) -> list[sqlite3.Row]:
    q = ",".join("?" * len(UNDOABLE))
    first = c.execute(
        f"SELECT id, after FROM events WHERE kind IN ({q}) ORDER BY id DESC LIMIT 1", UNDOABLE
    ).fetchone()
    if first is None:
        return []
    group = json.loads(first["after"]).get("group")
    out: list[sqlite3.Row] = []
    # A group is written in one transaction, so its events are contiguous.
    for ev in c.execute(
        "SELECT id, row_id, kind, before, after FROM events WHERE id <= ? ORDER BY id DESC",
        (first["id"],),
    ):
        if ev["kind"] not in UNDOABLE or json.loads(ev["after"]).get("group") != group:
            break
        out.append(ev)
    return out


_RESTORE = {
    "decision": ("decision", "reason"),
    "edit": ("input", "output", "edited", "status"),
    "regenerate": ("status",),
}


def undo(store: Store) -> UndoResult | None:
    """Revert the last curation action (repeatable: each call goes one further
    back). Rows that changed since the action (for example, a regenerated row
    the queue has answered again) are left as they are and counted as skipped."""
    with store.tx() as c:
        events = _last_group(c)
        if not events:
            return None
        kind = events[0]["kind"]
        cols = _RESTORE[kind]
        done: list[int] = []
        skipped = 0
        for ev in events:
            before, after = json.loads(ev["before"]), json.loads(ev["after"])
            row = c.execute(
                f"SELECT {', '.join(cols)} FROM rows WHERE id = ?", (ev["row_id"],)
            ).fetchone()
            still = row is not None and all(
                row[k] == after[k] for k in after if k != "group" and k in cols
            )
            if kind == "regenerate":
                still = row is not None and row["status"] == "pending"
            if still:
                # An edit names only the fields it changed; the rest stay.
                restore = [k for k in cols if k in before]
                sets = ", ".join(f"{k} = ?" for k in restore)
                values = [before[k] for k in restore]
                if "input" in restore:
                    sets += ", input_sha = ?"
                    values.append(sha(before["input"]))
                c.execute(
                    f"UPDATE rows SET {sets}, updated_at = ? WHERE id = ?",
                    (*values, time.time(), ev["row_id"]),
                )
                done.append(ev["row_id"])
            else:
                skipped += 1
            c.execute("UPDATE events SET kind = ? WHERE id = ?", (kind + ".undone", ev["id"]))
    return UndoResult(kind, sorted(done), skipped)


def history(store: Store, row_id: int) -> list[dict]:
    """The row's curation events, oldest first, with parsed before/after."""
    return [
        {
            "kind": e["kind"],
            "before": json.loads(e["before"]) if e["before"] else None,
            "after": json.loads(e["after"]) if e["after"] else None,
            "at": e["at"],
        }
        for e in store.conn.execute(
            "SELECT kind, before, after, at FROM events WHERE row_id = ? ORDER BY id", (row_id,)
        )
    ]


# -- reason tags ---------------------------------------------------------------
def reasons(store: Store) -> list[str]:
    extra = json.loads(store.get_meta(_REASONS_KEY, "[]") or "[]")
    return list(dict.fromkeys([*DEFAULT_REASONS, *extra]))


def add_reason(store: Store, tag: str) -> list[str]:
    tag = " ".join(tag.split())
    if not tag:
        raise UserError("a reason tag cannot be empty")
    extra = json.loads(store.get_meta(_REASONS_KEY, "[]") or "[]")
    if tag not in DEFAULT_REASONS and tag not in extra:
        extra.append(tag)
        store.set_meta(_REASONS_KEY, json.dumps(extra))
    return reasons(store)
