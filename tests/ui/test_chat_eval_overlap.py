"""The Chat screen's evaluation on a split whose validation rows were the
run's training rows (exported again with another seed): it asks first, and
the result's header says how many (issue 17, item 7)."""

from __future__ import annotations

from support.adapter_helpers import make_run, write_split
from support.ui_helpers import screen_text, wait_until

from distill_tui.core import paths
from distill_tui.core.evaluate import split_overlap
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.chat.eval import EvalScreen
from distill_tui.ui.screens.chat.screen import ChatScreen
from distill_tui.ui.widgets.confirm import ConfirmDialog

SIZE = (80, 24)


async def test_eval_of_training_rows_asks_then_warns_in_the_header(workspace, tiny_model):
    make_run(workspace, tiny_model)
    rows = [("I was charged twice", "billing"), ("crash", "bug"), ("login fails", "account")]
    # The run trained on an export where two of today's validation rows were train rows.
    write_split(workspace, "train", rows[:2])
    split_overlap.record_training_inputs(
        paths.run_dir(workspace.root, "run-1"), paths.data_dir(workspace.root)
    )
    write_split(workspace, "train", [("other", "bug")])
    write_split(workspace, "valid", rows)
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, EvalScreen))
        view = app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "2 of 3 validation rows were training rows of run run-1" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is view and not view.running)
        assert view.result is None and "evaluation not started: 2 of 3" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("e")
        await wait_until(pilot, lambda: view.result is not None and not view.running, 60)
        # The header is drawn a frame after the result lands (later under load).
        await wait_until(pilot, lambda: "were training rows of run" in screen_text(app), 10)
        text = screen_text(app)
        assert "run-1:best on valid: 3 rows" in text
        assert "2 of 3 validation rows were training rows of run run-1" in text
