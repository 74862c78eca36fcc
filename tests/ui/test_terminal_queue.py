"""The Queue screen in a real 80x24 terminal: every key of the screen and the
row detail, a header that is never stale (after `f`, after a headless import
in another process), and failures that say why: no API key, a teacher that is
down, a row that failed twice with its whole history."""

from __future__ import annotations

import re
import subprocess

from support.llm_server import FakeLLM, closed_port
from support.store_reads import counts
from support.terminal import installed_command

from distill_tui.core.project import Workspace


def _project(ws: Workspace, n: int, *, attempts: int = 6, concurrency: int = 2) -> None:
    t = ws.settings.teacher
    t.model, t.requests_per_minute, t.concurrency = "claude-haiku-4-5", 0, concurrency
    t.max_attempts = attempts
    ws.settings.task.instructions = "Answer."
    ws.save_settings()
    ws.store.add_inputs([(f"input {i}", None) for i in range(n)])


def _pending(ws: Workspace) -> int:
    return int(counts(ws.root)["pending"])


def _row_shown(t, row_id: int, status: str) -> bool:  # noqa: ANN001
    return re.search(rf"^\s*{row_id}\s+{status}\b", t.text(), re.M) is not None


def test_every_queue_key_and_a_header_that_follows_the_store(terminal, workspace, tmp_path):
    _project(workspace, 250)
    with FakeLLM(latency_s=0.2) as teacher:
        env = {"ANTHROPIC_API_KEY": "queue-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(workspace.root), env=env)
        t.wait_for("Task", timeout=60)
        t.press("2", binding="goto-queue")
        t.wait_for("Estimate: 250 row(s)")
        t.wait_for("pending 250")

        # Pages of 200 rows: ] shows rows from 201, [ goes back.
        t.press("right_square_bracket", binding="queue-pgdn")
        t.wait_until(lambda: _row_shown(t, 201, "pending"), "row 201 shown")
        t.press("left_square_bracket", binding="queue-pgup")
        t.wait_until(lambda: _row_shown(t, 1, "pending"), "row 1 shown")

        # Start, pause, resume, stop.
        t.press("s", binding="queue-start")
        t.wait_for("running")
        t.press("p", binding="queue-pause")
        t.wait_for("paused")
        t.press("r", binding="queue-resume")
        t.wait_until(lambda: "running" in t.text() and "paused" not in t.text(), "resumed")
        t.press("x", binding="queue-stop")
        t.wait_for("last run stopped")
        # The header shows the store's counts once the run has ended.
        left = _pending(workspace)
        assert 0 < left < 250
        t.wait_for(f"pending {left} ")

        # The row detail opens on enter and escape closes it.
        t.press("enter", binding="queue-open")
        t.wait_for("Row 1")
        t.press("escape", binding="queue-detail-close")
        t.wait_gone("Row 1 ")

        # A headless import in another process: counts and estimate follow
        # without a key press.
        new = tmp_path / "more.txt"
        new.write_text("".join(f"imported {i}\n" for i in range(7)))
        subprocess.run(
            [installed_command(), "import", str(workspace.root), str(new), "--lines"],
            check=True,
            capture_output=True,
        )
        t.wait_for(f"pending {left + 7} ", timeout=10)
        t.wait_for(f"Estimate: {left + 7} row(s)", timeout=10)
        t.press("e", binding="queue-estimate")
        t.wait_for(f"Estimate: {left + 7} row(s)")
        assert t.quit() == 0


def test_teacher_down_fails_rows_with_the_reason_and_their_history(terminal, workspace):
    # One row, two attempts a run: fewer connection failures in a row than stop
    # a run against a dead teacher (that stop is tested headless).
    _project(workspace, 1, attempts=2, concurrency=1)
    env = {
        "ANTHROPIC_API_KEY": "queue-key",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{closed_port()}",
    }
    t = terminal(str(workspace.root), env=env)
    t.wait_for("Task", timeout=60)
    t.press("2", binding="goto-queue")
    t.wait_for("pending 1 ")
    t.press("s", binding="queue-start")
    t.wait_for("failed 1 ", timeout=60)
    t.wait_for("last run: 0 done, 1 failed: connection error")  # the real reason

    # f: the header says at once that the row is pending again.
    t.press("f", binding="queue-retry")
    t.wait_for("pending 1 ")
    t.press("s")
    t.wait_for("failed 1 ", timeout=60)

    # The detail of a row that failed twice: its error and all four attempts.
    t.press("enter", binding="queue-open")
    t.wait_for("Row 1")
    t.wait_for("gave up after 2 attempts")
    t.wait_for("History")
    t.wait_for("attempt 4")
    screen = t.text()
    assert all(f"attempt {n}" in screen for n in (1, 2, 3)), screen
    t.press("escape", binding="queue-detail-close")
    assert t.quit() == 0


def test_start_without_an_api_key_says_so_and_keeps_running(terminal, workspace):
    _project(workspace, 3)
    t = terminal(str(workspace.root))
    t.wait_for("Task", timeout=60)
    t.press("2", binding="goto-queue")
    t.wait_for("pending 3 ")
    t.press("s", binding="queue-start")
    t.wait_for("ANTHROPIC_API_KEY is not set")
    t.press("e", binding="queue-estimate")
    t.wait_for("Estimate: 3 row(s)")
    assert t.quit() == 0
