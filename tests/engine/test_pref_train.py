"""Preference training (issue 21) for real on the tiny model: DPO starts at
ln 2 (policy == reference), a run goes through mlx-lm's train() with our loss
and batches, and its pair measures reach the store and the listener."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from support.tiny_task import rows
from support.trainutil import FAST_FLAGS, fast, make_project

from distill_tui.commands.eval import format_table
from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals
from distill_tui.core.train import checkpoints
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.chat.evaluate import evaluate
from distill_tui.engine.chat.session import ModelHost
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.train import trainer as tr

WRONG = {"billing": "bug", "bug": "feature", "feature": "account", "account": "billing"}


def write_pairs(ws, n_train: int = 16, n_valid: int = 8) -> None:
    """Right label chosen, a wrong one rejected (the demo's reviewer edits);
    KTO rows from the same answers."""
    d = paths.pref_dir(ws.root)
    d.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("train", n_train, 0), ("valid", n_valid, 1)):
        pairs, kto = [], []
        for i, r in enumerate(rows(n, seed)):
            prompt, label = r["messages"][0]["content"], r["messages"][1]["content"]
            pairs.append(
                {
                    "prompt": prompt,
                    "chosen": label,
                    "rejected": WRONG[label],
                    "source": "edit",
                    "row_id": i,
                }  # fmt: skip
            )
            kto += [
                {"prompt": prompt, "completion": label, "label": True, "row_id": i},
                {"prompt": prompt, "completion": WRONG[label], "label": False, "row_id": i},
            ]
        for prefix, recs in (("", pairs), ("kto_", kto)):
            with open(d / f"{prefix}{name}.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps(x) + "\n" for x in recs)
    counts = {
        "train": n_train,
        "valid": n_valid,
        "kto_train": 2 * n_train,
        "kto_valid": 2 * n_valid,
    }
    (d / "pref.json").write_text(
        json.dumps({"counts": counts, "by_source": {"edit": n_train + n_valid, "regen": 0}})
    )


@pytest.fixture
def ws(workspace, tiny_model):
    ws = make_project(workspace, tiny_model)
    write_pairs(ws)
    return ws


def test_dpo_loss_at_step_0_is_ln2_a_run_learns_the_pairs_and_eval_shows_base_sft_dpo(ws):
    sft = tr.train_run(ws, fast(20))
    events: list[object] = []
    # SFT's length and a learning rate high enough to learn the pairs in 20
    # steps of the tiny model, set as flags would; the guard off, since such a
    # rate pushes the chosen answers down too (test_pref_safety.py).
    done = tr.train_run(
        ws,
        fast(20, objective="dpo", learning_rate=5e-4, stop_on_collapse=False),
        listener=events.append,
        explicit={"iters", "learning_rate"},
    )
    assert done.status == "finished" and done.iter == 20
    val = runs_db.history(ws.store, done.run_id, "val")
    # Before step 1 the policy is the SFT adapter, which is the reference.
    assert val[0][0] == 1 and abs(val[0][1] - math.log(2)) < 1e-4
    prefs = runs_db.pref_metrics(ws.store, done.run_id)
    assert [m.iter for m in prefs] == [i for i, _ in val]
    assert abs(prefs[0].reward_margin) < 1e-3
    assert prefs[-1].pair_accuracy > prefs[0].pair_accuracy or prefs[-1].pair_accuracy == 1.0
    assert prefs[-1].reward_margin > 0
    reported = [e for e in events if isinstance(e, tr.PrefReported)]
    assert [e.iter for e in reported] == [m.iter for m in prefs] and reported[0].pairs == 8
    config = json.loads((done.run_dir / "config.json").read_text())
    assert config["from_run"] == sft.run_id and config["train"]["objective"] == "dpo"
    assert (done.run_dir / "adapters.safetensors").is_file()

    # Evaluation of the DPO run puts its SFT start between the base and it,
    # on the same rows, and ranks the held-out pairs with each of the three.
    host = ModelHost()
    result = evaluate(ws, host, checkpoints.resolve(ws, done.run_id, "latest"), limit=4)
    assert result.compared == [evals.BASE, evals.SFT, evals.ADAPTER]
    alone = evaluate(
        ws, host, checkpoints.resolve(ws, sft.run_id, "latest"), limit=4, include_base=False
    )
    assert alone.compared == [evals.ADAPTER] and set(alone.pairs) == {evals.ADAPTER}
    assert [i.answers[evals.SFT] for i in result.items] == [
        i.answers[evals.ADAPTER] for i in alone.items
    ]
    assert set(result.pairs) == {evals.BASE, evals.SFT, evals.ADAPTER} and result.pair_rows == 8
    assert result.pairs[evals.ADAPTER] >= result.pairs[evals.SFT]
    stored = evals.latest(ws.store, done.run_id)
    assert stored is not None and stored.pairs == result.pairs
    table = format_table(stored)
    assert table[0].split() == ["metric", "base", "sft", "adapter", "change", "vs", "sft"]
    assert any(line.startswith("pair acc ") for line in table)


def test_the_loss_hook_gives_ln2_on_a_training_batch(ws, tiny_model):
    """The loss train() steps on, on the first training batch, before any step."""

    def first_loss() -> float:
        import mlx.core as mx
        from mlx_lm.utils import load

        from distill_tui.engine.train import pref_data
        from distill_tui.engine.train.pref_loss import make_dpo_loss

        model, tok = load(str(tiny_model))
        data = pref_data.load(paths.pref_dir(ws.root) / "train.jsonl", tok, "pairs")
        pref_data.fill_reference(model, data, 4, 2048)
        batch = next(pref_data.iterate(data, 4, 2048, seed=0, loop=True))
        value, ntoks = make_dpo_loss(0.1)(model, *batch)
        mx.eval(value)
        assert batch[0].shape[0] == 8 and int(ntoks.item()) > 0  # 4 pairs, both answers
        return float(value.item())

    assert abs(mlx_thread().call(first_loss) - math.log(2)) < 1e-4


def test_kto_runs_and_resumes(ws):
    tr.train_run(ws, fast(10))
    first = tr.train_run(ws, fast(10, objective="kto"), explicit={"iters"})
    assert first.status == "finished"
    more = tr.train_run(ws, fast(15, objective="kto"), resume=first.run_id)
    assert more.iter == 15
    assert [m.iter for m in runs_db.pref_metrics(ws.store, first.run_id)][-1] == 15


def test_without_an_sft_run_or_pairs_it_says_what_to_do(ws):
    with pytest.raises(UserError, match="no finished SFT run"):
        tr.train_run(ws, fast(5, objective="dpo"))
    (paths.pref_dir(ws.root) / "train.jsonl").write_text("")
    with pytest.raises(UserError, match="export DIR --preferences"):
        tr.train_run(ws, fast(5, objective="dpo"))


def test_cli_train_objective_errors_are_one_line(ws):
    exe = str(Path(sys.executable).parent / "distill-tui")
    out = subprocess.run(
        [exe, "train", str(ws.root), "--objective", "dpo", "--from", "nope", *FAST_FLAGS],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "--from nope" in out.stderr
    out = subprocess.run(
        [exe, "train", str(ws.root), "--from", "x", *FAST_FLAGS],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stderr.strip().count("\n") == 0 and "--objective dpo or kto" in out.stderr


def test_log_probs_on_the_answer_positions_equal_the_full_rows(ws, tiny_model):
    """The vocabulary projection on the answers' positions only gives the
    log-probabilities of the whole-row computation, truncated rows included."""

    def both(max_seq_length: int) -> tuple[list[float], list[float]]:
        import mlx.core as mx
        from mlx_lm.utils import load

        from distill_tui.engine.train import pref_data
        from distill_tui.engine.train.pref_loss import sequence_logps

        model, tok = load(str(tiny_model))
        data = pref_data.load(paths.pref_dir(ws.root) / "train.jsonl", tok, "pairs")
        tokens, lengths, _, positions = pref_data.make_batch(data, [0, 5, 9], max_seq_length, None)
        fast_, n1 = sequence_logps(model, tokens, lengths, positions)
        full, n2 = sequence_logps(model, tokens, lengths)
        mx.eval(fast_, full)
        assert n1.tolist() == n2.tolist()
        return fast_.tolist(), full.tolist()

    a, b = mlx_thread().call(both, 2048)
    assert a == pytest.approx(b, abs=1e-4) and all(x < 0 for x in b)
    a, b = mlx_thread().call(both, 20)  # the answers cut off: nothing counts
    assert a == pytest.approx(b, abs=1e-4)
