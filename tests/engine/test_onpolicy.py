"""On-policy distillation (issue 32) on the tiny model: a teacher equal to the
student gives a KL of 0 at step 0; a run against another teacher trains, moves
the student toward it and reports the held-out KL, the agreement, the task
score and the time split; a teacher with another vocabulary is refused in one
line before any work; a hosted teacher is refused with the pairs route; an
interrupted run resumes to the weights of an uninterrupted one."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from support.trainutil import FAST_FLAGS, fast, make_project

from distill_tui.core.errors import UserError
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.train import trainer as tr


@pytest.fixture(scope="module")
def other_teacher(tmp_path_factory) -> Path:
    """The tiny model's tokenizer with other random weights."""
    from distill_tui.demo.tiny import build_tiny_model

    path = tmp_path_factory.mktemp("tiny-teacher")
    return mlx_thread().call(build_tiny_model, path, seed=1)


@pytest.fixture(scope="module")
def foreign_teacher(tmp_path_factory) -> Path:
    """A tiny model whose tokenizer learned other text: another vocabulary."""
    from distill_tui.demo.tiny import build_tiny_model

    path = tmp_path_factory.mktemp("tiny-foreign")
    texts = ["Zebras quietly vanish behind jagged purple mountains at dawn."] * 5
    return mlx_thread().call(build_tiny_model, path, texts, vocab_size=400)


@pytest.fixture
def ws(workspace, tiny_model):
    ws = make_project(workspace, tiny_model)
    ws.settings.teacher.provider = "mlx"
    ws.settings.teacher.model = str(tiny_model)
    ws.save_settings()
    return ws


def onpolicy(iters: int, **kw):
    return fast(iters, objective="onpolicy", onpolicy_temperature=1.0, **kw)


def test_a_teacher_equal_to_the_student_gives_a_kl_of_0_at_step_0(ws):
    events: list[object] = []
    done = tr.train_run(ws, onpolicy(2, steps_per_report=1), listener=events.append)
    assert done.status == "finished"
    first = next(e for e in events if isinstance(e, tr.OnPolicyReported))
    assert first.iter == 1 and first.tokens > 0
    assert abs(first.kl) < 1e-5 and first.agreement == 1.0
    loss = next(e for e in events if isinstance(e, tr.TrainReported))
    assert loss.iter == 1 and abs(loss.loss) < 1e-5  # step 1's loss, before its update


def test_a_run_moves_the_student_toward_its_teacher_and_reports(ws, other_teacher):
    events: list[object] = []
    done = tr.train_run(
        ws, onpolicy(20, onpolicy_teacher=str(other_teacher)), listener=events.append
    )
    assert done.status == "finished" and done.iter == 20
    reads = [e for e in events if isinstance(e, tr.OnPolicyReported)]
    assert [e.iter for e in reads] == [1, 10, 20]
    assert reads[0].kl > 0.05 and reads[-1].kl < reads[0].kl * 0.8
    assert reads[-1].task_score is not None and reads[-1].task_rows == 12
    assert reads[-1].sampling_s > 0 and reads[-1].teacher_s > 0 and reads[-1].update_s > 0
    # The held-out KL is the validation loss the plot draws.
    val = runs_db.history(ws.store, done.run_id, "val")
    assert [round(v, 6) for _, v in val] == [round(e.kl, 6) for e in reads]
    record = [json.loads(x) for x in (done.run_dir / "onpolicy.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in record] == [1, 10, 20] and "teacher_s" in record[0]
    config = json.loads((done.run_dir / "config.json").read_text())
    assert config["train"]["onpolicy_teacher"] == str(other_teacher)
    assert config["from_run"] is None  # the base student with a fresh adapter
    best = json.loads((done.run_dir / "best" / "best.json").read_text())
    assert best["iter"] > 1 and best["task_metric"] == "exact_match"


def test_generalised_jsd_and_an_sft_term_train_too(ws, other_teacher):
    sft = tr.train_run(ws, fast(10))
    done = tr.train_run(
        ws,
        onpolicy(
            4, onpolicy_teacher=str(other_teacher), onpolicy_beta=0.5, onpolicy_sft_weight=1.0
        ),
        from_run=sft.run_id,
    )
    assert done.status == "finished"
    config = json.loads((done.run_dir / "config.json").read_text())
    assert config["from_run"] == sft.run_id


def test_a_teacher_with_another_vocabulary_is_refused_in_one_line(ws, foreign_teacher):
    with pytest.raises(UserError, match="token id") as e:
        tr.train_run(ws, onpolicy(2, onpolicy_teacher=str(foreign_teacher)))
    assert "\n" not in str(e.value) and "not the student's" in str(e.value)
    exe = str(Path(sys.executable).parent / "distill-tui")
    out = subprocess.run(
        [exe, "train", str(ws.root), "--objective", "onpolicy", "--teacher-model",
         str(foreign_teacher), *FAST_FLAGS],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "token id" in out.stderr


def test_a_hosted_teacher_is_refused_with_the_pairs_route(ws):
    ws.settings.teacher.provider = "anthropic"
    ws.save_settings()
    with pytest.raises(UserError, match="distill-tui pairs --from RUN") as e:
        tr.train_run(ws, onpolicy(2))
    assert "\n" not in str(e.value)


def test_the_command_says_the_teacher_and_the_memory_first(ws):
    exe = str(Path(sys.executable).parent / "distill-tui")
    out = subprocess.run(
        [exe, "train", str(ws.root), "--objective", "onpolicy", "--iters", "2", *FAST_FLAGS],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[0].startswith("onpolicy: teacher ") and "student 0.4 MB" in lines[0]
    assert lines[0].endswith(" GB memory")
    assert "the base student, a fresh adapter" in lines[1] and "reverse KL" in lines[1]
    assert any("held-out KL" in x and "agreement 1.00" in x for x in lines)


def test_an_interrupted_run_resumes_to_the_uninterrupted_weights(ws, other_teacher):
    settings = onpolicy(10, onpolicy_teacher=str(other_teacher), steps_per_save=5)
    whole = tr.train_run(ws, settings)
    stop = threading.Event()

    def at_five(e: object) -> None:
        if isinstance(e, tr.TrainReported) and e.iter == 5:
            stop.set()

    first = tr.train_run(ws, settings, stop=stop, listener=at_five)
    assert first.status == "stopped" and first.iter == 5
    more = tr.train_run(ws, settings, resume=first.run_id)
    assert more.status == "finished" and more.iter == 10

    def weights(run_dir: Path) -> dict:
        import mlx.core as mx

        return {k: np.array(v) for k, v in mx.load(str(run_dir / "adapters.safetensors")).items()}

    a, b = mlx_thread().call(weights, whole.run_dir), mlx_thread().call(weights, more.run_dir)
    assert a.keys() == b.keys()
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-5
