"""The import dialog: pick files or a folder, filters, and see what was imported."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static

from distill_tui.core.generate.importer import (
    DEFAULT_MAX_BYTES,
    ImportOptions,
    ImportReport,
    import_inputs,
)
from distill_tui.core.store import Store
from distill_tui.ui.text import say
from distill_tui.ui.typeahead import field_keys
from distill_tui.ui.widgets.checkbox import Tick


class ImportDialog(ModalScreen[ImportReport | None]):
    BINDINGS = [
        Binding("ctrl+s", "run_import", "Import", id="import-run"),
        Binding("escape", "close", "Close", id="import-close"),
        *field_keys("import"),
    ]
    DEFAULT_CSS = """
    ImportDialog { align: center middle; }
    ImportDialog > Vertical {
        width: 76; height: 22; border: round $primary; background: $surface; padding: 0 1;
    }
    ImportDialog Horizontal { height: auto; }
    ImportDialog .field { width: 1fr; height: auto; }
    ImportDialog #import-report { height: 1fr; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.report: ImportReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Import inputs  (ctrl+s import, esc close)")
            yield Label("Files or folders", classes="hint")
            yield Input(placeholder="separated by spaces", id="import-paths")
            with Horizontal():
                with Vertical(classes="field"):
                    yield Label("File names (glob)", classes="hint")
                    yield Input("*", placeholder="*", id="import-glob")
                with Vertical(classes="field"):
                    yield Label("Max file size (bytes)", classes="hint")
                    yield Input(str(DEFAULT_MAX_BYTES), type="integer", id="import-max")
                with Vertical(classes="field"):
                    yield Label("JSONL field", classes="hint")
                    yield Input(placeholder="prompt or input", id="import-field")
            yield Tick("one input per line", id="import-lines")
            with VerticalScroll(id="import-report"):
                yield Static(
                    Text("Folders are read recursively; .jsonl uses a prompt/input field."),
                    id="import-result",
                )

    def action_run_import(self) -> None:
        raw = self.query_one("#import-paths", Input).value.split()
        if not raw:
            say(self, "Enter at least one file or folder.", severity="warning")
            return
        max_text = self.query_one("#import-max", Input).value.strip()
        if not max_text.isdigit() or int(max_text) < 1:
            say(self, "Max file size: a number of bytes, at least 1.", severity="warning")
            self.query_one("#import-max", Input).focus()
            return
        opts = ImportOptions(
            glob=self.query_one("#import-glob", Input).value or "*",
            max_bytes=int(max_text),
            field=self.query_one("#import-field", Input).value or None,
            mode="lines" if self.query_one("#import-lines", Checkbox).value else "auto",
        )
        self.query_one("#import-result", Static).update(Text("Importing…"))
        self._import(raw, opts)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _import(self, raw: list[str], opts: ImportOptions) -> None:
        report = import_inputs(self.store, raw, opts)
        self.app.call_from_thread(self._show, report)

    def _show(self, report: ImportReport) -> None:
        self.report = report
        text = Text(report.summary + "\n", style="bold")
        for line in report.skipped[:200]:
            text.append("skipped " + line + "\n")
        if len(report.skipped) > 200:
            text.append(f"… and {len(report.skipped) - 200} more\n")
        self.query_one("#import-result", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(self.report)
