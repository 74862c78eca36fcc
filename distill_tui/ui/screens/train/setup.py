"""The Train screen's Setup view as a component: the `[train]` form (each valid
edit saved to distill.toml at once, an invalid one marked on its field and
not written), a one-line hint on the focused setting, the preflight's
findings and the equivalent `mlx_lm.lora` command and YAML.

It asks for a preflight when the screen shows and after edits settle, by
posting `PreflightWanted` (the screen's runner measures on the MLX thread and
hands the result back to `show_preflight`); it measures again only when the
settings, the student or the data changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.dataset import export_stale
from distill_tui.core.dataset.export import split_rows
from distill_tui.core.project import Workspace
from distill_tui.core.train import loraconfig, objectives
from distill_tui.core.train.preflight import Preflight, model_layers
from distill_tui.ui.screens.train.form import HINTS, OBJECTIVES, FormError, TrainForm
from distill_tui.ui.screens.train.jobs import pair_counts_text, preflight_text
from distill_tui.ui.text import data_text, say

if TYPE_CHECKING:
    from distill_tui.ui.app import DistillApp

PREFLIGHT_AFTER_EDIT_S = 1.5


class TrainSetup(Vertical):
    DEFAULT_CSS = """
    TrainSetup { height: 1fr; }
    TrainSetup #train-form-error { height: auto; color: $error; }
    TrainSetup #train-hint { height: 1; color: $text-muted; }
    TrainSetup #train-preflight { height: auto; margin-top: 1; }
    TrainSetup #train-command-box { height: 1fr; min-height: 3; margin-top: 1;
                                    border-left: blank; }
    TrainSetup #train-command-box:focus { border-left: outer $accent; }
    TrainSetup #train-command { color: $text-muted; }
    """

    @dataclass
    class PreflightWanted(Message):
        """Measure these settings on the data (the screen's runner does)."""

        train: cfg.Train

    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._ws = ws
        self._last_field: Widget | None = None
        self._timer: Timer | None = None
        self._measured: tuple[object, ...] = ()  # what the last preflight measured

    def compose(self) -> ComposeResult:
        ws = self._ws
        layers = model_layers(paths.resolve_model(ws.root, ws.settings.student.model))
        # Not focusable itself: tab goes field to field, then to the command.
        yield TrainForm(ws.settings.train, model_layers=layers, id="train-form")
        yield Static("", id="train-hint")
        yield Static("", id="train-form-error")
        yield Static(Text("ctrl+e checks the data and memory"), id="train-preflight")
        with VerticalScroll(id="train-command-box"):
            yield Static("", id="train-command")

    @property
    def form(self) -> TrainForm:
        return self.query_one(TrainForm)

    def on_mount(self) -> None:
        self.form.train_rows = split_rows(self._ws.root)
        self._show_command()

    def shown(self) -> None:
        """The screen came back: the data and the student may have changed."""
        ws = self._ws
        self.form.train_rows = split_rows(ws.root)
        layers = model_layers(paths.resolve_model(ws.root, ws.settings.student.model))
        if layers != self.form.model_layers:  # the student changed on the Task screen
            self.form.set_model_layers(layers)
            self._show_form_error(self._remaining_error())

    def focus_field(self) -> None:
        """Focus the field last used here (Preset at first)."""
        target = self._last_field
        if target is None or not target.is_attached:
            target = self.query_one("#tf-preset")
        self.screen.set_focus(target)  # at once: the next key typed is for this field

    def step_focus(self, step: int) -> bool:
        """Move the focus to the next (+1) or previous (-1) field in reading
        order, the command box last; False when the focus is not here. The
        screen's focus is set at once, so keys typed after tab land in the
        new field."""
        chain: list[Widget] = [*self.form.reading_order(), self.query_one("#train-command-box")]
        focused = self.screen.focused
        if focused not in chain:
            return False
        self.screen.set_focus(chain[(chain.index(focused) + step) % len(chain)])
        return True

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self.form in event.widget.ancestors:
            self._last_field = event.widget
        self._show_hint(event.widget)

    def _show_hint(self, widget: Widget | None) -> None:
        """One line on the focused setting (the objective's says what it trains on)."""
        name = (widget.id or "").removeprefix("tf-") if widget is not None else ""
        train = self.form.train
        pref = objectives.is_preference(train.objective)
        if name == "objective" and pref:
            # What the run uses instead of the SFT fields above.
            text = f"{train.objective} uses " + ", ".join(objectives.differs(train))
        elif name == "objective" and train.objective == objectives.ONPOLICY:
            text = HINTS["onpolicy"]
        elif name == "objective":
            text = OBJECTIVES.get(train.objective, "") + "; " + HINTS["objective"]
        elif name in ("learning_rate", "iters", "epochs") and pref:
            text = (
                f"SFT's; a {train.objective} run uses Pref LR {train.pref_learning_rate:g} and"
                f" {train.pref_epochs:g} Pref epochs instead"
            )
        else:
            text = HINTS.get(name, "")
        self.query_one("#train-hint", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))

    # -- the form's value ------------------------------------------------------------
    def value(self, refused: str) -> cfg.Train | None:
        """The form, or None after marking the wrong field, focusing it and
        saying why (`refused`: what did not happen)."""
        try:
            return self.form.value()
        except FormError as e:
            self.form.mark(e)
            self._show_form_error(str(e))
            say(self, f"{e} ({refused})", title="Train settings", severity="error")
            field = self.form.first_invalid()
            if field is not None:
                self._last_field = field  # where focus_field puts the cursor too
                self.screen.set_focus(field)
            return None

    def save(self, train: cfg.Train, ask: bool = False) -> bool:
        self._ws.settings.train = train
        error = cast("DistillApp", self.app).settings_file.save(ask=ask)
        self._show_form_error(error)
        return not error

    def reload(self) -> None:
        """distill.toml was edited outside the app: show the file's values, so
        a later save cannot put the old ones back."""
        self.form.load(self._ws.settings.train)

    def _show_form_error(self, message: str) -> None:
        self.query_one("#train-form-error", Static).update(data_text(message))

    def _remaining_error(self) -> str:
        try:
            self.form.value()
        except FormError as e:
            return f"{e} (not saved)"
        return ""

    @on(TrainForm.Edited)
    def _edited(self, event: TrainForm.Edited) -> None:
        if self.save(event.train):  # else the line says why it was not saved
            self._show_form_error(self._remaining_error())
        if event.field == "objective":
            self._show_hint(self.screen.focused)  # what the new objective uses
        self._show_command()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(PREFLIGHT_AFTER_EDIT_S, self.auto_preflight)

    @on(TrainForm.Invalid)
    def _invalid(self, event: TrainForm.Invalid) -> None:
        where = "in distill.toml: ctrl+r will not start" if event.in_file else "not saved"
        self._show_form_error(f"{event.error} ({where})")

    # -- the preflight -----------------------------------------------------------------
    def preflight(self, train: cfg.Train) -> None:
        """ctrl+e: measure now (a preference run shows its pairs instead)."""
        box = self.query_one("#train-preflight", Static)
        if objectives.is_preference(train.objective):
            box.update(pair_counts_text(self._ws, train))
            return
        box.update(Text("preflight: measuring..."))
        self.post_message(self.PreflightWanted(train))

    def auto_preflight(self) -> None:
        """Check quietly when the screen shows and after edits, so what would
        stop training is on screen before ctrl+r."""
        ws = self._ws
        if not self.screen.check_action("preflight", ()) or not split_rows(ws.root):
            return
        if self.form.model_layers is None:
            return  # the student is not on this machine yet: no download unasked
        try:
            train = self.form.value()
        except FormError:
            return  # the field says what is wrong
        if objectives.is_preference(train.objective):
            self._measured = ()
            self.query_one("#train-preflight", Static).update(pair_counts_text(ws, train))
            return
        # Measuring tokenizes every row: not again for the same settings and data.
        data = paths.data_dir(ws.root)
        files = [(f.stat().st_mtime_ns, f.stat().st_size) for f in data.glob("*.jsonl")]
        # Rows accepted since the export change the warning, not the files.
        stale = export_stale.compare(ws.root, ws.store)
        key = (train, ws.settings.student.model, tuple(files), stale)
        if key != self._measured:
            self._measured = key
            self.post_message(self.PreflightWanted(train))

    def show_preflight(self, result: Preflight | None, error: str = "") -> None:
        box = self.query_one("#train-preflight", Static)
        if result is None:
            box.update(data_text(f"✗ preflight: {error}", style="bold"))
        else:
            box.update(preflight_text(result))

    # -- the mlx_lm.lora equivalent -------------------------------------------------------
    def _show_command(self) -> None:
        box = self.query_one("#train-command", Static)
        try:
            train = self.form.value()
        except FormError as e:
            box.update(data_text(f"not valid: {e}"))
            return
        from distill_tui.engine.train.runplan import resolve_model

        ws = self._ws
        settings = loraconfig.rerun_settings(
            train, resolve_model(ws), str(paths.data_dir(ws.root)), "runs/<run id>"
        )
        text = Text(
            "Same settings, not the same run, with mlx_lm.lora (its own batch order, no early"
            " stopping). Saved with each run as lora.yaml; it trains into the run's rerun/:\n"
        )
        text.append(loraconfig.command("lora.yaml") + "\n", style="bold")
        if paths.is_gguf(str(settings.get("model", ""))):
            text.append(
                "(mlx_lm.lora cannot read a GGUF file: the lora.yaml saved with a run names"
                " the converted mlx-lm folder instead)\n"
            )
        text.append(loraconfig.to_yaml(settings))
        box.update(text)
