"""Issue 17, on the Curate screen with Pilot: an edit writes only the field
the user changed (byte for byte), and a 2 MB row is drawn as a bounded
preview that says how much more there is and which key opens it all."""

from __future__ import annotations

from curate_helpers import add_answered
from rich.text import Text
from textual.widgets import Static, TextArea

from distill_tui.core import curation as cur
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.curate import CurateScreen
from distill_tui.ui.text import PREVIEW_BYTES

from .helpers import screen_text, wait_until

SIZE = (80, 24)
MIXED = "first line\r\nsecond line\nthird line\u2028fourth line"
# About 2 MB of text in short lines, as a pasted log or document would be.
BIG = "".join(f"line {i:06d} of a very long pasted document\n" for i in range(45_000))


def _stored_input(ws, row_id: int) -> str:
    return ws.store.conn.execute("SELECT input FROM rows WHERE id = ?", (row_id,)).fetchone()[0]


async def _open(pilot, app) -> CurateScreen:
    await pilot.press("3")
    await wait_until(pilot, lambda: isinstance(app.screen, CurateScreen) and app.screen.rows)
    return app.screen


async def test_editing_only_the_output_keeps_the_input_byte_for_byte(workspace):
    add_answered(workspace.store, [(MIXED, "the teacher's answer")])
    assert _stored_input(workspace, 1).encode() == MIXED.encode()
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        await pilot.press("end", *" plus", "ctrl+s")
        await wait_until(pilot, lambda: cur.history(workspace.store, 1))
    assert _stored_input(workspace, 1).encode() == MIXED.encode()
    (event,) = cur.history(workspace.store, 1)
    assert event["after"]["output"] == "the teacher's answer plus"
    assert "input" not in event["before"] and "input" not in event["after"]


async def test_a_2mb_row_is_a_bounded_preview_that_says_how_much_more(workspace):
    add_answered(workspace.store, [("small", "a"), (BIG, "b" * 3_000_000), ("small 2", "c")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.current_id == 2)
        await pilot.pause()
        shown = screen.query_one("#curate-detail", Static).content
        assert isinstance(shown, Text)
        plain = shown.plain
        assert len(plain.encode()) < 3 * PREVIEW_BYTES  # two previews and the heading
        assert plain.count("more bytes; E opens it all in $EDITOR") == 2  # input and output
        # What is shown and what it says is left out add up to the whole input.
        head = plain.split("INPUT\n", 1)[1]
        head, rest = head.split("\n… ", 1)
        more = int(rest.split(" more bytes", 1)[0].replace(",", ""))
        assert BIG.startswith(head) and len(head.encode()) + more == len(BIG.encode())
        assert "line 000000 of a very long" in screen_text(app)
        # The dialog opens the short output to edit and the 2 MB input as a
        # preview that says so; saving leaves the input as it was.
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        dialog = app.screen
        assert not dialog.query("#edit-input") and dialog.query("#edit-input-long")
        assert not dialog.query("#edit-output")  # 3 MB: also too long for the dialog
        assert "too long to edit here" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert cur.history(workspace.store, 2) == []
        assert _stored_input(workspace, 2) == BIG


async def test_a_long_input_beside_a_short_output_edits_the_output(workspace):
    add_answered(workspace.store, [(BIG, "short answer")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        assert app.screen.focused is app.screen.query_one("#edit-output", TextArea)
        await pilot.press("end", *"!", "ctrl+s")
        await wait_until(pilot, lambda: cur.history(workspace.store, 1))
    (event,) = cur.history(workspace.store, 1)
    assert sorted(event["after"]) == ["edited", "group", "output", "status"]
    assert _stored_input(workspace, 1) == BIG
