"""A preference run (DPO or KTO) on the MLX thread: the student with the SFT
run's adapter as the policy start, reference log-probabilities computed once
from it before step 1, and mlx-lm's own `train()` with our loss and batches,
so checkpoints, resume, early stopping, reports and failure handling are the
SFT run's (`loop._Session`). Validation measures the held-out pairs: the DPO
loss (early stopping and best/ follow it), per-pair accuracy, reward margin
and the chosen/rejected log-probabilities."""

from __future__ import annotations

import threading
import time
from typing import Any

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train import losscurve
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.train import checkpoint as ckpt
from distill_tui.engine.train import pref_data
from distill_tui.engine.train.events import Listener, PrefReported, RunFinished
from distill_tui.engine.train.loop import _Session, _setup_model, load_student, train_session
from distill_tui.engine.train.pref_loss import (
    dpo_terms,
    make_dpo_loss,
    make_kto_loss,
    sequence_logps,
)
from distill_tui.engine.train.runplan import RunPlan, data_files


def pair_metrics(model: Any, data: pref_data.PrefSet, batch_size: int, plan: RunPlan) -> dict:
    """DPO loss and per-pair measures over (up to val_batches batches of) `data`."""
    import mlx.core as mx
    import mlx.nn as nn

    t = plan.train
    model.eval()
    acc: list[float] = []
    margin: list[float] = []
    loss: list[float] = []
    chosen: list[float] = []
    rejected: list[float] = []
    for n, batch in enumerate(
        pref_data.iterate(data, batch_size, t.max_seq_length, seed=t.seed, loop=False)
    ):
        if t.val_batches != -1 and n >= t.val_batches:
            break
        tokens, lengths, reference, positions = batch
        logps, _ = sequence_logps(model, tokens, lengths, positions)
        terms = dpo_terms(logps, reference, t.beta)
        diff = terms["chosen_reward"] - terms["rejected_reward"]
        mx.eval(diff, terms["chosen_logp"], terms["rejected_logp"])
        acc += (diff > 0).astype(mx.float32).tolist()
        margin += diff.tolist()
        loss += (-nn.log_sigmoid(diff)).tolist()
        chosen += terms["chosen_logp"].tolist()
        rejected += terms["rejected_logp"].tolist()
    model.train()

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs) if xs else float("nan")

    return {
        "loss": mean(loss),
        "pair_accuracy": mean(acc),
        "reward_margin": mean(margin),
        "chosen_logp": mean(chosen),
        "rejected_logp": mean(rejected),
        "pairs": len(acc),
    }


class _PrefSession(_Session):
    def __init__(self, ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener):
        super().__init__(ws, plan, stop, emit)
        self.weights: tuple[float, float] | None = None
        self.chosen_hist: list[tuple[int, float]] = []
        self.val_pairs: pref_data.PrefSet | None = None

    def restore_history(self) -> None:
        super().restore_history()
        self.chosen_hist = [
            (m.iter, m.chosen_logp)
            for m in runs_db.pref_metrics(self.ws.store, self.plan.run_id)
            if m.chosen_logp is not None
        ]

    def batches(self, dataset: Any, batch_size: int, max_seq_length: int, **kw: Any) -> Any:
        return pref_data.iterate(dataset, batch_size, max_seq_length, weights=self.weights, **kw)

    def validate(self, done: int) -> None:
        assert self.val_pairs is not None
        tic = time.perf_counter()
        bs = min(self.plan.train.batch_size, len(self.val_pairs))
        m = pair_metrics(self.model, self.val_pairs, bs, self.plan)
        it = done + 1  # labelled as SFT validations are (_Session.validation_due)
        self.chosen_hist.append((it, m["chosen_logp"]))
        sign = losscurve.chosen_falling(self.chosen_hist)
        if self.writer:
            runs_db.record_pref_metric(
                self.ws.store,
                self.plan.run_id,
                runs_db.PrefMetric(
                    it, m["pair_accuracy"], m["reward_margin"], m["chosen_logp"], m["rejected_logp"]
                ),
            )
        self.emit(
            PrefReported(
                self.plan.run_id,
                it,
                m["pair_accuracy"],
                m["reward_margin"],
                m["chosen_logp"],
                m["rejected_logp"],
                m["pairs"],
                (sign,) if sign else (),
            )
        )
        self.reporter.on_val_loss_report(
            {
                "iteration": it - self.start,
                "val_loss": m["loss"],
                "val_time": time.perf_counter() - tic,
            }
        )


def run_pref_on_mlx(
    ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener
) -> RunFinished:
    import mlx.core as mx

    t = plan.train
    if plan.from_run is None or not (plan.from_run / ckpt.ADAPTER_FILE).is_file():
        raise UserError(f"{plan.from_run}: the SFT run's adapter is gone")
    if t.objective == "kto" and t.batch_size < 4:
        raise UserError(f"KTO needs at least 4 rows a step (batch size {t.batch_size})")
    s = _PrefSession(ws, plan, stop, emit)
    model, tokenizer = load_student(plan)
    train_name, valid_name = data_files(t.objective)
    kind = "kto" if t.objective == "kto" else "pairs"
    train_set = pref_data.load(plan.data_dir / train_name, tokenizer, kind)
    val_pairs = pref_data.load(plan.data_dir / valid_name, tokenizer, "pairs")
    if len(train_set) < t.batch_size:
        raise UserError(
            f"{plan.data_dir / train_name} has {len(train_set)} rows, fewer than batch size"
            f" {t.batch_size}; lower the batch size or curate more pairs"
        )
    if t.objective == "kto":
        s.weights = pref_data.kto_weights(train_set.labels)
    mx.random.seed(t.seed)
    _setup_model(model, plan)
    # The policy starts as the SFT adapter, which is also the reference.
    model.load_weights(str(plan.from_run / ckpt.ADAPTER_FILE), strict=False)
    bs = t.batch_size
    make = make_kto_loss if t.objective == "kto" else make_dpo_loss
    pref_data.fill_reference(model, train_set, bs, t.max_seq_length)
    if len(val_pairs):
        pref_data.fill_reference(model, val_pairs, min(bs, len(val_pairs)), t.max_seq_length)
        s.val_pairs = val_pairs
        s.valid_set = val_pairs
    return train_session(s, model, train_set, make(t.beta, t.sft_weight))
