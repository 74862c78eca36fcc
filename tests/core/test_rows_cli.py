"""Curating from scripts without the app (issue 20 item 7): `rows` lists ids
with the Curate screen's filters, `export --rows` carries them, `curate
--edit` edits from a file or $EDITOR, a rejection says why as on the screen,
and `init` makes a whole project from flags. Through `cli.main`."""

from __future__ import annotations

import json
import sys

import pytest
from support.curate_helpers import add_answered

from distill_tui.cli import main
from distill_tui.core import config as cfg
from distill_tui.core.curate import curation
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace


def _ws(workspace, n=6):
    add_answered(workspace.store, [(f"ticket {i}", f"label {i}") for i in range(n)])
    return workspace


def test_rows_lists_ids_with_the_curate_filters(workspace, capsys):
    ws = _ws(workspace)
    d = str(ws.root)
    ws.store.add_inputs([("not answered yet", None)])
    assert main(["curate", d, "--reject", "2", "5", "--reason", "wrong"]) == 0
    capsys.readouterr()

    assert main(["rows", d, "--decision", "rejected"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:-1]] == ["2", "5"]
    assert "rejected:wrong" in out[1] and "ticket 1" in out[1] and "label 1" in out[1]
    assert out[-1].startswith("2 row(s) (rejected")

    assert main(["rows", d, "--text", "LABEL 3", "--json"]) == 0
    (only,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (only["id"], only["input"], only["output"]) == (4, "ticket 3", "label 3")
    assert main(["rows", d, "--status", "pending", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == "not answered yet"
    # The id a listing gives is the one curate takes.
    assert main(["curate", d, "--accept", str(only["id"])]) == 0
    assert ws.store.conn.execute("SELECT decision FROM rows WHERE id = 4").fetchone()[0] == (
        "accepted"
    )
    capsys.readouterr()
    assert main(["rows", d, "--sort", "id", "--desc", "--limit", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:-1]] == ["7", "6"] and "2 of 7 row(s)" in out[-1]
    assert main(["rows", d, "--limit", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "distill-tui: --limit must be 0 or more, not -1"


def test_export_rows_carries_each_rows_id(workspace, tmp_path, capsys):
    ws = _ws(workspace, 3)
    rows = tmp_path / "rows.jsonl"
    assert main(["export", str(ws.root), "--rows", str(rows)]) == 0
    records = [json.loads(line) for line in rows.read_text().splitlines()]
    assert [(r["id"], r["input"]) for r in records] == [
        (1, "ticket 0"),
        (2, "ticket 1"),
        (3, "ticket 2"),
    ]
    other = Workspace.create(tmp_path / "other")
    other.store.add_inputs([("already here", None)])
    assert main(["import-rows", str(other.root), str(rows)]) == 0
    got = other.store.conn.execute("SELECT id FROM rows WHERE input = 'ticket 0'").fetchone()[0]
    assert got == 2  # the importing store numbers its own rows


def test_a_rejection_says_why_as_on_the_curate_screen(workspace, capsys):
    ws = _ws(workspace, 3)
    d = str(ws.root)
    assert main(["curate", d, "--reject", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("distill-tui: say why the rows are rejected: --reason TAG (tags so far:")
    assert err.endswith(
        "wrong, incomplete, format, hallucination, too long, off task), or --no-reason on purpose"
    )
    assert main(["curate", d, "--reject", "1", "--reason", "  "]) == 2
    capsys.readouterr()
    assert ws.store.counts()["rejected"] == 0
    assert main(["curate", d, "--reject", "1", "--reason", " off-topic "]) == 0
    assert "off-topic" in curation.reasons(ws.store)
    assert main(["curate", d, "--reject", "2"]) == 2
    assert "off-topic" in capsys.readouterr().err
    assert main(["curate", d, "--reject", "2", "--no-reason"]) == 0
    assert ws.store.counts()["rejected"] == 2


def test_edit_from_a_file_stdin_or_editor_and_undo(workspace, tmp_path, monkeypatch, capsys):
    ws = _ws(workspace, 3)
    d = str(ws.root)
    new = tmp_path / "out.txt"
    new.write_text("billing\n")  # the newline a shell or editor adds is dropped
    assert main(["curate", d, "--edit", "1", "--output-file", str(new)]) == 0
    assert capsys.readouterr().out.strip() == "edited row 1"
    row = ws.store.conn.execute("SELECT output, edited FROM rows WHERE id = 1").fetchone()
    assert tuple(row) == ("billing", 1)

    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'w').write('bug\\n')\n")
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    assert main(["curate", d, "--edit", "2"]) == 0
    assert ws.store.conn.execute("SELECT output FROM rows WHERE id = 2").fetchone()[0] == "bug"

    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("ticket two, edited"))
    assert main(["curate", d, "--edit", "3", "--input-file", "-"]) == 0
    assert ws.store.conn.execute("SELECT input FROM rows WHERE id = 3").fetchone()[0] == (
        "ticket two, edited"
    )
    capsys.readouterr()
    assert main(["curate", d, "--edit", "9", "--output-file", str(new)]) == 2
    assert capsys.readouterr().err.strip() == "distill-tui: no row with id 9"
    assert main(["curate", d, "--edit", "1", "--output-file", str(tmp_path / "nope")]) == 2
    assert "--output-file" in capsys.readouterr().err
    assert main(["curate", d, "--undo"]) == 0
    assert ws.store.conn.execute("SELECT input FROM rows WHERE id = 3").fetchone()[0] == "ticket 2"


def test_edits_and_accepts_of_invalid_json_warn_on_a_json_task(workspace, tmp_path, capsys):
    ws = _ws(workspace, 3)
    ws.settings.task.output_format = "json"
    ws.save_settings()
    d = str(ws.root)
    new = tmp_path / "out.json"
    new.write_text('{"label": "bug",}\n')
    assert main(["curate", d, "--edit", "1", "--output-file", str(new)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "edited row 1"
    assert "row 1: not valid JSON: line 1 column 17" in err and "flagged bad-json" in err
    flags = ws.store.conn.execute("SELECT flags FROM checks WHERE row_id = 1").fetchone()[0]
    assert flags == "bad-json"
    assert main(["curate", d, "--accept", "1"]) == 0
    assert "row 1: not valid JSON" in capsys.readouterr().err
    assert ws.store.counts()["accepted"] == 1  # warned, not refused: a script decides


def test_init_makes_a_whole_project_from_flags(tmp_path, capsys):
    d = tmp_path / "tickets"
    args = [
        "init", str(d), "--name", "tickets", "--instructions", "Label the ticket.",
        "--input-description", "a support ticket", "--output-description", "one label",
        "--example", "I was charged twice", "billing", "--example", "It crashes", "bug",
        "--provider", "openai", "--teacher-model", "default_model",
        "--base-url", "http://localhost:8080/v1", "--price", "0",
        "--student", "models/SmolLM2-135M-Instruct.Q4_1.gguf",
    ]  # fmt: skip
    assert main(args) == 0
    s = cfg.load(d / "distill.toml")
    assert (s.task.name, s.task.instructions, s.task.output_description) == (
        "tickets",
        "Label the ticket.",
        "one label",
    )
    assert [(e.input, e.output) for e in s.task.examples][1] == ("It crashes", "bug")
    assert (s.teacher.provider, s.teacher.model, s.teacher.base_url) == (
        "openai",
        "default_model",
        "http://localhost:8080/v1",
    )
    assert s.teacher.prices["default_model"] == cfg.Price(input=0, output=0)
    assert s.student.model == "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main(["init", str(bad), "--price", "cheap"]) == 2
    assert (
        capsys.readouterr().err.strip().startswith("distill-tui: --price: 'cheap' is not a price")
    )
    assert not bad.exists()


def test_an_editor_that_empties_the_file_is_refused_like_an_empty_input(
    workspace, tmp_path, monkeypatch, capsys
):
    """`EDITOR="truncate -s0" curate --edit 5` made row 5 accepted with the
    answer "", exported for training and as a DPO "chosen"."""
    ws = _ws(workspace, 5)
    d = str(ws.root)
    assert main(["curate", d, "--accept", "5"]) == 0
    monkeypatch.setenv("VISUAL", "truncate -s0")
    capsys.readouterr()
    assert main(["curate", d, "--edit", "5"]) == 2
    err = capsys.readouterr().err
    assert "row 5 unchanged: the editor left the output empty" in err and "Traceback" not in err
    row = ws.store.conn.execute("SELECT output, edited, decision FROM rows WHERE id = 5").fetchone()
    assert tuple(row) == ("label 4", 0, "accepted")
    # The same from a file of blanks, and through the one edit function the
    # Curate screen's dialog and $EDITOR key use.
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\n")
    assert main(["curate", d, "--edit", "5", "--output-file", str(blank)]) == 2
    assert "the output cannot be empty" in capsys.readouterr().err
    with pytest.raises(UserError, match="the output cannot be empty"):
        curation.edit(ws.store, 5, output="")
    assert ws.store.conn.execute("SELECT output FROM rows WHERE id = 5").fetchone()[0] == "label 4"


def test_init_sets_the_teacher_limits_of_the_task_form(tmp_path, capsys):
    """Issue 35 item 15: `init --max-tokens N --concurrency N --requests-per-minute N`."""
    d = tmp_path / "limits"
    args = [
        "init", str(d), "--max-tokens", "256", "--concurrency", "2",
        "--requests-per-minute", "0", "--max-cost", "1.5", "--temperature", "0.3",
        "--max-attempts", "3", "--request-timeout", "600",
    ]  # fmt: skip
    assert main(args) == 0
    t = cfg.load(d / "distill.toml").teacher
    assert (t.max_tokens, t.concurrency, t.requests_per_minute) == (256, 2, 0)
    assert (t.max_cost_usd, t.temperature, t.max_attempts, t.request_timeout_s) == (
        1.5,
        0.3,
        3,
        600.0,
    )
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main(["init", str(bad), "--concurrency", "0"]) == 2
    assert capsys.readouterr().err.strip().startswith("distill-tui: --concurrency: ")
    assert not bad.exists()


def test_regenerate_queues_the_row_and_keeps_the_old_answer_as_the_rejected_side(workspace, capsys):
    """Issue 35 item 15: `curate --regenerate ID`, so headless curation makes
    `regen` pairs as the screen's x then g does."""
    from distill_tui.core.curate import preferences
    from distill_tui.core.generate import queue
    from distill_tui.core.generate.pricing import Usage

    ws = _ws(workspace, 3)
    d = str(ws.root)
    assert main(["curate", d, "--regenerate", "2"]) == 0
    out = capsys.readouterr().out
    assert "queued 1 row(s) again; 1 answer(s) rejected (regenerated)" in out
    assert ws.store.conn.execute("SELECT status FROM rows WHERE id = 2").fetchone()[0] == "pending"
    assert main(["curate", d, "--regenerate", "2"]) == 2  # already waiting: said, not doubled
    assert "already waiting for an answer" in capsys.readouterr().err
    # What `generate` does with it: a new answer, accepted.
    ws.store.conn.execute("UPDATE rows SET status = 'running' WHERE id = 2")
    record = queue.GenerationRecord("label 1, better", "t", "p", Usage(1, 1), 0.0, 0.1, "end_turn")
    queue.complete(ws.store, 2, record)
    assert main(["curate", d, "--accept", "2"]) == 0
    (pair,) = preferences.pairs(ws.store)
    assert (pair.row_id, pair.chosen, pair.rejected, pair.source) == (
        2,
        "label 1, better",
        "label 1",
        "regen",
    )
