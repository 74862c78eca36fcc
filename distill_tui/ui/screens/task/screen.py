"""The Task screen (key 1): what the student should learn, from which teacher.

Every change is validated by the config model and written to distill.toml at
once, so a dropped connection loses nothing. A value the model refuses is
marked red with the reason and the value distill.toml keeps, so the field and
the file never disagree silently. A folder without a project shows the same
form, and ctrl+n creates the project from it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from distill_tui.core import config as cfg
from distill_tui.core.errors import UserError
from distill_tui.core.generate.pricing import parse_price, price_text
from distill_tui.core.generate.teacher_models import WANTED
from distill_tui.core.project import Workspace
from distill_tui.core.synth import topics
from distill_tui.ui.screens.base import BaseScreen, SettingsReloaded
from distill_tui.ui.screens.task.fields import (
    FIELDS,
    PROVIDERS,
    examples_title,
    key_line,
    price_placeholder,
    price_value,
    refusal_reason,
    terms_line,
)
from distill_tui.ui.screens.task.student import StudentChoice
from distill_tui.ui.screens.task.teacher_model import TeacherModelHint
from distill_tui.ui.text import say
from distill_tui.ui.typeahead import field_keys
from distill_tui.ui.widgets.dropdown import Dropdown
from distill_tui.ui.widgets.examples import ExampleTable

W = TypeVar("W", bound=Widget)


def row(label: str, widget: Any) -> ComposeResult:
    with Horizontal(classes="row"):
        yield Label(label)
        yield widget


class FormRest(Vertical):
    """The part of the Task form below the first screen at 80x24: how the
    teacher is called (base URL, price, limits), the student, the inputs.
    The screen mounts it after its first frame is drawn, so the form appears
    sooner; it is made from the settings as they are then."""

    DEFAULT_CSS = "FormRest { height: auto; }"

    def __init__(self, settings: cfg.Project) -> None:
        super().__init__()
        self.settings = settings

    def allow_focus_children(self) -> bool:
        # Textual orders tab stops by their place on the screen: until this
        # part is laid out its fields sit at the top left and a tab pressed
        # at once would jump from the form to them, past Name and the rest.
        return self.size.height > 0 and super().allow_focus_children()

    def compose(self) -> ComposeResult:
        s = self.settings
        yield Static(id="teacher-terms")
        yield from row(
            "Base URL",
            Input(
                compact=True,
                value=s.teacher.base_url or "",
                id="teacher-base-url",
                placeholder="optional",
            ),
        )
        yield from row(
            "Price $/M tokens",
            Input(
                compact=True,
                value=price_value(s.teacher),
                id="teacher-price",
                placeholder=price_placeholder(s.teacher),
            ),
        )
        for label, widget_id, number in (
            ("Max tokens", "teacher-max-tokens", s.teacher.max_tokens),
            ("Concurrency", "teacher-concurrency", s.teacher.concurrency),
            ("Requests/minute", "teacher-rpm", s.teacher.requests_per_minute),
        ):
            yield from row(label, Input(str(number), compact=True, type="integer", id=widget_id))
        yield StudentChoice(s.student.model)
        yield Label("Inputs", classes="section-title")
        yield Static(id="inputs-summary")


class TaskScreen(BaseScreen):
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
    TaskScreen .row > Input, TaskScreen .row > Dropdown { width: 1fr; }
    TaskScreen #task-instructions { height: 6; }
    TaskScreen ExampleTable { height: auto; max-height: 8; }
    TaskScreen #teacher-terms { height: auto; color: $text-muted; }
    TaskScreen #task-error { color: $error; height: auto; display: none; }
    TaskScreen #task-error.shown { display: block; }
    TaskScreen .problem { color: $error; height: auto; margin-left: 18; display: none; }
    TaskScreen .problem.shown { display: block; }
    TaskScreen Input.refused { color: $error; background: $error 20%; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._rest_ready = False  # FormRest, below the fold, is mounted
        self._recommend_when_ready = False  # ctrl+r pressed before it was
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
            yield from row("Name", Input(s.task.name, compact=True, id="task-name"))
            yield from row(
                "Input looks like",
                Input(
                    compact=True,
                    value=s.task.input_description,
                    id="task-input-desc",
                    placeholder="e.g. a support ticket",
                ),
            )
            yield from row(
                "Output looks like",
                Input(
                    compact=True,
                    value=s.task.output_description,
                    id="task-output-desc",
                    placeholder="e.g. one label",
                ),
            )
            yield from row(
                "Output format",
                Dropdown(
                    [("free text", "text"), ("JSON", "json")],
                    s.task.output_format,
                    id="task-output-format",
                ),
            )
            yield Label("Instructions (the teacher's task prompt)")
            yield TextArea(s.task.instructions, id="task-instructions")
            yield Label(
                Text(examples_title(len(s.task.examples))),
                id="examples-title",
                classes="section-title",
            )
            yield ExampleTable(s.task.examples, id="examples")
            yield Label("Teacher", classes="section-title")
            yield from row(
                "Provider",
                Dropdown(PROVIDERS, s.teacher.provider, id="teacher-provider"),
            )
            yield from row("Model", Input(compact=True, value=s.teacher.model, id="teacher-model"))
            yield Static(id="api-key")
            yield TeacherModelHint(id="teacher-model-hint")

    def on_mount(self) -> None:
        ws = self.workspace
        if ws is not None:
            self.draft = ws.settings
        self._refresh_info()
        self.after_first_frame(self._mount_rest)

    def _open(self) -> bool:
        """The screen is up: not closing, not closed (a quit, a SIGTERM or a
        dropped SSH connection in the first frames closes it under the
        callbacks that wait for its first frame)."""
        return self.is_attached and not self._closing and not self._closed

    async def _mount_rest(self) -> None:
        """The rest of the form, below the fold, once the first frame is out."""
        form = next(self.query("#task-form").results(VerticalScroll), None)
        if form is None or not self._open():
            return
        await form.mount(FormRest(self.settings))
        if not self._open():
            return
        self._rest_ready = True
        self._refresh_info()
        if self._recommend_when_ready:
            self.action_use_recommended()

    def _below(self, selector: str, kind: type[W]) -> W | None:
        """A widget of the part below the fold: None until it is made, and
        once the screen closes (its widgets go before its callbacks do)."""
        if not self._rest_ready:
            return None
        return next(self.query(selector).results(kind), None)

    def on_screen_resume(self) -> None:
        self._refresh_info()

    def _refresh_info(self) -> None:
        if not self._open():
            return  # closed under a dialog's or the first frame's callback
        self._refresh_teacher()
        student, summary_box = (
            self._below("StudentChoice", StudentChoice),
            self._below("#inputs-summary", Static),
        )
        if student is None or summary_box is None:
            return  # the rest of the form is made from the settings as they are then
        student.refresh_info()
        ws = self.workspace
        if ws is None:
            summary = "No project here yet: fill in the form, then ctrl+n creates it."
        else:
            c = ws.store.counts()
            summary = f"{c['inputs']} inputs stored ({c['pending']} pending). ctrl+o imports more."
        summary_box.update(Text(summary))

    def _refresh_teacher(self) -> None:
        """The API key line and what a blank price means: they follow the
        provider and base URL as they are typed."""
        if not self._open():
            return
        teacher = self.settings.teacher
        key = next(self.query("#api-key").results(Static), None)
        if key is not None:
            key.update(key_line(teacher))
        terms, price = self._below("#teacher-terms", Static), self._below("#teacher-price", Input)
        if terms is not None:
            terms.update(terms_line(teacher))
        if price is not None:
            price.placeholder = price_placeholder(teacher)

    # -- saving ----------------------------------------------------------------
    def _apply(self, widget: Widget, raw: Any) -> None:
        widget_id = widget.id
        if widget_id == "teacher-price":
            self._apply_price(str(raw))
        if widget_id not in FIELDS:
            return
        section, field, parse = FIELDS[widget_id]
        model = getattr(self.settings, section)
        try:
            value = parse(raw)
            if value == getattr(model, field) and not widget.has_class("refused"):
                return  # no change: the value each field is filled with posts one too
            setattr(model, field, value)
        except cfg.Invalid as e:
            self._mark(widget_id, refusal_reason(e), getattr(model, field))
            return
        except ValueError:
            reason = "a number is needed" if not str(raw).strip() else f"{raw!r} is not a number"
            self._mark(widget_id, reason, getattr(model, field))
            return
        self._mark(widget_id, "", None)
        self._save()
        if widget_id in ("teacher-provider", "teacher-base-url", "teacher-model"):
            self._refresh_teacher()
        if widget_id == "teacher-provider":
            self.query_one(TeacherModelHint).switched(self.settings.teacher)
        elif widget_id == "teacher-base-url":
            self.query_one(TeacherModelHint).look(self.settings.teacher)
        price = self._below("#teacher-price", Input)
        if widget_id == "teacher-model" and price is not None:  # the price is this model's own
            price.value = price_value(self.settings.teacher)
        if widget_id == "task-name":
            self.query_one("NavBar").refresh()

    def _apply_price(self, raw: str) -> None:
        """The teacher model's own price (`[teacher.prices."MODEL"]`); blank
        removes it, so the genai-prices table (or unknown) applies again."""
        t = self.settings.teacher
        try:
            price = parse_price(raw)
        except ValueError as e:
            self._mark("teacher-price", str(e), price_text(t.prices.get(t.model)) or "no price")
            return
        self._mark("teacher-price", "", None)
        if t.prices.get(t.model) == price:
            return
        prices = dict(t.prices)
        if price is None:
            prices.pop(t.model, None)
        else:
            prices[t.model] = price
        t.prices = prices
        self._save()

    def _save(self) -> None:
        # Said once in a toast, not at every keystroke; a deleted file is asked about.
        self._show_error(self.distill_app.settings_file.save())

    def _mark(self, widget_id: str, reason: str, kept: Any) -> None:
        """Mark a field whose value was refused (reason) or clear the mark (''),
        saying which value counts: the one distill.toml keeps."""
        if reason:
            where = "distill.toml keeps" if self.workspace is not None else "the project gets"
            reason = f"✗ {reason}: not saved; {where} {kept}"
        field = self.query_one(f"#{widget_id}")
        field.set_class(bool(reason), "refused")
        problem = next(iter(self.query(f"#{widget_id}-problem").results(Static)), None)
        if problem is None:
            if not reason:
                return
            # The line under the field is made the first time it is needed:
            # a dozen hidden lines would slow the form's first paint.
            problem = Static(Text(reason), id=f"{widget_id}-problem", classes="problem shown")
            row = field.parent if isinstance(field.parent, Horizontal) else field
            if isinstance(row.parent, Widget):
                row.parent.mount(problem, after=row)
        else:
            problem.update(Text(reason))
            problem.set_class(bool(reason), "shown")
        if reason:  # the line under the field may be below the fold
            self.call_after_refresh(problem.scroll_visible, animate=False)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#task-error", Static)
        error.update(Text(message))
        error.set_class(bool(message), "shown")

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._apply(event.input, event.value)

    @on(TextArea.Changed)
    def _textarea_changed(self, event: TextArea.Changed) -> None:
        self._apply(event.text_area, event.text_area.text)

    @on(TeacherModelHint.Clear)
    def _clear_model(self) -> None:
        field = self.query_one("#teacher-model", Input)
        field.placeholder = WANTED[self.settings.teacher.provider]
        field.value = ""

    @on(TeacherModelHint.Pick)
    def _pick_model(self, event: TeacherModelHint.Pick) -> None:
        self.query_one("#teacher-model", Input).value = event.model

    @on(Dropdown.Changed)
    def _dropdown_changed(self, event: Dropdown.Changed) -> None:
        self._apply(event.dropdown, event.value)

    @on(ExampleTable.Changed)
    def _examples_changed(self, event: ExampleTable.Changed) -> None:
        self.settings.task.examples = event.examples
        self.query_one("#examples-title", Label).update(Text(examples_title(len(event.examples))))
        self._save()

    def on_settings_reloaded(self, event: SettingsReloaded) -> None:
        """distill.toml was edited outside the app: show the file's values in
        the fields it changed (the others keep what is typed in them)."""
        s = self.settings
        for widget_id, (section, field, _parse) in FIELDS.items():
            if f"{section}.{field}" not in event.changed:
                continue
            value = getattr(getattr(s, section), field)
            widget = next(iter(self.query(f"#{widget_id}")), None)  # None: not made yet
            if isinstance(widget, Input):
                widget.value = "" if value is None else str(value)
            elif isinstance(widget, TextArea):
                widget.load_text(value)
            elif isinstance(widget, Dropdown):
                widget.value = value
        price = self._below("#teacher-price", Input)
        if any(k.startswith("teacher.") for k in event.changed) and price is not None:
            price.value = price_value(s.teacher)
        if "task.examples" in event.changed:
            table = self.query_one(ExampleTable)
            table.examples = list(s.task.examples)
            table.reload()
        self._refresh_info()

    # -- actions ---------------------------------------------------------------
    def action_use_recommended(self) -> None:
        student = self._below("StudentChoice", StudentChoice)
        if student is None:  # pressed before the student's field was made
            self._recommend_when_ready = True
            return
        student.use_recommended()

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
        from distill_tui.ui.screens.task.synth_dialog import SynthDialog

        self.app.push_screen(SynthDialog(ws), lambda _r: self._refresh_info())

    def action_import(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        from distill_tui.ui.screens.task.import_dialog import ImportDialog

        self.app.push_screen(ImportDialog(ws.store), lambda _report: self._refresh_info())
