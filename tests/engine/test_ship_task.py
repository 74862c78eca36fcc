"""`ship` checks the shipped model on the task (issue 31, item 5): the first
N held-out rows answered by what ships (the fused MLX model for `server` and
`lmstudio`), scored by the task's metric beside the adapter on the same rows."""

from __future__ import annotations

import json

from support.adapter_helpers import make_run, write_split

from distill_tui.cli import main
from distill_tui.core.evaluate import metrics

ROWS = [(f"ticket {n}: {text}", label) for n, (text, label) in enumerate(
    [("I was charged twice", "billing"), ("The app crashes", "bug"),
     ("Add a dark mode", "feature"), ("Reset my password", "account")] * 5
)]  # fmt: skip


def _fused(ws, tiny_model, capsys):
    make_run(ws, tiny_model)
    write_split(ws, "valid", ROWS)
    assert main(["fuse", str(ws.root), "--run", "run-1", "--json"]) == 0
    capsys.readouterr()


def test_server_and_lmstudio_score_the_fused_model_beside_the_adapter(
    workspace, tiny_model, capsys, tmp_path, monkeypatch
):
    _fused(workspace, tiny_model, capsys)
    d = str(workspace.root)
    assert main(["ship", d, "--target", "server", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    task = report["task"]
    assert task["rows"] == 16 and task["model"] == "the fused MLX model"
    assert task["metric"] == metrics.EXACT  # four labels: a label task
    assert task["adapter"] is not None and 0 <= task["shipped"] <= 1
    assert task["shipped_right"] == round(task["shipped"] * 16)
    line = next(x for x in report["lines"] if x.startswith("on the task"))
    assert "first 16 held-out rows by exact_match: the fused MLX model" in line
    assert "the adapter" in line
    # Fewer rows asked for, and none at all.
    monkeypatch.setenv("LMSTUDIO_MODELS_DIR", str(tmp_path / "lms"))
    assert main(["ship", d, "--target", "lmstudio", "--task-rows", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["task"]["rows"] == 3
    assert main(["ship", d, "--target", "server", "--task-rows", "0"]) == 0
    out = capsys.readouterr().out
    assert "task check skipped (--task-rows 0)" in out and "on the task" not in out


def test_without_a_valid_split_the_probes_stand_alone_and_it_says_why(
    workspace, tiny_model, capsys
):
    _fused(workspace, tiny_model, capsys)
    (workspace.root / "data" / "valid.jsonl").unlink()
    assert main(["ship", str(workspace.root), "--target", "server", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] is None
    assert any(x.startswith("no task check:") for x in report["lines"])
