"""The line under the Task screen's teacher model field, as a component:
when the provider is switched, a model name that does not suit it is cleared
(`Clear`) and the line says what goes there; for an OpenAI-compatible server
on this machine or network it lists what the server's `/v1/models` serves, in
a worker, and offers the first when the field holds none of them (`Pick`).
The screen sets the field; this owns the lookup and the words."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from distill_tui.core import config as cfg
from distill_tui.core import sysinfo
from distill_tui.core.generate.teacher_models import WANTED, suits


class TeacherModelHint(Static):
    DEFAULT_CSS = """
    TeacherModelHint { height: auto; color: $text-muted; display: none; }
    TeacherModelHint.shown { display: block; }
    """

    @dataclass
    class Clear(Message):
        """The model field should be emptied: its name suits no such provider."""

    @dataclass
    class Pick(Message):
        model: str

    @dataclass
    class Served(Message):
        base_url: str
        models: list[str]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self._teacher: cfg.Teacher | None = None

    def say(self, text: str) -> None:
        """A line when there is something to say; no room taken otherwise."""
        self.update(Text(text))
        self.set_class(bool(text), "shown")

    def switched(self, teacher: cfg.Teacher) -> None:
        """The provider changed: clear a model name that does not suit it."""
        self._teacher = teacher
        if not suits(teacher.provider, teacher.model):
            old = teacher.model
            self.say(f"cleared {old!r}: Model takes {WANTED[teacher.provider]}")
            self.post_message(self.Clear())
        else:
            self.say("")
        self.look(teacher)

    def look(self, teacher: cfg.Teacher) -> None:
        """Ask a local OpenAI-compatible server what it serves (after a
        provider or base URL change)."""
        self._teacher = teacher
        url = teacher.base_url
        if teacher.provider == "openai" and url and sysinfo.is_local_url(url):
            self._list(url)

    @work(thread=True, group="teacher-models", exclusive=True, exit_on_error=False)
    def _list(self, base_url: str) -> None:
        from distill_tui.engine.generate.teachers.openai_compat import served_models

        self.post_message(self.Served(base_url, served_models(base_url)))

    def on_teacher_model_hint_served(self, event: TeacherModelHint.Served) -> None:
        event.stop()
        t = self._teacher
        if t is None or t.provider != "openai" or t.base_url != event.base_url:
            return  # the form moved on while the server was asked
        if not event.models:
            self.say(f"{event.base_url} listed no models: type the model's name")
            return
        shown = ", ".join(event.models[:5]) + (" …" if len(event.models) > 5 else "")
        if t.model in event.models:
            self.say(f"this server serves: {shown}")
            return
        self.say(f"set to {event.models[0]!r}, the first this server serves: {shown}")
        self.post_message(self.Pick(event.models[0]))
