"""A GGUF student in a real 80x24 terminal when things go wrong: a crafted
file is refused with one line naming it and the app stays up (mx.load on such
a file used to kill the process with SIGSEGV, leaving the terminal in the
app's screen), and a cache disk too small says so, with the right next step
(not "fix it on Setup")."""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

import pytest
from support.gguf_helpers import MOUNTED, private_tmpfs, write_gguf
from support.store_reads import runs as _runs

from distill_tui.core import config as cfg
from distill_tui.core.curate import curation
from distill_tui.core.curate import query as cq
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.project import Workspace


def _student(root: Path, name: str) -> None:
    """Every row accepted, the split exported, the student `name`."""
    ws = Workspace.open(root)
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    export_dataset(ws.root, ws.store, ws.settings)
    ws.store.close()
    toml = root / "distill.toml"
    toml.write_text(toml.read_text().replace('"models/student"', f'"{name}"'))
    assert cfg.load(toml).student.model == name


def test_a_crafted_gguf_student_is_refused_and_the_app_stays_up(terminal, demo_project: Path):
    # The header of issue 17: one metadata key 2**62 bytes long.
    (demo_project / "crafted.gguf").write_bytes(
        b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62) + b"\0" * 100
    )
    _student(demo_project, "crafted.gguf")
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    t.wait_for("Preset")
    t.press("ctrl+r", binding="train-start")
    t.wait_for("cut short or damaged", timeout=60)
    # The message names the file (its long temp path may wrap mid-name at 80 columns).
    assert "crafted.gguf" in re.sub(r"\s", "", t.flat()) and not t.has("Traceback")
    assert _runs(demo_project) == []
    # Still up and answering keys.
    t.press("1", binding="goto-task")
    t.wait_gone("Preset")
    assert t.quit() == 0


_ON_A_SMALL_CACHE = """
import os, sys
unshare, cache = sys.argv[1].split(","), sys.argv[2]
cli = [sys.executable, "-m", "distill_tui.cli", *sys.argv[3:]]
os.execvp(unshare[0], [*unshare, "sh", "-c", {mounted!r}, "sh", "256k", cache, *cli])
"""


def test_a_full_cache_disk_says_so_and_what_to_do(terminal, demo_project: Path, tmp_path):
    cache = tmp_path / "xdg"
    cache.mkdir()
    unshare = private_tmpfs(cache)
    if unshare is None:
        pytest.skip("cannot mount a small tmpfs in a private mount namespace here")
    write_gguf(demo_project / "m.gguf")
    _student(demo_project, "m.gguf")
    script = tmp_path / "small_cache.py"
    script.write_text(_ON_A_SMALL_CACHE.format(mounted=MOUNTED))
    t = terminal(
        ",".join(unshare),
        str(cache),
        str(demo_project),
        script=script,
        env={"XDG_CACHE_HOME": str(cache), "PYTHONPATH": ":".join(sys.path)},
    )
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    t.wait_for("Preset")
    t.press("ctrl+r", binding="train-start")
    t.wait_for("not enough space to convert m.gguf", timeout=60)
    t.wait_for("Not started: free disk space, then ctrl+r")
    assert not t.has("RuntimeError") and not t.has("fix it on Setup")
    assert _runs(demo_project) == []
    assert t.quit() == 0
