"""The Chat screen's picker (ctrl+o): every run's checkpoints with the run's
status and best validation loss, and the fused models; the choice is kept in
the store's meta (per project, not in distill.toml), and a run another screen
asks for (a `ChatWithRun` message) is picked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.widgets import Select

from distill_tui.core.errors import UserError
from distill_tui.core.train import checkpoints
from distill_tui.core.train import runs as runs_db
from distill_tui.core.train.checkpoints import BEST_DIR
from distill_tui.engine.chat.session import Target, student_model
from distill_tui.ui.screens.base import BaseScreen, ChatWithRun
from distill_tui.ui.text import say

NO_TARGET = "__none__"  # the picker's one option while there is nothing to chat with
NO_TARGET_LABEL = "no runs yet: train on screen 4"
BASE_TARGET = "__student__"  # the project's student with no adapter: no run needed
PICKED_KEY = "chat.target"  # the store's meta key for the last model picked


class PickerMixin(BaseScreen):
    """Mixed into ChatScreen, which composes the `#chat-target` Select and
    provides `_refresh_versus`."""

    targets: dict[str, Target]
    _run_notes: dict[str, str]
    if TYPE_CHECKING:

        def _refresh_versus(self) -> None: ...

    @on(ChatWithRun)
    def _open_asked_run(self, message: ChatWithRun) -> None:
        """Another screen asked to chat with a run."""
        message.stop()  # handled here: it must not bubble back to the app
        run_id = message.run_id
        self._refresh_targets()  # the run may be newer than this screen's list
        by_name = {
            t.checkpoint.name: key
            for key, t in self.targets.items()
            if t.checkpoint is not None and t.checkpoint.run_id == run_id
        }
        if not by_name:
            say(self, f"Run {run_id} has no checkpoint to chat with yet", severity="warning")
            return
        key = by_name.get(BEST_DIR) or by_name.get("latest") or next(iter(by_name.values()))
        self.query_one("#chat-target", Select).value = key

    # -- targets ------------------------------------------------------------------
    def _refresh_targets(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        select = self.query_one("#chat-target", Select)
        current = select.value if select.value != NO_TARGET else ws.store.get_meta(PICKED_KEY)
        fused = {k: t for k, t in self.targets.items() if t.checkpoint is None}
        self.targets = {}
        self._run_notes = {r.id: _run_note(r) for r in runs_db.list_runs(ws.store)}
        for run in checkpoints.list_runs(ws):
            for cp in run.checkpoints:
                self.targets[cp.label] = Target.of(cp)
        # Fused models on disk (from earlier sessions or the CLI), then any
        # this session wrote elsewhere.
        for path in checkpoints.list_fused(ws):
            self.targets[f"fused:{path.resolve()}"] = Target(str(path.resolve()))
        for k, t in fused.items():
            self.targets.setdefault(k, t)
        # Last: the student alone, so there is something to talk to before any run.
        try:
            self.targets[BASE_TARGET] = Target(student_model(ws))
        except UserError:
            pass
        options = [
            (Text(self._label(k), no_wrap=True, overflow="ellipsis"), k) for k in self.targets
        ]
        select.set_options(options or [(Text(NO_TARGET_LABEL), NO_TARGET)])
        if current in self.targets:
            select.value = current
        self._refresh_versus()
        self.refresh_bindings()

    def _label(self, key: str) -> str:
        t = self.targets[key]
        if key == BASE_TARGET:
            return f"base model  {Path(t.model).name} (no adapter)"
        if t.checkpoint is None:
            return f"fused model  {t.model}"
        cp = t.checkpoint
        note = self._run_notes.get(cp.run_id, "")
        # The base's folder or hub name: a full path would push the rest out.
        return f"{cp.run_id} {cp.name:<8} {note}  base {Path(t.model).name}"

    @property
    def target(self) -> Target | None:
        value = self.query_one("#chat-target", Select).value
        return self.targets.get(value) if isinstance(value, str) else None

    def _remember_pick(self, event: Select.Changed) -> None:
        ws = self.workspace
        value = event.value
        # set_options passes through the first option on its way back to the
        # one picked: remember only where the picker ends up.
        if ws is not None and isinstance(value, str) and value in self.targets:
            if value == event.select.value and ws.store.get_meta(PICKED_KEY) != value:
                ws.store.set_meta(PICKED_KEY, value)

    def action_pick(self) -> None:
        select = self.query_one("#chat-target", Select)
        select.focus()
        select.action_show_overlay()


def _run_note(run: runs_db.Run) -> str:
    """A run's status and best validation loss, for the picker."""
    loss = f"  best val {run.best_val_loss:.3f}" if run.best_val_loss is not None else ""
    return f"{run.status}{loss}"
