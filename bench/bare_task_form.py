"""The Task screen's widgets (the same kinds and counts) in a bare Textual app
with no code of distill-tui: what Textual itself takes to draw that form, the
floor for the first screen as it is built. bench_startup.py runs it."""

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Select, Static, TextArea


class Form(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]
    CSS = """
    .row { height: auto; }
    .row > Label { width: 18; }
    .row > Input, .row > Select { width: 1fr; }
    TextArea { height: 6; }
    DataTable { height: 4; }
    """

    @staticmethod
    def row(label: str, widget: Widget) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(label)
            yield widget

    def compose(self) -> ComposeResult:
        yield Static("1 Task   2 Queue   3 Curate   4 Train   5 Chat    proj")
        with VerticalScroll():
            yield Static("")
            yield Label("Task")
            yield from self.row("Name", Input("proj", compact=True))
            for name in ("Input looks like", "Output looks like"):
                yield from self.row(name, Input(compact=True, placeholder="e.g. one label"))
            kinds = [("free text", "text"), ("JSON", "json")]
            fmt = Select(kinds, value="text", allow_blank=False, compact=True)
            yield from self.row("Output format", fmt)
            yield Label("Instructions (the teacher's task prompt)")
            yield TextArea("")
            yield Label("Few-shot examples: 0")
            table: DataTable[str] = DataTable()
            table.add_columns("#", "Input", "Output")
            yield table
            yield Label("Teacher")
            providers = [("Anthropic (Claude)", "anthropic"), ("OpenAI-compatible", "openai")]
            provider = Select(providers, value="anthropic", allow_blank=False, compact=True)
            yield from self.row("Provider", provider)
            yield from self.row("Model", Input("claude-sonnet-4-6", compact=True))
            yield Static("x ANTHROPIC_API_KEY is not set")
            yield Static("")
            for name in ("Base URL", "Price", "Max tokens", "Concurrency", "Requests/minute"):
                yield from self.row(name, Input("1", compact=True))
            with Vertical(classes="row"):
                yield Label("Student")
                yield from self.row("Model", Input("model", compact=True))
                yield Static("recommended")
                yield Label("Models here")
                yield OptionList("(looking)")
            yield Label("Inputs")
            yield Static("0 inputs stored")
        yield Static("0 in · 0 pend │ bare form ready")
        yield Footer()


if __name__ == "__main__":
    Form().run()
