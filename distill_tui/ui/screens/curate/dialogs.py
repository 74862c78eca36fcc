"""Modal dialogs of the Curate screen: reason picker, filter, confirm (the
editor is in `curate_edit`).

Each returns its answer through `dismiss`; None always means 'cancelled'.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import FLAGS
from distill_tui.ui.text import say
from distill_tui.ui.typeahead import field_keys
from distill_tui.ui.widgets.checkbox import Tick
from distill_tui.ui.widgets.compat import NO_SELECTION
from distill_tui.ui.widgets.confirm import ConfirmDialog
from distill_tui.ui.widgets.dialog import Dialog

__all__ = ["ConfirmDialog", "FilterDialog", "ReasonPicker"]


class ReasonPicker(Dialog[str | None]):
    """Pick a reason tag for a rejection, type a new one, or none ('').

    Typing goes straight to the tag box (it has the focus); up/down move
    through the known tags, 1-9 picks one at once. Enter takes the typed tag,
    else the highlighted one, and with neither it asks instead of rejecting
    with no reason: '(no reason)' is a choice made on purpose."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="reason-cancel"),
        Binding("up", "move(-1)", "Previous tag", show=False, id="reason-up"),
        Binding("down", "move(1)", "Next tag", show=False, id="reason-down"),
    ]
    DEFAULT_CSS = """
    ReasonPicker OptionList { height: auto; max-height: 12; }
    """

    def __init__(self, reasons: list[str], title: str = "Reject: why?") -> None:
        super().__init__()
        self.reasons = reasons
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            # '(no reason)' comes last: down arrow first reaches a real reason.
            options = [
                Option(Text(f"{i + 1 if i < 9 else ' '} {r}"), id=r)
                for i, r in enumerate(self.reasons)
            ]
            options.append(Option(Text("  (no reason)"), id=""))
            yield OptionList(*options, id="reason-list")
            yield Input(placeholder="type a new tag and press enter", id="reason-new", compact=True)
            yield Static(
                Text("↑↓ choose · 1-9 quick pick · enter picks · esc cancels"), classes="hint"
            )

    def on_mount(self) -> None:
        self.query_one("#reason-list", OptionList).highlighted = None
        self.query_one("#reason-new", Input).focus()

    def action_move(self, step: int) -> None:
        options = self.query_one("#reason-list", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit() and not isinstance(self.focused, Input):
            self._quick_pick(event.character, event)

    def _quick_pick(self, digit: str, event: events.Key | None = None) -> bool:
        i = int(digit) - 1
        if 0 <= i < min(9, len(self.reasons)):
            if event is not None:
                event.stop()
            self.dismiss(self.reasons[i])
            return True
        return False

    @on(Input.Changed, "#reason-new")
    def _typing(self, event: Input.Changed) -> None:
        # A lone digit in the empty box is the quick pick the hint promises.
        if len(event.value) == 1 and event.value.isdigit():
            self._quick_pick(event.value)

    @on(OptionList.OptionSelected, "#reason-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or "")

    @on(Input.Submitted, "#reason-new")
    def _typed(self, event: Input.Submitted) -> None:
        tag = " ".join(event.value.split())
        if tag:
            self.dismiss(tag)
            return
        options = self.query_one("#reason-list", OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id or "")
            return
        say(self, "Type a tag, or choose one with ↑↓ (or 1-9).", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)


def _int_or_none(text: str) -> int | None:
    text = text.strip().replace(",", "")
    return int(text) if text.isdigit() else None


class FilterDialog(Dialog[cq.Filter | None]):
    """Every filter and the sort on one compact form; enter applies."""

    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", id="filter-apply"),
        Binding("escape", "cancel", "Cancel", id="filter-cancel"),
        Binding("ctrl+r", "reset", "Reset", id="filter-reset"),
        *field_keys("filter"),
    ]
    DEFAULT_CSS = """
    FilterDialog Horizontal { height: 1; }
    FilterDialog .hint { margin-bottom: 1; }
    FilterDialog Horizontal > Label { width: 12; }
    FilterDialog Horizontal > Select, FilterDialog Horizontal > Input { width: 1fr; }
    FilterDialog Horizontal > Checkbox { width: 1fr; }
    """

    def __init__(self, current: cq.Filter, reasons: list[str]) -> None:
        super().__init__()
        self.current, self.reasons = current, reasons

    def _select(
        self, wid: str, values: list[str], value: str | None, labels: dict[str, str] | None = None
    ) -> Select:
        return Select(
            [((labels or {}).get(v, v), v) for v in values],
            value=value if value in values else NO_SELECTION,
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
            ("flag", self._select("f-flag", ["any", *FLAGS], f.flag, {"any": "any flag"})),
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
            # Under the title, so no terminal height can cut it off.
            yield Static(Text("ctrl+s or enter apply · ctrl+r reset · esc cancel"), classes="hint")
            for label, widget in rows:
                with Horizontal():
                    yield Label(Text(label))
                    yield widget
            with Horizontal():
                yield Label(Text(""))
                yield Tick("descending", f.descending, id="f-desc", compact=True)

    def _value(self, wid: str) -> str | None:
        v = self.query_one(f"#{wid}", Select).value
        return None if v is NO_SELECTION else str(v)

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
