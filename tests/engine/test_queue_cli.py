"""`distill-tui generate` as a user runs it: kill -9 mid-run and resume,
pilot runs, the estimate, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from support.llm_server import FakeLLM

from distill_tui.core.store import Store


@pytest.fixture
def fake():
    with FakeLLM() as server:
        yield server


def _project(ws, n: int):
    t = ws.settings.teacher
    t.model = "claude-haiku-4-5"
    t.requests_per_minute = 0
    t.concurrency = 4
    ws.settings.task.instructions = "Answer."
    ws.save_settings()
    ws.store.add_inputs([(f"input {i}", None) for i in range(n)])


def _env(fake) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=fake.url, PYTHONWARNINGS="ignore")
    return env


def _cli(*args: str, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "distill_tui.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _done(db) -> int:
    s = Store(db)
    try:
        return int(s.conn.execute("SELECT COUNT(*) FROM rows WHERE status='done'").fetchone()[0])
    finally:
        s.close()


def test_kill_9_mid_run_then_resume_does_every_row_once(workspace, fake):
    n = 60
    _project(workspace, n)
    fake.latency_s = 0.05
    db = workspace.store.path
    proc = _cli("generate", str(workspace.root), env=_env(fake))
    end = time.monotonic() + 60
    while _done(db) < 15:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first_done = _done(db)
    assert 15 <= first_done < n
    before = len(fake.message_requests)

    proc = _cli("generate", str(workspace.root), env=_env(fake))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "all pending rows processed" in out

    s = Store(db)
    rows = s.conn.execute("SELECT status, COUNT(*) FROM rows GROUP BY status").fetchall()
    assert dict(rows) == {"done": n}
    per_row = Counter(r[0] for r in s.conn.execute("SELECT row_id FROM generations"))
    assert len(per_row) == n and set(per_row.values()) == {1}
    # Rows done before the kill were not requested again.
    second_run = fake.message_requests[before:]
    assert len(second_run) <= n - first_done + 4  # + the requests lost in flight
    s.close()


def test_pilot_run_estimate_and_auth_error_exit_code(workspace, fake, capsys, monkeypatch):
    # In-process (same argv, same main) so the slow SDK import is paid once.
    from distill_tui.cli import main

    _project(workspace, 10)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    root = str(workspace.root)
    assert main(["generate", root, "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "10 row(s)" in err and "$" in err
    assert fake.message_requests == []

    assert main(["generate", root, "--limit", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 done" in out and "7 pending" in out

    fake.always = "401"
    assert main(["generate", root]) == 2
    err = capsys.readouterr().err
    assert "authentication failed" in err and "Traceback" not in err

    fake.always = None
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert main(["generate", root]) == 2
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err
