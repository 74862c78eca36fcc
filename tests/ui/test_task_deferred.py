"""The Task form's part below the fold is mounted after the first frame
(issue 34 item 23): a quit, a SIGTERM or a dropped connection in the first
frames closes the screen before or while it is made, and its callbacks must
then do nothing rather than raise NoMatches (a crash log at SIGTERM)."""

from __future__ import annotations

from support.ui_helpers import wait_until

from distill_tui.ui.app import DistillApp
from distill_tui.ui.jobs import EXIT_TERMINATED
from distill_tui.ui.screens.task.screen import FormRest, TaskScreen

SIZE = (80, 24)


def _failures(monkeypatch) -> list[str]:
    failures: list[str] = []
    monkeypatch.setattr(DistillApp, "report_error", lambda s, e, where="": failures.append(str(e)))
    monkeypatch.setattr(
        DistillApp, "report_unexpected", lambda s, e, where: failures.append(repr(e))
    )
    return failures


async def test_sigterm_before_the_deferred_part_is_made(workspace, monkeypatch):
    """Held back, then the signal, then the part's turn: it does nothing."""
    held: list[TaskScreen] = []
    make_rest = TaskScreen._mount_rest
    monkeypatch.setattr(TaskScreen, "_mount_rest", lambda self: held.append(self))
    failures = _failures(monkeypatch)
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(held))
        app.jobs.terminate()  # what the SIGTERM handler calls
        await pilot.pause()
    assert app.return_code == EXIT_TERMINATED
    screen = held[0]
    await make_rest(screen)
    screen._refresh_info()
    screen.action_use_recommended()
    assert failures == [] and not screen.query(FormRest)


async def test_callbacks_after_the_part_is_gone_do_nothing(workspace, monkeypatch):
    """Marked made, but its widgets already removed (the screen closing):
    the refreshes the first frame, a reload or a dialog trigger are no-ops."""
    failures = _failures(monkeypatch)
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        await wait_until(pilot, lambda: screen._rest_ready)
        await screen.query_one(FormRest).remove()
        screen._refresh_info()
        screen._refresh_teacher()
        screen.action_use_recommended()
        app.check_settings_file()
        await pilot.pause()
    assert failures == []
