"""The pieces of an on-policy distillation step (engine/train/onpolicy.py):
the teacher check before any work (the same vocabulary, and student + teacher
weights that fit the machine), the inputs tokenized through both chat
templates, the student's batched samples, the teacher's log-probabilities over
the whole vocabulary at exactly those answer tokens, and the loss.

A batch is (tokens, lengths, positions, teacher_logp): the student's B
sampled sequences (prompt through its template, then the answer), then, with
an SFT term, the same inputs' accepted answers; `lengths` (offset, length) as
`pref_data` has them, `positions` the K positions whose next token is an
answer token, and `teacher_logp` (B, K, V) the teacher's log-softmax there.
Call on the MLX thread.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from distill_tui.core.errors import UserError
from distill_tui.engine.train.batches import PAD_TO

# Answer positions are padded to a multiple of this, so the compiled step
# sees few distinct shapes (each new one compiles again).
K_PAD = 16


@dataclass(frozen=True)
class TeacherCheck:
    """What the run loads: the student's and the teacher's weights, against
    the machine's memory."""

    teacher: str
    student_gb: float
    teacher_gb: float
    machine_gb: float

    def line(self) -> str:
        both = _size(self.student_gb + self.teacher_gb)
        return (
            f"teacher {Path(self.teacher).name}: weights student {_size(self.student_gb)}"
            f" + teacher {_size(self.teacher_gb)} = {both} of {self.machine_gb:.0f} GB memory"
        )


def _size(gb: float) -> str:
    return f"{gb:.2f} GB" if gb >= 0.01 else f"{gb * 1000:.1f} MB"


def vocab_mismatch(student_tok: Any, teacher_tok: Any) -> str | None:
    """None when both tokenizers give the same token for every id; else the
    first id where they differ, in words."""
    a, b = student_tok.get_vocab(), teacher_tok.get_vocab()
    if a == b:
        return None
    sa = {i: t for t, i in a.items()}
    sb = {i: t for t, i in b.items()}
    for i in range(max([*sa, *sb]) + 1):
        if sa.get(i) != sb.get(i):
            return (
                f"token id {i} is {sa.get(i)!r} for the student and {sb.get(i)!r} for the"
                f" teacher ({len(a)} and {len(b)} tokens)"
            )
    return f"the vocabularies differ ({len(a)} and {len(b)} tokens)"


def _lazy(name: str, who: str) -> tuple[Any, Any]:
    from mlx_lm.utils import load

    from distill_tui.engine.models.gguf import mlx_path

    try:
        return cast("tuple[Any, Any]", load(mlx_path(name), lazy=True))
    except Exception as e:  # noqa: BLE001 - a missing model or a bad folder
        raise UserError(f"cannot load the {who} {name!r}: {e}") from None


def _weights_gb(model: Any) -> float:
    from mlx.utils import tree_flatten

    params: dict[str, Any] = dict(cast(Any, tree_flatten(model.parameters())))
    return sum(v.nbytes for v in params.values()) / 1e9


def check_teacher(student: str, teacher: str) -> TeacherCheck:
    """Refuse, before any weight is read, a teacher whose vocabulary is not
    the student's or a pair that does not fit the machine's memory."""
    from distill_tui.core.sysinfo import total_memory_bytes

    s_model, s_tok = _lazy(student, "student")
    t_model, t_tok = _lazy(teacher, "teacher")
    bad = vocab_mismatch(s_tok, t_tok)
    if bad:
        raise UserError(
            f"not started: the teacher's tokenizer is not the student's: {bad}; on-policy"
            " distillation needs a teacher of the student's family (the same vocabulary)"
        )
    machine = (total_memory_bytes() or 0) / 1e9
    check = TeacherCheck(teacher, _weights_gb(s_model), _weights_gb(t_model), machine)
    if machine and check.student_gb + check.teacher_gb > machine:
        raise UserError(
            f"not started: {check.line()}: more than this machine's memory; pick a smaller"
            " (or 4-bit) teacher"
        )
    return check


