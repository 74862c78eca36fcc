"""A preference run (DPO or KTO) on the MLX thread: the student with the SFT
run's adapter as the policy start, reference log-probabilities computed once
from it before step 1, and mlx-lm's own `train()` with our loss and batches,
so checkpoints, resume, early stopping, reports and failure handling are the
SFT run's (`loop._Session`).

Each evaluation measures the held-out pairs (the DPO loss, or KTO's own loss
on the held-out labelled rows; per-pair accuracy, reward margin, the
chosen/rejected log-probabilities), answers up to 32 held-out rows of the SFT
split and scores them with the task's metric, and reads the chosen answers'
log-probability per token against the SFT start. `best/` and patience follow
the task score, not the preference loss (which goes to 0 while a model
breaks); the collapse guard (core/train/collapse.py) stops the run and puts
back the weights of the last evaluation before the fall."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from typing import Any

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train import collapse, losscurve
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.train import checkpoint as ckpt
from distill_tui.engine.train import pref_data
from distill_tui.engine.train.events import Listener, PrefReported, RunFinished
from distill_tui.engine.train.loop import _Session, _setup_model, load_student, phase, train_session
from distill_tui.engine.train.pref_loss import (
    dpo_terms,
    make_dpo_loss,
    make_kto_loss,
    sequence_logps,
)
from distill_tui.engine.train.runplan import RunPlan, data_files
from distill_tui.engine.train.task_eval import held_out_rows, task_score


def pair_metrics(model: Any, data: pref_data.PrefSet, batch_size: int, plan: RunPlan) -> dict:
    """DPO loss and per-pair measures over every pair of `data` (held-out
    pairs are few and cheap; a pair accuracy on a capped part of them would
    count fewer pairs than the export holds)."""
    import mlx.core as mx
    import mlx.nn as nn

    from distill_tui.engine.train.batches import length_order

    t = plan.train
    model.eval()
    acc: list[float] = []
    margin: list[float] = []
    loss: list[float] = []
    chosen: list[float] = []
    rejected: list[float] = []
    order = length_order(data)
    for i in range(0, len(order), batch_size):
        rows = order[i : i + batch_size]
        tokens, lengths, reference, positions = pref_data.make_batch(
            data, rows, t.max_seq_length, None
        )
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


# Training pairs whose chosen answers the guard watches beside the held-out
# pairs (a demo export holds one held-out pair).
PROBE_TRAIN_ROWS = 16


def probe_set(train: pref_data.PrefSet, val: pref_data.PrefSet) -> pref_data.PrefSet:
    """The chosen (desirable) answers the collapse guard watches, alone (one
    sequence a row, their references filled): the first training ones and
    every held-out pair's."""
    keep = [i for i in range(len(train)) if train.labels[i] > 0][:PROBE_TRAIN_ROWS]
    rows = [(train, i) for i in keep] + [(val, i) for i in range(len(val))]
    return pref_data.PrefSet(
        [[d.seqs[i][0]] for d, i in rows],
        [d.offsets[i] for d, i in rows],
        [1.0 for _ in rows],
        [[d.reference[i][0]] for d, i in rows],
    )


def chosen_drift(model: Any, data: pref_data.PrefSet, batch_size: int, max_seq: int) -> float:
    """Mean over the chosen answers of (policy - reference) log-probability
    per token: 0 at the start, falling when the run pushes them down."""
    import mlx.core as mx

    from distill_tui.engine.train.batches import length_order

    model.eval()
    drifts: list[float] = []
    order = length_order(data)
    for i in range(0, len(order), batch_size):
        rows = order[i : i + batch_size]
        tokens, lengths, reference, positions = pref_data.make_batch(data, rows, max_seq, None)
        logps, ntoks = sequence_logps(model, tokens, lengths, positions)
        mx.eval(logps, ntoks)
        n = len(rows)  # the chosen (or only) answer of each row comes first
        for j, (lp, ref, k) in enumerate(
            zip(logps.tolist()[:n], reference.tolist()[:n], ntoks.tolist()[:n], strict=True)
        ):
            if data.labels[rows[j]] > 0 and k:
                drifts.append((lp - ref) / k)
    model.train()
    return sum(drifts) / len(drifts) if drifts else 0.0


def kto_loss_on(model: Any, data: pref_data.PrefSet, plan: RunPlan) -> float:
    """KTO's own loss on the held-out labelled rows (its validation loss)."""
    import mlx.core as mx

    t = plan.train
    weights = pref_data.kto_weights(data.labels)
    loss = make_kto_loss(t.beta, 0.0)
    model.eval()
    values: list[float] = []
    bs = max(4, min(t.batch_size, len(data)))
    for n, batch in enumerate(
        pref_data.iterate(data, bs, t.max_seq_length, weights=weights, seed=t.seed, loop=False)
    ):
        if t.val_batches != -1 and n >= t.val_batches:
            break
        value, _ = loss(model, *batch)
        mx.eval(value)
        values.append(float(value.item()))
    model.train()
    return sum(values) / len(values) if values else float("nan")


