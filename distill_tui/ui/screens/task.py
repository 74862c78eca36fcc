"""The Task screen (key 1): what the student should learn, from which teacher.

Every change is validated by the config model and written to distill.toml at
once, so a dropped connection loses nothing. A value the model refuses is
marked red with the reason and the value distill.toml keeps, so the field and
the file never disagree silently. A folder without a project shows the same
form, and ctrl+n creates the project from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from distill_tui.core import config as cfg
from distill_tui.core import sysinfo, topics
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.ui.screens.base import BaseScreen, SettingsReloaded
from distill_tui.ui.screens.import_dialog import ImportDialog
from distill_tui.ui.screens.task_student import StudentMixin
from distill_tui.ui.text import say
from distill_tui.ui.typeahead import field_keys
from distill_tui.ui.widgets.examples import ExampleTable

# widget id -> (section, field, parse)
FIELDS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "task-name": ("task", "name", str),
    "task-input-desc": ("task", "input_description", str),
    "task-output-desc": ("task", "output_description", str),
    "task-instructions": ("task", "instructions", str),
    "task-output-format": ("task", "output_format", str),
    "teacher-provider": ("teacher", "provider", str),
    "teacher-model": ("teacher", "model", str),
    "teacher-base-url": ("teacher", "base_url", lambda v: v or None),
    "teacher-max-tokens": ("teacher", "max_tokens", int),
    "teacher-concurrency": ("teacher", "concurrency", int),
    "teacher-rpm": ("teacher", "requests_per_minute", int),
    "student-model": ("student", "model", str),
}

PROVIDERS = [
    ("Anthropic (Claude)", "anthropic"),
    ("OpenAI-compatible", "openai"),
    ("Local MLX", "mlx"),
]


def _reason(error: ValidationError) -> str:
    """The config model's complaint in a few words ('must be at least 1')."""
    first = error.errors()[0]
    ctx = first.get("ctx") or {}
    for kind, words in (("ge", "at least"), ("gt", "more than"), ("le", "at most")):
        if kind in ctx:
            return f"must be {words} {ctx[kind]}"
    return str(first["msg"])