@dataclass
class PromptSet:
    """Inputs to sample answers for: each prompt through the student's and
    the teacher's chat template, its accepted answer's tokens (the SFT term)
    and its answer budget."""

    student: list[list[int]] = field(default_factory=list)
    teacher: list[list[int]] = field(default_factory=list)
    accepted: list[list[int]] = field(default_factory=list)
    budgets: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.student)

    def itemlen(self, i: int) -> int:
        return len(self.student[i])


def prompt_set(rows: list[Any], student_tok: Any, teacher_tok: Any, max_seq: int) -> PromptSet:
    """`rows`: SplitRows (engine/chat/evaluate.py). A budget is what the
    evaluation allows an answer (its reference's length and some slack),
    within max_seq_length."""
    from distill_tui.engine.chat.evaluate import _budget

    out = PromptSet()
    for r in rows:
        sp = list(student_tok.apply_chat_template(r.prompt, add_generation_prompt=True))
        tp = list(teacher_tok.apply_chat_template(r.prompt, add_generation_prompt=True))
        full = student_tok.apply_chat_template(
            [*r.prompt, {"role": "assistant", "content": r.reference}]
        )
        out.student.append(sp)
        out.teacher.append(tp)
        out.accepted.append(list(full)[len(sp) :])
        out.budgets.append(max(1, min(_budget(r.reference, 512), max_seq - max(len(sp), len(tp)))))
    return out


def sampler(temperature: float, seed: int) -> Any:
    """Greedy at 0, else categorical at `temperature` from its own key (the
    same samples for the same seed, whatever else drew from MLX's)."""
    import mlx.core as mx

    if temperature <= 0:
        return lambda logprobs: mx.argmax(logprobs, axis=-1)
    key = [mx.random.key(seed)]

    def sample(logprobs: Any) -> Any:
        key[0], sub = mx.random.split(key[0])
        return mx.random.categorical(logprobs * (1 / temperature), key=sub)

    return sample


def sample(
    model: Any, tokenizer: Any, prompts: list[list[int]], budgets: list[int], draw: Any
) -> list[list[int]]:
    """The student's answers, decoded together (mlx-lm's BatchGenerator), each
    with the end token that closed it."""
    from mlx_lm.generate import BatchGenerator

    from distill_tui.engine.models.end_tokens import end_token_ids

    ends = end_token_ids(tokenizer)
    gen = BatchGenerator(
        model,
        stop_tokens=[[t] for t in sorted(ends)],
        sampler=draw,
        completion_batch_size=len(prompts),
        prefill_batch_size=min(len(prompts), 8),
    )
    model.eval()
    try:
        uids = gen.insert(prompts, budgets)
        out: dict[int, list[int]] = {uid: [] for uid in uids}
        left = len(uids)
        while left:
            responses = gen.next_generated()
            if not responses:
                break
            for r in responses:
                out[r.uid].append(int(r.token))
                left -= r.finish_reason is not None
    finally:
        gen.close()
        model.train()
    return [out[u] for u in uids]


def _head(model: Any) -> Any:
    from distill_tui.engine.train.pref_loss import _head as plain_head

    return plain_head(model)


def logits_at(model: Any, tokens: Any, positions: Any) -> Any:
    """The model's logits at `positions` (rows x K) only: the vocabulary
    projection, a small model's largest activation, for the answer tokens."""
    import mlx.core as mx

    head = _head(model)
    if head is None:
        return mx.take_along_axis(model(tokens), positions[..., None], axis=1)
    return head(mx.take_along_axis(model.model(tokens), positions[..., None], axis=1))


def log_softmax(logits: Any, vocab: int) -> Any:
    """Over the first `vocab` columns (both models' tokenizer vocabulary: an
    embedding padded past it, as a larger model of a family often has, adds
    columns no token names)."""
    import mlx.core as mx

    x = logits[..., :vocab].astype(mx.float32)
    return x - mx.logsumexp(x, axis=-1, keepdims=True)


