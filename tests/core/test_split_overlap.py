"""A run's record of its training inputs, and the check that refuses to
evaluate it on a re-exported split whose validation rows it trained on."""

from __future__ import annotations

import pytest
from support.curate_helpers import add_answered

from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import split_overlap


def _accepted(ws, n: int):
    ws.settings.split.valid_fraction = 0.25
    ids = add_answered(ws.store, [(f"Input Number {i}", f"label {i % 3}") for i in range(n)])
    cur.accept(ws.store, ids)


def _train_run(ws, run_id: str) -> None:
    """What plan_run records in the run folder: its training inputs."""
    d = paths.run_dir(ws.root, run_id)
    d.mkdir(parents=True)
    split_overlap.record_training_inputs(d, paths.data_dir(ws.root))


def test_reexport_with_another_seed_is_refused_and_counted(workspace):
    ws = workspace
    _accepted(ws, 32)
    first = export_dataset(ws.root, ws.store, ws.settings, seed=0)
    _train_run(ws, "run-a")
    assert split_overlap.check(ws.root, ws.settings, "run-a") is None  # its own split
    again = export_dataset(ws.root, ws.store, ws.settings, seed=1)
    seen = len(set(again.row_ids["valid"]) & set(first.row_ids["train"]))
    rows = again.counts["valid"]
    assert seen > 0
    with pytest.raises(
        split_overlap.SplitOverlap,
        match=f"^{seen} of {rows} validation rows were training rows of run run-a: .*--x",
    ):
        split_overlap.check(ws.root, ws.settings, "run-a", allow_hint="--x")
    found = split_overlap.check(ws.root, ws.settings, "run-a", allow=True)
    assert found is not None and (found.seen, found.rows) == (seen, rows)
    limited = split_overlap.check(ws.root, ws.settings, "run-a", allow=True, limit=1)
    assert limited is None or limited.rows == 1


def test_overlap_ignores_case_and_spacing_of_inputs(workspace, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"prompt": "Hello   World", "completion": "x"}\n')
    split_overlap.record_training_inputs(run, data)
    found = split_overlap.count("r", run, "test", ["hello world", "other"])
    assert found is not None and found.message() == "1 of 2 test rows were training rows of run r"


def test_a_run_without_the_record_is_not_refused(workspace):
    _accepted(workspace, 32)
    export_dataset(workspace.root, workspace.store, workspace.settings)
    paths.run_dir(workspace.root, "old").mkdir(parents=True)
    assert split_overlap.check(workspace.root, workspace.settings, "old") is None


def test_no_validation_split_by_the_settings_says_so(workspace):
    workspace.settings.split.valid_fraction = 0
    with pytest.raises(UserError, match=r"no validation split: \[split\] valid_fraction is 0"):
        split_overlap.check(workspace.root, workspace.settings, "run-a")
    workspace.settings.split.valid_fraction = 0.1
    with pytest.raises(UserError, match="no valid split yet"):
        split_overlap.check(workspace.root, workspace.settings, "run-a")
