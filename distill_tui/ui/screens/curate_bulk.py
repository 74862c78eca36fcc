"""The Curate screen's actions on many rows at once: accept or reject every
row shown (after a confirmation), and run the checks that flag rows. Both run
in workers over the same core functions the `curate` command calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.screen import ModalScreen

from distill_tui.core import curation as cur
from distill_tui.core import curation_query as cq
from distill_tui.core import paths
from distill_tui.core.checks import run_checks
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.curate_dialogs import ConfirmDialog, ReasonPicker
from distill_tui.ui.screens.curate_view import ChecksFinished
from distill_tui.ui.text import say


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
        n = self.total
        question = f"Apply to all {n:,} rows shown ({self.flt.describe()})?"
        choices = {"a": ("accept", f"accept all {n:,}"), "r": ("reject", f"reject all {n:,}")}

        def apply(choice: str | None, reason: str | None = None) -> None:
            if choice is None:
                return
            if choice == "reject" and reason is None:
                self._push(
                    ReasonPicker(cur.reasons(self.ws.store), f"Reject {n:,} rows: why?"),
                    lambda r: None if r is None else apply("reject", r),
                )
                return
            self._bulk(self.flt, choice, reason or None)

        self._push(ConfirmDialog(question, choices), apply)

    @work(thread=True, group="curate-bulk", exclusive=True, exit_on_error=False)
    def _bulk(self, flt: cq.Filter, choice: str, reason: str | None) -> None:
        store = self.ws.store
        ids = cq.ids(store, flt)
        n = cur.decide(store, ids, "accepted" if choice == "accept" else "rejected", reason)
        self.app.call_from_thread(self._bulk_done, choice, n)

    def _bulk_done(self, choice: str, n: int) -> None:
        say(self, f"{choice.capitalize()}ed {n:,} rows (u undoes)")
        self.reload(select_id=self.current_id)

    def action_run_checks(self) -> None:
        say(self, "Checking rows (duplicates, empty, truncated, length, JSON)…")
        self._checks()

    @work(thread=True, group="curate-checks", exclusive=True, exit_on_error=False)
    def _checks(self) -> None:
        from distill_tui.engine.student_tokens import load_token_counter

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
