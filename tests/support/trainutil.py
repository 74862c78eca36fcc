"""Shared setup for the training tests: a project on the tiny model with the
tiny classification split exported, and settings that train visibly in
a few dozen steps."""

from __future__ import annotations

import json
from pathlib import Path

from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace
from support.tiny_task import rows, write_split

FAST = dict(
    learning_rate=1e-3,
    steps_per_report=5,
    steps_per_eval=10,
    steps_per_save=10,
    num_layers=-1,
    val_batches=-1,
    batch_size=4,
)

FAST_FLAGS = [
    "--learning-rate", "1e-3", "--steps-per-report", "5", "--steps-per-eval", "10",
    "--steps-per-save", "10", "--num-layers", "-1", "--val-batches", "-1",
    "--batch-size", "4", "--no-preflight",
]  # fmt: skip


def make_project(ws: Workspace, tiny_model: Path) -> Workspace:
    ws.settings.student.model = str(tiny_model)
    ws.save_settings()
    write_split(ws.root / "data")
    return ws


def fast(iters: int, **kw) -> cfg.Train:
    return cfg.Train(**{**FAST, "iters": iters, **kw})


def write_wrong_valid(ws: Workspace) -> None:
    """A validation split whose labels contradict training: once the format
    is learned, learning the task makes validation worse."""
    swap = {"billing": "bug", "bug": "feature", "feature": "account", "account": "billing"}
    with open(ws.root / "data" / "valid.jsonl", "w", encoding="utf-8") as f:
        for r in rows(12, 1):
            r["messages"][1]["content"] = swap[r["messages"][1]["content"]]
            f.write(json.dumps(r) + "\n")
