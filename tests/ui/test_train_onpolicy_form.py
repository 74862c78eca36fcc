"""The Train form offers on-policy distillation (issue 32): chosen from the
Objective list by keys, written to distill.toml, with its one-line hint."""

from __future__ import annotations

from support.ui_helpers import wait_until

from distill_tui.core import config as cfg
from distill_tui.ui.app import DistillApp


async def test_the_objective_offers_onpolicy_with_its_hint(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen")
        await pilot.pause()
        app.screen.query_one("#tf-objective").focus()
        await pilot.press("enter", "down", "down", "down", "enter")  # sft, dpo, kto, onpolicy
        on_disk = lambda: cfg.load(workspace.root / "distill.toml").train.objective  # noqa: E731
        await wait_until(pilot, lambda: on_disk() == "onpolicy")
        hint = app.screen.query_one("#train-hint")
        await wait_until(pilot, lambda: "local MLX teacher" in str(hint.render()))
