"""The few-shot examples table on the Task screen and its edit dialog."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, TextArea

from distill_tui.core.config import Example
from distill_tui.ui.text import data_text, say
from distill_tui.ui.typeahead import field_keys
from distill_tui.ui.widgets.confirm import ConfirmDialog


def preview(text: str, width: int = 30) -> Text:
    """One line of model/user text, shown as data (never markup)."""
    flat = " ".join(text.split())
    return data_text(flat if len(flat) <= width else flat[: width - 1] + "…", no_wrap=True)


class ExampleDialog(ModalScreen[Example | None]):
    """Edit one input/output pair. ctrl+s saves; escape cancels, asking first
    when something was typed, so a half-written example is never dropped by a
    stray key."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="example-save"),
        Binding("escape", "cancel", "Cancel", id="example-cancel"),
        *field_keys("example"),
    ]
    DEFAULT_CSS = """
    ExampleDialog { align: center middle; }
    ExampleDialog > Vertical {
        width: 76; height: 20; border: round $primary; background: $surface; padding: 0 1;
    }
    ExampleDialog TextArea { height: 1fr; }
    """

    def __init__(self, example: Example | None, title: str) -> None:
        super().__init__()
        self.example = example
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"{self.title_text}  (ctrl+s save, esc cancel)"))
            yield Label("Input")
            yield TextArea(self.example.input if self.example else "", id="ex-input")
            yield Label("Output")
            yield TextArea(self.example.output if self.example else "", id="ex-output")

    def action_save(self) -> None:
        inp = self.query_one("#ex-input", TextArea).text
        out = self.query_one("#ex-output", TextArea).text
        if not inp.strip() or not out.strip():
            say(self, "An example needs both an input and an output.", severity="warning")
            return
        self.dismiss(Example(input=inp, output=out))

    def _typed(self) -> bool:
        before = (self.example.input, self.example.output) if self.example else ("", "")
        now = (
            self.query_one("#ex-input", TextArea).text,
            self.query_one("#ex-output", TextArea).text,
        )
        return now != before

    def action_cancel(self) -> None:
        if not self._typed():
            self.dismiss(None)
            return

        def answered(choice: str | None) -> None:
            if choice == "drop":
                self.dismiss(None)
            elif choice == "save":
                self.action_save()

        self.app.push_screen(
            ConfirmDialog(
                "Drop what you typed in this example?",
                {"y": ("drop", "drop it"), "s": ("save", "save it")},
                cancel="keep editing",
            ),
            answered,
        )


class ExampleTable(DataTable):
    """Few-shot pairs. a add, enter/e edit, d delete (asks first), shift+up/down move."""

    BINDINGS = [
        Binding("a", "add", "Add example", id="example-add"),
        Binding("e,enter", "edit", "Edit", id="example-edit"),
        Binding("d,delete", "delete", "Delete", id="example-delete"),
        Binding("shift+up", "move(-1)", "Move up", id="example-up"),
        Binding("shift+down", "move(1)", "Move down", id="example-down"),
        # DataTable's own home/end scroll sideways; in a list of rows they mean
        # the first and the last row.
        Binding("home", "scroll_top", "First example", show=False, id="example-first"),
        Binding("end", "scroll_bottom", "Last example", show=False, id="example-last"),
    ]

    @dataclass
    class Changed(Message):
        """The examples list was edited; `examples` is the new list."""

        examples: list[Example]

    def __init__(self, examples: list[Example], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.examples = list(examples)

    def on_mount(self) -> None:
        self.add_column("#", width=3, key="n")
        self.add_column("Input", width=32, key="input")
        self.add_column("Output", width=32, key="output")
        self.reload()

    def reload(self, cursor: int | None = None) -> None:
        self.clear()
        for i, ex in enumerate(self.examples, start=1):
            self.add_row(Text(str(i)), preview(ex.input), preview(ex.output))
        if cursor is not None and self.examples:
            self.move_cursor(row=max(0, min(cursor, len(self.examples) - 1)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete", "move") and not self.examples:
            return None
        return True

    def _changed(self, cursor: int) -> None:
        self.reload(cursor)
        self.refresh_bindings()
        self.post_message(self.Changed(list(self.examples)))

    def action_add(self) -> None:
        def done(ex: Example | None) -> None:
            if ex is not None:
                self.examples.append(ex)
                self._changed(len(self.examples) - 1)

        self.app.push_screen(ExampleDialog(None, "New example"), done)

    def action_edit(self) -> None:
        row = self.cursor_row
        if not 0 <= row < len(self.examples):
            return

        def done(ex: Example | None) -> None:
            if ex is not None:
                self.examples[row] = ex
                self._changed(row)

        self.app.push_screen(ExampleDialog(self.examples[row], f"Example {row + 1}"), done)

    def action_delete(self) -> None:
        row = self.cursor_row
        if not 0 <= row < len(self.examples):
            return
        ex = self.examples[row]

        def answered(choice: str | None) -> None:
            if choice == "delete" and row < len(self.examples) and self.examples[row] is ex:
                del self.examples[row]
                self._changed(row)
                say(self, f"Deleted example {row + 1}.")

        self.app.push_screen(
            ConfirmDialog(
                f"Delete example {row + 1}? {preview(ex.input, 50).plain}",
                {"y": ("delete", "delete it")},
                cancel="keep it",
            ),
            answered,
        )

    def action_move(self, delta: int) -> None:
        row = self.cursor_row
        new = row + delta
        if 0 <= row < len(self.examples) and 0 <= new < len(self.examples):
            ex = self.examples
            ex[row], ex[new] = ex[new], ex[row]
            self._changed(new)
