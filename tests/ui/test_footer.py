"""The footer at any width: whole keys only, `? Keys` and `^q Quit` kept; a
click on a key presses it."""

from __future__ import annotations

import pytest
from support.ui_helpers import screen_text, wait_until

from distill_tui.ui.app import DistillApp


@pytest.mark.parametrize("width", [40, 60, 80, 120])
async def test_footer_keys_are_never_cut(workspace, width):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.press("escape", "3")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CurateScreen")
        await pilot.pause()
        await wait_until(pilot, lambda: "^q Quit" in screen_text(app).splitlines()[-1])
        last = screen_text(app).splitlines()[-1].rstrip()
        assert last.endswith("? Keys ^q Quit")
        # Every key drawn is whole: the line is the keys, each `key description`.
        footer = app.screen.query_one("KeyFooter")
        drawn = " ".join(f"{k.display} {k.description}" for k in footer._items)
        assert last == drawn, (last, drawn)
        assert len(footer._items) >= 3
        if width >= 120:  # room for every key the screen shows
            assert "x Export" in last


async def test_footer_follows_a_resize(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.press("escape", "3")
        await wait_until(pilot, lambda: "x Export" in screen_text(app).splitlines()[-1])
        await pilot.resize_terminal(50, 24)
        await wait_until(pilot, lambda: "^q Quit" in screen_text(app).splitlines()[-1])
        last = screen_text(app).splitlines()[-1].rstrip()
        assert "x Export" not in last and last.endswith("? Keys ^q Quit")


async def test_a_click_on_a_footer_key_presses_it(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "? Keys" in screen_text(app).splitlines()[-1])
        await pilot.pause()
        last = screen_text(app).splitlines()[-1]
        await pilot.click("KeyFooter", offset=(last.index("? Keys") + 3, 0))
        await wait_until(pilot, lambda: type(app.screen).__name__ == "KeysHelp")
