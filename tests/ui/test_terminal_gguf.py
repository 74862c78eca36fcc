"""A crafted GGUF student in a real 80x24 terminal: ctrl+r refuses it with one
line naming the file and the app stays up (mx.load on such a file used to
kill the process with SIGSEGV, leaving the terminal in the app's screen)."""

from __future__ import annotations

import struct
from pathlib import Path

from distill_tui.core import config as cfg
from ui.store_reads import runs as _runs


def test_a_crafted_gguf_student_is_refused_and_the_app_stays_up(terminal, demo_project: Path):
    from distill_tui.core import curation
    from distill_tui.core import curation_query as cq
    from distill_tui.core.export import export_dataset
    from distill_tui.core.project import Workspace

    ws = Workspace.open(demo_project)
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    export_dataset(ws.root, ws.store, ws.settings)
    ws.store.close()
    # The header of issue 17: one metadata key 2**62 bytes long.
    (demo_project / "crafted.gguf").write_bytes(
        b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62) + b"\0" * 100
    )
    toml = demo_project / "distill.toml"
    toml.write_text(toml.read_text().replace('"models/student"', '"crafted.gguf"'))
    assert cfg.load(toml).student.model == "crafted.gguf"

    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    t.wait_for("Preset")
    t.press("ctrl+r", binding="train-start")
    t.wait_for("cut short or damaged", timeout=60)
    assert t.has("crafted.gguf") and not t.has("Traceback")
    assert _runs(demo_project) == []
    # Still up and answering keys.
    t.press("1", binding="goto-task")
    t.wait_gone("Preset")
    assert t.quit() == 0
