"""Editing a row on the Curate screen: in a dialog (`e`) or in $EDITOR (`E`),
through `core.curation.edit`, which keeps the teacher's original.

A field the user did not change is handed back as None, never as the text a
widget read back: a TextArea turns every line separator (`\\r\\n`, `\\n`,
U+2028) into one style, and an untouched input must stay byte-for-byte as it
was. A text too long for a TextArea to open without a long wait is shown as a
bounded preview in the dialog, saying that `E` edits it; saving there leaves
it as it is (nothing is ever cut on save)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.editor import edit_texts
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.text import append_clipped, clip
from distill_tui.ui.widgets.dialog import Dialog

# Characters a TextArea opens in well under a second on a slow machine; a
# 2 MB text takes it many seconds.
EDIT_LIMIT = 64 * 1024
_FIELDS = ("input", "output")


@dataclass(frozen=True)
class Edited:
    """What the dialog saves: None for a field left as it was."""

    input: str | None
    output: str | None


class EditDialog(Dialog[Edited | None]):
    """Edit a row's output (and input) in TextAreas; ctrl+s saves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit-save"),
        Binding("escape", "cancel", "Cancel", id="edit-cancel"),
    ]
    DEFAULT_CSS = """
    EditDialog #edit-input, EditDialog #edit-input-long { height: 5; }
    EditDialog #edit-output, EditDialog #edit-output-long { height: 1fr; min-height: 6; }
    EditDialog > Vertical { height: 90%; }
    """

    def __init__(self, row_id: int, input: str, output: str) -> None:
        super().__init__()
        self.row_id = row_id
        self.texts = {"input": input, "output": output}
        self._loaded: dict[str, str] = {}  # each TextArea's text as it opened

    def editable(self, field: str) -> bool:
        return len(self.texts[field]) <= EDIT_LIMIT

    def _field(self, field: str) -> ComposeResult:
        text = self.texts[field]
        if self.editable(field):
            yield TextArea(text, id=f"edit-{field}", soft_wrap=True)
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

    def action_save(self) -> None:
        self.dismiss(Edited(self._changed("input"), self._changed("output")))

    def action_cancel(self) -> None:
        self.dismiss(None)


class EditMixin(BaseScreen):
    """Mixed into CurateScreen, which provides current, _guard, _after_change and _push."""

    if TYPE_CHECKING:

        @property
        def current(self) -> cq.RowView | None: ...
        def _guard(self, fn: Callable[..., Any], *args: Any) -> bool: ...
        def _after_change(self, advance: bool) -> None: ...
        def _push(self, dialog: ModalScreen[Any], callback: Callable[[Any], None]) -> None: ...

    def action_edit(self) -> None:
        row = self.current
        if row is None:
            return

        def done(result: Edited | None) -> None:
            if result is None or (result.input is None and result.output is None):
                return
            if self._guard(cur.edit, self.ws.store, row.id, result.output, result.input):
                self._after_change(advance=False)

        self._push(EditDialog(row.id, row.input, row.output or ""), done)

    def action_edit_external(self) -> None:
        """The output in $EDITOR, and the input too when the detail pane shows
        only its start (its note says `E` opens it all)."""
        row = self.current
        if row is None:
            return
        from textual.app import SuspendNotSupported

        texts = {"output": row.output or ""}
        if clip(row.input)[1]:
            texts["input"] = row.input
        try:
            with self.app.suspend():
                edited = edit_texts(texts)
        except SuspendNotSupported:
            self.distill_app.report_error(UserError("this terminal cannot hand over to $EDITOR"))
            return
        except (OSError, Exception) as e:  # noqa: BLE001 - editor missing or failed
            self.distill_app.report_error(UserError(f"$EDITOR failed: {e}"))
            return
        # A file left as it was is a field not touched (an empty output stays none).
        changed = {k: v for k, v in edited.items() if v != texts[k]}
        if changed and self._guard(
            cur.edit, self.ws.store, row.id, changed.get("output"), changed.get("input")
        ):
            self._after_change(advance=False)
