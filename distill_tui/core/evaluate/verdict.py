"""What a run's last evaluation says before it is fused or shipped.

`gate` reads the run's newest stored evaluation (of the checkpoint being
fused, else of any of its checkpoints) and its verdict against its parent.
`fuse` and `ship` print `Gate.line()` and call `Gate.check`, which refuses a
run evaluated `worse` unless forced; the Chat screen's Fuse and Ship dialogs
show the same line and ask before going on when it is `worse`.
"""

from __future__ import annotations

from dataclasses import dataclass

from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import compare, evals
from distill_tui.core.store import Store

_ING = {"fuse": "fusing", "ship": "shipping"}


class WorseThanParent(UserError):
    """The refusal: the run's last evaluation is worse than its parent."""


@dataclass(frozen=True)
class Gate:
    run_id: str | None  # None: a fused model that records no run
    checkpoint: str | None  # of the evaluation found
    evaluated: bool
    verdict: compare.Verdict | None  # None: no parent answered (eval --no-base on SFT)

    @property
    def worse(self) -> bool:
        return self.verdict is not None and self.verdict.verdict == compare.WORSE

    @property
    def label(self) -> str:
        return f"{self.run_id}:{self.checkpoint}" if self.checkpoint else f"{self.run_id}"

    def line(self) -> str:
        """The last verdict in one line, or why there is none."""
        if self.run_id is None:
            return "no run recorded for this model: no evaluation to go by"
        if not self.evaluated:
            return (
                f"run {self.run_id} has no evaluation yet: whether it beats its parent is"
                f" unknown (distill-tui eval --run {self.run_id}, or ctrl+r on the Chat screen)"
            )
        if self.verdict is None:
            return f"last evaluation of {self.label} did not include its parent: no verdict"
        return f"last evaluation of {self.label}: {self.verdict.line()}"

    def check(self, action: str, force: bool) -> None:
        """Refuse (WorseThanParent) to `action` a run evaluated worse than its
        parent, unless `force`."""
        if self.worse and not force:
            raise WorseThanParent(
                f"not {_ING.get(action, action)}: {self.line()}. Train again, or {action} it"
                " anyway with --force"
            )


def gate(store: Store, run_id: str | None, checkpoint: str | None = None) -> Gate:
    if run_id is None:
        return Gate(None, None, False, None)
    result = (checkpoint and evals.latest(store, run_id, checkpoint)) or evals.latest(store, run_id)
    if result is None:
        return Gate(run_id, checkpoint, False, None)
    return Gate(run_id, result.checkpoint, True, result.verdict())


def last_verdict(store: Store, run_id: str) -> str | None:
    """ "better", "worse", "no clear change", or None (not evaluated against
    its parent), from the run's newest evaluation."""
    v = gate(store, run_id).verdict
    return v.verdict if v else None
