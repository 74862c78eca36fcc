"""The Train screen during a short real run of the tiny model, at 80x24."""

from __future__ import annotations

from support.tiny_task import write_split
from support.ui_helpers import screen_text, wait_until

from distill_tui.core.train import runs as runs_db
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.train.screen import TrainingFinished, TrainingReported

SIZE = (80, 24)


def _project(workspace, tiny_model):
    workspace.settings.student.model = str(tiny_model)
    t = workspace.settings.train
    t.iters, t.batch_size, t.learning_rate, t.num_layers = 200, 4, 1e-3, -1
    t.steps_per_report, t.steps_per_eval, t.steps_per_save, t.val_batches = 5, 10, 10, -1
    workspace.save_settings()
    write_split(workspace.root / "data")
    return workspace


async def test_live_chart_metrics_and_stop(workspace, tiny_model):
    ws = _project(workspace, tiny_model)
    seen: list[object] = []
    app = DistillApp(root=ws.root, workspace=ws)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen")
        # The reproducible command and YAML are on the setup view (below the
        # form at 80x24: the command box scrolls into view when tabbed to).
        command = app.screen.query_one("#train-command")
        assert "mlx_lm.lora --config" in str(command.render())
        await pilot.press("ctrl+r")
        reports = lambda: [m for m in seen if isinstance(m, TrainingReported)]  # noqa: E731
        await wait_until(pilot, lambda: len(reports()) >= 3, timeout=60)
        await wait_until(pilot, lambda: "it/s" in screen_text(app), timeout=10)
        text = screen_text(app)
        assert "train loss" in text and "val loss" in text  # both series, labelled
        assert "┤" in text  # the plotext axis is drawn
        assert "tok/s" in text and "ETA" in text and "peak" in text
        # The screen answers keys while training runs: stop it.
        await pilot.press("ctrl+x")
        done = lambda: [m for m in seen if isinstance(m, TrainingFinished)]  # noqa: E731
        await wait_until(pilot, lambda: bool(done()), timeout=60)
        assert done()[0].status == "stopped"
        await wait_until(pilot, lambda: "stopped" in screen_text(app))
        run = runs_db.latest_run(ws.store)
        assert run.status == "stopped" and run.iter < 200
        # Stop is greyed once nothing runs; Train is available again.
        assert app.screen.check_action("stop", ()) is None
        assert app.screen.check_action("start", ()) is True
