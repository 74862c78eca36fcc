"""The student's own mistakes as preference pairs (issue 30 item 5), for real
on the demo's tiny random-weight student: `distill-tui pairs --from RUN`
answers the split's inputs, keeps each wrong answer as the rejected side of
a pair, says how many, never adds one twice, and data/pref/ is written again
with them on the leak-free sides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.trainutil import fast

from distill_tui.core import paths
from distill_tui.core.curate import curation
from distill_tui.core.curate import preferences as pref
from distill_tui.core.curate import query as cq
from distill_tui.core.dataset.export import export_dataset
from distill_tui.demo import create_demo
from distill_tui.engine.train import trainer as tr

EXE = str(Path(sys.executable).parent / "distill-tui")


@pytest.fixture
def trained(tmp_path):
    ws = create_demo(tmp_path / "demo", student="tiny", preferences=True)
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    export_dataset(ws.root, ws.store, ws.settings)
    # A few steps: the student still answers many tickets wrongly.
    run = tr.train_run(ws, fast(6, fine_tune_type="full", batch_size=8))
    return ws, run.run_id


def _pairs(ws, *args: str) -> str:
    out = subprocess.run(
        [EXE, "pairs", str(ws.root), *args], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out.stdout


def test_wrong_answers_become_pairs_once_and_reach_the_export(trained):
    ws, run = trained
    out = _pairs(ws, "--from", run, "--limit", "40")
    line = next(ln for ln in out.splitlines() if "wrong" in ln or "0 mistakes" in ln)
    assert "of 40 train" in line and "of 32 valid" in line and "by exact_match" in line
    wrong = int(line.split(": ")[2].split(" wrong")[0].split()[-1])
    assert wrong > 0 and f"added {wrong} pair(s) from its mistakes" in line

    manifest = json.loads((paths.pref_dir(ws.root) / "pref.json").read_text())
    assert manifest["by_source"]["student"] == wrong
    pairs = [
        json.loads(x)
        for name in ("train.jsonl", "valid.jsonl")
        for x in (paths.pref_dir(ws.root) / name).read_text().splitlines()
    ]
    student = [p for p in pairs if p["source"] == "student"]
    assert len(student) == wrong and all(p["chosen"] != p["rejected"] for p in student)
    # Held-out inputs give held-out pairs only: no training pair's input is one
    # the SFT validation measures.
    valid_inputs = {
        json.loads(x)["messages"][-2]["content"]
        for x in (paths.data_dir(ws.root) / "valid.jsonl").read_text().splitlines()
    }
    train_pairs = [
        json.loads(x) for x in (paths.pref_dir(ws.root) / "train.jsonl").read_text().splitlines()
    ]
    assert not {p["prompt"] for p in train_pairs} & valid_inputs

    again = _pairs(ws, "--from", run, "--limit", "40")
    assert "added 0 pair(s)" in again and f"{wrong} were kept before" in again
    manifest = json.loads((paths.pref_dir(ws.root) / "pref.json").read_text())
    assert manifest["by_source"]["student"] == wrong


def test_bad_arguments_are_one_line(trained):
    ws, _run = trained
    out = subprocess.run(
        [EXE, "pairs", str(ws.root), "--from", "nope"], capture_output=True, text=True, check=False
    )
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "nope" in out.stderr


def test_free_text_mistakes_are_judged_and_revised_by_the_teacher(workspace, tiny_model, fake):
    """A free-text task: the teacher judges the student's answers, and where
    one fails it writes a minimal revision, which becomes the chosen side."""
    from support.curate_helpers import add_answered

    from distill_tui.core.generate import side_costs
    from distill_tui.engine.train.student_pairs import mine_pairs

    ws = workspace
    ws.settings.student.model = str(tiny_model)
    ws.save_settings()
    texts = [(f"ticket {i}: the app crashes on screen {i}", f"Reset screen {i}, then retry.")
             for i in range(24)]  # fmt: skip
    ids = add_answered(ws.store, texts)
    curation.accept(ws.store, ids)
    export_dataset(ws.root, ws.store, ws.settings)
    run = tr.train_run(ws, fast(2))

    def teacher(text: str) -> str:
        if "Reply with only a JSON object" in text:  # the judge
            return '{"pass": false, "reason": "not the fix"}'
        answer = text.split("<answer>\n", 1)[1].split("\n</answer>", 1)[0]
        return f"{answer} (revised)"

    fake.reply = teacher
    found = mine_pairs(ws, run.run_id, max_cost_usd=None)
    assert found.metric == "judge" and sum(found.wrong.values()) == 24
    assert found.revised == found.added == 24
    assert "chosen as the teacher's minimal revision" in found.text()
    pairs = pref.pairs(ws.store)
    assert len(pairs) == 24
    assert all(p.chosen == f"{p.rejected} (revised)" for p in pairs)
    assert side_costs.total_usd(ws.store, side_costs.REVISE) > 0
