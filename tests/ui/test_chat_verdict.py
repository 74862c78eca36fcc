"""Fuse and Ship from the Chat screen for a run evaluated worse than its SFT
start (issue 31 item 5): each dialog asks first, naming the figures; escape
fuses/ships nothing, `y` goes on to the dialog, which shows the verdict."""

from __future__ import annotations

from support.adapter_helpers import make_adapter
from support.ui_helpers import wait_until
from support.verdict_helpers import sft_and_collapsed_dpo
from textual.widgets import Static

from distill_tui.core import paths
from distill_tui.core.ship import provenance
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.chat.screen import ChatScreen
from distill_tui.ui.screens.chat.ship import ShipDialog

WORSE = "worse than its SFT start: -29 rows of 32"


def _name(app: DistillApp) -> str:
    return type(app.screen).__name__


async def test_fuse_and_ship_of_a_worse_run_ask_first(workspace, tiny_model):
    sft_and_collapsed_dpo(workspace)
    for run_id in ("sft-1", "dpo-1"):
        make_adapter(tiny_model, paths.run_dir(workspace.root, run_id))
        make_adapter(tiny_model, paths.run_dir(workspace.root, run_id) / "best", seed=2)
    fused = workspace.root / "fused" / "dpo-1-best"
    fused.mkdir(parents=True)
    (fused / "config.json").write_text("{}")
    (fused / "model.safetensors").write_bytes(b"")
    provenance.write_json(provenance.gather(workspace, "dpo-1", "best"), fused / "provenance.json")

    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.target and screen.target.label == "dpo-1:best")
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: _name(app) == "ConfirmDialog")
        assert WORSE in app.screen.question and "Fuse it anyway?" in app.screen.question
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: _name(app) == "ConfirmDialog")
        await pilot.press("y")
        await wait_until(pilot, lambda: _name(app) == "FuseDialog")
        assert WORSE in str(app.screen.query_one("#verdict", Static).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert not screen.fuser.running

        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, ShipDialog))
        dialog = app.screen
        assert WORSE in str(dialog.query_one("#verdict", Static).render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _name(app) == "ConfirmDialog")
        assert WORSE in app.screen.question and "Ship it anyway?" in app.screen.question
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is dialog)
        assert not dialog.shipping
