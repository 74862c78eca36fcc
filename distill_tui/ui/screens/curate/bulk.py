"""The Curate screen's decision on many rows at once: accept or reject the
rows shown, after a confirmation that says exactly which, in a dialog that
runs the same core functions the `curate` command calls in its own worker.
A bulk decision changes only unreviewed rows unless the view shows decided
rows on purpose (`v`), as `core.curate.query.bulk_scope` says."""

from __future__ import annotations

from rich.text import Text
from textual import events, work
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import invalid_json
from distill_tui.core.project import Workspace
from distill_tui.ui.screens.base import report_failed_worker
from distill_tui.ui.screens.curate.dialogs import ReasonPicker
from distill_tui.ui.widgets.confirm import ConfirmDialog


def _rows(n: int, kind: str = "") -> str:
    return f"{n:,} {kind + ' ' if kind else ''}row{'' if n == 1 else 's'}"


def bulk_choices(flt: cq.Filter, split: dict[str, int]) -> tuple[str, dict[str, tuple[str, str]]]:
    """The question and one-key choices for a bulk decision on this view,
    naming the rows each choice changes and those it leaves alone."""
    shown = sum(split.values())
    scope = cq.bulk_scope(flt)
    n = split.get(scope, 0)
    if n == shown:
        question = f"Apply to all {_rows(shown)} shown ({flt.describe()})?"
    else:
        question = f"Apply to {n:,} of the {_rows(shown)} shown ({flt.describe()})?"
    skipped = split.get("no output", 0)
    if skipped:
        question += f" {_rows(skipped)} without an output are skipped."
    choices: dict[str, tuple[str, str]] = {}
    for key, verb, other in (("a", "accept", "rejected"), ("r", "reject", "accepted")):
        if scope == "accepted" and verb == "accept":
            continue  # they are accepted already
        label = f"{verb} {_rows(n, scope)}"
        if scope == "rejected" and verb == "reject":
            label = f"reject {_rows(n, scope)} again, with a new reason"
        left = split.get(other, 0) if scope == "unreviewed" else 0
        if left:
            label += f"; {_rows(left, other)} {'is' if left == 1 else 'are'} left alone"
        choices[key] = (verb, label)
    return question, choices


class BulkDialog(ConfirmDialog):
    """A decision on every row shown, as a dialog that owns its work. It asks
    (naming the rows each choice changes and those it leaves alone), on a
    JSON task counts the outputs that do not parse and offers to accept only
    the others, asks why before a reject, then applies the decision in its
    worker and closes with what it did (None when cancelled)."""

    def __init__(self, ws: Workspace, flt: cq.Filter, split: dict[str, int]) -> None:
        question, choices = bulk_choices(flt, split)
        super().__init__(question, choices)
        self._ws, self._flt = ws, flt
        self._n = split.get(cq.bulk_scope(flt), 0)
        self._invalid: set[int] = set()
        self._busy = False

    def on_mount(self) -> None:
        if self._ws.settings.task.output_format == "json" and "a" in self.choices:
            self._count_invalid()

    @work(thread=True, group="bulk-json", exit_on_error=False, name="JSON check")
    def _count_invalid(self) -> None:
        ids = cq.bulk_ids(self._ws.store, self._flt)
        bad = invalid_json(self._ws.store, self._ws.settings, ids)
        if bad:
            self.app.call_from_thread(self._offer_valid_only, set(bad))

    def _offer_valid_only(self, bad: set[int]) -> None:
        if self._busy:
            return
        self._invalid = bad
        n = len(bad)
        valid = self._n - n
        parse = "parses" if valid == 1 else "parse"
        self.choices["j"] = ("accept-valid", f"accept only the {_rows(valid)} that {parse}")
        verb = "is" if n == 1 else "are"
        line = Static(
            Text(f"  {_rows(n)} of these {verb} not valid JSON (bad-json)"), classes="error"
        )
        box = self.query_one(Vertical)
        box.mount(line, before=box.children[1])
        box.mount(Static(Text(f"  j  {self.choices['j'][1]}")), before=box.children[-1])

    def on_key(self, event: events.Key) -> None:
        event.prevent_default()  # ConfirmDialog's own on_key would dismiss at once
        if event.character not in self.choices:
            return
        event.stop()
        if self._busy:
            return
        choice = self.choices[event.character][0]
        if choice == "reject":
            self.app.push_screen(
                ReasonPicker(cur.reasons(self._ws.store), f"Reject {_rows(self._n)}: why?"),
                lambda reason: None if reason is None else self._start("reject", reason),
            )
            return
        self._start(choice, None)

    def _start(self, choice: str, reason: str | None) -> None:
        self._busy = True
        verb = "Rejecting" if choice == "reject" else "Accepting"
        self.query_one(".title", Static).update(Text(f"{verb} {_rows(self._n)}…"))
        self._apply(choice, reason or None)

    @work(thread=True, group="curate-bulk", exclusive=True, exit_on_error=False, name="Bulk")
    def _apply(self, choice: str, reason: str | None) -> None:
        store = self._ws.store
        ids = cq.bulk_ids(store, self._flt)
        if choice == "accept-valid":
            ids = [i for i in ids if i not in self._invalid]
        if reason and reason not in cur.reasons(store):
            cur.add_reason(store, reason)
        decision = "rejected" if choice == "reject" else "accepted"
        n = cur.decide(store, ids, decision, reason)
        skipped = (
            f"; {_rows(len(self._invalid))} not valid JSON left unreviewed"
            if (choice == "accept-valid")
            else ""
        )
        self.app.call_from_thread(self._done, f"{decision.capitalize()} {_rows(n)}{skipped}")

    def _done(self, summary: str) -> None:
        self.dismiss(f"{summary} (u undoes)")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)
        if event.state == WorkerState.ERROR and event.worker.group == "curate-bulk":
            self.dismiss(None)  # said as an error; nothing was half-applied (one transaction)
