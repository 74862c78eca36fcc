"""What a ship did: where it put the model, what to run next, how the
shipped model's greedy answers compare with the fused model's, and what it
scores on the task beside the adapter (`engine.ship.task_check`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distill_tui.engine.ship.task_check import TaskScore


@dataclass
class ShipReport:
    target: str
    where: str  # the file, link or command made
    lines: list[str] = field(default_factory=list)  # what to run next, what was skipped
    probes: int = 0
    agree: int | None = None  # None: not checked here (and `lines` says why)
    ties: int = 0  # differences that begin at a near-tie of the fused model (engine.ship.probe)
    task: TaskScore | None = None  # None: not checked on the task (`lines` says why)

    @property
    def differ(self) -> int:
        """Probes answered differently beyond what rounding explains."""
        return 0 if self.agree is None else self.probes - self.agree - self.ties

    @property
    def ok(self) -> bool:
        """Nothing checked disagrees beyond near-ties: the command exits 0."""
        return self.differ == 0

    def summary(self) -> str:
        head = f"{self.target}: {self.where}"
        if self.agree is None:
            return head
        line = f"{head}; greedy probes agree with the fused model {self.agree}/{self.probes}"
        if self.ties:
            line += (
                f", {self.ties} more differ only where the fused model's top two tokens"
                " were a near-tie (rounding noise)"
            )
        if self.differ:
            line += (
                f"; {self.differ} answer(s) differ beyond what rounding explains:"
                " the shipped model does not answer as the fused one"
            )
        return line

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "ok": self.ok, "task": self.task.to_json() if self.task else None}
