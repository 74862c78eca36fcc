"""A dropped SSH connection: SIGHUP to the running app during generation and
during training. The app detaches from the dead terminal, its job runs to the
end and is saved in the store, and then the process exits by itself."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

from support.llm_server import FakeLLM
from support.tiny_task import write_split

from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db


class PtyApp:
    """`distill-tui DIR` in a pseudo-terminal, as over SSH."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(env)
            os.environ["TERM"] = "xterm-256color"
            os.execv(sys.executable, [sys.executable, "-m", "distill_tui.cli", str(root)])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.seen = b""

    def read_until(self, marker: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            assert time.monotonic() < deadline, f"no {marker!r} on screen: {self.seen[-400:]!r}"
            if select.select([self.fd], [], [], 0.1)[0]:
                self.seen += os.read(self.fd, 65536)

    def keys(self, data: bytes) -> None:
        os.write(self.fd, data)

    def hang_up(self) -> None:
        """What sshd does when the connection drops: SIGHUP, terminal gone."""
        os.kill(self.pid, signal.SIGHUP)
        os.close(self.fd)

    def wait_exit(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("the app did not exit after its job finished")


def poll(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.05)


def test_generation_survives_a_hangup(workspace):
    ws = workspace
    ws.settings.teacher.model = "claude-haiku-4-5"
    ws.settings.teacher.requests_per_minute = 0
    ws.settings.teacher.concurrency = 2
    ws.save_settings()
    ws.store.add_inputs([(f"ticket {i}", None) for i in range(40)])
    db = ws.root / "distill.db"

    def done() -> int:
        s = Store(db)
        try:
            return s.counts()["done"]
        finally:
            s.close()

    with FakeLLM(latency_s=0.1) as teacher:
        env = {"ANTHROPIC_API_KEY": "hangup-key", "ANTHROPIC_BASE_URL": teacher.url}
        app = PtyApp(ws.root, env)
        app.read_until(b"Task")
        app.keys(b"2")
        app.read_until(b"Queue")
        time.sleep(0.5)  # let the screen mount before the key that starts the run
        app.keys(b"s")
        poll(lambda: done() >= 3)
        app.hang_up()
        assert app.wait_exit(timeout=90) == 0
        assert done() == 40
        s = Store(db)
        per_row = s.conn.execute("SELECT COUNT(*) FROM generations GROUP BY row_id").fetchall()
        assert [n for (n,) in per_row] == [1] * 40  # nothing was paid for twice
        assert len(teacher.message_requests) == 40


def test_training_survives_a_hangup(workspace, tiny_model):
    ws = workspace
    ws.settings.student.model = str(tiny_model)
    t = ws.settings.train
    t.iters, t.batch_size, t.learning_rate, t.num_layers = 80, 4, 1e-3, -1
    t.steps_per_report, t.steps_per_eval, t.steps_per_save, t.val_batches = 5, 20, 20, 2
    ws.save_settings()
    write_split(ws.root / "data")
    db = ws.root / "distill.db"

    def latest():
        s = Store(db)
        try:
            return runs_db.latest_run(s)
        finally:
            s.close()

    app = PtyApp(ws.root, {})
    app.read_until(b"Task")
    app.keys(b"4")
    app.read_until(b"Train")
    time.sleep(0.5)
    app.keys(b"\x12")  # ctrl+r: train
    poll(lambda: (r := latest()) is not None and r.iter >= 5, timeout=90)
    app.hang_up()
    assert app.wait_exit(timeout=120) == 0
    run = latest()
    assert run.status == "finished", run
    assert run.iter == 80
    assert (ws.root / "runs" / run.id / "adapters.safetensors").is_file()
