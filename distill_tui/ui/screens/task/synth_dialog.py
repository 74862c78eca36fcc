"""The synthesis dialog of the Task screen (issue 22): the teacher proposes
topics for the task, the user adds, renames and deletes them by keyboard,
grows a second level, sets inputs per leaf and has the teacher write them;
with the local MLX teacher, `m` samples inputs Magpie-style instead
(engine/synth/magpie.py), as many as a leaf's. The table is the coverage
view: kept / wanted per leaf, what was written, the duplicate rate and what
the filter dropped. Every teacher call runs in this dialog's worker through
engine/synth/, the code `distill-tui synth` runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static
from textual.worker import Worker, WorkerState

from distill_tui.core.display import plural
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.synth import topics
from distill_tui.ui.screens.task.synth_reply import ReplyView
from distill_tui.ui.text import data_text, say
from distill_tui.ui.widgets.confirm import ConfirmDialog

ROOTS = 6  # Kiln's default: 6 subtopics
CHILDREN = 4
PER_LEAF = 8  # Kiln's default: 8 samples per leaf


@dataclass
class TopicsAdded(Message):
    names: list[str]


@dataclass
class LeafWritten(Message):
    line: str
    path: str = ""
    reply: str = ""  # the teacher's last reply for the leaf, as written


@dataclass
class SynthDone(Message):
    summary: str
    kept: int = 0  # new inputs queued


@dataclass
class MagpieSampled(Message):
    """A batch of Magpie turns filtered and queued: the report so far."""

    line: str


class SynthDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("t", "propose", "Topics", id="synth-propose"),
        Binding("g", "grow", "Subtopics", id="synth-grow"),
        Binding("a", "add", "Add", id="synth-add"),
        Binding("c", "add_child", "Add sub", show=False, id="synth-add-child"),
        Binding("r", "rename", "Rename", id="synth-rename"),
        Binding("delete", "delete", "Delete", id="synth-delete"),
        Binding("plus", "per_leaf(1)", "+ per leaf", show=False, id="synth-more"),
        Binding("minus", "per_leaf(-1)", "- per leaf", show=False, id="synth-fewer"),
        Binding("w", "write", "Write", id="synth-write"),
        Binding("m", "magpie", "Magpie", id="synth-magpie"),
        Binding("v", "view_reply", "Reply", show=False, id="synth-reply"),
        Binding("escape", "close", "Stop/close", id="synth-close"),
    ]
    DEFAULT_CSS = """
    SynthDialog { background: $background; }
    SynthDialog #synth-title { height: 1; text-style: bold; color: $primary; }
    SynthDialog #synth-tree { height: 1fr; }
    SynthDialog #synth-name { display: none; }
    SynthDialog #synth-name.shown { display: block; }
    SynthDialog #synth-status { height: auto; max-height: 4; color: $text-muted; }
    """

    # The teacher is writing topics or inputs.
    busy: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.per_leaf = PER_LEAF
        self._stop = threading.Event()
        self._editing: tuple[str, int | None] | None = None  # ("add"|"rename", topic id)
        self._ids: list[int] = []
        self._replies: dict[str, str] = {}  # leaf path -> the teacher's last reply

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="synth-title")
            yield DataTable(id="synth-tree", cursor_type="row", zebra_stripes=True)
            yield Input(id="synth-name", compact=True, placeholder="topic name, enter to keep")
            yield Static("", id="synth-status")
        # Compact: eight keys fit 80 columns, esc included.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("topic", "kept", "wrote", "dup", "dropped")
        self.reload()
        hint = "t: the teacher proposes topics; a: add your own; w: write inputs"
        if self._local:
            hint += f"; m: Magpie samples {self.per_leaf} inputs from the teacher's template"
        else:
            hint += "; m (Magpie) needs the local MLX teacher"
        self._status(hint)

    @property
    def _local(self) -> bool:
        return self.ws.settings.teacher.provider == "mlx"

    # -- the tree ------------------------------------------------------------------
    def reload(self) -> None:
        tree = topics.tree(self.ws.store)
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        self._ids = [t.id for t in tree]
        for t in tree:
            name = ("  └ " if t.parent_id is not None else "") + t.name
            rate = t.duplicate_rate
            drops = " ".join(f"{n} {r}" for r, n in t.dropped.items() if n)
            table.add_row(
                data_text(name[:34]),
                Text(f"{t.kept}/{self.per_leaf}" if t.is_leaf else ""),
                Text(str(t.written) if t.is_leaf else ""),
                Text(f"{rate:.0%}" if rate is not None else ""),
                Text(drops + (" stopped" if t.exhausted else "")),
                key=str(t.id),
            )
        if tree:
            table.move_cursor(row=min(max(row, 0), len(tree) - 1))
        leaves = sum(1 for t in tree if t.is_leaf)
        self.query_one("#synth-title", Label).update(
            Text(
                f"Synthesize inputs: {plural(len(tree), 'topic')},"
                f" {plural(leaves, 'leaf', 'leaves')}, {self.per_leaf} per leaf (+/-)"
            )
        )
        self.refresh_bindings()

    def _selected(self) -> topics.Topic | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        tid = self._ids[table.cursor_row]
        return next((t for t in topics.tree(self.ws.store) if t.id == tid), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return True
        if self.busy or self._editing is not None:
            return None
        if action in ("rename", "delete"):
            return bool(self._ids) or None
        if action in ("grow", "add_child"):
            t = self._selected() if self._ids else None
            return (t is not None and t.parent_id is None) or None
        if action == "write":
            return bool(self._ids) or None
        if action == "view_reply":
            t = self._selected() if self._ids else None
            return (t is not None and t.path in self._replies) or None
        return True

    def _status(self, message: str) -> None:
        self.query_one("#synth-status", Static).update(data_text(message))

    # -- editing by keyboard -----------------------------------------------------------
    def _ask_name(self, mode: str, topic_id: int | None, value: str = "") -> None:
        self._editing = (mode, topic_id)
        box = self.query_one("#synth-name", Input)
        box.value = value
        box.add_class("shown")
        box.focus()
        self.refresh_bindings()

    def action_add(self) -> None:
        self._ask_name("add", None)

    def action_add_child(self) -> None:
        t = self._selected()
        if t is not None and t.parent_id is None:
            self._ask_name("add", t.id)

    def action_rename(self) -> None:
        t = self._selected()
        if t is not None:
            self._ask_name("rename", t.id, t.name)

    @on(Input.Submitted, "#synth-name")
    def _named(self, event: Input.Submitted) -> None:
        mode, tid = self._editing or ("", None)
        try:
            if mode == "rename" and tid is not None:
                topics.rename(self.ws.store, tid, event.value)
            elif mode == "add":
                topics.add(self.ws.store, event.value, tid)
        except UserError as e:
            self._status(str(e))
            return
        self._end_edit()

    def _end_edit(self) -> None:
        self._editing = None
        box = self.query_one("#synth-name", Input)
        box.remove_class("shown")
        self.query_one(DataTable).focus()
        self.reload()
        self._estimate()

    def action_delete(self) -> None:
        t = self._selected()
        if t is None:
            return
        if not t.children:
            self._delete(t)
            return

        def answered(answer: str | None) -> None:
            if answer == "delete":
                self._delete(t)

        subs = plural(t.children, "subtopic")
        self.app.push_screen(
            ConfirmDialog(
                f"Delete {t.name!r} and its {subs}? The inputs written for them stay queued.",
                {"y": ("delete", f"delete {t.name!r} and its {subs}"), "n": ("keep", "keep them")},
            ),
            answered,
        )

    def _delete(self, t: topics.Topic) -> None:
        n = topics.delete(self.ws.store, t.id)
        subs = f" and its {plural(n - 1, 'subtopic')}" if n > 1 else ""
        self._status(f"deleted {t.path!r}{subs}")
        self.reload()

    def action_per_leaf(self, step: int) -> None:
        from distill_tui.engine.synth.topics import MAX_PER_LEAF

        self.per_leaf = max(1, min(MAX_PER_LEAF, self.per_leaf + step))
        self.reload()
        self._estimate()

    def _estimate(self) -> None:
        from distill_tui.engine.synth.topics import estimate

        if self._ids:
            self._status("w writes " + estimate(self.ws, self.per_leaf).describe())

    # -- the teacher ---------------------------------------------------------------------
    def _start(self, message: str) -> None:
        self.busy = True
        self._stop.clear()
        self._status(message)

    def _finish(self, message: str) -> None:
        self.busy = False
        self._status(message)
        self.reload()

    def action_propose(self) -> None:
        self._start(f"the teacher proposes {ROOTS} topics for the task…")
        self._propose(ROOTS, None)

    def action_grow(self) -> None:
        t = self._selected()
        if t is None or t.parent_id is not None:
            return
        self._start(f"the teacher proposes {CHILDREN} subtopics of {t.name!r}…")
        self._propose(CHILDREN, t.id)

    @work(thread=True, group="synth", exclusive=True, exit_on_error=False, name="topics")
    def _propose(self, n: int, parent: int | None) -> None:
        from distill_tui.engine.synth.topics import propose_topics

        self.post_message(TopicsAdded(propose_topics(self.ws, n, parent).names))

    def on_topics_added(self, event: TopicsAdded) -> None:
        self._finish(f"added {len(event.names)} topic(s): {', '.join(event.names)}")

    def action_write(self) -> None:
        from distill_tui.engine.synth.topics import estimate

        est = estimate(self.ws, self.per_leaf)
        if not est.inputs:
            self._status(f"every leaf has {self.per_leaf} inputs or stopped; + asks for more")
            return
        self._start(f"writing: {est.describe()} (esc stops)")
        self._fill(self.per_leaf)

    @work(thread=True, group="synth", exclusive=True, exit_on_error=False, name="fill")
    def _fill(self, per_leaf: int) -> None:
        from distill_tui.engine.synth.topics import LeafResult, fill

        def progress(leaf: LeafResult, _res: object) -> None:
            self.post_message(LeafWritten(leaf.line(), leaf.path, leaf.last_reply))

        res = fill(self.ws, per_leaf, progress=progress, stop=self._stop)
        self.post_message(SynthDone(res.summary(), res.kept))

    def action_magpie(self) -> None:
        from distill_tui.engine.synth.magpie import check_local

        try:
            check_local(self.ws)  # the template's raw continuation: local MLX only
        except UserError as e:
            self._status(str(e))
            say(self, str(e), title="Magpie", severity="warning")
            return
        n = self.per_leaf
        self._start(
            f"Magpie: sampling {n} user turn(s) from {self.ws.settings.teacher.model}… (esc stops)"
        )
        self._magpie(n)

    @work(thread=True, group="synth", exclusive=True, exit_on_error=False, name="magpie")
    def _magpie(self, n: int) -> None:
        from distill_tui.engine.synth.magpie import MagpieResult, magpie

        def progress(res: MagpieResult) -> None:
            self.post_message(MagpieSampled(res.leaf.line()))

        res = magpie(self.ws, n, progress=progress, stop=self._stop)
        self.post_message(SynthDone(f"{res.leaf.line()}\n{res.summary()}", res.kept))

    def on_magpie_sampled(self, event: MagpieSampled) -> None:
        self._status(event.line + " (esc stops)")

    def on_leaf_written(self, event: LeafWritten) -> None:
        if event.path:
            self._replies[event.path] = event.reply
        self._status(event.line + " (esc stops)")
        self.reload()

    def on_synth_done(self, event: SynthDone) -> None:
        queued = "; the Queue (2) answers them" if event.kept else ""
        if not event.kept and self._replies:
            queued = "; v shows a leaf's last reply from the teacher"
        self._finish(event.summary + queued)
        say(self, event.summary, timeout=8)

    def action_view_reply(self) -> None:
        t = self._selected()
        if t is not None and t.path in self._replies:
            self.app.push_screen(ReplyView(t.path, self._replies[t.path]))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.group != "synth":
            return
        err = event.worker.error
        reason = str(err) if isinstance(err, UserError) else f"{type(err).__name__}: {err}"
        names = {"topics": "topics", "magpie": "Magpie"}
        what = names.get(event.worker.name or "", "writing inputs")
        self._finish(f"{what} failed: {reason}")
        say(self, reason, title=f"{what} failed", severity="error", timeout=10)

    def action_close(self) -> None:
        if self._editing is not None:
            self._end_edit()
            return
        if self.busy:
            self._stop.set()  # the request in flight finishes first
            self._status("stopping after the request in flight…")
            return
        self.dismiss(None)
