"""The Chat screen (key 5): talk to the student with a run's adapter, side by
side with the base model or another checkpoint of the same base (ctrl+b, then
pick it in the "vs" box), save a good exchange as a dataset row, evaluate the
checkpoint (ctrl+r), fuse it (ctrl+f) and ship the fused model where other
tools run it (ctrl+n). Fused models in the project's
fused/ folder are listed as models to chat with.

Replies stream from a thread worker through `ModelHost` on the MLX thread;
the worker batches chunks (at most ~20 updates a second) before posting them,
and only the handlers below touch widgets.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from distill_tui.core.curate import feedback
from distill_tui.core.errors import UserError
from distill_tui.core.ship import provenance
from distill_tui.engine.chat.session import (
    GenSettings,
    ModelHost,
    Reply,
    Target,
    build_messages,
    training_system_prompt,
)
from distill_tui.engine.chat.session import (
    Message as ChatMessage,
)
from distill_tui.ui.screens.base import BaseScreen, ChatWithRun
from distill_tui.ui.screens.chat.dialogs import SettingsDialog
from distill_tui.ui.screens.chat.eval import EvalScreen
from distill_tui.ui.screens.chat.fuse import (
    FUSE_RUNNING,
    FuseFailed,
    FuseFinished,
    FuseProgressed,
    Fuser,
    fuse_note,
)
from distill_tui.ui.screens.chat.memory import ChatMemory
from distill_tui.ui.screens.chat.picker import VS_BASE, TargetPicker
from distill_tui.ui.screens.chat.ship import NO_FUSED, ShipDialog, fused_to_ship
from distill_tui.ui.text import say
from distill_tui.ui.widgets.chat_pane import ChatPane, failure_reason

STREAM_INTERVAL_S = 0.05  # batch tokens: at most ~20 widget updates a second
ADAPTER_PANE, BASE_PANE = "chat-pane-a", "chat-pane-b"


@dataclass
class ReplyStreamed(Message):
    pane: str
    text: str  # the reply so far: a newer one for the pane supersedes a waiting one

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReplyStreamed) and message.pane == self.pane


@dataclass
class ReplyFinished(Message):
    pane: str
    reply: Reply


@dataclass
class RepliesEnded(Message):
    warning: str | None


class ChatScreen(BaseScreen):
    MODE = "chat"
    BINDINGS = [
        Binding("escape", "stop", "Stop reply", id="chat-stop"),
        # When no reply streams, escape leaves the prompt so 1-5 switch screens.
        Binding("escape", "leave_field", "Leave field", show=False, id="chat-leave-field"),
        Binding("ctrl+b", "compare", "Compare", id="chat-compare"),
        Binding("ctrl+g", "settings", "Settings", id="chat-settings"),
        Binding("ctrl+s", "save_row", "Save row", id="chat-save"),
        Binding("ctrl+r", "evaluate", "Eval", id="chat-eval"),
        Binding("ctrl+f", "fuse", "Fuse", id="chat-fuse"),
        Binding("ctrl+n", "ship", "Ship", id="chat-ship"),
        Binding("ctrl+l", "clear", "New chat", id="chat-clear", show=False),
        Binding("ctrl+o", "pick", "Pick checkpoint", id="chat-pick", show=False),
    ]
    DEFAULT_CSS = """
    ChatScreen.compare #chat-versus { display: block; }
    ChatScreen #chat-status { height: 1; color: $text-muted; padding: 0 1; }
    ChatScreen #chat-panes { height: 1fr; }
    ChatScreen #chat-pane-b { display: none; }
    ChatScreen.compare #chat-pane-b { display: block; }
    ChatScreen #chat-warning { height: auto; color: $warning; display: none; padding: 0 1; }
    ChatScreen #chat-warning.shown { display: block; }
    """

    # A reply streams: most keys wait for it (escape stops it).
    streaming: reactive[bool] = reactive(False, bindings=True, init=False)
    # What the left pane talks to, as the keys see it: a run's adapter or not.
    has_adapter: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.host: ModelHost | None = None
        self.settings = GenSettings()
        self._stop = threading.Event()
        self._training_prompt = ""
        self._compare_when_able = False  # compare was on when the project was last open
        self._memory: ChatMemory | None = None
        self._b_versus = VS_BASE  # the model the compare pane's conversation is with
        # The last fuse's result, on the status line until the next action.
        self._fuse_note = ""

    def compose_body(self) -> ComposeResult:
        ws = self.ws
        with Vertical(classes="body"):
            yield TargetPicker(ws, id="chat-top")
            yield Static("", id="chat-status")
            with Horizontal(id="chat-panes"):
                yield ChatPane("adapter", ADAPTER_PANE)
                yield ChatPane("base", BASE_PANE)
            yield Static("", id="chat-warning")
            yield Input(placeholder="message the student (enter sends)", id="chat-input")
        yield Fuser(ws)

    @property
    def picker(self) -> TargetPicker:
        return self.query_one(TargetPicker)

    @property
    def fuser(self) -> Fuser:
        return self.query_one(Fuser)

    @property
    def target(self) -> Target | None:
        return self.picker.target

    @property
    def versus(self) -> Target | None:
        return self.picker.versus

    @property
    def memory(self) -> ChatMemory:
        if self._memory is None:
            self._memory = ChatMemory(self, self.ws.root)
        return self._memory

    def on_mount(self) -> None:
        self._training_prompt = training_system_prompt(self.ws)
        self._compare_when_able = self.memory.restore_state(self.settings, self._training_prompt)
        self.picker.refresh_targets()
        self._show_status()
        self.query_one("#chat-input", Input).focus()

    def on_screen_resume(self) -> None:
        self.picker.refresh_targets()

    @on(ChatWithRun)
    def _open_asked_run(self, message: ChatWithRun) -> None:
        """Another screen asked to chat with a run."""
        message.stop()  # handled here: it must not bubble back to the app
        self.picker.open_run(message.run_id)

    @on(TargetPicker.Picked)
    def _target_changed(self, event: TargetPicker.Picked) -> None:
        t = event.target
        self.query_one(f"#{ADAPTER_PANE}", ChatPane).set_title(t.label if t else "adapter")
        self.has_adapter = t is not None and t.checkpoint is not None
        if not self.has_adapter:
            self.remove_class("compare")
        elif self._compare_when_able:
            self.add_class("compare")
        if t is not None:  # the picker's first, empty state is not the pick
            self._compare_when_able = False
        self._title_versus()
        self._show_status()
        conversation = self.memory.switched(self.picker.key)
        if conversation is not None:  # another model: its own conversation
            self._pane(ADAPTER_PANE).restore(conversation.panes.get("a", []))
            versus = conversation.versus or VS_BASE
            kept = self.picker.select_versus(versus)  # the same model on that side
            self._b_versus = versus if kept else self.picker.versus_key
            self._pane(BASE_PANE).restore(conversation.panes.get("b", []) if kept else [])

    def _pane(self, pane_id: str) -> ChatPane:
        return self.query_one(f"#{pane_id}", ChatPane)

    def _keep_conversation(self) -> None:
        compare = self.has_class("compare")
        panes = {"a": self._pane(ADAPTER_PANE).history}
        if compare:
            panes["b"] = self._pane(BASE_PANE).history
        self.memory.keep(panes, self.picker.versus_key if compare else None)

    def _keep_settings(self) -> None:
        compare = self.has_class("compare")
        self.memory.keep_state(self.settings, self._training_prompt, compare)

    def _title_versus(self) -> None:
        v = self.versus
        self.query_one(f"#{BASE_PANE}", ChatPane).set_title(v.label if v else "base")

    @on(TargetPicker.VersusPicked)
    def _versus_changed(self) -> None:
        # A different model on that side starts a new conversation there.
        if self.picker.versus_key != self._b_versus:
            self._b_versus = self.picker.versus_key
            self.query_one(f"#{BASE_PANE}", ChatPane).clear()
        self._title_versus()

    def _show_status(self, extra: str = "") -> None:
        extra = extra or self._fuse_note
        s = self.settings
        text = (
            f"temp {s.temperature:g} · top-p {s.top_p:g} · max {s.max_tokens} · seed {s.seed}"
            f" · system prompt {'set' if s.system_prompt.strip() else 'none'}"
        )
        self.query_one("#chat-status", Static).update(Text(extra or text))

    # -- availability -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        try:
            return self._available(action)
        except NoMatches:  # the footer can ask while the screen is still being composed
            return None

    def _available(self, action: str) -> bool | None:
        busy = self.streaming or self.fuser.running
        has_adapter = self.has_adapter
        if action == "stop":
            return self.streaming  # hidden when nothing streams
        if action == "compare":
            return (has_adapter and not self.streaming) or None
        if action == "save_row":
            pane = self.query_one(f"#{ADAPTER_PANE}", ChatPane)
            return (pane.last_exchange is not None and not self.streaming) or None
        if action in ("evaluate", "fuse"):
            return (has_adapter and not busy) or None
        if action == "settings":
            return not self.streaming or None
        if action == "ship":
            # During a fuse it stays pressable, to say why it cannot ship yet.
            return not self.streaming or None
        return True

    # -- chatting ---------------------------------------------------------------------
    @on(Input.Submitted, "#chat-input")
    def _send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        target = self.target
        if not text or self.streaming:
            return
        if target is None:
            say(self, "No checkpoint to chat with yet: train one on screen 4", severity="warning")
            return
        event.input.value = ""
        self._clear_fuse_note()
        panes = [(ADAPTER_PANE, target)]
        versus = self.versus
        if self.has_class("compare") and target.checkpoint is not None and versus is not None:
            panes.append((BASE_PANE, versus))
        jobs = []
        for pane_id, t in panes:
            pane = self.query_one(f"#{pane_id}", ChatPane)
            messages = build_messages(self.settings.system_prompt, pane.history, text)
            pane.start(text)
            jobs.append((pane_id, t, messages))
        self.streaming = True
        self._stop.clear()
        if self.host is None:
            self.host = ModelHost(self.distill_app.mlx)
        self._reply(jobs, self.settings, self._stop)

    @work(thread=True, group="chat-reply", exclusive=True, exit_on_error=False, name="chat")
    def _reply(
        self,
        jobs: list[tuple[str, Target, list[ChatMessage]]],
        settings: GenSettings,
        stop: threading.Event,
    ) -> None:
        assert self.host is not None
        for pane_id, target, messages in jobs:
            parts: list[str] = []
            last = 0.0

            def on_chunk(text: str, pane_id: str = pane_id, parts: list[str] = parts) -> None:
                nonlocal last
                parts.append(text)
                now = time.monotonic()
                if now - last >= STREAM_INTERVAL_S:
                    last = now
                    self.post_message(ReplyStreamed(pane_id, "".join(parts)))

            reply = self.host.reply(target, messages, settings, on_chunk, stop)
            self.post_message(ReplyFinished(pane_id, reply))
            if stop.is_set():
                break
        self.post_message(RepliesEnded(self.host.system_warning(settings.system_prompt)))

    def on_reply_streamed(self, event: ReplyStreamed) -> None:
        self.query_one(f"#{event.pane}", ChatPane).update_reply(event.text)

    def on_reply_finished(self, event: ReplyFinished) -> None:
        self.query_one(f"#{event.pane}", ChatPane).finish(event.reply)
        self._keep_conversation()  # each finished reply, so quitting mid-way keeps it

    def on_replies_ended(self, event: RepliesEnded) -> None:
        self.streaming = False
        warning = self.query_one("#chat-warning", Static)
        warning.update(Text(f"warning: {event.warning}" if event.warning else ""))
        warning.set_class(bool(event.warning), "shown")
        self._keep_conversation()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "chat-reply":
            super().on_worker_state_changed(event)
            return
        if event.state != WorkerState.ERROR:
            return
        # The real reason (no such model, MLX busy training, a broken
        # checkpoint) where the user is looking, and once in a toast.
        reason = failure_reason(event.worker.error)
        self.streaming = False
        for pane in self.query(ChatPane):
            pane.fail(f"failed: {reason}")
        say(self, reason, title="reply failed", severity="error", timeout=10)

    def action_stop(self) -> None:
        self._stop.set()

    def action_compare(self) -> None:
        self.toggle_class("compare")
        self.query_one(f"#{BASE_PANE}", ChatPane).clear()
        self.picker.refresh_versus()
        self._title_versus()
        self._keep_settings()

    def action_pick(self) -> None:
        self.picker.open()

    def action_clear(self) -> None:
        if self.streaming:
            return
        for pane in self.query(ChatPane):
            pane.clear()
        self._keep_conversation()

    def action_settings(self) -> None:
        def apply(settings: GenSettings | None) -> None:
            if settings is not None:
                self.settings = settings
                self._clear_fuse_note()
                self._keep_settings()
            # The next thing typed is the next message, whichever field had focus.
            self.query_one("#chat-input", Input).focus()

        self.app.push_screen(SettingsDialog(self.settings), apply)

    def action_save_row(self) -> None:
        ws = self.workspace
        exchange = self.query_one(f"#{ADAPTER_PANE}", ChatPane).last_exchange
        if ws is None or exchange is None:
            return
        try:
            row_id = feedback.save_chat_row(ws.store, *exchange)
        except UserError as e:
            self.distill_app.report_error(e, "save as row")
            return
        say(self, f"Saved as row {row_id} for review in the curator (3)")

    # -- evaluation, fuse, ship -----------------------------------------------------------
    def _clear_fuse_note(self) -> None:
        self._fuse_note = ""
        self._show_status()

    def action_fuse(self) -> None:
        target = self.target
        if target is not None:
            self._clear_fuse_note()
            self.fuser.start(target)

    def on_fuse_progressed(self, event: FuseProgressed) -> None:
        if event.total:
            self._show_status(f"fusing: {event.stage} {event.done}/{event.total}")
        else:
            self._show_status("fusing…")

    def on_fuse_finished(self, event: FuseFinished) -> None:
        report = event.report
        self._fuse_note = fuse_note(report, self.ws.root)
        self.picker.add_fused(report.out, report.agreement())
        self._show_status()

    def on_fuse_failed(self, event: FuseFailed) -> None:
        self._fuse_note = f"fuse failed: {event.reason}"
        self._show_status()

    def action_evaluate(self) -> None:
        ws, target = self.workspace, self.target
        if ws is None or target is None or target.checkpoint is None:
            return
        if self.host is None:
            self.host = ModelHost(self.distill_app.mlx)
        self.app.push_screen(EvalScreen(ws, self.host, target.checkpoint))

    def action_ship(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        if self.fuser.running:
            say(self, FUSE_RUNNING, severity="warning")
            return
        chatting = self.target.model if self.target is not None else None
        fused = fused_to_ship(ws, chatting)
        if fused is None:
            say(self, NO_FUSED, severity="warning", timeout=10)
            return
        self.app.push_screen(ShipDialog(ws, fused, provenance.terms_summary(ws)))
