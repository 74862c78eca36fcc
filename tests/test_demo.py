"""The offline demo: a ready project with recorded rows and a local student."""

from __future__ import annotations

import json
import subprocess
import sys

from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace
from distill_tui.demo import LABELS, RECORDED_TEACHER
from distill_tui.engine.mlx_thread import mlx_thread


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
    assert counts["done"] >= 300 and counts["unreviewed"] == counts["done"]
    assert counts["cost_usd"] == 0.0  # recorded, not paid for
    teachers = {t for (t,) in ws.store.conn.execute("SELECT DISTINCT teacher FROM generations")}
    assert teachers == {RECORDED_TEACHER}
    outputs = {o for (o,) in ws.store.conn.execute("SELECT DISTINCT output FROM rows")}
    assert outputs == set(LABELS)
    assert 5 <= len(ws.settings.task.examples) <= 10
    # The student is built locally and loads with mlx-lm from the project-relative path.
    student = root / ws.settings.student.model
    assert (student / "config.json").is_file()

    def load_and_template():
        from mlx_lm import load

        _, tok = load(str(student))
        return tok.apply_chat_template(
            [{"role": "user", "content": "I was charged twice."}], add_generation_prompt=True
        )

    assert len(mlx_thread().call(load_and_template)) > 0
    # Running demo again on the same folder keeps the project as it is.
    before = (root / "distill.toml").read_text()
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "demo", str(root), "--no-open"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and (root / "distill.toml").read_text() == before
    assert cfg.load(root / "distill.toml").train.fine_tune_type == "full"
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
