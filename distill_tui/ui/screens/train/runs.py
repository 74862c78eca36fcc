"""The Train screen's runs list as a component: it lists the project's runs
(`refresh_runs`), deletes one after asking and hands one to the Chat screen
(`ChatWithRun`, which the app carries to Chat) on its own. What only the
screen can do, it leaves to the screen: `RunAction` "monitor" and "close"
bubble up, and `RunDeleted` says a run is gone so the screen can stop showing
it."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import verdict
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.screens.base import ChatWithRun
from distill_tui.ui.text import say
from distill_tui.ui.widgets.confirm import ConfirmDialog
from distill_tui.ui.widgets.runs_table import RunAction, RunsTable, RunsView

__all__ = ["RunAction", "RunDeleted", "RunsPanel", "RunsTable"]


@dataclass
class RunDeleted(Message):
    run_id: str


class RunsPanel(RunsView):
    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._ws = ws
        self._seen: tuple[object, ...] | None = None

    def refresh_runs(self, force: bool = False) -> None:
        """Redraw the list when a run changed (or always, with `force`)."""
        store = self._ws.store
        runs = runs_db.list_runs(store)
        key = tuple((r.id, r.status, r.iter, r.best_val_loss, r.error) for r in runs)
        # A new evaluation changes a run's last verdict.
        key += (store.conn.execute("SELECT MAX(id) FROM evals").fetchone()[0],)
        if force or key != self._seen:
            self._seen = key
            self.show(runs, verdicts={r.id: verdict.last_verdict(store, r.id) for r in runs})

    @on(RunAction)
    def _act(self, m: RunAction) -> None:
        if m.run_id is None or m.action not in ("chat", "delete"):
            return  # monitor and close are the screen's
        m.stop()
        if m.action == "chat":
            self.post_message(ChatWithRun(m.run_id))
        else:
            self._ask_delete(m.run_id)

    def _ask_delete(self, run_id: str) -> None:
        run = runs_db.get_run(self._ws.store, run_id)
        if run is not None and run.status == "running":
            say(self, f"Run {run_id} is still training: stop it first (ctrl+x)", severity="warning")
            return
        folder = paths.run_dir(self._ws.root, run_id)

        def answer(choice: str | None) -> None:
            if choice != "delete":
                return
            try:
                runs_db.delete_run(self._ws.store, self._ws.root, run_id)
            except (OSError, UserError) as e:
                say(self, str(e), title="Delete run", severity="error")
                return
            say(self, f"Deleted run {run_id}")
            self.post_message(RunDeleted(run_id))
            self.refresh_runs(force=True)

        self.app.push_screen(
            ConfirmDialog(
                f"Delete run {run_id}? Its folder {folder} (adapters, checkpoints) "
                "and its metrics go for good.",
                {"y": ("delete", "yes, delete it")},
            ),
            answer,
        )
