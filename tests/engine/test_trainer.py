"""Real training of the tiny model through mlx-lm's trainer, in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from support.trainutil import fast, make_project, write_wrong_valid

from distill_tui.core.errors import UserError
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.train import trainer as tr


@pytest.fixture
def ws(workspace, tiny_model):
    return make_project(workspace, tiny_model)


def test_loss_falls_and_the_run_folder_is_reproducible(ws, capfd):
    events: list[object] = []
    done = tr.train_run(ws, fast(30), listener=events.append)

    assert done.status == "finished" and done.iter == 30
    train = runs_db.history(ws.store, done.run_id, "train")
    assert [i for i, _ in train] == [5, 10, 15, 20, 25, 30]
    assert train[-1][1] < 0.7 * train[0][1]
    # Every report reached the store and the listener as it happened.
    reported = [e.iter for e in events if isinstance(e, tr.TrainReported)]
    assert reported == [i for i, _ in train]
    assert runs_db.get_run(ws.store, done.run_id).status == "finished"

    d = done.run_dir
    for name in ("adapters.safetensors", "adapter_config.json", "lora.yaml", "command.txt"):
        assert (d / name).is_file(), name
    config = json.loads((d / "config.json").read_text())
    assert config["dataset_hash"] == (d / "dataset.sha256").read_text().strip()
    assert "mlx_lm.lora --config" in (d / "command.txt").read_text()
    assert (d / "0000010_adapters.safetensors").is_file()
    best = json.loads((d / "best" / "best.json").read_text())
    val = runs_db.history(ws.store, done.run_id, "val")
    assert best["iter"] == min(val, key=lambda p: p[1])[0] == done.best_iter
    # Validation is numbered as mlx_lm.lora prints it (steps_per_eval 10 of 30).
    assert [i for i, _ in val] == [1, 10, 20, 30]

    # mlx-lm's own progress display never reached the terminal.
    out = capfd.readouterr()
    assert "train_loss" not in out.out + out.err and "%" not in out.out

    # The adapter loads the way `mlx_lm.generate --adapter-path` loads it.
    def generate():
        from mlx_lm import generate, load

        model, tok = load(config["model"], adapter_path=str(d / "best"))
        prompt = tok.apply_chat_template(
            [{"role": "user", "content": "Classify the support ticket: refund my payment"}],
            add_generation_prompt=True,
        )
        return generate(model, tok, prompt, max_tokens=3)

    assert isinstance(mlx_thread().call(generate), str)


def test_stop_saves_the_adapter_and_marks_the_run_stopped(ws):
    stop = threading.Event()

    def listener(e):
        if isinstance(e, tr.TrainReported) and e.iter >= 10:
            stop.set()

    done = tr.train_run(ws, fast(200), stop=stop, listener=listener)
    assert done.status == "stopped"
    assert 10 <= done.iter < 20
    assert runs_db.get_run(ws.store, done.run_id).status == "stopped"
    assert (done.run_dir / "adapters.safetensors").is_file()
    # A stopped run can be resumed from where it stopped.
    again = tr.train_run(ws, resume=done.run_id)
    assert again.run_id == done.run_id and again.status == "finished" and again.iter == 200


def test_early_stopping_keeps_the_best_adapter_beside_the_latest(ws):
    write_wrong_valid(ws)

    def weights(path):
        import mlx.core as mx

        return {k: v.tolist() for k, v in mx.load(str(path)).items()}

    done = tr.train_run(ws, fast(200, steps_per_eval=5, early_stopping_patience=2))
    assert done.status == "early_stopped" and done.iter < 200
    val = runs_db.history(ws.store, done.run_id, "val")
    best_iter, best_loss = min(val, key=lambda p: p[1])
    assert (done.best_iter, done.best_val_loss) == (best_iter, pytest.approx(best_loss))
    # The last two evaluations did not beat the best one.
    assert all(v > best_loss for _, v in val[-2:])
    run = runs_db.get_run(ws.store, done.run_id)
    assert (run.status, run.best_iter) == ("early_stopped", best_iter)
    best = mlx_thread().call(weights, done.run_dir / "best" / "adapters.safetensors")
    latest = mlx_thread().call(weights, done.run_dir / "adapters.safetensors")
    assert best.keys() == latest.keys() and best != latest


def test_a_missing_split_and_a_too_large_batch_are_user_errors(ws, workspace):
    (ws.root / "data" / "train.jsonl").unlink()
    with pytest.raises(UserError, match="no exported training split"):
        tr.train_run(ws, fast(5))
    make_project(ws, ws.settings.student.model)
    with pytest.raises(UserError, match="fewer than batch size 64"):
        tr.train_run(ws, fast(5, batch_size=64))
    # The failed run is recorded as failed, not left "running".
    assert runs_db.latest_run(ws.store).status == "failed"


def test_resume_refuses_a_changed_split(ws):
    done = tr.train_run(ws, fast(10))
    with open(ws.root / "data" / "train.jsonl", "a") as f:
        f.write(json.dumps({"prompt": "x", "completion": "y"}) + "\n")
    with pytest.raises(UserError, match="changed since run"):
        tr.train_run(ws, fast(20), resume=done.run_id)


def test_the_saved_mlx_lm_lora_command_trains_beside_the_run_not_over_it(ws):
    done = tr.train_run(ws, fast(5))
    d = done.run_dir
    ours = (d / "adapters.safetensors").read_bytes()
    ours_config = (d / "adapter_config.json").read_text()
    # What command.txt tells the user to run, run as they would.
    cmd = (d / "command.txt").read_text().split()
    assert cmd[:2] == ["mlx_lm.lora", "--config"]
    proc = subprocess.run(
        [sys.executable, "-m", "mlx_lm.lora", *cmd[1:]],
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (d / "rerun" / "adapters.safetensors").is_file()
    assert (d / "adapters.safetensors").read_bytes() == ours
    assert (d / "adapter_config.json").read_text() == ours_config


@pytest.mark.parametrize("preflight", [True, False])
def test_a_max_seq_length_that_leaves_nothing_to_train_is_refused(ws, capsys, preflight):
    from support.trainutil import FAST_FLAGS

    from distill_tui.cli import main

    flags = [f for f in FAST_FLAGS if preflight is False or f != "--no-preflight"]
    assert main(["train", str(ws.root), *flags, "--iters", "5", "--max-seq-length", "16"]) == 2
    err = capsys.readouterr().err
    assert "max_seq_length 16 cuts off every completion" in err and "0 tokens" in err
    assert "Traceback" not in err
    # Nothing was trained: no run reported a (NaN) loss.
    assert all(runs_db.metrics(ws.store, r.id, "train") == [] for r in runs_db.list_runs(ws.store))


def test_group_by_length_trains_and_is_kept_with_the_run(ws, monkeypatch):
    """The option reaches the batches (epochs grouped by length) and the run's
    saved settings, which a resume reads; without it no epoch is grouped."""
    from distill_tui.engine.train import batches

    grouped: list[int] = []
    real = batches.epoch_groups

    def spy(lengths, batch_size, seed, epoch, rank=0, size=1):  # noqa: ANN001, ANN202
        grouped.append(epoch)
        return real(lengths, batch_size, seed, epoch, rank, size)

    monkeypatch.setattr(batches, "epoch_groups", spy)
    plain = tr.train_run(ws, fast(6))
    assert plain.status == "finished" and grouped == []
    done = tr.train_run(ws, fast(6).replace(group_by_length=True))
    assert done.status == "finished" and done.iter == 6
    assert grouped and grouped[0] == 0
    run = runs_db.get_run(ws.store, done.run_id)
    assert run is not None and run.config["train"]["group_by_length"] is True
