"""`distill-tui eval` on a split exported again with another seed: it refuses
when validation rows were the run's training rows, and with --allow-overlap
says how many in the result (issue 17, item 7); with no validation split by
the settings it says so (issue 17, smaller notes)."""

from __future__ import annotations

import json
import subprocess
import sys

from support.adapter_helpers import make_adapter
from support.curate_helpers import add_answered

from distill_tui.cli import main
from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.train import runs
from distill_tui.engine.train.runplan import plan_run


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def _project(ws, tiny_model):
    ws.settings.student.model = str(tiny_model)
    ws.settings.split.valid_fraction = 0.25
    ws.settings.train.batch_size = 2
    ws.save_settings()
    ids = add_answered(ws.store, [(f"ticket {i}", f"label {i % 3}") for i in range(32)])
    cur.accept(ws.store, ids)
    first = export_dataset(ws.root, ws.store, ws.settings, seed=0)
    plan = plan_run(ws)  # records the run's training inputs, as `train` does
    runs.update_run(ws.store, plan.run_id, status="finished")
    make_adapter(tiny_model, plan.run_dir)  # what training would have left
    make_adapter(tiny_model, plan.run_dir / "best", seed=2)
    again = export_dataset(ws.root, ws.store, ws.settings, seed=1)
    seen = len(set(again.row_ids["valid"]) & set(first.row_ids["train"]))
    return plan.run_id, seen, again.counts["valid"]


def test_eval_refuses_a_split_holding_the_runs_training_rows(workspace, tiny_model, capsys):
    run_id, seen, rows = _project(workspace, tiny_model)
    assert seen > 0
    d = str(workspace.root)
    proc = _cli("eval", d, "--run", run_id)
    assert proc.returncode == 2 and proc.stdout == ""
    line = _one_line(proc.stderr)
    assert f"{seen} of {rows} validation rows were training rows of run {run_id}" in line
    assert "--allow-overlap" in line
    assert (
        main(["eval", d, "--run", run_id, "--allow-overlap", "--no-base", "--max-tokens", "2"]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{run_id}:best on valid: {rows} rows")
    assert out[1] == (
        f"warning: {seen} of {rows} validation rows were training rows of run {run_id}:"
        " these scores measure recall, not generalisation"
    )
    assert main(["eval", d, "--run", run_id, "--last", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overlap"] == {"seen": seen, "rows": rows}


def test_eval_with_no_validation_split_by_the_settings(workspace, tiny_model):
    run_id, _, _ = _project(workspace, tiny_model)
    workspace.settings.split.valid_fraction = 0
    workspace.save_settings()
    (paths.data_dir(workspace.root) / "valid.jsonl").unlink()
    proc = _cli("eval", str(workspace.root), "--run", run_id)
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    assert "no validation split: [split] valid_fraction is 0 in distill.toml" in line
    assert "export the dataset first" not in line
