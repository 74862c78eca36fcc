"""SIGTERM to the headless commands (issue 17, item 4) is a clean stop, as a
first Ctrl-C: `generate` stores every answer that arrived and asks for none
twice, `train` saves the adapter and marks the run stopped; both then exit
143. Real processes, the loopback teacher and the tiny model."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from support.llm_server import FakeLLM
from support.trainutil import FAST_FLAGS, make_project

from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db

CLI = [sys.executable, "-m", "distill_tui.cli"]


def _count(db, sql: str) -> int:
    s = Store(db)
    try:
        return int(s.conn.execute(sql).fetchone()[0])
    finally:
        s.close()


def test_sigterm_during_generate_stores_what_arrived_and_exits_143(workspace):
    t = workspace.settings.teacher
    t.model, t.requests_per_minute, t.concurrency = "claude-haiku-4-5", 0, 4
    workspace.save_settings()
    workspace.store.add_inputs([(f"input {i}", None) for i in range(60)])
    db = workspace.store.path
    with FakeLLM(latency_s=0.4) as fake:
        env = {
            **os.environ,
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": fake.url,
            "PYTHONWARNINGS": "ignore",
        }
        proc = subprocess.Popen(
            [*CLI, "generate", str(workspace.root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        end = time.monotonic() + 60
        while _count(db, "SELECT COUNT(*) FROM rows WHERE status = 'done'") < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        asked = len(fake.message_requests)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopping (terminated)" in err, err
    assert "stopped by request" in out, out
    s = Store(db)
    statuses = dict(s.conn.execute("SELECT status, COUNT(*) FROM rows GROUP BY status"))
    # Every answer requested arrived and is stored; no row is left running.
    assert statuses == {"done": asked, "pending": 60 - asked}, statuses
    per_row = Counter(r[0] for r in s.conn.execute("SELECT row_id FROM generations"))
    assert set(per_row.values()) == {1}
    s.close()


def test_sigterm_during_train_marks_the_run_stopped_and_exits_143(workspace, tiny_model):
    ws = make_project(workspace, tiny_model)
    proc = subprocess.Popen(
        [*CLI, "train", str(ws.root), "--iters", "400", *FAST_FLAGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if re.match(r"iter\s+10/", line):
            proc.send_signal(signal.SIGTERM)
            break
    rest, _ = proc.communicate(timeout=120)
    seen.append(rest)
    out = "".join(seen)
    assert proc.returncode == 143, out
    assert "Traceback" not in out and "stopped at iteration" in out, out
    run = runs_db.latest_run(ws.store)
    assert run.status == "stopped", run
    assert 10 <= run.iter < 400
    assert (ws.root / "runs" / run.id / "adapters.safetensors").is_file()


@pytest.mark.parametrize("command", ["status", "export"])
def test_sigterm_outside_a_job_is_one_line_and_143(workspace, command):
    # A command with nothing to stop ends at once, without a traceback.
    code = (
        "import os, signal, sys\n"
        f"from distill_tui.commands import {command} as m\n"
        "real = m.run\n"
        "def run(args):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return real(args)\n"
        "m.run = run\n"
        "from distill_tui.cli import main\n"
        f"sys.exit(main([{command!r}, {str(workspace.root)!r}]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 143, r.stderr
    assert r.stderr.strip() == "distill-tui: terminated", r.stderr
