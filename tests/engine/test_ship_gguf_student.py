"""Shipping a Llama student that came from a GGUF file (issue 34): the tiny
random Llama of `support.gguf_helpers`, picked as its converted folder as the
Task screen's "Models here" list does, trained (a random adapter), fused and
shipped. Outputs never land on the project's own files, the card keeps the
run's origin, Ollama and LM Studio get the GGUF, a file that answers
differently fails the ship, and nothing half-made stays."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from huggingface_hub import ModelCard
from support.adapter_helpers import make_run, write_split
from support.gguf_helpers import write_gguf

from distill_tui.cli import main
from distill_tui.core.errors import UserError
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf
from distill_tui.engine.ship.gguf_writer import write_gguf as write_shipped

ORIGIN = {"general.license": "apache-2.0", "general.organization": "HuggingFaceTB"}


@pytest.fixture
def project(workspace, tmp_path, capsys):
    """(workspace, the student's GGUF outside the project, its converted
    folder, the fused folder). The student setting is the GGUF file; the run
    trained on the converted folder (its record says so), as when the
    student was picked from the Task screen's "Models here" list."""
    src = tmp_path / "elsewhere" / "SmolTest-135M.F16.gguf"
    src.parent.mkdir()
    write_gguf(src, **ORIGIN)
    folder = mlx_thread().call(gguf.convert, src)
    workspace.settings.student.model = str(src)
    workspace.save_settings()
    make_run(workspace, folder)
    write_split(workspace, "valid", [("I was charged twice", "billing"), ("It crashes", "bug")])
    assert main(["fuse", str(workspace.root), "--run", "run-1", "--json"]) == 0
    capsys.readouterr()
    return workspace, src, folder, workspace.root / "fused" / "run-1-best"


def test_outputs_inside_the_project_or_over_the_student_are_refused(project, capsys):
    ws, src, _, _ = project
    root = ws.root
    (root / "models").mkdir()
    db = (root / "distill.db").read_bytes()
    for out in (
        root / "distill.db",
        root / "models" / "student.gguf",
        root / "models",
        root / "data" / "x.gguf",
        root / "runs" / "run-1" / "x.gguf",
        root / "distill.toml",
    ):
        assert main(["ship", str(root), "--target", "gguf", "--out", str(out)]) == 2, out
        err = capsys.readouterr().err
        assert "the project's" in err and "write the GGUF file somewhere else" in err, err
        assert len(err.strip().splitlines()) <= 3 and "Traceback" not in err
    assert (root / "distill.db").read_bytes() == db
    assert not list((root / "models").iterdir())
    for out in (root / "models" / "fused", root / "runs" / "x", root / "data" / "fused"):
        assert main(["fuse", str(root), "--run", "run-1", "--out", str(out)]) == 2, out
        assert "write the fused model somewhere else" in capsys.readouterr().err
        assert not out.exists()


