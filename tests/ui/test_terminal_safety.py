"""The safety net, in a real terminal: a bug in a handler or in drawing the
screen never takes a running generation down with it. The app is started by a
small launcher that plants the bug, then runs the real CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.llm_server import FakeLLM
from support.store_reads import counts

LAUNCHER = """
import sys
from distill_tui.ui.screens.queue import screen as queue
from distill_tui.ui.widgets import chrome

calls = {{"n": 0}}
original = queue.QueueScreen.on_queue_progressed

def on_queue_progressed(self, m):
    calls["n"] += 1
    if calls["n"] == 3:
        raise RuntimeError("planted bug in a handler")
    return original(self, m)

queue.QueueScreen.on_queue_progressed = on_queue_progressed
{extra}
from distill_tui.cli import main
sys.exit(main())
"""

BROKEN_DRAWING = """
draw = chrome.StatusBar.render

def render(self):
    if calls["n"] >= 3:
        raise RuntimeError("planted bug in drawing")
    return draw(self)

chrome.StatusBar.render = render
"""


def _project(workspace, n: int) -> Path:  # noqa: ANN001
    ws = workspace
    ws.settings.teacher.model = "claude-haiku-4-5"
    ws.settings.teacher.requests_per_minute = 0
    ws.settings.teacher.concurrency = 2
    ws.save_settings()
    ws.store.add_inputs([(f"ticket {i}", None) for i in range(n)])
    return ws.root


def _done(root: Path) -> int:
    return int(counts(root)["done"])


def _launcher(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "launch.py"
    path.write_text(textwrap.dedent(LAUNCHER.format(extra=extra)))
    return path


@pytest.mark.crash_expected
def test_a_bug_in_a_handler_is_one_line_and_the_generation_goes_on(terminal, workspace, tmp_path):
    root = _project(workspace, 24)
    with FakeLLM(latency_s=0.1) as teacher:
        env = {"ANTHROPIC_API_KEY": "safety-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(root), env=env, script=_launcher(tmp_path))
        t.wait_for("Task", timeout=60)
        t.press("2")
        t.wait_for("pending")  # the Queue screen is up, not just its tab
        t.press("s", binding="queue-start")
        t.wait_for("Unexpected error", timeout=60)
        assert t.has("crash.log")
        t.wait_until(lambda: _done(root) == 24, "every row answered", 120)
        t.press("1")  # the app still answers keys
        t.wait_for("Instructions")
        assert t.quit() == 0
    log = (root / ".distill" / "crash.log").read_text()
    assert "planted bug in a handler" in log and "Traceback" in log
    assert len(teacher.message_requests) == 24  # nothing asked twice


@pytest.mark.crash_expected
def test_a_bug_in_drawing_leaves_the_screen_and_the_generation_finishes(
    terminal, workspace, tmp_path
):
    root = _project(workspace, 24)
    # Long enough (24 rows, 2 at a time, 0.5 s each) that the status bar, drawn
    # every 2 s, breaks while the job still runs.
    with FakeLLM(latency_s=0.5) as teacher:
        env = {"ANTHROPIC_API_KEY": "safety-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(root), env=env, script=_launcher(tmp_path, BROKEN_DRAWING))
        t.wait_for("Task", timeout=60)
        t.press("2")
        t.wait_for("pending")  # the Queue screen is up, not just its tab
        t.press("s")
        code = t.wait_exit(timeout=120)  # leaves by itself once the job has ended
        assert code == 1
        t.assert_no_traceback()
        out = t.output()
        assert "unexpected error (RuntimeError: planted bug in drawing)" in out
        assert "keeps running without a screen" in out
    assert _done(root) == 24
    assert len(teacher.message_requests) == 24
    assert "planted bug in drawing" in (root / ".distill" / "crash.log").read_text()


BROKEN_MOUNT = """
from distill_tui.ui.screens.train import screen as train

def on_mount(self):
    raise RuntimeError("planted bug in mounting")

train.TrainScreen.on_mount = on_mount
"""


@pytest.mark.crash_expected
def test_a_bug_while_a_screen_is_built_gives_the_terminal_back(terminal, workspace, tmp_path):
    """A screen that failed to compose or mount would be a half-built screen
    with keys that act on widgets that are not there: the app leaves with one
    line instead, the traceback in the crash log."""
    root = _project(workspace, 2)
    t = terminal(str(root), script=_launcher(tmp_path, BROKEN_MOUNT))
    t.wait_for("Task", timeout=60)
    t.press("4", exits=True)  # the planted bug ends the app
    assert t.wait_exit(timeout=60) == 1
    t.assert_no_traceback()
    assert "unexpected error (RuntimeError: planted bug in mounting)" in t.output()
    assert "planted bug in mounting" in (root / ".distill" / "crash.log").read_text()
