"""The Task screen's dropdowns (output format, teacher provider), with Pilot at
80x24: keys and clicks open the list, pick, close, and each pick is saved."""

from __future__ import annotations

from support.ui_helpers import screen_text, wait_until

from distill_tui.core import config as cfg
from distill_tui.ui.app import DistillApp
from distill_tui.ui.widgets.dropdown import Dropdown, DropdownList

SIZE = (80, 24)


def _row(app: DistillApp, label: str) -> str:
    return next(line for line in screen_text(app).splitlines() if line.startswith(label))


async def test_keys_open_the_list_pick_and_save_and_escape_keeps_the_value(workspace):
    on_disk = lambda: cfg.load(workspace.root / "distill.toml")  # noqa: E731
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        fmt = app.screen.query_one("#task-output-format", Dropdown)
        fmt.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "▊JSON" in screen_text(app))
        assert "▲" in _row(app, "Output format")
        assert "esc Close list" in screen_text(app).splitlines()[-1]
        await pilot.press("escape")  # closes, keeps "free text", focus back on the field
        await wait_until(pilot, lambda: "▊JSON" not in screen_text(app))
        assert app.screen.focused is fmt and fmt.value == "text"
        assert "free text" in _row(app, "Output format") and "▼" in _row(app, "Output format")

        await pilot.press("down", "down", "enter")  # open, move to JSON, pick it
        await wait_until(pilot, lambda: on_disk().task.output_format == "json")
        assert "JSON" in _row(app, "Output format") and "▊" not in _row(app, "Output format")
        assert app.screen.focused is fmt

        await pilot.press("space", "up", "enter")  # and back
        await wait_until(pilot, lambda: on_disk().task.output_format == "text")
        assert "free text" in _row(app, "Output format")


async def test_a_click_opens_the_list_and_a_click_on_a_choice_picks_it(workspace):
    on_disk = lambda: cfg.load(workspace.root / "distill.toml")  # noqa: E731
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#teacher-provider")
        await wait_until(pilot, lambda: "▊Local MLX" in screen_text(app))
        menu = app.screen.query_one(DropdownList)
        await pilot.click(menu, offset=(3, 3))  # the border, then the 3 choices
        await wait_until(pilot, lambda: on_disk().teacher.provider == "mlx")
        # The form follows the provider: a local teacher needs no key.
        await wait_until(pilot, lambda: "no API key needed" in screen_text(app))
        assert "Local MLX" in _row(app, "Provider")
        assert "▊Anthropic" not in screen_text(app)


async def test_leaving_the_open_list_closes_it_without_a_change(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        fmt = app.screen.query_one("#task-output-format", Dropdown)
        fmt.focus()
        await pilot.press("enter", "down")
        await wait_until(pilot, lambda: "▊JSON" in screen_text(app))
        await pilot.press("tab")
        await wait_until(pilot, lambda: "▊JSON" not in screen_text(app))
        assert fmt.value == "text"
        assert app.screen.focused is not None and app.screen.focused.id == "task-instructions"


async def test_a_distill_toml_edit_shows_in_the_dropdown(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        path = workspace.root / "distill.toml"
        path.write_text(path.read_text().replace('provider = "anthropic"', 'provider = "openai"'))
        await wait_until(pilot, lambda: "OpenAI-compatible" in _row(app, "Provider"))
        assert cfg.load(path).teacher.provider == "openai"
