"""Issue 17 with Pilot: a Curate edit writes only the field the user changed
(byte for byte), and a 2 MB text is drawn as a bounded preview that says how
much more there is and how to see it all: in Curate, the Queue's row detail
and Chat."""

from __future__ import annotations

from rich.text import Text
from support.curate_helpers import add_answered
from support.ui_helpers import screen_text, wait_until
from textual.widgets import Static, TextArea

from distill_tui.core.curate import curation as cur
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.curate.screen import CurateScreen
from distill_tui.ui.screens.queue.screen import QueueScreen
from distill_tui.ui.screens.queue.view import RowDetail
from distill_tui.ui.text import PREVIEW_BYTES
from distill_tui.ui.widgets.chat_pane import ChatPane

SIZE = (80, 24)
MIXED = "first line\r\nsecond line\nthird line\u2028fourth line"
# About 2 MB of text in short lines, as a pasted log or document would be.
BIG = "".join(f"line {i:06d} of a very long pasted document\n" for i in range(45_000))


def _stored_input(ws, row_id: int) -> str:
    return ws.store.conn.execute("SELECT input FROM rows WHERE id = ?", (row_id,)).fetchone()[0]


def _left_out(shown: str, label: str, whole: str) -> str:
    """Check that the text under `label` is the start of `whole` and that the
    count it gives adds up to the rest; return the note's words."""
    head = shown.split(label, 1)[1]
    head, note = head.split("\n… ", 1)
    more = int(note.split(" more bytes", 1)[0].replace(",", ""))
    assert whole.startswith(head) and len(head.encode()) + more == len(whole.encode())
    return note.split("\n", 1)[0]


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
        _left_out(plain, "INPUT\n", BIG)
        assert "line 000000 of a" in screen_text(app)
        # The dialog shows both texts as previews that say they are too long to
        # edit there; saving leaves the row as it was.
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditDialog")
        dialog = app.screen
        assert not dialog.query("#edit-input") and dialog.query("#edit-input-long")
        assert not dialog.query("#edit-output") and dialog.query("#edit-output-long")
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


async def test_the_queue_row_detail_of_a_2mb_row_is_bounded(workspace):
    add_answered(workspace.store, [(BIG, "short answer")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await wait_until(pilot, lambda: "line 000000" in screen_text(app))
        app.screen.action_open_row()
        await wait_until(
            pilot, lambda: isinstance(app.screen, RowDetail) and app.screen.query("#queue-detail")
        )
        shown = app.screen.query_one("#queue-detail", Static).content
        assert isinstance(shown, Text) and len(shown.plain.encode()) < 2 * PREVIEW_BYTES
        note = _left_out(shown.plain, "Input\n", BIG)
        assert note.endswith("Curate (3) shows this row, and E there opens it all in $EDITOR")
        assert "short answer" in shown.plain


async def test_chat_draws_a_2mb_message_and_reply_bounded():
    from textual.app import App

    class One(App):
        def compose(self):
            yield ChatPane("student", id="pane")

    app = One()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ChatPane)
        pane.start(BIG)
        pane.update_reply(BIG)
        await pilot.pause()
        user, reply = (s.content for s in pane.query(Static))
        assert len(user.plain.encode()) < 2 * PREVIEW_BYTES
        assert len(reply.plain.encode()) < 2 * PREVIEW_BYTES
        assert _left_out(user.plain, "> ", BIG).endswith("the model was sent all of it")
        assert _left_out("\n" + reply.plain, "\n", BIG).endswith(
            "saves it whole as a row for Curate (3)"
        )
        assert pane.reply_text == BIG  # what is saved as a row is all of it


def test_a_preview_is_cut_at_a_character_and_counts_every_byte_left_out():
    from distill_tui.ui.text import PREVIEW_LINES, clip

    for text in ("é" * 5_000, "日本" * 3_000, "a\n" * 1_000, "short\r\nenough\u2028"):
        head, more = clip(text)
        assert text.startswith(head)
        assert len(head.encode()) <= PREVIEW_BYTES and head.count("\n") < PREVIEW_LINES
        assert len(head.encode()) + more == len(text.encode())
    assert clip("short\r\nenough\u2028") == ("short\r\nenough\u2028", 0)