def test_card_and_ship_keep_the_origin_of_a_converted_student(project, tiny_model, capsys):
    """Train on the converted folder, switch the student, fuse the old run:
    the card names the run's base and licence, and `ship --target gguf` finds
    the GGUF through the folder's source.json."""
    ws, src, folder, _ = project
    ws.settings.student.model = str(tiny_model)
    ws.save_settings()
    out = ws.root / "fused-again"
    assert main(["fuse", str(ws.root), "--run", "run-1", "--out", str(out), "--json"]) == 0
    card = ModelCard.load(out / "README.md")
    assert card.data.base_model == "HuggingFaceTB/SmolTest-135M"
    assert card.data.license == "apache-2.0"
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["student"] == str(folder) and prov["student_license"] == "apache-2.0"
    capsys.readouterr()
    shipped = ws.root.parent / "shipped.gguf"
    code = main(["ship", str(ws.root), "--target", "gguf", "--fused", str(out), "--out",
                 str(shipped), "--json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"], report
    assert shipped.is_file() and report["agree"] + report["ties"] == report["probes"] == 2


def test_the_gguf_reloaded_here_answers_the_held_out_rows_beside_the_adapter(project, capsys):
    """Issue 31 item 5: the GGUF itself, through our reader, on the task."""
    ws, *_ = project
    shipped = ws.root.parent / "task.gguf"
    args = ["ship", str(ws.root), "--target", "gguf", "--out", str(shipped), "--json"]
    assert main(args) == 0
    task = json.loads(capsys.readouterr().out)["task"]
    assert (task["rows"], task["model"], task["metric"]) == (2, "the GGUF, reloaded here",
                                                              "token_f1")  # fmt: skip
    assert task["adapter"] is not None and task["adapter_right"] is not None
    assert not list(shipped.parent.glob(".task.gguf.check"))  # the reloaded copy is gone


def test_a_file_that_answers_differently_fails_the_ship(project, capsys):
    """The student's GGUF changed since the fuse (another chat template):
    the file written from it renders prompts differently and answers
    differently; the ship says so and exits 1."""
    ws, src, _, fused = project
    write_gguf(src, **ORIGIN, **{"tokenizer.chat_template": "{{ messages[-1]['content'] }}"})
    (ws.root / "data" / "valid.jsonl").unlink()
    ws.settings.task.examples = []
    write_split(ws, "valid", [(f"ticket number {i} is about money", "billing") for i in range(8)])
    run_config = ws.root / "runs" / "run-1" / "adapter_config.json"
    config = json.loads(run_config.read_text())
    (fused / "provenance.json").write_text(
        (fused / "provenance.json").read_text().replace(config["model"], str(src))
    )
    code = main(["ship", str(ws.root), "--target", "gguf", "--probes", "8", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["agree"] < report["probes"], report
    assert code == 1 and not report["ok"] and report["ties"] < report["probes"] - report["agree"]


def test_ship_into_a_folder_writes_inside_it_and_a_failed_write_leaves_no_partial(
    project, tmp_path, capsys
):
    ws, src, _, fused = project
    into = tmp_path / "out-folder"
    into.mkdir()
    assert main(["ship", str(ws.root), "--target", "gguf", "--out", str(into), "--json"]) == 0
    assert [p.name for p in into.iterdir()] == ["run-1-best-f16.gguf"]
    # The writer itself, asked to replace a folder: one clear error, no half-file.
    blocked = tmp_path / "blocked.gguf"
    blocked.mkdir()
    with pytest.raises(UserError, match="cannot write the GGUF file"):
        mlx_thread().call(write_shipped, fused, src, blocked, "f16")
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.partial"))


SIGTERM_IN_CHECK = """
import os, signal, sys, time
import distill_tui.engine.models.gguf as g

real = g.convert

def convert(*args, **kw):
    out = real(*args, **kw)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1.0)  # the handler runs on the main thread meanwhile
    return out

g.convert = convert
from distill_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_the_reload_check_leaves_no_check_folder(project, tmp_path):
    ws, _, _, _ = project
    out = tmp_path / "shipped.gguf"
    r = subprocess.run(
        [sys.executable, "-c", SIGTERM_IN_CHECK, "ship", str(ws.root), "--target", "gguf",
         "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert r.returncode == 143, r.stderr
    assert "Traceback" not in r.stderr and "ship stopped by request" in r.stderr, r.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ollama_modelfile_is_from_the_gguf_with_template_stops_and_licence(
    project, tmp_path, monkeypatch, capsys
):
    ws, _, _, fused = project
    ws.settings.task.instructions = "Label the ticket."
    ws.save_settings()
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no ollama here
    assert main(["ship", str(ws.root), "--target", "ollama", "--name", "t", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    gguf_file = fused.with_name("run-1-best-f16.gguf")
    text = (fused / "Modelfile").read_text()
    assert text.startswith(f"FROM {gguf_file}\n") and gguf_file.is_file()
    assert 'TEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}' in text
    assert 'PARAMETER stop "<|im_end|>"' in text
    assert 'LICENSE """student licence: apache-2.0' in text
    lines = " ".join(report["lines"])
    assert report["agree"] is not None and "q4_K_M is unprobed" in lines
    assert "ollama create t -f" in lines and "ChatML, rendered as the student's chat" in lines


def test_lmstudio_links_the_gguf_and_says_which_engine_each_is_for(
    project, tmp_path, monkeypatch, capsys
):
    ws, _, _, fused = project
    monkeypatch.setenv("LMSTUDIO_MODELS_DIR", str(tmp_path / "lms"))
    assert main(["ship", str(ws.root), "--target", "lmstudio", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    base = tmp_path / "lms" / "distill-tui"
    assert (base / fused.name).resolve() == fused.resolve()
    link = base / f"{fused.name}-GGUF" / "run-1-best-f16.gguf"
    assert link.is_symlink() and link.resolve() == fused.with_name("run-1-best-f16.gguf")
    lines = " ".join(report["lines"])
    assert "MLX engine (Apple Silicon only)" in lines and "llama.cpp engine" in lines
