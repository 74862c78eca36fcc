"""`distill-tui train` after rows were accepted or edited since the last
export (issue 20, item 1): it refuses and says how many, `--export` exports
first, `--old-export` trains on data/ as it is, saying so."""

from __future__ import annotations

import subprocess
import sys

from support.curate_helpers import add_answered
from support.trainutil import FAST_FLAGS

from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.train import runs as runs_db


def _train(ws, *flags: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "distill_tui.cli", "train", str(ws.root), "--iters", "2"]
    return subprocess.run([*cmd, *FAST_FLAGS, *flags], capture_output=True, text=True, timeout=240)


def _stale_project(ws, tiny_model):
    ws.settings.student.model = str(tiny_model)
    ws.save_settings()
    ids = add_answered(ws.store, [(f"ticket {i}", f"label {i % 3}") for i in range(20)])
    cur.accept(ws.store, ids)
    export_dataset(ws.root, ws.store, ws.settings)
    # After the export: a chat reply saved as a row and accepted, an output edited.
    cur.accept(ws.store, add_answered(ws.store, [("a saved chat reply", "billing")]))
    cur.edit(ws.store, ids[0], output="hand-fixed")


def _exported_outputs(ws) -> str:
    return "".join(p.read_text() for p in paths.data_dir(ws.root).glob("*.jsonl"))


def test_train_refuses_a_stale_export_then_exports_first_with_the_flag(workspace, tiny_model):
    ws = workspace
    _stale_project(ws, tiny_model)
    refused = _train(ws)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "distill-tui: not started: 2 accepted or edited rows are not in data/ and 1 row in"
        f" data/ no longer accepted as exported (`distill-tui export {ws.root}` exports"
        " them; --export exports first, --old-export trains on data/ as it is)"
    ]
    assert runs_db.list_runs(ws.store) == []
    assert "hand-fixed" not in _exported_outputs(ws)

    done = _train(ws, "--export")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "2 accepted or edited rows are not in data/ and 1 row in data/ no longer"
        " accepted as exported (--export: exporting first)",
        "exported train 17, valid 4 rows to data/",
    ]
    assert "hand-fixed" in _exported_outputs(ws) and "a saved chat reply" in _exported_outputs(ws)
    assert [r.status for r in runs_db.list_runs(ws.store)] == ["finished"]


def test_train_on_the_old_export_says_so(workspace, tiny_model):
    ws = workspace
    _stale_project(ws, tiny_model)
    before = _exported_outputs(ws)
    done = _train(ws, "--old-export")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "warning: 2 accepted or edited rows are not in data/ and 1 row in data/ no"
        " longer accepted as exported (training on data/ as it is: --old-export)"
    )
    assert _exported_outputs(ws) == before
    assert len(runs_db.list_runs(ws.store)) == 1
