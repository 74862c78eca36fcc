"""The Task screen's "Models here" list (issue 35 item 10): enter picks the
highlighted model at once, even when the list holds one entry."""

from __future__ import annotations

from support.ui_helpers import wait_until
from textual.widgets import Input, OptionList

from distill_tui.core import sysinfo
from distill_tui.ui.app import DistillApp


async def test_enter_picks_the_only_model_listed_without_pressing_down(workspace, monkeypatch):
    monkeypatch.setattr(sysinfo, "cached_models", lambda cache=None: [])
    only = sysinfo.LocalModel("models/tiny.gguf", "models/tiny.gguf", 1024)
    monkeypatch.setattr(sysinfo, "gguf_models", lambda project, cache=None: [only])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        cache = app.screen.query_one("#hf-cache", OptionList)
        await wait_until(
            pilot, lambda: cache.option_count == 1 and not cache.get_option_at_index(0).disabled
        )
        cache.focus()
        await pilot.press("enter")
        field = app.screen.query_one("#student-model", Input)
        await wait_until(pilot, lambda: field.value == "models/tiny.gguf")
