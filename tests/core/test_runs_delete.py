"""Deleting a run removes its folder and every row of it, and never a live one."""

from __future__ import annotations

import pytest

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db


def test_delete_run_removes_folder_and_rows_but_not_a_running_one(tmp_path):
    store = Store(tmp_path / "distill.db")
    for rid in ("a", "b"):
        runs_db.create_run(store, rid, {}, None, 10)
        runs_db.record_metric(store, rid, runs_db.Metric("train", 5, 1.0))
        (paths.run_dir(tmp_path, rid) / "best").mkdir(parents=True)
    runs_db.update_run(store, "a", status="failed", error="boom")
    with pytest.raises(UserError, match="still training"):
        runs_db.delete_run(store, tmp_path, "b")  # this process, so alive
    runs_db.delete_run(store, tmp_path, "a")
    assert [r.id for r in runs_db.list_runs(store)] == ["b"]
    assert runs_db.metrics(store, "a") == [] and runs_db.metrics(store, "b")
    assert not paths.run_dir(tmp_path, "a").exists() and paths.run_dir(tmp_path, "b").exists()
    store.close()
