"""SIGTERM during `distill-tui fuse` (issue 17, item 4): the fuse stops at the
next stage and removes what it wrote, so no half-written model.safetensors
stays, and the command exits 143. The signal is sent by the process to itself
the moment the weights are saved (the stage a kill used to cut short)."""

from __future__ import annotations

import subprocess
import sys

from support.adapter_helpers import make_run

SCRIPT = """
import os, signal, sys, time
import distill_tui.engine.chat.fuse as f

real = f.fuse

def fuse(*args, progress=None, **kw):
    def report(stage, done, total):
        if progress is not None:
            progress(stage, done, total)
        if stage == "saving" and done == 1:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1.0)  # the handler runs on the main thread meanwhile
    return real(*args, progress=report, **kw)

f.fuse = fuse
from distill_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_fuse_keeps_no_half_written_model(workspace, tiny_model):
    make_run(workspace, tiny_model)
    out = workspace.root / "fused-out"
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, "fuse", str(workspace.root), "--run", "run-1",
         "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert r.returncode == 143, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "fuse stopped by request; nothing was kept" in r.stderr, r.stderr
    assert not out.exists()
