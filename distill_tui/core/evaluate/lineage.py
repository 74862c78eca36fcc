"""What a run is, read from its config: its objective (sft, dpo, kto,
onpolicy), the preference settings (beta, SFT term), an on-policy run's
teacher, and its parent (the SFT run a DPO/KTO/on-policy run started from;
an SFT run's parent is the base model). The runs list,
`status --json` and the model card all say it the same way."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.evaluate.verdict import last_verdict
from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db
from distill_tui.core.train.objectives import is_preference, reads_sft_split


@dataclass(frozen=True)
class Lineage:
    objective: str  # "sft" | "dpo" | "kto" | "onpolicy"
    parent: str | None  # the SFT run id of a preference run; None: the base model
    beta: float | None = None  # preference runs only
    sft_weight: float | None = None
    teacher: str | None = None  # on-policy runs: the teacher's folder name

    @property
    def preference(self) -> bool:
        return is_preference(self.objective)

    def describe(self) -> str:
        """ "dpo (beta 0.1, SFT term 0) from run X" / "sft from the base model" /
        "onpolicy (teacher NAME) from the base model"."""
        what = self.objective
        if self.preference:
            what += f" (beta {self.beta:g}, SFT term {self.sft_weight:g})"
        elif self.teacher:
            what += f" (teacher {self.teacher})"
        return f"{what} from " + (f"run {self.parent}" if self.parent else "the base model")


def of_config(config: dict[str, Any]) -> Lineage:
    train = config.get("train") or {}
    objective = str(train.get("objective", "sft"))
    parent = config.get("from_run")
    if objective == "sft":
        return Lineage(objective, None)
    if not is_preference(objective):
        # The folder's name, not its path: a model card leaves the machine.
        teacher = Path(str(train.get("onpolicy_teacher") or "")).name or None
        return Lineage(objective, str(parent) if parent else None, teacher=teacher)
    return Lineage(
        objective,
        str(parent) if parent else None,
        float(train.get("beta", 0.1)),
        float(train.get("sft_weight", 0.0)),
    )


def runs_json(store: Store) -> list[dict[str, Any]]:
    """Every run, newest first, for `status --json`."""
    out = []
    for r in runs_db.list_runs(store):
        lin = of_config(r.config)
        best = None
        if r.best_iter is not None:
            best = {"iter": r.best_iter, "val_loss": r.best_val_loss}
        out.append(
            {
                "id": r.id,
                "objective": lin.objective,
                "parent": lin.parent,
                "status": r.status,
                "best_checkpoint": best,
                "last_verdict": last_verdict(store, r.id),
            }
        )
    return out


def data_files(root: Path, objective: str) -> tuple[Path, Path]:
    """The files a run of this objective trains and validates on: data/ for
    SFT, data/pref/ for DPO (pairs) and KTO (labelled answers), as the
    trainer hashes them into the run's `dataset.sha256`."""
    if reads_sft_split(objective):
        folder, first = paths.data_dir(root), "train.jsonl"
    else:
        folder = paths.pref_dir(root)
        first = "kto_train.jsonl" if objective == "kto" else "train.jsonl"
    return (folder / first, folder / "valid.jsonl")


def current_data_hash(root: Path, objective: str) -> str:
    """The hash the trainer would record for this objective's data now: equal
    to a run's `dataset.sha256` when the current export is the run's."""
    h = hashlib.sha256()
    for p in data_files(root, objective):
        h.update(p.name.encode())
        h.update(p.read_bytes() if p.is_file() else b"")
    return h.hexdigest()
