"""Text from models and files is data on every screen: Rich markup shows
literally and an ANSI escape is displayed as a symbol, never sent to the
terminal."""

from __future__ import annotations

import pytest
from support.ui_helpers import screen_text, wait_until

from distill_tui.core import config as cfg
from distill_tui.ui.app import DistillApp

NASTY = "[bold]x[/] \x1b[31mred\x1b[0m \u202eevil"


@pytest.mark.parametrize(
    "key, screen", [("1", "TaskScreen"), ("2", "QueueScreen"), ("3", "CurateScreen")]
)
async def test_markup_and_escapes_show_literally(workspace, key, screen):
    ws = workspace
    ws.settings.task.examples = [cfg.Example(input=NASTY, output=NASTY)]
    ws.save_settings()
    ws.store.add_inputs([(NASTY, None)])
    with ws.store.tx() as c:
        c.execute(
            "INSERT INTO generations (row_id, output, teacher, prompt_hash, created_at)"
            " VALUES (1, ?, 't', 'h', 0)",
            (NASTY,),
        )
        c.execute("UPDATE rows SET status='done', output=?, generation_id=1", (NASTY,))
    app = DistillApp(root=ws.root, workspace=ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await wait_until(pilot, lambda: type(app.screen).__name__ == screen)
        await wait_until(pilot, lambda: "[bold]x[/]" in screen_text(app))
        text = screen_text(app)
        assert "\x1b" not in text
        assert "␛[31mred" in text
