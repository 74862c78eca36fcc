"""The Train screen's runs list actions: open a run in the monitor, hand it
to the Chat screen (a `ChatWithRun` message the app hands on), or delete it
after asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.screens.base import BaseScreen, ChatWithRun
from distill_tui.ui.screens.curate.dialogs import ConfirmDialog
from distill_tui.ui.text import say
from distill_tui.ui.widgets.runs_table import RunAction, RunsView

MONITOR = "train-monitor"


class TrainRunsMixin(BaseScreen):
    """Mixed into TrainScreen, which provides the views and the monitor state."""

    _refusal: str | None
    _opened: str | None
    _shown_run: str | None
    _tr_seen: tuple[object, ...]
    _runs_seen: tuple[object, ...]
    _back_from_runs: str
    if TYPE_CHECKING:

        def _switch(self, view: str) -> None: ...
        def _poll(self) -> None: ...

    @on(RunAction)
    def _run_action(self, m: RunAction) -> None:
        if m.action == "close":
            self._switch(self._back_from_runs)
        elif m.run_id is None:
            return
        elif m.action == "monitor":
            self._refusal, self._opened, self._tr_seen = None, m.run_id, ()
            self._switch(MONITOR)
            self._poll()
        elif m.action == "chat":
            self.post_message(ChatWithRun(m.run_id))  # the app opens Chat with it
        elif m.action == "delete":
            self._ask_delete(m.run_id)

    def _ask_delete(self, run_id: str) -> None:
        run = runs_db.get_run(self.ws.store, run_id)
        if run is not None and run.status == "running":
            say(self, f"Run {run_id} is still training: stop it first (ctrl+x)", severity="warning")
            return
        folder = paths.run_dir(self.ws.root, run_id)

        def answer(choice: str | None) -> None:
            if choice != "delete":
                return
            try:
                runs_db.delete_run(self.ws.store, self.ws.root, run_id)
            except (OSError, UserError) as e:
                say(self, str(e), title="Delete run", severity="error")
                return
            if run_id in (self._shown_run, self._opened):
                self._shown_run = self._opened = None
                self._tr_seen = ()
            say(self, f"Deleted run {run_id}")
            self._show_runs(force=True)

        self.app.push_screen(
            ConfirmDialog(
                f"Delete run {run_id}? Its folder {folder} (adapters, checkpoints) "
                "and its metrics go for good.",
                {"y": ("delete", "yes, delete it")},
            ),
            answer,
        )

    def _show_runs(self, force: bool = False) -> None:
        runs = runs_db.list_runs(self.ws.store)
        key = tuple((r.id, r.status, r.iter, r.best_val_loss, r.error) for r in runs)
        if force or key != self._runs_seen:
            self._runs_seen = key
            self.query_one(RunsView).show(runs)
