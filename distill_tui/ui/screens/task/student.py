"""The Task screen's student as a component: the model field, the guide's
recommendation for this machine's memory, and the models already here (the
Hugging Face cache, the project's GGUF files), listed in a thread after the
screen is drawn. Enter on a listed model, or `use_recommended` (the screen's
ctrl+r), sets the field, asking first when training runs were made from the
current student, whose adapters fit only that model. The field's edits reach
the screen as any field's do (`Input.Changed`), so it saves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from distill_tui.core import paths, sysinfo
from distill_tui.core.project import Workspace
from distill_tui.ui.text import say
from distill_tui.ui.widgets.confirm import ConfirmDialog

if TYPE_CHECKING:
    from distill_tui.ui.app import DistillApp


@dataclass
class CachedModelsListed(Message):
    models: list[tuple[str, str, int]]  # (model setting, label, size in bytes)


class StudentChoice(Vertical):
    DEFAULT_CSS = """
    StudentChoice { height: auto; }
    StudentChoice #hf-cache { height: auto; max-height: 6; }
    """

    def __init__(self, model: str) -> None:
        super().__init__()
        self._model = model
        self._listing_due = False

    def compose(self) -> ComposeResult:
        yield Label("Student", classes="section-title")
        with Horizontal(classes="row"):
            yield Label("Model")
            yield Input(compact=True, value=self._model, id="student-model")
        yield Static(id="recommendation", classes="hint")
        yield Label("Models here: Hugging Face cache, GGUF files (enter to use)", classes="hint")
        yield OptionList(Option(Text("(looking…)"), disabled=True), id="hf-cache")

    @property
    def _ws(self) -> Workspace | None:
        return cast("DistillApp", self.app).workspace

    def refresh_info(self) -> None:
        """The recommendation for this machine, and the models here (again)."""
        mem = sysinfo.total_memory_bytes()
        rec = sysinfo.recommend_student(mem)
        self.query_one("#recommendation", Static).update(
            Text(
                f"For {sysinfo.human_bytes(mem)} of memory the guide suggests {rec}"
                " (ctrl+r to use it)."
            )
        )
        # Reading the hub cache imports huggingface_hub and walks the disk:
        # after the screen is drawn, in a thread, once for calls that come
        # together (the screen's mount and its first resume).
        if not self._listing_due:
            self._listing_due = True
            self.call_after_refresh(self._list_models)

    @work(thread=True, group="hf-cache", exclusive=True, exit_on_error=False, name="hf cache")
    def _list_models(self) -> None:
        self._listing_due = False
        ws = self._ws
        models = [(m.repo_id, m.repo_id, m.size_bytes) for m in sysinfo.cached_models()]
        models += [
            (g.model, g.label, g.size_bytes) for g in sysinfo.gguf_models(ws.root if ws else None)
        ]
        self.post_message(CachedModelsListed(models))

    def on_cached_models_listed(self, event: CachedModelsListed) -> None:
        event.stop()
        cache = self.query_one("#hf-cache", OptionList)
        cache.clear_options()
        if event.models:
            cache.add_options(
                [
                    Option(Text(f"{label}  {sysinfo.human_bytes(size)}"), id=model)
                    for model, label, size in event.models
                ]
            )
            # Enter picks at once, even with one entry: no `down` to press first.
            cache.highlighted = 0
        else:
            cache.add_option(Option(Text("(none found)"), disabled=True))

    @on(OptionList.OptionSelected, "#hf-cache")
    def _use_listed(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.replace(event.option.id)

    def use_recommended(self) -> None:
        self.replace(sysinfo.recommend_student(sysinfo.total_memory_bytes()))

    def _runs_of_student(self) -> int:
        """How many training runs were made from the saved student."""
        ws = self._ws
        if ws is None:
            return 0
        from distill_tui.core.train import runs as runs_db  # asked only on a change

        model = ws.settings.student.model
        names = {model, paths.resolve_model(ws.root, model)}
        return sum(1 for r in runs_db.list_runs(ws.store) if r.config.get("model") in names)

    def replace(self, new: str) -> None:
        """Set the student model, asking first when runs were trained on the old
        one: their adapters only fit the model they were trained on."""
        field = self.query_one("#student-model", Input)
        ws = self._ws
        old = ws.settings.student.model if ws is not None else field.value
        if new == old:
            say(self, f"The student is already {new}.")
            return
        n = self._runs_of_student()
        if not n:
            field.value = new
            return

        def answered(choice: str | None) -> None:
            if choice == "replace":
                field.value = new
                say(self, f"Student is now {new}; runs of {old} stay on disk.")

        runs = f"{n} training run{'s' if n != 1 else ''}"
        self.app.push_screen(
            ConfirmDialog(
                f"Replace the student {old} with {new}? {runs} used {old}; their"
                " adapters fit only that model (they stay on disk).",
                {"y": ("replace", f"replace with {new}"), "n": ("keep", f"keep {old}")},
            ),
            answered,
        )
