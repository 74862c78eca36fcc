"""Every way training fails at the start says why: the preflight names it
before a run is made, and a run that fails anyway keeps its real reason in the
store (what the Train screen's monitor and runs list show)."""

from __future__ import annotations

import pytest
from support.trainutil import fast, make_project

from distill_tui.core.errors import UserError
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.train import trainer as tr
from distill_tui.engine.train.measure import preflight


@pytest.fixture
def ws(workspace, tiny_model):
    return make_project(workspace, tiny_model)


def test_preflight_names_what_would_fail_at_start(ws):
    pf = preflight(ws, fast(5, num_layers=16, batch_size=64, max_seq_length=16))
    text = "\n".join(pf.errors)
    assert f"more than the student's {pf.model_layers} layers" in text
    assert "training rows for batch size 64" in text
    assert "validation rows for batch size 64" in text
    assert "cuts off every completion" in text
    assert preflight(ws, fast(5)).errors == []


def test_a_run_beyond_the_students_layers_fails_with_its_reason_in_the_store(ws):
    with pytest.raises(UserError, match="num_layers 99 is more than the student's 2 layers"):
        tr.train_run(ws, fast(5, num_layers=99))
    run = runs_db.latest_run(ws.store)
    assert run.status == "failed"
    assert "num_layers 99 is more than the student's 2 layers" in (run.error or "")


def test_a_corrupt_split_is_named_by_preflight_and_by_the_failed_run(ws):
    with open(ws.root / "data" / "train.jsonl", "a", encoding="utf-8") as f:
        f.write("{not json\n")
    with pytest.raises(UserError, match="cannot read the exported split"):
        preflight(ws, fast(5))
    with pytest.raises(UserError, match="cannot read the exported split"):
        tr.train_run(ws, fast(5))
    run = runs_db.latest_run(ws.store)
    assert run.status == "failed" and "cannot read the exported split" in (run.error or "")
