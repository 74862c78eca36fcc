"""What chat and evaluation send back into the dataset: a chat exchange saved
as a hand-written row, and rows the adapter got wrong sent back to the curator.
This is the guide's "analyse failures, add targeted data" loop."""

from __future__ import annotations

import time
from collections.abc import Sequence

from distill_tui.core.curate import curation
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store, sha

CHAT_ORIGIN = "chat"


def save_chat_row(store: Store, input: str, output: str) -> int:
    """A new row written by hand in the Chat screen: status done with its
    output, origin 'chat', undecided so the curator reviews it."""
    if not input.strip() or not output.strip():
        raise UserError("nothing to save: the exchange needs a prompt and a reply")
    now = time.time()
    with store.tx() as c:
        old = c.execute("SELECT id FROM rows WHERE input_sha = ?", (sha(input),)).fetchone()
        if old is not None:
            raise UserError(f"this prompt is already row {old[0]}; edit it in the curator")
        cur = c.execute(
            "INSERT INTO rows (input, input_sha, origin, status, output, edited,"
            " created_at, updated_at) VALUES (?, ?, ?, 'done', ?, 1, ?, ?)",
            (input, sha(input), CHAT_ORIGIN, output, now, now),
        )
    return int(cur.lastrowid or 0)


def row_ids_for_inputs(store: Store, inputs: Sequence[str]) -> dict[str, int]:
    """input text -> row id, for split-file lines (the exporter writes the
    input verbatim as the user turn)."""
    out: dict[str, int] = {}
    for text in inputs:
        row = store.conn.execute("SELECT id FROM rows WHERE input_sha = ?", (sha(text),)).fetchone()
        if row is not None:
            out[text] = int(row[0])
    return out


def send_to_curator(store: Store, row_ids: Sequence[int]) -> int:
    """Clear the decision of rows the adapter got wrong so they show up as
    unreviewed again (undoable in the curator like any decision)."""
    return curation.decide(store, list(row_ids), None)
