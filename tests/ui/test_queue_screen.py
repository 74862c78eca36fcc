"""The Queue screen driven with Pilot at 80x24 against the loopback server."""

from __future__ import annotations

from support.llm_server import answer_for
from support.ui_helpers import screen_text, wait_until

from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.queue.screen import QueueScreen
from distill_tui.ui.screens.queue.view import RowDetail

SIZE = (80, 24)
TRICKY = "[/] [bold]not markup[/bold] [link=x]"


def _project(ws, n):
    t = ws.settings.teacher
    t.model, t.requests_per_minute, t.concurrency = "claude-haiku-4-5", 0, 2
    ws.settings.task.instructions = "Answer."
    ws.store.add_inputs([(TRICKY, None)] + [(f"input {i}", None) for i in range(n - 1)])


def _done(ws) -> int:
    return int(ws.store.counts()["done"])


async def test_start_runs_to_the_end_and_shows_rows(workspace, fake):
    _project(workspace, 12)
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await wait_until(pilot, lambda: "Estimate: 12 row(s)" in screen_text(app))
        await pilot.press("s")
        screen = app.screen
        await wait_until(pilot, lambda: _done(workspace) == 12 and not screen.running)
        await wait_until(pilot, lambda: "finished" in screen_text(app))
        text = screen_text(app)
        assert "done 12" in text and "failed 0" in text
        assert "[/] [bold]not markup" in text  # shown as text, not parsed
        # Open the first row: its full output is shown as plain text.
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RowDetail))
        assert answer_for(TRICKY)[:30] in screen_text(app)
        await pilot.press("escape")


async def test_pause_resume_and_switching_screens_keep_the_run(workspace, fake):
    _project(workspace, 30)
    fake.latency_s = 0.05
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        screen = app.screen
        await pilot.press("s")
        await wait_until(pilot, lambda: _done(workspace) >= 2)
        await pilot.press("p")
        await wait_until(
            pilot, lambda: screen.progress is not None and screen.progress.state == "paused"
        )
        assert screen.check_action("start", ()) is False
        assert screen.check_action("resume", ()) is True
        await pilot.pause(0.3)
        held = _done(workspace)
        await pilot.pause(0.3)
        assert _done(workspace) == held < 30
        await pilot.press("r")
        await pilot.press("3")  # another screen: the run goes on
        await wait_until(pilot, lambda: _done(workspace) == 30, timeout=20)
        await pilot.press("2")
        await wait_until(pilot, lambda: not screen.running)


async def test_an_auth_error_is_shown_and_the_run_ends(workspace, fake):
    _project(workspace, 5)
    fake.always = "401"
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        screen = app.screen
        await pilot.press("s")
        await wait_until(pilot, lambda: not screen.running and screen.progress is not None)
        await wait_until(pilot, lambda: "authentication" in screen_text(app))
        assert workspace.store.counts()["pending"] == 5
        assert screen.check_action("start", ()) is True


async def test_reopened_on_queue_the_first_rows_come_first_and_the_whole_page_after(workspace):
    """The app opens on the Queue screen a project was left on with the rows a
    screen can show, and the rest of the 200-row page a frame later: the page
    is whole, in order, and `]` pages on from its end."""
    _project(workspace, 450)
    workspace.store.set_meta("ui.screen", "queue")
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        table = app.screen.query_one("#queue-table")
        await wait_until(pilot, lambda: table.row_count == 200)
        keys = [row.key.value for row in table.ordered_rows]
        assert keys == [str(i) for i in range(1, 201)]
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: table.row_count == 200 and app.screen.page_start == 200)
        assert table.ordered_rows[0].key.value == "201"
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: table.row_count == 50)
