"""At 80x24 (issue 31, items 4 and 6): the Chat picker names each run's
objective and parent, and the evaluation view shows the general perplexity
of base and run with a warning when it rose past the threshold."""

from __future__ import annotations

import json

from support.adapter_helpers import make_run

from distill_tui.core.evaluate import evals
from distill_tui.core.evaluate.evals import ADAPTER, BASE, EvalItem, EvalResult
from distill_tui.core.evaluate.metrics import score
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db


def _dpo_run_that_forgot(ws: Workspace) -> None:
    make_run(ws, ws.root / "models" / "student", "dpo-1")
    config = {"from_run": "sft-1", "train": {"objective": "dpo", "beta": 0.1}}
    runs_db.update_run(ws.store, "dpo-1", status="finished")
    with ws.store.tx() as c:
        c.execute("UPDATE runs SET config = ? WHERE id = 'dpo-1'", (json.dumps(config),))
    items = []
    for n, label in enumerate(["billing", "bug", "feature", "account"] * 2):
        item = EvalItem(n, None, f"ticket {n}", label)
        item.answers = {BASE: "no idea", ADAPTER: label}
        item.scores = {BASE: score("no idea", label), ADAPTER: score(label, label)}
        items.append(item)
    result = EvalResult("dpo-1", "best", "valid", "text", items)
    result.general, result.general_tokens = {BASE: 12.0, ADAPTER: 19.2}, 2012
    evals.save(ws.store, result)


def test_the_picker_shows_lineage_and_the_view_the_general_perplexity(terminal, demo_project):
    ws = Workspace.open(demo_project)
    _dpo_run_that_forgot(ws)
    ws.store.close()

    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")
    t.wait_for("dpo-1 best")
    t.press("ctrl+o", binding="chat-pick")
    t.wait_for("dpo-1 latest")
    assert t.has("dpo from sft-1")
    t.press("escape")
    t.wait_gone("dpo-1 latest")
    t.press("ctrl+r", binding="chat-eval")
    t.wait_for("general ppl")
    assert t.has("12.00") and t.has("19.20") and t.has("+60.0%")
    t.wait_for("general perplexity rose 60% over the base model's")
    t.assert_no_traceback()
    assert t.quit() == 0
