"""On-policy distillation (GKD, Agarwal et al. 2024; Thinking Machines'
on-policy distillation) on the MLX thread, from a local MLX teacher.

Each step the student samples answers to a batch of training inputs
(data/train.jsonl's prompts, at `onpolicy_temperature`), the frozen teacher
computes its log-probabilities over the whole vocabulary at exactly those
answer tokens (the same prompt through the teacher's own chat template), and
the loss is the per-token reverse KL(student || teacher) over the answer
tokens (or GKD's generalised JSD, `onpolicy_beta`), plus an SFT term on the
accepted answers (`onpolicy_sft_weight`). Sampling and scoring run inside our
`iterate_batches`, so mlx-lm's `train()` and what surrounds it (checkpoints,
resume, reports, early stopping) are the preference run's: this session is a
`_PrefSession`, whose best/ and patience follow the task score.

Each evaluation answers held-out inputs greedily and reports the reverse KL
per token against the teacher (the validation loss), the share of answer
positions where the student's and the teacher's most likely tokens agree,
the task score on held-out rows (engine/train/task_eval.py), and the time so
far spent sampling, scoring with the teacher and updating (also appended to
the run folder's onpolicy.jsonl)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.train import batches
from distill_tui.engine.train import checkpoint as ckpt
from distill_tui.engine.train import onpolicy_batch as ob
from distill_tui.engine.train.events import Listener, OnPolicyReported, RunFinished
from distill_tui.engine.train.loop import _setup_model, load_student, phase, train_session
from distill_tui.engine.train.pref_loop import _PrefSession
from distill_tui.engine.train.runplan import RunPlan
from distill_tui.engine.train.task_eval import TASK_ROWS, held_out_rows

# Held-out inputs whose greedy answers the teacher scores at each evaluation.
VAL_ROWS = TASK_ROWS
RECORD = "onpolicy.jsonl"


class _OnPolicySession(_PrefSession):
    def __init__(self, ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener):
        super().__init__(ws, plan, stop, emit)
        self.teacher: Any = None
        self.vocab = 0
        self.timer = ob.Timer()

    def state(self) -> dict[str, Any]:
        return {**super().state(), "onpolicy_times": self.timer.to_dict()}

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        self.timer = ob.Timer.from_dict(state.get("onpolicy_times"))

    def batches(self, dataset: Any, batch_size: int, max_seq_length: int, **kw: Any) -> Any:
        at = [0]
        seen = kw.pop("on_rows", None)

        def on_rows(pos: int, rows: list[int]) -> None:
            at[0] = pos
            if seen is not None:
                seen(pos, rows)

        return batches.iterate(
            dataset,
            batch_size,
            max_seq_length,
            make=lambda rows: self.make(dataset, rows, at[0]),
            on_rows=on_rows,
            **kw,
        )

    def iterate_batches(self, *a: Any, **kw: Any) -> Any:
        # What train() does between taking a batch and asking for the next is
        # the update (the step and its report).
        for batch in super().iterate_batches(*a, **kw):
            tic = time.perf_counter()
            yield batch
            self.timer.add("update", tic)

    def scored(
        self, data: ob.PromptSet, rows: list[int], draw: Any, timer: ob.Timer
    ) -> tuple[list[list[int]], Any, Any, Any, Any]:
        """The student's answers to `rows`, stacked, with the teacher's
        log-probabilities at their tokens (the time each took on `timer`)."""
        tic = time.perf_counter()
        prompts = [data.student[i] for i in rows]
        answers = ob.sample(
            self.model, self.tokenizer, prompts, [data.budgets[i] for i in rows], draw
        )
        timer.add("sampling", tic)
        tic = time.perf_counter()
        teacher = ob.teacher_logps(
            self.teacher, [data.teacher[i] for i in rows], answers, self.vocab
        )
        timer.add("teacher", tic)
        tokens, lengths, positions = ob.stack(
            [p + a for p, a in zip(prompts, answers, strict=True)], [len(p) for p in prompts]
        )
        return answers, tokens, lengths, positions, teacher

    def make(self, data: ob.PromptSet, rows: list[int], position: int) -> tuple[Any, ...]:
        t = self.plan.train
        # Each position draws from its own key: a resumed run samples what
        # the uninterrupted one would have.
        draw = ob.sampler(t.onpolicy_temperature, t.seed * 1_000_003 + position)
        answers, tokens, lengths, positions, teacher = self.scored(data, rows, draw, self.timer)
        if not t.onpolicy_sft_weight:
            return tokens, lengths, positions, teacher
        prompts = [data.student[i] for i in rows]
        seqs = [p + a for p, a in zip(prompts, answers, strict=True)]
        seqs += [p + data.accepted[i] for p, i in zip(prompts, rows, strict=True)]
        tokens, lengths, positions = ob.stack(seqs, [len(p) for p in prompts] * 2)
        return tokens, lengths, positions, teacher

    def held_out(self) -> tuple[float, float, int]:
        """(reverse KL per answer token, share of answer positions where the
        argmaxes agree, answer tokens) over the held-out inputs' greedy answers."""
        import mlx.core as mx

        data, t = self.valid_set, self.plan.train
        kl = agree = 0.0
        count = 0
        greedy = ob.sampler(0.0, 0)
        for i in range(0, len(data), t.batch_size):
            if self.stop.is_set():
                break
            rows = list(range(i, min(i + t.batch_size, len(data))))
            _, tokens, lengths, positions, teacher = self.scored(
                data, rows, greedy, ob.Timer()
            )  # not training time
            self.model.eval()
            logp = ob.log_softmax(ob.logits_at(self.model, tokens, positions), self.vocab)
            self.model.train()
            mask = ob.answer_mask(lengths, positions.shape[1])
            div = (ob.divergence(logp, teacher, 1.0) * mask).sum()
            same = ((logp.argmax(axis=-1) == teacher.argmax(axis=-1)) * mask).sum()
            mx.eval(div, same)
            kl += float(div.item())
            agree += float(same.item())
            count += int(mask.sum().item())
        if not count:
            return float("nan"), float("nan"), 0
        return kl / count, agree / count, count

    def validate(self, done: int) -> None:
        tic = time.perf_counter()
        it = done + 1  # labelled as SFT validations are (_Session.validation_due)
        kl, agreement, tokens = self.held_out()
        score, run_on = self.task_eval()
        if done == 0:
            self.start_score, self.start_run_on = score, run_on
        self.last = {"it": it, "score": score, "loss": kl, "start": done == 0}
        improved = self._improves(score, kl) if done > 0 else False
        event = OnPolicyReported(
            self.plan.run_id,
            it,
            kl,
            agreement,
            tokens,
            task_score=score,
            task_rows=len(self.task_rows),
            metric=self.metric,
            run_on=run_on,
            best=improved,
            start_score=self.start_score,
            sampling_s=self.timer.sampling,
            teacher_s=self.timer.teacher,
            update_s=self.timer.update,
        )
        if self.writer:
            # The task score goes where the monitor plots a preference run's.
            runs_db.record_pref_metric(
                self.ws.store,
                self.plan.run_id,
                runs_db.PrefMetric(it, None, None, None, None, None, score, run_on, None),
            )
            record = {
                "iter": it,
                "kl_per_token": kl,
                "agreement": agreement,
                "tokens": tokens,
                "task_metric": self.metric,
                "task_score": score,
                **self.timer.to_dict(),
            }
            with open(self.plan.run_dir / RECORD, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        self.emit(event)
        self.reporter.on_val_loss_report(
            {"iteration": it - self.start, "val_loss": kl, "val_time": time.perf_counter() - tic}
        )

    def summary(self) -> str | None:
        if (
            self.best_key is None
            or self.start_score is None
            or self.best_key[0] >= self.start_score
        ):
            return None
        return (
            f"no checkpoint of this run reached its start on the task: best {self.metric}"
            f" {self.best_key[0]:.3f} at iteration {self.stopper.best_iter}, the start"
            f" {self.start_score:.3f}"
        )


def run_onpolicy_on_mlx(
    ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener
) -> RunFinished:
    import mlx.core as mx
    from mlx_lm.utils import load

    from distill_tui.engine.models.gguf import mlx_path
    from distill_tui.engine.train.student_pairs import split_rows

    t = plan.train
    if plan.from_run is not None and not (plan.from_run / ckpt.ADAPTER_FILE).is_file():
        raise UserError(f"{plan.from_run}: the SFT run's adapter is gone")
    phase(emit, plan, "checking the teacher")
    check = ob.check_teacher(plan.model, t.onpolicy_teacher)
    both = check.student_gb + check.teacher_gb
    phase(emit, plan, f"loading the student and the teacher ({both:.2f} GB of weights)")
    s = _OnPolicySession(ws, plan, stop, emit)
    model, tokenizer = load_student(plan)
    teacher, teacher_tok = load(mlx_path(t.onpolicy_teacher))[:2]
    teacher.freeze()
    teacher.eval()
    s.tokenizer, s.teacher = tokenizer, teacher
    # The tokenizer's ids, within both output layers (a padded one has more).
    sizes = [getattr(getattr(m, "args", None), "vocab_size", None) for m in (model, teacher)]
    s.vocab = min([len(tokenizer.get_vocab()), *(int(n) for n in sizes if n)])
    train_set = ob.prompt_set(split_rows(ws, "train"), tokenizer, teacher_tok, t.max_seq_length)
    valid = split_rows(ws, "valid")[:VAL_ROWS]
    if len(train_set) < t.batch_size:
        raise UserError(
            f"{plan.data_dir / 'train.jsonl'} has {len(train_set)} rows, fewer than batch size"
            f" {t.batch_size}; lower the batch size or accept more rows"
        )
    s.task_rows, s.metric = held_out_rows(ws)
    if valid:  # no valid split: no evaluations (as SFT)
        s.valid_set = ob.prompt_set(valid, tokenizer, teacher_tok, t.max_seq_length)
    mx.random.seed(t.seed)
    _setup_model(model, plan)
    if plan.from_run is not None:
        model.load_weights(str(plan.from_run / ckpt.ADAPTER_FILE), strict=False)
    loss = ob.make_loss(t.onpolicy_beta, t.onpolicy_sft_weight, s.vocab)
    done = train_session(s, model, train_set, loss)
    below = s.summary()
    if below and not done.note:
        return replace(done, note=below)
    return done
