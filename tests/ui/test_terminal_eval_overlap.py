"""The Chat screen's evaluation in a real 80x24 terminal when the split was
exported again with another seed after the run trained (issue 17, item 7):
it asks first (escape: not evaluated; e: evaluated), and the result's header
says how many validation rows were the run's training rows."""

from __future__ import annotations

from support.adapter_helpers import make_run

from distill_tui.core import paths
from distill_tui.core.curate import curation
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.evaluate import split_overlap
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db


def test_evaluation_of_rows_the_run_trained_on_asks_then_warns(terminal, demo_project):
    ws = Workspace.open(demo_project)
    make_run(ws, demo_project / "models" / "student")
    runs_db.update_run(ws.store, "run-1", status="finished")
    ids = [r[0] for r in ws.store.conn.execute("SELECT id FROM rows WHERE status = 'done'")]
    curation.decide(ws.store, ids, "accepted")
    export_dataset(ws.root, ws.store, ws.settings, seed=0)
    # What `train` records in the run folder, then an export with another seed.
    split_overlap.record_training_inputs(paths.run_dir(ws.root, "run-1"), paths.data_dir(ws.root))
    export_dataset(ws.root, ws.store, ws.settings, seed=1)
    found = split_overlap.check(ws.root, ws.settings, "run-1", allow=True)
    ws.store.close()
    assert found is not None and found.seen > 0
    said = found.message()

    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")
    t.press("ctrl+r", binding="chat-eval")
    t.wait_for("none yet")
    t.press("r", binding="eval-run")
    t.wait_for("evaluate anyway")
    assert t.has(said)
    t.press("escape", binding="confirm-cancel")
    t.wait_for("evaluation not started")
    t.press("r")
    t.wait_for("evaluate anyway")
    t.press("e")
    t.wait_for("run-1:best on valid", timeout=180)
    t.wait_for(said)
    t.assert_no_traceback()
    assert t.quit() == 0
