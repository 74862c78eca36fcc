"""The Task screen's student choice: the guide's recommendation (ctrl+r) or a
model from the Hugging Face cache, asking first when training runs were made
from the current student, whose adapters fit only that model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from distill_tui.core import config as cfg
from distill_tui.core import paths, sysinfo
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.text import say
from distill_tui.ui.widgets.confirm import ConfirmDialog


class StudentMixin(BaseScreen):
    """Mixed into TaskScreen, which provides `settings` and the #student-model field."""

    if TYPE_CHECKING:

        @property
        def settings(self) -> cfg.Project: ...

    def action_use_recommended(self) -> None:
        self._replace_student(sysinfo.recommend_student(sysinfo.total_memory_bytes()))

    def _runs_of_student(self) -> int:
        """How many training runs were made from the current student."""
        ws = self.workspace
        if ws is None:
            return 0
        model = ws.settings.student.model
        names = {model, paths.resolve_model(ws.root, model)}
        return sum(1 for r in runs_db.list_runs(ws.store) if r.config.get("model") in names)

    def _replace_student(self, new: str) -> None:
        """Set the student model, asking first when runs were trained on the old
        one: their adapters only fit the model they were trained on."""
        field = self.query_one("#student-model", Input)
        old = self.settings.student.model
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
