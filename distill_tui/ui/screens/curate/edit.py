"""Editing a row on the Curate screen: in a dialog (`e`) or in $EDITOR (`E`),
through `core.curation.edit`, which keeps the teacher's original.

A field the user did not change is handed back as None, never as the text a
widget read back: a TextArea turns every line separator (`\\r\\n`, `\\n`,
U+2028) into one style, and an untouched input must stay byte-for-byte as it
was. A text too long for a TextArea to open without a long wait is shown as a
bounded preview in the dialog, saying that `E` edits it; saving there leaves
it as it is (nothing is ever cut on save)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static, TextArea

from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import edit_checked, json_problem
from distill_tui.core.curate.editor import edit_texts
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.ui.text import append_clipped, clip
from distill_tui.ui.widgets.dialog import Dialog
from distill_tui.ui.widgets.text_area import EditArea

if TYPE_CHECKING:
    from distill_tui.ui.app import DistillApp

# Characters a TextArea opens in well under a second on a slow machine; a
# 2 MB text takes it many seconds.
EDIT_LIMIT = 64 * 1024
_FIELDS = ("input", "output")


@dataclass(frozen=True)
class Saved:
    """What the dialog did: whether the row changed, and on a JSON task what
    is wrong with the saved output (None when it parses)."""

    changed: bool
    problem: str | None = None


class EditDialog(Dialog[Saved | None]):
    """Edit a row's output (and input) in TextAreas; ctrl+s saves through
    `core.curation.edit` here, so a refused edit (an empty input, an input
    another row has) is said in the dialog with the text still in it. On a
    JSON task an output that does not parse is named with where it fails, and
    saved only on a second ctrl+s, flagged `bad-json` at once."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit-save"),
        Binding("escape", "cancel", "Cancel", id="edit-cancel"),
    ]
    DEFAULT_CSS = """
    EditDialog #edit-input, EditDialog #edit-input-long { height: 5; }
    EditDialog #edit-output, EditDialog #edit-output-long { height: 1fr; min-height: 6; }
    EditDialog > Vertical { height: 90%; }
    """

    def __init__(self, ws: Workspace, row: cq.RowView) -> None:
        super().__init__()
        self._ws = ws
        self.row_id = row.id
        self.texts = {"input": row.input, "output": row.output or ""}
        self._loaded: dict[str, str] = {}  # each TextArea's text as it opened
        self._warned: str | None = None  # the output last warned about

    def editable(self, field: str) -> bool:
        return len(self.texts[field]) <= EDIT_LIMIT

    def _field(self, field: str) -> ComposeResult:
        text = self.texts[field]
        if self.editable(field):
            yield EditArea(text, id=f"edit-{field}", soft_wrap=True)
            return
        t = Text(
            f"{len(text.encode()):,} bytes: too long to edit here; E on the Curate screen"
            " edits it in $EDITOR. Saving here leaves it as it is.\n",
            style="italic",
        )
        append_clipped(t, text, "E opens it all in $EDITOR")
        with VerticalScroll(id=f"edit-{field}-long"):
            yield Static(t)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Edit row {self.row_id}"), classes="title")
            yield Label(Text("input"), classes="hint")
            yield from self._field("input")
            yield Label(
                Text("output (the teacher's original stays in the history)"), classes="hint"
            )
            yield from self._field("output")
            yield Static("", id="edit-error", classes="error")
            yield Static(Text("ctrl+s save · esc cancel · tab switches field"), classes="hint")

    def on_mount(self) -> None:
        for field in _FIELDS:
            if self.editable(field):
                self._loaded[field] = self.query_one(f"#edit-{field}", TextArea).text
        for field in ("output", "input"):
            if self.editable(field):
                self.query_one(f"#edit-{field}", TextArea).focus()
                break

    def _changed(self, field: str) -> str | None:
        if field not in self._loaded:
            return None
        text = self.query_one(f"#edit-{field}", TextArea).text
        return None if text == self._loaded[field] else text

    def _error(self, text: str) -> None:
        self.query_one("#edit-error", Static).update(Text(text))

    def action_save(self) -> None:
        new_input, output = self._changed("input"), self._changed("output")
        problem = json_problem(self._ws.settings, output)
        if problem is not None and output != self._warned:
            self._warned = output
            self._error(f"✗ {problem}. ctrl+s again saves it anyway, flagged bad-json.")
            return
        try:
            changed, problem = edit_checked(
                self._ws.store, self._ws.settings, self.row_id, output, new_input
            )
        except UserError as e:
            self._error(f"✗ {e}")
            return
        self.dismiss(Saved(changed, problem))

    def action_cancel(self) -> None:
        self.dismiss(None)


def edit_in_editor(app: App[object], ws: Workspace, row: cq.RowView) -> Saved | None:
    """The output in $EDITOR, and the input too when the detail pane shows
    only its start (its note says `E` opens it all); None when it failed,
    which is reported. A file left as it was is a field not touched (an
    empty output stays none)."""
    from textual.app import SuspendNotSupported

    texts = {"output": row.output or ""}
    if clip(row.input)[1]:
        texts["input"] = row.input
    report = cast("DistillApp", app).report_error
    try:
        with app.suspend():
            edited = edit_texts(texts)
    except SuspendNotSupported:
        report(UserError("this terminal cannot hand over to $EDITOR"))
        return None
    except Exception as e:  # noqa: BLE001 - editor missing or failed
        report(UserError(f"$EDITOR failed: {e}"))
        return None
    changed = {k: v for k, v in edited.items() if v != texts[k]}
    if not changed:
        return Saved(False)
    try:
        return Saved(
            *edit_checked(
                ws.store, ws.settings, row.id, changed.get("output"), changed.get("input")
            )
        )
    except UserError as e:
        report(e, "curate")
        return None
