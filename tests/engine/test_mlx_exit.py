"""`generate` with the local MLX teacher exits 0, every time.

A process whose MLX thread still wanted the GIL when the interpreter began
finalizing used to abort with "terminate called without an active
exception" (exit 134) after every row was stored. Here the MLX thread is kept
busy in Python past the end of `main()` on purpose, so a run without the exit
hook aborts every time instead of now and then.
"""

from __future__ import annotations

import os
import subprocess
import sys

from distill_tui.core.generate import queue as q

# Run the real CLI, then leave the MLX thread busy in Python as the process exits.
SCRIPT = """
import sys, time
from distill_tui.cli import main
from distill_tui.engine.mlx_thread import mlx_thread

rc = main(["generate", sys.argv[1], "--quiet"])

def busy():
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        time.sleep(0.001)

mlx_thread().submit(busy)
sys.exit(rc)
"""


def test_generate_with_the_local_teacher_exits_0_every_time(workspace, tiny_model):
    t = workspace.settings.teacher
    t.provider, t.model, t.max_tokens, t.local_batch_size = "mlx", str(tiny_model), 4, 4
    workspace.settings.task.instructions = "Classify the ticket."
    workspace.save_settings()
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    for run in range(3):
        workspace.store.add_inputs([(f"run {run} ticket {i}", None) for i in range(5)])
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(workspace.root)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "terminate called" not in proc.stderr
        assert proc.returncode == 0, proc.stderr
        assert "5 done" in proc.stdout
    assert workspace.store.counts()["done"] == 15
    assert q.rows_page(workspace.store, 0, 1)[0]["output"] is not None
