"""Round trip of all rows with provenance between two projects."""

from __future__ import annotations

import json

import pytest
from curate_helpers import add_answered

from distill_tui.core import curation as cur
from distill_tui.core import curation_query as q
from distill_tui.core.errors import UserError
from distill_tui.core.export_rows import export_rows, import_rows
from distill_tui.core.project import Workspace

NASTY = "[bold]x[/] \x1b[31m 🧪 \u202e" + "y" * 5000


def test_round_trip_keeps_decisions_edits_and_teacher_history(workspace, tmp_path):
    src = workspace.store
    ids = add_answered(src, [("one", "1"), ("two", "2"), (NASTY, NASTY)])
    src.add_inputs([("still pending", None)])
    cur.accept(src, [ids[0], ids[2]])
    cur.reject(src, [ids[1]], "wrong")
    cur.edit(src, ids[0], output="one!")
    path = tmp_path / "rows.jsonl"
    assert export_rows(src, path) == 4

    dst = Workspace.create(tmp_path / "other").store
    assert import_rows(dst, path).added == 4
    for row_id in ids:
        a, b = q.get(src, row_id), q.get(dst, row_id)
        assert (a.input, a.output, a.decision, a.reason, a.edited, a.output_tokens) == (
            b.input,
            b.output,
            b.decision,
            b.reason,
            b.edited,
            b.output_tokens,
        )
    assert cur.original_output(dst, ids[0]) == "1"
    assert [h["kind"] for h in cur.history(dst, ids[0])] == ["decision", "edit"]
    assert dst.counts()["cost_usd"] == pytest.approx(src.counts()["cost_usd"])
    # Importing again adds nothing.
    assert import_rows(dst, path).skipped == 4
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert line["generations"][0]["teacher"] == "anthropic:test-model"


def test_import_of_a_foreign_file_is_a_clear_error(workspace, tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"prompt": "a", "completion": "b"}\n')
    with pytest.raises(UserError, match=r"x.jsonl:1: not a distill-tui rows file"):
        import_rows(workspace.store, p)
