"""`distill-tui fuse`: writes the folder, reports the probes, says GGUF is out."""

from __future__ import annotations

import json

from support.adapter_helpers import make_run, write_split

from distill_tui.cli import main


def test_fuse_cli(workspace, tiny_model, capsys):
    make_run(workspace, tiny_model)
    write_split(workspace, "valid", [("I was charged twice", "billing")])
    d, out = str(workspace.root), workspace.root / "fused"
    assert main(["fuse", d, "--run", "run-1", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert "GGUF" in captured.err and "this qwen2 model" in captured.err
    data = json.loads(captured.out)
    assert data["agree"] == 1 and data["probes"][0]["prompt"] == "I was charged twice"
    assert (out / "config.json").is_file()
    assert main(["fuse", d, "--run", "run-1", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_fuse_cli_writes_into_the_projects_fused_folder_by_default(workspace, tiny_model, capsys):
    from distill_tui.core.train.checkpoints import list_fused

    make_run(workspace, tiny_model)
    assert main(["fuse", str(workspace.root), "--checkpoint", "latest", "--json"]) == 0
    out = workspace.root / "fused" / "run-1-latest"
    assert json.loads(capsys.readouterr().out)["out"] == str(out.resolve())
    assert list_fused(workspace) == [out]
