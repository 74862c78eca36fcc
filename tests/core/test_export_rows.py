"""Round trip of all rows with provenance between two projects."""

from __future__ import annotations

import json

import pytest
from support.curate_helpers import add_answered

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as q
from distill_tui.core.dataset.export_rows import export_rows, import_rows
from distill_tui.core.errors import UserError
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


SEPARATORS = "a\u2028b\u2029c\x85d"


def test_rows_with_unicode_line_separators_round_trip(workspace, tmp_path):
    """JSON keeps U+2028/U+2029/U+0085 raw; a reader splitting on them tore rows apart."""
    add_answered(workspace.store, [(SEPARATORS, "out " + SEPARATORS)])
    path = tmp_path / "rows.jsonl"
    export_rows(workspace.store, path)
    dst = Workspace.create(tmp_path / "other").store
    res = import_rows(dst, path)
    assert (res.added, res.problems) == (1, [])
    assert q.get(dst, 1).input == SEPARATORS


def test_a_byte_order_mark_does_not_lose_the_first_row(workspace, tmp_path):
    add_answered(workspace.store, [("first", "1"), ("second", "2")])
    path = tmp_path / "rows.jsonl"
    export_rows(workspace.store, path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    dst = Workspace.create(tmp_path / "other").store
    assert import_rows(dst, path).added == 2


def _row(**kw):
    return json.dumps({"format": "distill-tui-rows/1", "input": "x", **kw})


@pytest.mark.parametrize(
    "line, reason",
    [
        (_row(input="a", status="weird"), "unknown status 'weird'"),
        (_row(input="b", generations="s"), "generations must be a list"),
        (_row(input="c", output={}), "output must be text"),
        (_row(input="d", decision="maybe"), "unknown decision"),
        (_row(input="e", attempts=True), "attempts must be a whole number"),
        (_row(input="f", generations=[{"output": "o"}]), "generations[0].teacher is missing"),
        ('{"format": "distill-tui-rows/1", "input": "\\ud800"}', "lone surrogate"),
        ('{"format": "distill-tui-rows/1", "input": "g", "x": ' + "[" * 100_000, "nested"),
        ("{not json", "not JSON"),
    ],
)
def test_every_bad_row_is_reported_with_file_line_and_reason(workspace, tmp_path, line, reason):
    path = tmp_path / "rows.jsonl"
    path.write_text(_row(input="good") + "\n" + line + "\n" + _row(input="good too") + "\n")
    res = import_rows(workspace.store, path)
    assert res.added == 2 and res.skipped == 0
    assert len(res.problems) == 1
    assert res.problems[0].startswith(f"{path}:2: ")
    assert reason in res.problems[0]
    assert workspace.store.counts()["inputs"] == 2


def test_export_rows_refuses_project_files_folders_and_existing_files(workspace, tmp_path, capsys):
    from distill_tui.cli import main

    add_answered(workspace.store, [("one", "1")])
    root = workspace.root
    db_before = (root / "distill.db").read_bytes()
    toml_before = (root / "distill.toml").read_text()
    for target in (root / "distill.db", root / "distill.toml"):
        for extra in ([], ["--force"]):
            assert main(["export", str(root), "--rows", str(target), *extra]) == 2
            assert "project's own files" in capsys.readouterr().err
    assert (root / "distill.toml").read_text() == toml_before
    assert (root / "distill.db").read_bytes() == db_before

    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["export", str(root), "--rows", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert list(folder.iterdir()) == []

    existing = tmp_path / "rows.jsonl"
    existing.write_text("keep me\n")
    assert main(["export", str(root), "--rows", str(existing)]) == 2
    assert "--force" in capsys.readouterr().err
    assert existing.read_text() == "keep me\n"
    assert main(["export", str(root), "--rows", str(existing), "--force"]) == 0
    assert "wrote 1 rows" in capsys.readouterr().out
    assert existing.read_text().startswith('{"format"')
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_import_rows_cli_reports_bad_rows_and_exits_1(workspace, tmp_path, capsys):
    from distill_tui.cli import main

    path = tmp_path / "rows.jsonl"
    path.write_text(_row(input="ok") + "\n" + _row(input="z", status="weird") + "\n")
    assert main(["import-rows", str(workspace.root), str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:2: unknown status" in err and "Traceback" not in err
    assert "added 1 rows" in out and "1 not imported" in out
