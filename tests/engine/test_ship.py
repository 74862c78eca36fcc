"""`distill-tui ship` on the tiny model: mlx_lm.server started and asked the
probes through the app's OpenAI-compatible client, a link where LM Studio
looks, an Ollama Modelfile, and a clear word where GGUF cannot be written."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from support.adapter_helpers import make_run, write_split

from distill_tui.cli import main


def _fused(ws, tiny_model, capsys):
    make_run(ws, tiny_model)
    write_split(ws, "valid", [("I was charged twice", "billing"), ("The app crashes", "bug")])
    assert main(["fuse", str(ws.root), "--run", "run-1", "--json"]) == 0
    capsys.readouterr()
    return ws.root / "fused" / "run-1-best"


def test_server_answers_the_probes_like_the_fused_model(workspace, tiny_model, capsys):
    fused = _fused(workspace, tiny_model, capsys)
    code = main(["ship", str(workspace.root), "--target", "server", "--check", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["agree"]
    assert report["where"].startswith("mlx_lm.server --model ") and str(fused) in report["where"]
    assert report["probes"] == 2 and report["agree"] == 2


def test_lmstudio_link_and_ollama_modelfile(workspace, tiny_model, capsys, tmp_path, monkeypatch):
    fused = _fused(workspace, tiny_model, capsys)
    monkeypatch.setenv("LMSTUDIO_MODELS_DIR", str(tmp_path / "lms"))
    assert main(["ship", str(workspace.root), "--target", "lmstudio"]) == 0
    link = tmp_path / "lms" / "distill-tui" / fused.name
    assert link.is_symlink() and link.resolve() == fused.resolve()
    assert main(["ship", str(workspace.root), "--target", "lmstudio"]) == 0  # again: same link

    workspace.settings.task.instructions = "Label the ticket."
    workspace.save_settings()
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no ollama here
    assert main(["ship", str(workspace.root), "--target", "ollama", "--name", "tickets"]) == 0
    out = capsys.readouterr().out
    modelfile = (fused / "Modelfile").read_text()
    assert modelfile.startswith(f"FROM {fused.resolve()}\n")
    assert 'SYSTEM """Label the ticket."""' in modelfile and "temperature 0" in modelfile
    assert "Ollama is not installed here; then run: ollama create tickets -f" in out
    assert "q4_K_M is unprobed" in out and "FROM the fused folder, unprobed" in out


def test_gguf_needs_a_gguf_student_and_says_which_route_works(workspace, tiny_model, capsys):
    _fused(workspace, tiny_model, capsys)
    assert main(["ship", str(workspace.root), "--target", "gguf"]) == 2
    err = capsys.readouterr().err
    assert "convert_hf_to_gguf.py" in err and "Ollama" in err


def test_ship_before_any_fuse_says_what_to_do(workspace, capsys):
    assert main(["ship", str(workspace.root), "--target", "server"]) == 2
    assert "fuse a run first" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("ollama") is None, reason="Ollama is not installed here")
def test_ollama_creates_the_model_where_it_is_installed(workspace, tiny_model, capsys):
    """Where Ollama is installed, ship runs `ollama create` and the model is
    listed by Ollama itself; elsewhere this is skipped with the reason."""
    _fused(workspace, tiny_model, capsys)
    name = "distill-tui-test-ship"
    assert main(["ship", str(workspace.root), "--target", "ollama", "--name", name]) == 0
    try:
        listed = subprocess.run(["ollama", "list"], capture_output=True, text=True, check=True)
        assert name in listed.stdout
    finally:
        subprocess.run(["ollama", "rm", name], capture_output=True, check=False)


def test_the_server_report_prints_the_request_with_the_training_system_prompt(workspace, tmp_path):
    """Issue 35 item 14: the student learned with the system prompt; the
    report gives the exact request that sends it, as a curl line."""
    import shlex

    from distill_tui.engine.ship.targets import ship

    workspace.settings.task.instructions = "Label the ticket: it's billing, bug or account."
    fused = tmp_path / "fused" / "run-1-best"
    report = ship(workspace, fused, "server", [], None)
    curl = next(line for line in report.lines if line.startswith("curl "))
    words = shlex.split(curl)
    assert words[1] == "http://127.0.0.1:8080/v1/chat/completions"
    body = json.loads(words[words.index("-d") + 1])
    assert body["model"] == str(fused)
    assert body["messages"][0] == {
        "role": "system",
        "content": "Label the ticket: it's billing, bug or account.",
    }
    assert "system prompt the student was trained with" in " ".join(report.lines)
