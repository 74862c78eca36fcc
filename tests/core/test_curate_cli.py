"""The headless curate / export / import-rows commands, through `cli.main`."""

from __future__ import annotations

import json

import pytest
from support.curate_helpers import add_answered

from distill_tui.cli import main
from distill_tui.core import paths
from distill_tui.core.project import Workspace


def _ws(workspace, n=12):
    add_answered(workspace.store, [(f"in {i}", f"out {i}") for i in range(n)])
    return workspace


def test_accept_reject_by_id_and_undo(workspace, capsys):
    ws = _ws(workspace)
    d = str(ws.root)
    assert main(["curate", d, "--accept", "1", "2"]) == 0
    assert main(["curate", d, "--reject", "3", "--reason", "rude"]) == 0
    assert "rejected 1 row(s); now accepted 2, rejected 1" in capsys.readouterr().out
    row = ws.store.conn.execute("SELECT decision, reason FROM rows WHERE id = 3").fetchone()
    assert tuple(row) == ("rejected", "rude")
    assert main(["curate", d, "--undo"]) == 0
    assert ws.store.counts()["rejected"] == 0


def test_unknown_id_is_one_line_error_and_changes_nothing(workspace, capsys):
    ws = _ws(workspace)
    assert main(["curate", str(ws.root), "--accept", "1", "999"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "distill-tui: no row with id 999"
    assert ws.store.counts()["accepted"] == 0


def test_accept_all_then_export_then_rows_round_trip(workspace, tmp_path, capsys):
    ws = _ws(workspace)
    d = str(ws.root)
    assert main(["curate", d, "--reject", "1", "--no-reason"]) == 0
    assert main(["curate", d, "--accept-all"]) == 0
    assert ws.store.counts()["accepted"] == 11
    assert main(["export", d, "--format", "completions"]) == 0
    assert "train.jsonl (7), valid.jsonl (4)" in capsys.readouterr().out
    line = (paths.data_dir(ws.root) / "train.jsonl").read_text().splitlines()[0]
    assert set(json.loads(line)) == {"prompt", "completion"}

    rows = tmp_path / "rows.jsonl"
    assert main(["export", d, "--rows", str(rows)]) == 0
    other = Workspace.create(tmp_path / "other")
    assert main(["import-rows", str(other.root), str(rows)]) == 0
    assert other.store.counts()["accepted"] == 11


def test_export_with_too_few_rows_fails_cleanly(workspace, capsys):
    ws = _ws(workspace, 3)
    main(["curate", str(ws.root), "--accept-all"])
    assert main(["export", str(ws.root)]) == 2
    assert "too few accepted rows" in capsys.readouterr().err
    assert not (paths.data_dir(ws.root) / "train.jsonl").exists()


def test_check_without_tokenizer(workspace, capsys):
    ws = _ws(workspace, 2)
    add_answered(ws.store, [("IN 0 ", "dup")])
    assert main(["curate", str(ws.root), "--check", "--no-tokens"]) == 0
    assert "duplicate 1" in capsys.readouterr().out


def test_accept_all_as_an_id_names_the_flag_that_does_it(workspace, capsys):
    ws = _ws(workspace)
    with pytest.raises(SystemExit) as exit_:
        main(["curate", str(ws.root), "--accept", "all"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --accept: 'all' is not a row id (--accept-all accepts every" in err
    with pytest.raises(SystemExit):
        main(["curate", str(ws.root), "--reject", "3x", "--no-reason"])
    assert "'3x' is not a row id (`distill-tui rows DIR` lists the ids)" in capsys.readouterr().err
    assert ws.store.counts()["accepted"] == 0


def test_check_offline_with_a_hub_student_not_in_the_cache_says_so_in_one_line(workspace, capsys):
    """Issue 35 item 16: huggingface_hub's raw "An error happened while trying
    to locate the files on the Hub..." stood in for the reason."""
    workspace.settings.student.model = "nobody-here/no-such-student-35"
    workspace.save_settings()
    assert main(["curate", str(workspace.root), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "warning: the student's tokenizer (nobody-here/no-such-student-35) is not on this"
        " machine and the Hub could not be reached; online, this fetches it (its tokenizer"
        " files only), or `hf download nobody-here/no-such-student-35` fetches the whole"
        " model; skipping the too-long check"
    )
    assert out[1].startswith("checked ")
