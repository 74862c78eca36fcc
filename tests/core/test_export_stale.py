"""data/ compared with the store's accepted rows after the last export
(issue 20, item 1): new, edited and no-longer-accepted rows are counted."""

from __future__ import annotations

from support.curate_helpers import add_answered

from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.dataset.export_stale import StaleExport, compare


def _accepted(ws, rows):
    ids = add_answered(ws.store, rows)
    cur.accept(ws.store, ids)
    return ids


def test_rows_accepted_edited_or_rejected_since_the_export_are_counted(workspace):
    ws = workspace
    ws.settings.task.instructions = "Classify."
    ids = _accepted(ws, [(f"ticket {i}", f"label {i % 3}") for i in range(20)])
    export_dataset(ws.root, ws.store, ws.settings)
    assert compare(ws.root, ws.store) is None
    _accepted(ws, [("a saved chat reply", "billing")])  # new
    cur.edit(ws.store, ids[0], output="hand-fixed")  # edited: its old pair is gone too
    cur.reject(ws.store, [ids[1]])
    found = compare(ws.root, ws.store)
    assert found == StaleExport(missing=2, gone=2)
    assert found.message("x exports") == (
        "2 accepted or edited rows are not in data/ and 2 rows in data/ no longer"
        " accepted as exported (x exports)"
    )
    export_dataset(ws.root, ws.store, ws.settings, fmt="completions")
    assert compare(ws.root, ws.store) is None


def test_a_hand_written_split_is_not_compared(workspace):
    _accepted(workspace, [("q", "a")])
    d = paths.data_dir(workspace.root)
    d.mkdir()
    (d / "train.jsonl").write_text('{"prompt": "other", "completion": "x"}\n')
    assert compare(workspace.root, workspace.store) is None


def test_an_unreadable_split_is_left_to_the_checks_that_name_it(workspace):
    _accepted(workspace, [(f"t {i}", "x") for i in range(12)])
    export_dataset(workspace.root, workspace.store, workspace.settings)
    (paths.data_dir(workspace.root) / "train.jsonl").write_bytes(b"\xff\xfe not utf-8\n")
    assert compare(workspace.root, workspace.store) is None
