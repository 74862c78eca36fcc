"""The Chat screen's evaluation view in a real 80x24 terminal (issue 31): the
verdict against the parent in one line above the table, the 95% intervals,
`b` for the rows the run broke, `f` for those it fixed, `m` for the
confusion matrix, and `c` sending the rows shown to the curator. The runs
list (ctrl+l) shows each run's objective and parent."""

from __future__ import annotations

import json

from support.adapter_helpers import make_run

from distill_tui.core.curate import curation
from distill_tui.core.evaluate import evals
from distill_tui.core.evaluate.evals import ADAPTER, BASE, EvalItem, EvalResult
from distill_tui.core.evaluate.metrics import score
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db


def _stored_eval(ws: Workspace) -> tuple[int, int]:
    """32 demo rows: the base right on 8, the run right on 30 (fixing 24 and
    breaking 2). Returns the row ids of the broken ones."""
    rows = ws.store.conn.execute(
        "SELECT id, input, output FROM rows WHERE status = 'done' ORDER BY id LIMIT 32"
    ).fetchall()
    items = []
    for n, (row_id, text, label) in enumerate(rows):
        base = label if n < 8 else "no idea"
        run = label if n >= 2 else "no idea"
        item = EvalItem(n, row_id, text, label)
        item.answers = {BASE: base, ADAPTER: run}
        item.scores = {BASE: score(base, label), ADAPTER: score(run, label)}
        items.append(item)
    evals.save(ws.store, EvalResult("run-1", "best", "valid", "text", items))
    return rows[0][0], rows[1][0]


def test_the_verdict_intervals_flips_and_matrix_at_80x24(terminal, demo_project):
    ws = Workspace.open(demo_project)
    make_run(ws, demo_project / "models" / "student")
    runs_db.update_run(ws.store, "run-1", status="finished")
    with ws.store.tx() as c:
        c.execute("UPDATE runs SET config = ? WHERE id = 'run-1'", (json.dumps({"train": {}}),))
    ids = [r[0] for r in ws.store.conn.execute("SELECT id FROM rows WHERE status = 'done'")]
    curation.decide(ws.store, ids, "accepted")
    broken = _stored_eval(ws)
    ws.store.close()

    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    t.press("ctrl+l", binding="train-runs")
    t.wait_for("Obj")
    t.wait_for("last verdict: better")
    assert t.has("sft from the base model") and t.has("From")
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")
    t.press("ctrl+r", binding="chat-eval")
    t.wait_for("better than the base model: +22 rows of 32")
    assert t.has("beyond noise") and t.has("95% CI")
    t.wait_for("2 rows the adapter got wrong")
    t.press("b", binding="eval-regressed")
    t.wait_for("2 rows it broke")
    t.press("c", binding="eval-curator")
    t.wait_for("2 broken row(s) are unreviewed again")
    t.press("b")
    t.wait_for("2 rows the adapter got wrong")
    t.press("f", binding="eval-fixed")
    t.wait_for("24 rows it fixed")
    t.press("m", binding="eval-matrix")
    t.wait_for("confusion matrix of the adapter's answers")
    t.wait_for("rec prec")
    assert t.has("1 billing") or t.has("1 bug") or t.has("1 feature") or t.has("1 account")
    t.press("m")
    t.wait_for("rows the adapter got wrong")
    t.assert_no_traceback()
    assert t.quit() == 0

    ws = Workspace.open(demo_project)
    marks = ws.store.conn.execute(
        f"SELECT decision FROM rows WHERE id IN ({broken[0]}, {broken[1]})"
    ).fetchall()
    assert [m[0] for m in marks] == [None, None]  # unreviewed again
