"""Modal dialogs of the Curate screen: reason picker, editor, filter, confirm.

Each returns its answer through `dismiss`; None always means 'cancelled'.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from distill_tui.core import curation_query as cq
from distill_tui.core.checks import FLAGS

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 100; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; color: $primary; }}
{name} .hint {{ color: $text-muted; }}
"""


class ReasonPicker(ModalScreen[str | None]):
    """Pick a reason tag for a rejection, type a new one, or none ('')."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reason-cancel")]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="ReasonPicker")
        + """
    ReasonPicker OptionList { height: auto; max-height: 12; }
    """
    )

    def __init__(self, reasons: list[str], title: str = "Reject: why?") -> None:
        super().__init__()
        self.reasons = reasons
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            options = [Option(Text("(no reason)"), id="")]
            options += [
                Option(Text(f"{i + 1 if i < 9 else ' '} {r}"), id=r)
                for i, r in enumerate(self.reasons)
            ]
            yield OptionList(*options, id="reason-list")
            yield Input(
                placeholder="or type a new tag and press enter", id="reason-new", compact=True
            )
            yield Static(Text("enter picks · 1-9 quick pick · esc cancels"), classes="hint")

    def on_key(self, event) -> None:  # noqa: ANN001 - textual Key event
        if event.character and event.character.isdigit() and not isinstance(self.focused, Input):
            i = int(event.character) - 1
            if 0 <= i < min(9, len(self.reasons)):
                event.stop()
                self.dismiss(self.reasons[i])

    @on(OptionList.OptionSelected, "#reason-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or "")

    @on(Input.Submitted, "#reason-new")
    def _typed(self, event: Input.Submitted) -> None:
        tag = " ".join(event.value.split())
        if tag:
            self.dismiss(tag)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Edited:
    input: str
    output: str


class EditDialog(ModalScreen[Edited | None]):
    """Edit a row's output (and input) in TextAreas; ctrl+s saves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit-save"),
        Binding("escape", "cancel", "Cancel", id="edit-cancel"),
    ]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="EditDialog")
        + """
    EditDialog #edit-input { height: 5; }
    EditDialog #edit-output { height: 1fr; min-height: 6; }
    EditDialog > Vertical { height: 90%; }
    """
    )

    def __init__(self, row_id: int, input: str, output: str) -> None:
        super().__init__()
        self.row_id, self.input, self.output = row_id, input, output

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Edit row {self.row_id}"), classes="title")
            yield Label(Text("input"), classes="hint")
            yield TextArea(self.input, id="edit-input", soft_wrap=True)
            yield Label(
                Text("output (the teacher's original stays in the history)"), classes="hint"
            )
            yield TextArea(self.output, id="edit-output", soft_wrap=True)
            yield Static(Text("ctrl+s save · esc cancel · tab switches field"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#edit-output", TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(
            Edited(
                self.query_one("#edit-input", TextArea).text,
                self.query_one("#edit-output", TextArea).text,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[str | None]):
    """A question with one-key answers: `choices` maps key -> (answer, label)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm-cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, question: str, choices: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.question, self.choices = question, choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), classes="title")
            for key, (_, label) in self.choices.items():
                yield Static(Text(f"  {key}  {label}"))
            yield Static(Text("  esc  cancel"), classes="hint")

    def on_key(self, event) -> None:  # noqa: ANN001
        if event.character in self.choices:
            event.stop()
            self.dismiss(self.choices[event.character][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


def _int_or_none(text: str) -> int | None:
    text = text.strip().replace(",", "")
    return int(text) if text.isdigit() else None


class FilterDialog(ModalScreen[cq.Filter | None]):
    """Every filter and the sort on one compact form; enter applies."""

    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", id="filter-apply"),
        Binding("escape", "cancel", "Cancel", id="filter-cancel"),
        Binding("ctrl+r", "reset", "Reset", id="filter-reset"),
    ]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="FilterDialog")
        + """
    FilterDialog Horizontal { height: 1; margin-bottom: 1; }
    FilterDialog Horizontal > Label { width: 12; }
    FilterDialog Horizontal > Select, FilterDialog Horizontal > Input { width: 1fr; }
    FilterDialog Horizontal > Checkbox { width: 1fr; }
    """
    )

    def __init__(self, current: cq.Filter, reasons: list[str]) -> None:
        super().__init__()
        self.current, self.reasons = current, reasons

    def _select(self, wid: str, values: list[str], value: str | None) -> Select:
        return Select(
            [(v, v) for v in values],
            value=value if value in values else Select.NULL,
            prompt="any",
            id=wid,
            compact=True,
        )

    def compose(self) -> ComposeResult:
        f = self.current
        rows = [
            ("status", self._select("f-status", list(cq.STATUSES), f.status)),
            ("decision", self._select("f-decision", list(cq.DECISION_FILTERS), f.decision)),
            ("reason", self._select("f-reason", self.reasons, f.reason)),
            ("flag", self._select("f-flag", ["any", *FLAGS], f.flag)),
            (
                "text",
                Input(f.text or "", placeholder="in input or output", id="f-text", compact=True),
            ),
            ("min chars", Input(str(f.min_chars or ""), id="f-min", compact=True)),
            ("max chars", Input(str(f.max_chars or ""), id="f-max", compact=True)),
            (
                "sort by",
                Select(
                    [(s, s) for s in cq.SORTS],
                    value=f.sort,
                    allow_blank=False,
                    id="f-sort",
                    compact=True,
                ),
            ),
        ]
        with Vertical():
            yield Label(Text("Filter and sort"), classes="title")
            for label, widget in rows:
                with Horizontal():
                    yield Label(Text(label))
                    yield widget
            with Horizontal():
                yield Label(Text(""))
                yield Checkbox("descending", f.descending, id="f-desc", compact=True)
            yield Static(Text("ctrl+s or enter apply · ctrl+r reset · esc cancel"), classes="hint")

    def _value(self, wid: str) -> str | None:
        v = self.query_one(f"#{wid}", Select).value
        return None if v is Select.NULL else str(v)

    def action_apply(self) -> None:
        self.dismiss(
            cq.Filter(
                status=self._value("f-status"),
                decision=self._value("f-decision"),
                reason=self._value("f-reason"),
                flag=self._value("f-flag"),
                text=self.query_one("#f-text", Input).value.strip() or None,
                min_chars=_int_or_none(self.query_one("#f-min", Input).value),
                max_chars=_int_or_none(self.query_one("#f-max", Input).value),
                sort=self._value("f-sort") or "id",
                descending=self.query_one("#f-desc", Checkbox).value,
            )
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def action_reset(self) -> None:
        self.dismiss(cq.Filter())

    def action_cancel(self) -> None:
        self.dismiss(None)


def edit_externally(text: str, suffix: str = ".txt") -> str:
    """Open `text` in $VISUAL / $EDITOR (vi if neither) and return the result.
    The caller suspends the app around this."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="distill-edit-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        subprocess.run([*shlex.split(editor), name], check=True)
        with open(name, encoding="utf-8") as f:
            return f.read()
    finally:
        os.unlink(name)
