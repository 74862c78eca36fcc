"""The Curate screen's actions on many rows at once: accept or reject the rows
shown (after a confirmation that says exactly which), and run the checks that
flag rows. Both run in workers over the same core functions the `curate`
command calls. A bulk decision changes only unreviewed rows unless the view
shows decided rows on purpose (`v`), as `curation_query.bulk_scope` says."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.screen import ModalScreen

from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import run_checks
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.curate.dialogs import ReasonPicker
from distill_tui.ui.screens.curate.view import ChecksFinished
from distill_tui.ui.text import say
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


class BulkChecksMixin(BaseScreen):
    """Mixed into CurateScreen, which provides flt, total, reload, current_id
    and _push."""

    flt: cq.Filter
    total: int
    if TYPE_CHECKING:

        @property
        def current_id(self) -> int | None: ...
        def reload(
            self, select_id: int | None = None, offset: int | None = None, cursor: int = 0
        ) -> None: ...
        def _push(self, dialog: ModalScreen[Any], callback: Callable[[Any], None]) -> None: ...

    def action_bulk(self) -> None:
        flt = self.flt
        split = cq.split(self.ws.store, flt)
        n = split.get(cq.bulk_scope(flt), 0)
        if not n:
            say(
                self,
                "No unreviewed rows here. Decided rows keep their decision: to change"
                " them in bulk, show them first (v: accepted or rejected).",
                severity="warning",
            )
            return
        question, choices = bulk_choices(flt, split)

        def apply(choice: str | None, reason: str | None = None) -> None:
            if choice is None:
                return
            if choice == "reject" and reason is None:
                self._push(
                    ReasonPicker(cur.reasons(self.ws.store), f"Reject {_rows(n)}: why?"),
                    lambda r: None if r is None else apply("reject", r),
                )
                return
            self._bulk(flt, choice, reason or None)

        self._push(ConfirmDialog(question, choices), apply)

    @work(thread=True, group="curate-bulk", exclusive=True, exit_on_error=False)
    def _bulk(self, flt: cq.Filter, choice: str, reason: str | None) -> None:
        store = self.ws.store
        ids = cq.bulk_ids(store, flt)
        n = cur.decide(store, ids, "accepted" if choice == "accept" else "rejected", reason)
        self.app.call_from_thread(self._bulk_done, choice, n)

    def _bulk_done(self, choice: str, n: int) -> None:
        say(self, f"{choice.capitalize()}ed {_rows(n)} (u undoes)")
        self.reload(select_id=self.current_id)

    def action_run_checks(self) -> None:
        say(self, "Checking rows (duplicates, empty, truncated, length, JSON)…")
        self._checks()

    @work(thread=True, group="curate-checks", exclusive=True, exit_on_error=False)
    def _checks(self) -> None:
        from distill_tui.engine.models.student_tokens import load_token_counter

        ws = self.ws
        model = paths.resolve_model(ws.root, ws.settings.student.model)
        note = ""
        try:
            count = load_token_counter(model, self.distill_app.mlx)
        except UserError as e:
            count, note = None, f" (no length check: {e})"
        s = run_checks(ws.store, ws.settings, count, model if count else "")
        flagged = ", ".join(f"{k} {v:,}" for k, v in s.counts.items() if v) or "nothing flagged"
        self.post_message(ChecksFinished(f"Checks done: {flagged}{note}"))

    def on_checks_finished(self, msg: ChecksFinished) -> None:
        say(self, msg.summary, timeout=8)
        self.reload(select_id=self.current_id)
