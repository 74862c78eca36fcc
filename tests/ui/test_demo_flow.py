"""The demo in the app: curate, export and train with a live chart, by keys."""

from __future__ import annotations

from support.ui_helpers import notifications, screen_text, wait_until

from distill_tui.core.train import runs as runs_db
from distill_tui.demo import create_demo
from distill_tui.ui.app import DistillApp

SIZE = (80, 24)


async def test_demo_curate_bulk_accept_export_then_train(tmp_path):
    ws = create_demo(tmp_path / "demo", student="tiny")  # the real student is too slow here
    ws.settings.train.iters = 20  # a short run: the chart and metrics must appear
    ws.settings.train.steps_per_report = 5
    ws.settings.train.steps_per_eval = 10
    ws.save_settings()
    app = DistillApp(root=ws.root, workspace=ws)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CurateScreen")
        await wait_until(pilot, lambda: "billing" in screen_text(app) or "bug" in screen_text(app))
        # Nothing accepted yet: export says why instead of writing an empty split.
        await pilot.press("x")
        await wait_until(pilot, lambda: "Export failed: no accepted rows" in notifications(app))
        assert not (ws.root / "data" / "train.jsonl").exists()
        await pilot.press("b")
        await wait_until(pilot, lambda: type(app.screen).__name__ != "CurateScreen")
        await pilot.press("a")  # accept every row shown
        await wait_until(pilot, lambda: ws.store.counts()["accepted"] == ws.store.counts()["done"])
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CurateScreen")
        await pilot.press("x")
        await wait_until(pilot, lambda: (ws.root / "data" / "valid.jsonl").is_file())
        await wait_until(pilot, lambda: "Exported" in notifications(app))
        await pilot.press("4")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen")
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: (r := runs_db.latest_run(ws.store)) is not None and r.status == "finished",
            timeout=120,
        )
        await wait_until(pilot, lambda: "train loss" in screen_text(app))
