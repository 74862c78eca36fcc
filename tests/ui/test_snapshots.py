"""Snapshots of the screens at 80x24 on fixed data, to catch layout regressions.
Machine-dependent facts (memory, the Hugging Face cache) are pinned."""

from __future__ import annotations

import pytest
from support.ui_helpers import wait_until
from textual.worker import WorkerState

from distill_tui.core import config as cfg
from distill_tui.core import sysinfo
from distill_tui.core.project import Workspace
from distill_tui.ui.app import DistillApp

GiB = 1024**3


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(sysinfo, "total_memory_bytes", lambda: 16 * GiB)
    monkeypatch.setattr(sysinfo, "available_memory_bytes", lambda: 6 * GiB)
    monkeypatch.setattr(sysinfo, "process_rss_bytes", lambda: 300 * 2**20)
    monkeypatch.setattr(sysinfo, "gpu_wired_limit_bytes", lambda: None)
    monkeypatch.setattr(sysinfo, "cached_models", lambda cache=None: [])
    monkeypatch.setattr(sysinfo, "gguf_models", lambda project, cache=None: [])
    monkeypatch.setattr(sysinfo, "api_key_present", lambda provider, base_url=None: False)


def project(tmp_path) -> Workspace:
    settings = cfg.Project(
        task=cfg.Task(
            name="tickets",
            instructions="Classify the ticket as billing, bug, feature or account.",
            input_description="a support ticket",
            output_description="one label",
            examples=[
                cfg.Example(input="I was charged twice [bold]", output="billing"),
                cfg.Example(input="The app crashes on start", output="bug"),
            ],
        )
    )
    ws = Workspace.create(tmp_path / "tickets", settings)
    ws.store.add_inputs(
        [
            ("I was charged twice this month.", None),
            ("Export shows [/] and \x1b[31mred\x1b[0m text", None),
            ("Please add a dark mode 🌙", None),
        ]
    )
    with ws.store.tx() as c:
        c.execute(
            "INSERT INTO generations (row_id, output, teacher, prompt_hash, input_tokens,"
            " output_tokens, cost_usd, created_at) VALUES"
            " (1, 'billing', 'anthropic:claude-haiku-4-5', 'h', 120, 2, 0.0001, 0),"
            " (2, 'bug', 'anthropic:claude-haiku-4-5', 'h', 118, 2, 0.0001, 0)"
        )
        c.execute("UPDATE rows SET status='done', output='billing', generation_id=1 WHERE id=1")
        c.execute("UPDATE rows SET status='done', output='bug', generation_id=2 WHERE id=2")
        c.execute("UPDATE rows SET decision='accepted' WHERE id=1")
    return ws


def go_and_settle(key: str):
    async def run_before(pilot) -> None:
        await pilot.press(key)
        await settle(pilot)

    return run_before


async def settle(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: bool(app.screen.query_one("#statusbar").summary))
    await wait_until(
        pilot,
        lambda: all(w.state not in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers),
    )
    await pilot.pause()


@pytest.mark.parametrize("key", ["1", "2", "3"])
def test_screen_snapshot(key, tmp_path, pinned, snap_compare):
    ws = project(tmp_path)
    app = DistillApp(root=ws.root, workspace=ws)
    assert snap_compare(app, terminal_size=(80, 24), run_before=go_and_settle(key))
