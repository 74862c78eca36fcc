"""The Chat screen's pickers as a component: what to chat with (ctrl+o): every
run's checkpoints with the run's objective, parent, status and best
validation loss, the fused models and the student alone; the choice is kept
in the store's meta (per project, not in distill.toml). And what to compare
with (the "vs" box)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Select

from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import lineage
from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints
from distill_tui.core.train import runs as runs_db
from distill_tui.core.train.checkpoints import BEST_DIR
from distill_tui.engine.chat.session import Target, student_model
from distill_tui.ui.text import say

NO_TARGET = "__none__"  # the picker's one option while there is nothing to chat with
NO_TARGET_LABEL = "no runs yet: train on screen 4"
BASE_TARGET = "__student__"  # the project's student with no adapter: no run needed
PICKED_KEY = "chat.target"  # the store's meta key for the last model picked
VS_BASE = "__base__"  # the "vs" choice: the base model without an adapter


class TargetPicker(Horizontal):
    """The Chat screen's two pickers as one component: `#chat-target`, what
    the left pane talks to, and `#chat-versus`, what the right pane answers
    with when comparing (the base model, or another checkpoint of the same
    base). It owns the list of targets and the remembered pick, and posts
    `Picked` when what the left pane talks to may have changed and
    `VersusPicked` when the right pane's model has. The screen shows the
    "vs" box while it compares."""

    DEFAULT_CSS = """
    TargetPicker { height: 3; }
    TargetPicker #chat-target { width: 1fr; }
    TargetPicker #chat-versus { width: 1fr; display: none; }
    /* One line an entry, cut with an ellipsis: wrapped, half a screen wide
       (compare mode) each entry took four lines. */
    TargetPicker SelectOverlay, TargetPicker SelectCurrent {
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    @dataclass
    class Picked(Message):
        target: Target | None

    @dataclass
    class VersusPicked(Message):
        pass

    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._ws = ws
        self.targets: dict[str, Target] = {}
        self._run_notes: dict[str, str] = {}
        self._fused_notes: dict[str, str] = {}  # key -> this session's fuse result
        self._versus_keys: list[str] = []

    def compose(self) -> ComposeResult:
        yield Select[str]([(Text(NO_TARGET_LABEL), NO_TARGET)], allow_blank=False, id="chat-target")
        yield Select[str]([(Text("vs base model"), VS_BASE)], allow_blank=False, id="chat-versus")

    def open_run(self, run_id: str) -> None:
        """Pick a run's best checkpoint, else its latest (asked by another screen)."""
        self.refresh_targets()  # the run may be newer than this list
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

    def add_fused(self, path: Path, note: str = "") -> None:
        """A model fused this session, wherever it was written, with its
        result (`note`) beside it in the list."""
        key = f"fused:{path.resolve()}"
        self.targets[key] = Target(str(path.resolve()))
        self._fused_notes[key] = note
        self.refresh_targets()

    # -- targets ------------------------------------------------------------------
    def refresh_targets(self) -> None:
        ws = self._ws
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
        self.refresh_versus()
        self.post_message(self.Picked(self.target))

    def _label(self, key: str) -> str:
        t = self.targets[key]
        if key == BASE_TARGET:
            return f"base model  {Path(t.model).name} (no adapter)"
        if t.checkpoint is None:
            note = self._fused_notes.get(key)
            return f"fused model  {note + '  ' if note else ''}{self._shown(t.model)}"
        cp = t.checkpoint
        note = self._run_notes.get(cp.run_id, "")
        # The base's folder or hub name: a full path would push the rest out.
        return f"{cp.run_id} {cp.name:<8} {note}  base {Path(t.model).name}"

    def _shown(self, model: str) -> str:
        """A folder inside the project as a path from its root: shorter."""
        try:
            return str(Path(model).relative_to(self._ws.root.resolve()))
        except ValueError:
            return model

    @property
    def key(self) -> str | None:
        """The picked model's key (what the store remembers), if any."""
        value = self.query_one("#chat-target", Select).value
        return value if isinstance(value, str) and value in self.targets else None

    @property
    def target(self) -> Target | None:
        key = self.key
        return self.targets[key] if key is not None else None

    def select_versus(self, key: str) -> bool:
        """Put the "vs" box on `key` if it is offered; False when it is not."""
        if key not in self._versus_keys:
            return False
        self.query_one("#chat-versus", Select).value = key
        return True

    @property
    def versus_key(self) -> str:
        value = self.query_one("#chat-versus", Select).value
        return value if isinstance(value, str) else VS_BASE

    @on(Select.Changed, "#chat-target")
    def _target_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        # set_options passes through the first option on its way back to the
        # one picked: remember only where the picker ends up.
        if isinstance(value, str) and value in self.targets and value == event.select.value:
            if self._ws.store.get_meta(PICKED_KEY) != value:
                self._ws.store.set_meta(PICKED_KEY, value)
        self.refresh_versus()
        self.post_message(self.Picked(self.target))

    def open(self) -> None:
        select = self.query_one("#chat-target", Select)
        select.focus()
        select.action_show_overlay()

    # -- the "vs" side: the base model or another checkpoint of the same base ----------
    def refresh_versus(self) -> None:
        t = self.target
        select = self.query_one("#chat-versus", Select)
        current = select.value
        options: list[tuple[Text, str]] = [(Text("vs base model"), VS_BASE)]
        if t is not None and t.checkpoint is not None:
            for key, other in self.targets.items():
                cp = other.checkpoint
                if cp is not None and other.model == t.model and other != t:
                    options.append((Text(f"vs {cp.run_id} {cp.name}"), key))
        keys = [key for _, key in options]
        if keys != self._versus_keys:  # unchanged options keep the choice and the pane
            self._versus_keys = keys
            select.set_options(options)
            if current in keys:
                select.value = current

    @property
    def versus(self) -> Target | None:
        """What the second pane answers with: one swap of the adapter on the
        same base model, so the base stays loaded once."""
        t = self.target
        if t is None:
            return None
        value = self.query_one("#chat-versus", Select).value
        other = self.targets.get(value) if isinstance(value, str) else None
        return other if other is not None else t.base()

    @on(Select.Changed, "#chat-versus")
    def _versus_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.VersusPicked())


def _run_note(run: runs_db.Run) -> str:
    """A run's objective and parent ("dpo from RUN", "sft from base"), status
    and best validation loss, for the picker: the lineage first, so a narrow
    terminal cuts the loss, not what the run is."""
    lin = lineage.of_config(run.config)
    loss = f"  best val {run.best_val_loss:.3f}" if run.best_val_loss is not None else ""
    return f"{lin.objective} from {lin.parent or 'base'}  {run.status}{loss}"
