"""Deleting an input nobody has answered yet (the Queue screen's delete key):
a pending row with no teacher answer and no curation history. Anything else
holds something paid for or decided, and is refused with the reason."""

from __future__ import annotations

from distill_tui.core.errors import UserError
from distill_tui.core.store import Store


def delete_pending(store: Store, row_id: int) -> str:
    """Delete row `row_id` if it is a pending input with nothing saved for it;
    returns its input text. Raises UserError saying why not otherwise."""
    with store.tx() as c:
        row = c.execute("SELECT status, input FROM rows WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise UserError(f"row {row_id} is gone already")
        if row[0] != "pending":
            raise UserError(f"row {row_id} is {row[0]}: only pending inputs can be deleted")
        answered = c.execute(
            "SELECT (SELECT COUNT(*) FROM generations WHERE row_id = ?)"
            " + (SELECT COUNT(*) FROM events WHERE row_id = ?)",
            (row_id, row_id),
        ).fetchone()[0]
        if answered:
            raise UserError(
                f"row {row_id} has teacher answers or curation history: reject it in the"
                " curator (3) instead"
            )
        c.execute("DELETE FROM checks WHERE row_id = ?", (row_id,))
        c.execute("DELETE FROM rows WHERE id = ?", (row_id,))
        return str(row[1])
