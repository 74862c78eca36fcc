"""The edit dialog's ctrl+k (issue 35 item 11): it deletes to the end of the
logical line, not of the wrapped screen line ("neutral patience." was left)."""

from __future__ import annotations

from support.curate_helpers import add_answered
from support.ui_helpers import wait_until

from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.curate.screen import CurateScreen

LONG = (
    "Thank you for writing in; we have refunded the second charge and it reaches your"
    " card in three to five days, and we are sorry for the trouble, with neutral patience."
)


async def test_ctrl_k_deletes_to_the_end_of_the_logical_line(workspace):
    add_answered(workspace.store, [("I was charged twice", LONG + "\nsecond line")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, CurateScreen) and app.screen.rows)
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        area = app.screen.query_one("#edit-output")
        assert area.wrapped_document.height > 2  # the first line wraps at 80 columns
        area.move_cursor((0, 12))
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: area.text == "Thank you fo\nsecond line")
        await pilot.press("ctrl+k")  # at the line's end: the next line joins it
        await wait_until(pilot, lambda: area.text == "Thank you fosecond line")