class _PrefSession(_Session):
    def __init__(self, ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener):
        super().__init__(ws, plan, stop, emit)
        self.weights: tuple[float, float] | None = None
        self.chosen_hist: list[tuple[int, float]] = []
        self.val_pairs: pref_data.PrefSet | None = None
        self.val_kto: pref_data.PrefSet | None = None
        self.probe: pref_data.PrefSet | None = None
        self.tokenizer: Any = None
        self.task_rows: list[Any] = []
        self.fmt = ws.settings.task.output_format
        self.metric = "exact_match"
        # The task score of the SFT start (the first evaluation) and the best
        # trained checkpoint's (score, validation loss); the start is never
        # "best", so best/ always holds what this run trained.
        self.start_score: float | None = None
        self.start_run_on: float | None = None
        self.best_key: tuple[float, float] | None = None
        self.last: dict[str, Any] = {}
        self.snapshot: tuple[int, dict[str, Any]] | None = None

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "task": {
                "start_score": self.start_score,
                "start_run_on": self.start_run_on,
                "best_key": list(self.best_key) if self.best_key else None,
            },
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        task = state.get("task") or {}
        self.start_score = task.get("start_score")
        self.start_run_on = task.get("start_run_on")
        key = task.get("best_key")
        self.best_key = (float(key[0]), float(key[1])) if key else None

    def restore_history(self) -> None:
        super().restore_history()
        self.chosen_hist = [
            (m.iter, m.chosen_logp)
            for m in runs_db.pref_metrics(self.ws.store, self.plan.run_id)
            if m.chosen_logp is not None
        ]

    def batches(self, dataset: Any, batch_size: int, max_seq_length: int, **kw: Any) -> Any:
        return pref_data.iterate(dataset, batch_size, max_seq_length, weights=self.weights, **kw)

    def task_eval(self) -> tuple[float | None, float | None]:
        """(task score, share of answers that did not end) on the held-out
        rows (engine/train/task_eval.py)."""
        return task_score(
            self.model, self.tokenizer, self.task_rows, self.fmt, self.metric, self.stop
        )

    def validate(self, done: int) -> None:
        t = self.plan.train
        tic = time.perf_counter()
        it = done + 1  # labelled as SFT validations are (_Session.validation_due)
        m: dict[str, Any] = {"loss": float("nan"), "pairs": 0}
        if self.val_pairs is not None and len(self.val_pairs):
            bs = min(t.batch_size, len(self.val_pairs))
            m = pair_metrics(self.model, self.val_pairs, bs, self.plan)
        loss = m["loss"]
        if self.val_kto is not None:
            loss = kto_loss_on(self.model, self.val_kto, self.plan)
        drift = None
        if self.probe is not None and len(self.probe):
            drift = chosen_drift(self.model, self.probe, t.batch_size, t.max_seq_length)
        score, run_on = self.task_eval()
        if done == 0:
            self.start_score, self.start_run_on = score, run_on
        reason = None
        if t.stop_on_collapse and done > 0:
            reason = collapse.collapsed(
                collapse.Reading(it, drift if drift is not None else 0.0, run_on),
                self.start_run_on,
            )
        if reason:
            self.collapsed = reason
        else:
            self.snapshot = (it, self._weights())
        self.last = {"it": it, "score": score, "loss": loss, "start": done == 0}
        if m.get("chosen_logp") is not None:
            self.chosen_hist.append((it, m["chosen_logp"]))
        sign = losscurve.chosen_falling(self.chosen_hist)
        improved = self._improves(score, loss) if not reason and done > 0 else False
        if self.writer:
            runs_db.record_pref_metric(
                self.ws.store,
                self.plan.run_id,
                runs_db.PrefMetric(
                    it,
                    m.get("pair_accuracy"),
                    m.get("reward_margin"),
                    m.get("chosen_logp"),
                    m.get("rejected_logp"),
                    m["pairs"],
                    score,
                    run_on,
                    drift,
                ),
            )
        nan = float("nan")
        self.emit(
            PrefReported(
                self.plan.run_id,
                it,
                m.get("pair_accuracy", nan),
                m.get("reward_margin", nan),
                m.get("chosen_logp", nan),
                m.get("rejected_logp", nan),
                m["pairs"],
                (sign,) if sign else (),
                task_score=score,
                task_rows=len(self.task_rows),
                metric=self.metric,
                run_on=run_on,
                chosen_drift=drift,
                best=improved,
                start_score=self.start_score,
            )
        )
        self.reporter.on_val_loss_report(
            {
                "iteration": it - self.start,
                "val_loss": loss,
                "val_time": time.perf_counter() - tic,
            }
        )

    @staticmethod
    def _key(score: float | None, loss: float) -> tuple[float, float]:
        """What ranks checkpoints: the task score, then the lower loss."""
        return (
            score if score is not None else float("-inf"),
            -loss if math.isfinite(loss) else float("-inf"),
        )

    def _improves(self, score: float | None, loss: float) -> bool:
        return self.best_key is None or self._key(score, loss) > self.best_key

    def judge_validation(self, it: int, loss: float) -> tuple[bool, bool]:
        """Best is the trained checkpoint with the best task score (ties: the
        lower validation loss), never the start and never one past a collapse;
        patience counts evaluations without a better task score."""
        last = self.last
        if self.collapsed or last.get("start"):
            return False, False
        score = last.get("score")
        st = self.stopper
        if self._improves(score, loss):
            self.best_key = self._key(score, loss)
            st.best_iter, st.best_loss, st.bad_evals = it, loss, 0
            return True, False
        st.bad_evals += 1
        return False, st.patience > 0 and st.bad_evals >= st.patience

    def best_record(self, it: int, loss: float) -> dict[str, Any]:
        return {
            **super().best_record(it, loss),
            "task_metric": self.metric,
            "task_score": self.last.get("score"),
            "start_score": self.start_score,
        }

    def _weights(self) -> dict[str, Any]:
        from mlx.utils import tree_flatten

        # MLX arrays are values: an update makes new ones, so holding these
        # keeps the weights as they are now without a copy.
        return dict(tree_flatten(self.model.trainable_parameters()))

    def finish(self, status: str) -> str:
        if not self.collapsed:
            return status
        kept = None
        if self.snapshot is not None:
            self.model.load_weights(list(self.snapshot[1].items()), strict=False)
            kept = self.snapshot[0]
        self.collapsed = collapse.stopped_line(self.collapsed, kept)
        return "collapsed"

    def summary(self) -> str | None:
        """A line for the end of the run when its best trained checkpoint is
        below the SFT start on the task."""
        if self.best_key is None or self.start_score is None:
            return None
        best = self.best_key[0]
        if best < self.start_score:
            return (
                f"no checkpoint of this run reached its SFT start on the task: best"
                f" {self.metric} {best:.3f} at iteration {self.stopper.best_iter}, the"
                f" start {self.start_score:.3f}; keep the SFT run"
            )
        return None


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
    phase(emit, plan, "loading the student")
    model, tokenizer = load_student(plan)
    s.tokenizer = tokenizer
    train_name, valid_name = data_files(t.objective)
    kind = "kto" if t.objective == "kto" else "pairs"
    train_set = pref_data.load(plan.data_dir / train_name, tokenizer, kind)
    val_pairs = pref_data.load(plan.data_dir / valid_name, tokenizer, "pairs")
    val_kto = (
        pref_data.load(plan.data_dir / "kto_valid.jsonl", tokenizer, "kto")
        if t.objective == "kto"
        else None
    )
    if len(train_set) < t.batch_size:
        raise UserError(
            f"{plan.data_dir / train_name} has {len(train_set)} rows, fewer than batch size"
            f" {t.batch_size}; lower the batch size or curate more pairs"
        )
    nothing = pref_data.nothing_to_train(train_set, t.max_seq_length)
    if nothing:
        raise UserError(nothing)
    if t.objective == "kto":
        s.weights = pref_data.kto_weights(train_set.labels)
    elif t.sft_weight:
        sft_train = paths.data_dir(ws.root) / "train.jsonl"
        pref_data.with_anchors(train_set, sft_train, tokenizer, t.seed)
    s.task_rows, s.metric = held_out_rows(ws)  # none without an SFT split: the pairs alone
    mx.random.seed(t.seed)
    _setup_model(model, plan)
    # The policy starts as the SFT adapter, which is also the reference.
    model.load_weights(str(plan.from_run / ckpt.ADAPTER_FILE), strict=False)
    bs = t.batch_size
    anchored = bool(train_set.anchors)
    n = len(train_set) + len(val_pairs) + (len(val_kto) if val_kto is not None else 0)
    phase(emit, plan, f"computing the SFT start's log-probabilities of {n} rows")
    pref_data.fill_reference(model, train_set, bs, t.max_seq_length, stop)
    if len(val_pairs):
        pref_data.fill_reference(model, val_pairs, min(bs, len(val_pairs)), t.max_seq_length, stop)
        s.val_pairs = val_pairs
    if val_kto is not None and len(val_kto) and 0 < sum(val_kto.labels) < len(val_kto):
        pref_data.fill_reference(model, val_kto, min(bs, len(val_kto)), t.max_seq_length, stop)
        s.val_kto = val_kto
    s.probe = probe_set(train_set, val_pairs)
    if len(val_pairs) or s.task_rows or s.val_kto is not None:
        s.valid_set = val_pairs  # validation_due needs something to measure
    loss = (
        make_kto_loss(t.beta, t.sft_weight)
        if t.objective == "kto"
        else make_dpo_loss(t.beta, t.sft_weight, anchored)
    )
    done = train_session(s, model, train_set, loss)
    below = s.summary()
    if below and not done.note:
        return replace(done, note=below)
    return done
