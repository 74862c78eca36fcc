"""Dialogs of the Chat screen: generation settings and fuse options, the
terms lines the fuse and Ship dialogs show before a model leaves, and the
run's last verdict against its parent (asking first when it is worse)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Static, TextArea

from distill_tui.core import chatlog
from distill_tui.core.evaluate.verdict import Gate
from distill_tui.core.ship.provenance import TermsSummary
from distill_tui.core.ship.terms import NOT_ADVICE
from distill_tui.engine.chat.session import GenSettings
from distill_tui.ui.typeahead import field_keys
from distill_tui.ui.widgets.checkbox import Tick
from distill_tui.ui.widgets.confirm import ConfirmDialog
from distill_tui.ui.widgets.dialog import Dialog

# The form rows both dialogs share; the box itself is the one Dialog look.
_FORM_CSS = """
{cls} Horizontal {{ height: auto; }}
{cls} Horizontal > Label {{ width: 14; padding-top: 1; }}
{cls} Horizontal > Input {{ width: 1fr; }}
"""


class TermsBox(VerticalScroll, can_focus=False):
    """The student's licence as provenance reads it ("unknown" when nothing on
    disk says), then each teacher's terms line; quoted, not advice. A few
    lines high, so the dialog fits 80x24 with many teachers."""

    DEFAULT_CSS = "TermsBox { height: auto; max-height: 7; }"

    def __init__(self, summary: TermsSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        lines = [
            f"student licence: {s.student_license} ({s.license_source})",
            f"teachers' terms ({NOT_ADVICE}):",
        ]
        lines += [f"teacher {teacher}: {line}" for teacher, line in s.teachers.items()]
        yield Static(Text("\n".join(lines)), classes="hint")


def verdict_box(gate: Gate) -> Static:
    """The run's last verdict (or that it has none) in the Fuse and Ship dialogs."""
    return Static(Text(gate.line()), classes="error" if gate.worse else "hint", id="verdict")


def worse_dialog(gate: Gate, action: str) -> ConfirmDialog:
    """Asked before fusing or shipping a run evaluated worse than its parent:
    the same figures `fuse` and `ship` refuse with."""
    return ConfirmDialog(
        f"{gate.line()}. {action.capitalize()} it anyway?",
        {"y": ("anyway", f"{action} it anyway")},
        cancel=f"do not {action}",
    )


_LABELS = {"top_p": "top-p", "max_tokens": "max tokens"}


class SettingsDialog(Dialog[GenSettings | None]):
    """Temperature, top-p, max tokens, seed and system prompt."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Apply", id="chat-settings-apply"),
        Binding("escape", "dismiss(None)", "Cancel", id="chat-settings-cancel"),
        *field_keys("chat-settings"),
    ]
    DEFAULT_CSS = (
        _FORM_CSS.format(cls="SettingsDialog")
        + """
    SettingsDialog TextArea { height: 8; }
    """
    )

    def __init__(self, settings: GenSettings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical():
            yield Label("Generation settings  (ctrl+s apply, esc cancel)")
            with Horizontal():
                yield Label("temperature")
                yield Input(str(s.temperature), type="number", id="set-temp")
                yield Label("top-p")
                yield Input(str(s.top_p), type="number", id="set-top-p")
            with Horizontal():
                yield Label("max tokens")
                yield Input(str(s.max_tokens), type="integer", id="set-max")
                yield Label("seed")
                yield Input(str(s.seed), type="integer", id="set-seed")
            yield Label("system prompt (empty: none)")
            yield TextArea(s.system_prompt, id="set-system")
            yield Static("", id="set-error", classes="error")

    def action_save(self) -> None:
        try:
            temp = float(self.query_one("#set-temp", Input).value)
            top_p = float(self.query_one("#set-top-p", Input).value)
            max_tokens = int(self.query_one("#set-max", Input).value)
            seed = int(self.query_one("#set-seed", Input).value)
        except ValueError:
            self.query_one("#set-error", Static).update(Text("every field needs a number"))
            return
        # The bounds settings.json is checked with when the screen opens.
        problems = chatlog.check_settings(
            temperature=temp, top_p=top_p, max_tokens=max_tokens, seed=seed
        )
        if problems:
            shown = "; ".join(f"{_LABELS.get(k, k)}: {m}" for k, m in problems)
            self.query_one("#set-error", Static).update(Text(shown))
            return
        system = self.query_one("#set-system", TextArea).text
        self.dismiss(
            replace(
                self.settings,
                temperature=temp,
                top_p=top_p,
                max_tokens=max_tokens,
                seed=seed,
                system_prompt=system,
            )
        )


class FuseDialog(Dialog[tuple[Path, bool] | None]):
    """Where to write the fused model, and whether to de-quantize."""

    BINDINGS = [
        Binding("ctrl+s", "fuse", "Fuse", id="chat-fuse-start"),
        Binding("escape", "dismiss(None)", "Cancel", id="chat-fuse-cancel"),
    ]
    DEFAULT_CSS = _FORM_CSS.format(cls="FuseDialog")

    def __init__(
        self,
        label: str,
        default_out: Path,
        note: str = "",
        terms: TermsSummary | None = None,
        gate: Gate | None = None,
    ) -> None:
        super().__init__()
        self.label = label
        self.default_out = default_out
        self.note = note  # what is true about GGUF for this student
        self.terms = terms
        self.gate = gate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Fuse {self.label} into its base  (ctrl+s fuse, esc cancel)"))
            if self.terms is not None:
                yield TermsBox(self.terms)
            if self.gate is not None:
                yield verdict_box(self.gate)
            with Horizontal():
                yield Label("output folder")
                yield Input(str(self.default_out), id="fuse-out")
            yield Tick("de-quantize (bigger; keeps the adapter exact)", id="fuse-dequantize")
            yield Static(Text(self.note), classes="hint")
            yield Static("", id="fuse-error", classes="error")

    def action_fuse(self) -> None:
        value = self.query_one("#fuse-out", Input).value.strip()
        if not value:
            self.query_one("#fuse-error", Static).update(Text("give an output folder"))
            return
        out = Path(value).expanduser()
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            self.query_one("#fuse-error", Static).update(
                Text(f"{out} is not empty; choose a new folder")
            )
            return
        self.dismiss((out, self.query_one("#fuse-dequantize", Checkbox).value))