class TaskScreen(StudentMixin, BaseScreen):
    MODE = "task"
    BINDINGS = [
        Binding("ctrl+n", "create", "Create project", id="task-create"),
        Binding("ctrl+o", "import", "Import inputs", id="task-import"),
        Binding("ctrl+r", "use_recommended", "Use recommended student", id="task-recommend"),
        Binding("ctrl+g", "synth", "Synthesize inputs", id="task-synth"),
        *field_keys("task"),
    ]
    DEFAULT_CSS = """
    TaskScreen .row { height: auto; }
    TaskScreen .row > Label { width: 18; }
    TaskScreen .row > Input, TaskScreen .row > Select { width: 1fr; }
    TaskScreen #task-instructions { height: 6; }
    TaskScreen ExampleTable { height: auto; max-height: 8; }
    TaskScreen #hf-cache { height: auto; max-height: 6; }
    TaskScreen #task-error { color: $error; height: auto; display: none; }
    TaskScreen #task-error.shown { display: block; }
    TaskScreen .problem { color: $error; height: auto; margin-left: 18; display: none; }
    TaskScreen .problem.shown { display: block; }
    TaskScreen Input.refused { color: $error; background: $error 20%; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__()
        ws = self.distill_app.workspace if self.is_attached else None  # set in on_mount too
        self.draft = ws.settings if ws else cfg.Project()

    @property
    def settings(self) -> cfg.Project:
        ws = self.workspace
        return ws.settings if ws is not None else self.draft

    def compose_body(self) -> ComposeResult:
        s = self.settings
        with VerticalScroll(classes="body", id="task-form"):
            yield Static(Text(""), id="task-error")
            yield Label("Task", classes="section-title")
            yield from self._row("Name", Input(s.task.name, compact=True, id="task-name"))
            yield from self._row(
                "Input looks like",
                Input(
                    compact=True,
                    value=s.task.input_description,
                    id="task-input-desc",
                    placeholder="e.g. a support ticket",
                ),
            )
            yield from self._row(
                "Output looks like",
                Input(
                    compact=True,
                    value=s.task.output_description,
                    id="task-output-desc",
                    placeholder="e.g. one label",
                ),
            )
            yield from self._row(
                "Output format",
                Select(
                    [("free text", "text"), ("JSON", "json")],
                    value=s.task.output_format,
                    allow_blank=False,
                    compact=True,
                    id="task-output-format",
                ),
            )
            yield Label("Instructions (the teacher's task prompt)")
            yield TextArea(s.task.instructions, id="task-instructions")
            yield Static(Text(""), id="task-instructions-problem", classes="problem")
            yield Label(
                Text(self._examples_title(len(s.task.examples))),
                id="examples-title",
                classes="section-title",
            )
            yield ExampleTable(s.task.examples, id="examples")
            yield Label("Teacher", classes="section-title")
            yield from self._row(
                "Provider",
                Select(
                    PROVIDERS,
                    value=s.teacher.provider,
                    allow_blank=False,
                    compact=True,
                    id="teacher-provider",
                ),
            )
            yield from self._row(
                "Model", Input(compact=True, value=s.teacher.model, id="teacher-model")
            )
            yield Static(id="api-key")
            yield from self._row(
                "Base URL",
                Input(
                    compact=True,
                    value=s.teacher.base_url or "",
                    id="teacher-base-url",
                    placeholder="optional",
                ),
            )
            yield from self._row(
                "Max tokens",
                Input(
                    compact=True,
                    value=str(s.teacher.max_tokens),
                    type="integer",
                    id="teacher-max-tokens",
                ),
            )
            yield from self._row(
                "Concurrency",
                Input(
                    compact=True,
                    value=str(s.teacher.concurrency),
                    type="integer",
                    id="teacher-concurrency",
                ),
            )
            yield from self._row(
                "Requests/minute",
                Input(
                    compact=True,
                    value=str(s.teacher.requests_per_minute),
                    type="integer",
                    id="teacher-rpm",
                ),
            )
            yield Label("Student", classes="section-title")
            yield from self._row(
                "Model", Input(compact=True, value=s.student.model, id="student-model")
            )
            yield Static(id="recommendation", classes="hint")
            yield Label("Models in the Hugging Face cache (enter to use)", classes="hint")
            yield OptionList(id="hf-cache")
            yield Label("Inputs", classes="section-title")
            yield Static(id="inputs-summary")

    @staticmethod
    def _row(label: str, widget: Any) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(label)
            yield widget
        if widget.id in FIELDS:  # where a refused value says why, under its field
            yield Static(Text(""), id=f"{widget.id}-problem", classes="problem")

    @staticmethod
    def _examples_title(n: int) -> str:
        hint = "" if 5 <= n <= 10 else "  (the guide suggests 5-10)"
        return f"Few-shot examples: {n}{hint}   a add · e edit · d delete · shift+↑↓ move"

    def on_mount(self) -> None:
        ws = self.workspace
        if ws is not None:
            self.draft = ws.settings
        self._refresh_info()

    def on_screen_resume(self) -> None:
        self._refresh_info()

    def _refresh_info(self) -> None:
        s = self.settings
        present = sysinfo.api_key_present(s.teacher.provider)
        var = sysinfo.API_KEY_VARS.get(s.teacher.provider, "")
        if present is None:
            key_text = Text("Local teacher: no API key needed.", style="dim")
        elif present:
            key_text = Text(f"✓ {var} is set in the environment.")
        else:
            key_text = Text(f"✗ {var} is not set: export it in the shell that runs distill-tui.")
        self.query_one("#api-key", Static).update(key_text)
        mem = sysinfo.total_memory_bytes()
        rec = sysinfo.recommend_student(mem)
        self.query_one("#recommendation", Static).update(
            Text(
                f"For {sysinfo.human_bytes(mem)} of memory the guide suggests {rec}"
                " (ctrl+r to use it)."
            )
        )
        cache = self.query_one("#hf-cache", OptionList)
        cache.clear_options()
        models = sysinfo.cached_models()
        if models:
            cache.add_options(
                [
                    Option(Text(f"{m.repo_id}  {sysinfo.human_bytes(m.size_bytes)}"), id=m.repo_id)
                    for m in models
                ]
            )
        else:
            cache.add_option(Option(Text("(none found)"), disabled=True))
        ws = self.workspace
        if ws is None:
            summary = "No project here yet: fill in the form, then ctrl+n creates it."
        else:
            c = ws.store.counts()
            summary = f"{c['inputs']} inputs stored ({c['pending']} pending). ctrl+o imports more."
        self.query_one("#inputs-summary", Static).update(Text(summary))

    # -- saving ----------------------------------------------------------------
    def _apply(self, widget_id: str | None, raw: Any) -> None:
        if widget_id not in FIELDS:
            return
        section, field, parse = FIELDS[widget_id]
        model = getattr(self.settings, section)
        try:
            value = parse(raw)
            setattr(model, field, value)
        except ValidationError as e:
            self._mark(widget_id, _reason(e), getattr(model, field))
            return
        except ValueError:
            reason = "a number is needed" if not str(raw).strip() else f"{raw!r} is not a number"
            self._mark(widget_id, reason, getattr(model, field))
            return
        self._mark(widget_id, "", None)
        self._save()
        if widget_id == "teacher-provider":
            self._refresh_info()
        if widget_id == "task-name":
            self.query_one("NavBar").refresh()

    def _save(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        try:
            ws.save_settings()
        except (OSError, UserError) as e:
            self._show_error(f"Could not save distill.toml: {e}")
            say(self, f"Could not save distill.toml: {e}", severity="error", timeout=10)
            return
        self._show_error("")

    def _mark(self, widget_id: str, reason: str, kept: Any) -> None:
        """Mark a field whose value was refused (reason) or clear the mark (''),
        saying which value counts: the one distill.toml keeps."""
        if reason:
            where = "distill.toml keeps" if self.workspace is not None else "the project gets"
            reason = f"✗ {reason}: not saved; {where} {kept}"
        self.query_one(f"#{widget_id}").set_class(bool(reason), "refused")
        for problem in self.query(f"#{widget_id}-problem").results(Static):
            problem.update(Text(reason))
            problem.set_class(bool(reason), "shown")

    def _show_error(self, message: str) -> None:
        error = self.query_one("#task-error", Static)
        error.update(Text(message))
        error.set_class(bool(message), "shown")

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._apply(event.input.id, event.value)

    @on(TextArea.Changed)
    def _textarea_changed(self, event: TextArea.Changed) -> None:
        self._apply(event.text_area.id, event.text_area.text)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self._apply(event.select.id, event.value)

    @on(ExampleTable.Changed)
    def _examples_changed(self, event: ExampleTable.Changed) -> None:
        self.settings.task.examples = event.examples
        self.query_one("#examples-title", Label).update(
            Text(self._examples_title(len(event.examples)))
        )
        self._save()

    def on_settings_reloaded(self, event: SettingsReloaded) -> None:
        """distill.toml was edited outside the app: show the file's values in
        the fields it changed (the others keep what is typed in them)."""
        s = self.settings
        for widget_id, (section, field, _parse) in FIELDS.items():
            if f"{section}.{field}" not in event.changed:
                continue
            value = getattr(getattr(s, section), field)
            widget = self.query_one(f"#{widget_id}")
            if isinstance(widget, Input):
                widget.value = "" if value is None else str(value)
            elif isinstance(widget, TextArea):
                widget.load_text(value)
            elif isinstance(widget, Select):
                widget.value = value
        if "task.examples" in event.changed:
            table = self.query_one(ExampleTable)
            table.examples = list(s.task.examples)
            table.reload()
        self._refresh_info()

    @on(OptionList.OptionSelected, "#hf-cache")
    def _use_cached(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._replace_student(event.option.id)

    # -- actions ---------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create":
            return self.workspace is None  # hidden once the project exists
        if action == "import":
            return self.workspace is not None or None
        if action == "synth":  # instructions and 5 examples first (issue 22)
            return (self.workspace is not None and topics.readiness(self.settings) is None) or None
        return True

    def action_create(self) -> None:
        try:
            ws = Workspace.create(self.distill_app.root, self.draft)
        except (OSError, UserError) as e:
            self.distill_app.report_error(e, "Create project")
            return
        self.distill_app.project_created(ws)
        self.refresh_bindings()
        self._refresh_info()
        self.query_one("NavBar").refresh()  # it shows the project's name now

    def action_synth(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        why = topics.readiness(ws.settings)
        if why:
            say(self, f"synthesis needs instructions and 5 examples: {why}", severity="warning")
            return
        from distill_tui.ui.screens.synth_dialog import SynthDialog

        self.app.push_screen(SynthDialog(ws), lambda _r: self._refresh_info())

    def action_import(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        self.app.push_screen(ImportDialog(ws.store), lambda _report: self._refresh_info())
