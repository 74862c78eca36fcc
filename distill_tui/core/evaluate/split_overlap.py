"""Does an evaluation split hold rows the run was trained on?

A run records, in its folder, a hash of every training input it was given
(`train_inputs.sha256`, one per line, of the input as `export.normalize`
sees it). After an export with another seed, validation rows may have been
training rows of an older run; its exact match then measures recall, not
generalisation. `check` counts them before an evaluation starts, for both
`distill-tui eval` and the Chat screen's evaluation, and refuses unless the
caller explicitly allows it (then the count is a warning for the result's
header).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.config import Project
from distill_tui.core.dataset import jsonl
from distill_tui.core.dataset.export import normalize, record_input
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate.evals import EvalResult

SPLIT_NAMES = {"valid": "validation", "test": "test"}


def input_hash(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def split_inputs(path: Path) -> list[str]:
    """The user inputs of a split file in either mlx-lm format (lines that
    are not records are left to the loader that reads them for real)."""
    out = []
    for _, line in jsonl.split(jsonl.read(path)):
        if not line.strip():
            continue
        try:
            out.append(record_input(jsonl.loads(line)))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            continue
    return out


def record_training_inputs(run_dir: Path, data_dir: Path) -> None:
    """Write the run's record of what it trained on (train.jsonl's inputs)."""
    hashes = sorted({input_hash(s) for s in split_inputs(data_dir / "train.jsonl")})
    paths.train_inputs_file(run_dir).write_text("".join(h + "\n" for h in hashes), encoding="utf-8")


def training_inputs(run_dir: Path) -> set[str] | None:
    """The run's training input hashes; None for a run that recorded none
    (trained before this record existed, or its folder is gone)."""
    try:
        text = paths.train_inputs_file(run_dir).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return {line.strip() for line in text.splitlines() if line.strip()}


@dataclass(frozen=True)
class Overlap:
    run_id: str
    split: str
    seen: int  # rows of the split that were training rows of the run
    rows: int

    def message(self) -> str:
        what = SPLIT_NAMES.get(self.split, self.split)
        return f"{self.seen} of {self.rows} {what} rows were training rows of run {self.run_id}"


def count(run_id: str, run_dir: Path, split: str, inputs: Iterable[str]) -> Overlap | None:
    """How many of `inputs` the run trained on; None when it cannot be known."""
    trained = training_inputs(run_dir)
    if trained is None:
        return None
    inputs = list(inputs)
    seen = sum(1 for s in inputs if input_hash(s) in trained)
    return Overlap(run_id, split, seen, len(inputs))


class SplitOverlap(UserError):
    """The refusal `check` raises; `overlap` says how many rows."""

    def __init__(self, message: str, overlap: Overlap) -> None:
        super().__init__(message)
        self.overlap = overlap


def of_result(root: Path, result: EvalResult) -> Overlap | None:
    """The overlap of a stored evaluation's rows with its run's training
    rows, for its header; None when there is none (or it cannot be known)."""
    if result.run_id is None:
        return None
    found = count(
        result.run_id,
        paths.run_dir(root, result.run_id),
        result.split,
        [i.input for i in result.items],
    )
    return found if found is not None and found.seen else None


def split_path(root: Path, settings: Project, split: str) -> Path:
    """data/<split>.jsonl, or a UserError that says why there is none: the
    settings ask for no such split, or it was not exported yet."""
    path = paths.data_dir(root) / f"{split}.jsonl"
    fraction = settings.split.valid_fraction if split == "valid" else settings.split.test_fraction
    if not path.is_file():
        key = "valid_fraction" if split == "valid" else "test_fraction"
        if fraction <= 0:
            raise UserError(
                f"no {SPLIT_NAMES.get(split, split)} split: [split] {key} is 0 in"
                f" {paths.CONFIG_NAME}; set it above 0 and export again to evaluate"
            )
        raise UserError(f"{shown(path)}: no {split} split yet (export the dataset first)")
    return path


def check(
    root: Path,
    settings: Project,
    run_id: str,
    split: str = "valid",
    *,
    limit: int | None = None,
    allow: bool = False,
    allow_hint: str = "",
) -> Overlap | None:
    """Before evaluating run `run_id` on `split`: refuse (SplitOverlap) when
    the rows to be evaluated include the run's training rows, unless `allow`;
    returns the overlap when there is one (for a warning), else None."""
    inputs: Sequence[str] = split_inputs(split_path(root, settings, split))
    if limit is not None:
        inputs = inputs[: max(0, limit)]
    found = count(run_id, paths.run_dir(root, run_id), split, inputs)
    if found is None or not found.seen or allow:
        return found if found is not None and found.seen else None
    hint = f" ({allow_hint})" if allow_hint else ""
    raise SplitOverlap(
        f"{found.message()}: the split was exported again since that run trained, so its"
        " scores would measure recall. Export with the seed the run trained on, or train"
        f" a new run on this split{hint}",
        found,
    )
