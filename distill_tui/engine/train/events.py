"""What a training run reports, as it happens: one typed union of past-tense
events, handed to the caller's listener on the MLX thread. The trainer and its
loop produce them; the Train screen's worker and the headless `train` command
consume them. Plain data, no MLX: importing it loads nothing heavy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from distill_tui.core.train import losscurve


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    run_dir: Path
    iters_total: int
    start_iter: int
    rank: int
    world_size: int


@dataclass(frozen=True)
class TrainReported:
    run_id: str
    iter: int
    iters_total: int
    loss: float
    learning_rate: float
    it_per_sec: float
    tokens_per_sec: float
    trained_tokens: int
    peak_memory_gb: float
    elapsed_s: float
    eta_s: float | None
    signs: tuple[losscurve.Sign, ...] = ()


@dataclass(frozen=True)
class ValReported:
    run_id: str
    iter: int
    loss: float
    best_iter: int | None
    best_loss: float | None
    improved: bool
    signs: tuple[losscurve.Sign, ...] = ()


@dataclass(frozen=True)
class PrefReported:
    """A preference run's evaluation: on its validation pairs (accuracy,
    margin, log-probabilities), on the held-out rows (the task score and the
    share of answers that did not end), and the chosen answers' drift per
    token from the SFT start, which the collapse guard reads."""

    run_id: str
    iter: int
    pair_accuracy: float
    reward_margin: float
    chosen_logp: float
    rejected_logp: float
    pairs: int
    signs: tuple[losscurve.Sign, ...] = ()
    task_score: float | None = None  # the task metric's mean on held-out rows
    task_rows: int = 0
    metric: str = "exact_match"
    run_on: float | None = None
    chosen_drift: float | None = None
    best: bool = False  # best so far by the task score
    start_score: float | None = None  # the SFT start's task score


@dataclass(frozen=True)
class OnPolicyReported:
    """An on-policy run's evaluation: on the held-out inputs' greedy answers
    the reverse KL(student || teacher) per answer token and the share of
    answer positions where both models' most likely tokens agree; the task
    score on held-out rows; and the seconds spent so far sampling, scoring
    with the teacher and updating."""

    run_id: str
    iter: int
    kl: float
    agreement: float
    tokens: int
    task_score: float | None = None
    task_rows: int = 0
    metric: str = "exact_match"
    run_on: float | None = None
    best: bool = False  # best so far by the task score
    start_score: float | None = None
    sampling_s: float = 0.0
    teacher_s: float = 0.0
    update_s: float = 0.0


@dataclass(frozen=True)
class PhaseReported:
    """What the run is doing now, said before each long step that reports
    nothing else (loading, the reference pass, an evaluation, training)."""

    run_id: str
    phase: str


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    status: str  # finished | stopped | early_stopped | collapsed
    iter: int
    best_iter: int | None
    best_val_loss: float | None
    run_dir: Path
    rank: int = 0
    world_size: int = 1
    rows_trained: tuple[int, ...] = field(default=(), repr=False)
    # A collapsed preference run: the guard's one line (the word "collapse").
    note: str | None = None


TrainEvent = (
    RunStarted
    | PhaseReported
    | TrainReported
    | ValReported
    | PrefReported
    | OnPolicyReported
    | RunFinished
)

# Called on the MLX thread (rank 0 only writes; every rank reports).
Listener = Callable[[TrainEvent], None]