def stack(seqs: list[list[int]], offsets: list[int]) -> tuple[Any, Any, Any]:
    """(tokens, lengths, positions) of sequences whose answers start at
    `offsets`, padded to few shapes."""
    import mlx.core as mx

    lengths = [len(s) for s in seqs]
    width = PAD_TO * math.ceil((max(lengths) + 1) / PAD_TO)
    k = K_PAD * math.ceil(max(n - o for n, o in zip(lengths, offsets, strict=True)) / K_PAD)
    arr = np.zeros((len(seqs), width), np.int32)
    for j, s in enumerate(seqs):
        arr[j, : len(s)] = s
    pos = np.clip(np.array([[o - 1 + i for i in range(k)] for o in offsets]), 0, width - 2)
    return (
        mx.array(arr),
        mx.array(list(zip(offsets, lengths, strict=True))),
        mx.array(pos.astype(np.int32)),
    )


def answer_mask(lengths: Any, k: int) -> Any:
    import mlx.core as mx

    return mx.arange(k)[None, :] < (lengths[:, 1:] - lengths[:, :1])


def teacher_logps(
    teacher: Any, prompts: list[list[int]], answers: list[list[int]], vocab: int
) -> Any:
    """The frozen teacher's log-probabilities over the vocabulary at each
    answer token, after its own template's prompt: (rows, K, vocab), a
    constant (no gradient reaches the teacher)."""
    import mlx.core as mx

    tokens, _, positions = stack(
        [p + a for p, a in zip(prompts, answers, strict=True)], [len(p) for p in prompts]
    )
    out = mx.stop_gradient(log_softmax(logits_at(teacher, tokens, positions), vocab))
    mx.eval(out)
    return out


def divergence(student: Any, teacher: Any, beta: float) -> Any:
    """Per position, from log-probabilities over the vocabulary: GKD's
    generalised JSD as TRL's `generalized_jsd_loss` defines beta (1: the
    reverse KL(student || teacher), 0: the forward KL(teacher || student))."""
    import mlx.core as mx

    if beta >= 1:
        return (mx.exp(student) * (student - teacher)).sum(axis=-1)
    if beta <= 0:
        return (mx.exp(teacher) * (teacher - student)).sum(axis=-1)
    mix = mx.logaddexp(student + math.log(1 - beta), teacher + math.log(beta))
    kl_t = (mx.exp(teacher) * (teacher - mix)).sum(axis=-1)
    kl_s = (mx.exp(student) * (student - mix)).sum(axis=-1)
    return beta * kl_t + (1 - beta) * kl_s


def make_loss(beta: float, sft_weight: float, vocab: int) -> Any:
    """loss(model, tokens, lengths, positions, teacher_logp) for mlx-lm's
    `train(loss=...)`: the divergence per answer token of the B sampled rows,
    plus `sft_weight` times the NLL per token of the rows after them."""
    import mlx.core as mx

    def loss(model: Any, tokens: Any, lengths: Any, positions: Any, teacher: Any) -> Any:
        b, k = teacher.shape[0], positions.shape[1]
        logp = log_softmax(logits_at(model, tokens, positions), vocab)
        mask = answer_mask(lengths, k)
        ntoks = mask[:b].sum()
        value = (divergence(logp[:b], teacher, beta) * mask[:b]).sum() / mx.maximum(ntoks, 1)
        if sft_weight and tokens.shape[0] > b:
            targets = mx.take_along_axis(tokens, positions + 1, axis=1)[b:]
            nll = -mx.take_along_axis(logp[b:], targets[..., None], axis=-1).squeeze(-1)
            value = value + sft_weight * (nll * mask[b:]).sum() / mx.maximum(mask[b:].sum(), 1)
        return value, ntoks

    return loss


@dataclass
class Timer:
    """Seconds spent sampling, scoring with the teacher and updating, since
    the run began (a resume carries them on)."""

    sampling: float = 0.0
    teacher: float = 0.0
    update: float = 0.0

    def add(self, what: str, since: float) -> None:
        setattr(self, what, getattr(self, what) + time.perf_counter() - since)

    def to_dict(self) -> dict[str, float]:
        return {"sampling_s": self.sampling, "teacher_s": self.teacher, "update_s": self.update}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Timer:
        d = d or {}
        return cls(d.get("sampling_s", 0.0), d.get("teacher_s", 0.0), d.get("update_s", 0.0))
