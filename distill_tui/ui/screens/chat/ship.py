"""The Ship dialog of the Chat screen (ctrl+n): take the fused student where
other tools run it (mlx_lm.server, LM Studio, Ollama, a GGUF file), with the
same `engine.ship.targets.ship` the `ship` command calls, in a worker. The
dialog owns its worker and its messages; the screen only hands it the project
and the fused folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Checkbox, Label, Select, Static
from textual.worker import Worker, WorkerState

from distill_tui.core.evaluate import verdict
from distill_tui.core.project import Workspace
from distill_tui.core.ship import provenance
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.evaluate import default_probe_inputs
from distill_tui.engine.chat.session import Message as ChatMessage
from distill_tui.engine.ship.gguf_writer import QUANTS
from distill_tui.engine.ship.targets import TARGETS, ShipReport, ship
from distill_tui.ui.screens.chat.dialogs import TermsBox, verdict_box, worse_dialog
from distill_tui.ui.widgets.chat_pane import failure_reason
from distill_tui.ui.widgets.checkbox import Tick
from distill_tui.ui.widgets.dialog import Dialog

NO_FUSED = "No fused model yet: press ctrl+f to fuse a checkpoint first, then ctrl+n ships it"
_WHAT = {
    "server": "the mlx_lm.server command",
    "lmstudio": "a link to the fused folder where LM Studio looks",
    "ollama": "a Modelfile; `ollama create` when Ollama is installed",
    "gguf": "a llama.cpp file (Llama students with a GGUF source)",
}


def fused_to_ship(ws: Workspace, chatting_with: str | None) -> Path | None:
    """The fused model being chatted with, else the newest one; None when
    the project has none."""
    found = checkpoints.list_fused(ws)
    for folder in found:
        if chatting_with is not None and folder.resolve() == Path(chatting_with).resolve():
            return folder
    return found[0] if found else None


def _choice(values: tuple[str, ...], value: str, id: str) -> Select[str]:
    return Select[str](
        [(Text(v), v) for v in values], value=value, allow_blank=False, compact=True, id=id
    )


@dataclass
class ShipStarted(Message):
    stage: str


@dataclass
class ShipFinished(Message):
    report: ShipReport


class ShipDialog(Dialog[None]):
    """Pick a target (and a quantization for GGUF), ship, read the report."""

    BINDINGS = [
        Binding("ctrl+s", "ship", "Ship", id="chat-ship-start"),
        Binding("escape", "close", "Close", id="chat-ship-close"),
    ]
    DEFAULT_CSS = """
    ShipDialog Horizontal { height: auto; }
    ShipDialog Horizontal > Label { width: 8; }
    ShipDialog Horizontal > Select { width: 16; }
    ShipDialog Horizontal > Static { width: 1fr; padding-left: 1; }
    ShipDialog #ship-report { height: auto; }
    /* A report or a refusal: the terms (read before shipping) give it room,
       so it is read whole at 80x24. */
    ShipDialog.answered TermsBox { max-height: 3; }
    """

    shipping: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self, ws: Workspace, fused: Path, terms: provenance.TermsSummary) -> None:
        super().__init__()
        self.ws = ws
        self.fused = fused
        self.terms = terms
        # The run's last verdict, as `ship` prints it; worse than its parent: ask first.
        prov = provenance.read_json(fused)
        self.gate = verdict.gate(
            ws.store, prov.run_id if prov else None, prov.checkpoint if prov else None
        )
        self._asked = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Ship {self.fused.name}  (ctrl+s ship, esc close)"), classes="title")
            yield TermsBox(self.terms)
            yield verdict_box(self.gate)
            with Horizontal():
                yield Label("target")
                yield _choice(TARGETS, "server", "ship-target")
                yield Static("", id="ship-what", classes="hint")
            with Horizontal(id="ship-quant-row"):
                yield Label("quant")
                yield _choice(QUANTS, "f16", "ship-quant")
            yield Tick("start it and ask the probes", compact=True, id="ship-check")
            yield Static("", id="ship-status", classes="hint")
            yield Static("", id="ship-report")
            yield Static("", id="ship-error", classes="error")

    def on_mount(self) -> None:
        self._show_fields()
        for selector in ("#ship-status", "#ship-report", "#ship-error"):
            self._put(selector, "")

    def _put(self, selector: str, text: str) -> None:
        """An empty line takes no room: the dialog is short at 80x24."""
        widget = self.query_one(selector, Static)
        widget.update(Text(text))
        widget.display = bool(text)
        answered = any(self.query_one(s, Static).display for s in ("#ship-report", "#ship-error"))
        self.set_class(answered, "answered")

    @on(Select.Changed, "#ship-target")
    def _show_fields(self) -> None:
        target = self.query_one("#ship-target", Select).value
        self.query_one("#ship-what", Static).update(Text(_WHAT.get(str(target), "")))
        self.query_one("#ship-quant-row").display = target == "gguf"
        self.query_one("#ship-check").display = target == "server"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("ship", "close"):
            return not self.shipping
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_ship(self) -> None:
        if self.shipping:
            return
        if self.gate.worse and not self._asked:

            def answered(answer: str | None) -> None:
                if answer == "anyway":
                    self._asked = True
                    self.action_ship()

            self.app.push_screen(worse_dialog(self.gate, "ship"), answered)
            return
        target = str(self.query_one("#ship-target", Select).value)
        quant = str(self.query_one("#ship-quant", Select).value)
        check = self.query_one("#ship-check", Checkbox).value
        for selector in ("#ship-report", "#ship-error"):
            self._put(selector, "")
        self.shipping = True
        # Read here, on the UI thread that owns the project's store.
        probes = default_probe_inputs(self.ws, 8)
        prov = provenance.read_json(self.fused)
        self._ship(target, quant, check, probes, prov)

    @work(thread=True, group="chat-ship", exclusive=True, exit_on_error=False, name="ship")
    def _ship(
        self,
        target: str,
        quant: str,
        check: bool,
        probes: list[list[ChatMessage]],
        prov: provenance.Provenance | None,
    ) -> None:
        checked = target == "gguf" or (target == "server" and check)
        how = f" and checking it with {len(probes)} probes" if checked else ""
        self.post_message(ShipStarted(f"shipping {self.fused.name} to {target}{how}…"))
        report = ship(self.ws, self.fused, target, probes, prov, quant=quant, check=check)
        self.post_message(ShipFinished(report))

    def on_ship_started(self, event: ShipStarted) -> None:
        self._put("#ship-status", event.stage)

    def on_ship_finished(self, event: ShipFinished) -> None:
        self._done()
        report = event.report
        self._put("#ship-status", "shipped")
        lines = [report.summary(), *(f"  {line}" for line in report.lines)]
        self._put("#ship-report", "\n".join(lines))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "chat-ship" or event.state != WorkerState.ERROR:
            return
        self._done()
        self._put("#ship-status", "")
        reason = failure_reason(event.worker.error)
        self._put("#ship-error", f"not shipped: {reason}")

    def _done(self) -> None:
        self.shipping = False
