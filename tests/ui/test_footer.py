"""The footer at any width: whole keys only, `? Keys` and `^q Quit` kept."""

from __future__ import annotations

import pytest
from support.ui_helpers import screen_text, wait_until
from textual.widgets._footer import FooterKey

from distill_tui.ui.app import DistillApp


@pytest.mark.parametrize("width", [40, 60, 80, 120])
async def test_footer_keys_are_never_cut(workspace, width):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.press("escape", "3")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CurateScreen")
        await pilot.pause()
        footer = app.screen.query_one("KeyFooter")
        await wait_until(pilot, lambda: bool(footer.query(FooterKey)))
        keys = list(footer.query(FooterKey))
        assert [k.description for k in keys[-2:]] == ["Keys", "Quit"]
        assert all(k.region.right <= width for k in keys), [(k.key, k.region) for k in keys]
        last = screen_text(app).splitlines()[-1]
        assert last.rstrip().endswith("? Keys ^q Quit")
        if width >= 120:  # room for every key the screen shows
            assert "x Export" in last


async def test_footer_follows_a_resize(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.press("escape", "3")
        await wait_until(pilot, lambda: "x Export" in screen_text(app).splitlines()[-1])
        await pilot.resize_terminal(50, 24)
        footer = app.screen.query_one("KeyFooter")
        await wait_until(pilot, lambda: all(k.region.right <= 50 for k in footer.query(FooterKey)))
        await wait_until(pilot, lambda: "^q Quit" in screen_text(app).splitlines()[-1])
