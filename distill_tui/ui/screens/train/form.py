"""The Train screen's hyperparameter form: `[train]` fields and a preset
picker. Every edit is checked on its own; a valid one is posted as `Edited`
(the screen saves it to distill.toml), an invalid one marks the field and its
label and is posted as `Invalid` with the message. Holds no training logic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from distill_tui.core import config as cfg
from distill_tui.core.train import loraconfig
from distill_tui.core.train.preflight import layers_error
from distill_tui.ui.widgets.checkbox import Tick

# (field, label, kind) in the order they show; kind "int" / "float" / "epochs".
FIELDS: list[tuple[str, str, str]] = [
    ("iters", "Iterations", "int"),
    ("epochs", "or epochs", "epochs"),
    ("batch_size", "Batch size", "int"),
    ("lora_rank", "LoRA rank", "int"),
    ("learning_rate", "Learning rate", "float"),
    ("num_layers", "Layers (-1 all)", "int"),
    ("max_seq_length", "Max seq length", "int"),
    ("steps_per_eval", "Steps per eval", "int"),
    ("steps_per_save", "Steps per save", "int"),
    ("early_stopping_patience", "Patience (evals)", "int"),
    ("steps_per_report", "Steps per report", "int"),
    ("val_batches", "Val batches (-1)", "int"),
]
# The preference stage (issue 21), after the SFT settings (tab order unchanged).
PREF_FIELDS: list[tuple[str, str, str]] = [
    ("pref_learning_rate", "Pref LR (dpo/kto)", "float"),
    ("pref_epochs", "Pref epochs", "float"),
    ("beta", "Beta (dpo/kto)", "float"),
    ("sft_weight", "SFT term", "float"),
]
LABELS = {name: label for name, label, _ in FIELDS + PREF_FIELDS} | {
    "objective": "Objective",
    "fine_tune_type": "Fine-tune type",
    "mask_prompt": "Mask prompt",
    "grad_checkpoint": "Grad checkpoint",
    "stop_on_collapse": "Stop on collapse",
}
KINDS = {name: kind for name, _, kind in FIELDS + PREF_FIELDS}

OBJECTIVES = {
    "sft": "sft: learn the accepted rows (data/)",
    "dpo": "dpo: prefer edits and regenerations (data/pref/, from an SFT run)",
    "kto": "kto: accepted good, rejected bad (data/pref/, from an SFT run)",
    "onpolicy": "onpolicy: own answers scored by a local MLX teacher's probabilities",
}

# One line under the form for the focused setting.
HINTS = {
    "preset": "a starting point from the guide; every field stays editable",
    "objective": "sft first; dpo or kto then start from the newest finished SFT run's adapter",
    "onpolicy": "a local MLX teacher scores the student's own answers (hosted ones: ctrl+y)",
    "fine_tune_type": "lora: a small adapter; dora: a bit better, slower; full: all weights",
    "iters": "training steps; each step sees one batch",
    "epochs": "or passes over the training rows, turned into iterations",
    "batch_size": "rows per step (dpo: pairs per step; kto: at least 4)",
    "lora_rank": "adapter size: 8-16 simple tasks, 32-64 complex ones",
    "learning_rate": "1e-5 to 1e-4 for LoRA; about 1e-5 for dpo/kto (TRL, mlx-lm-lora)",
    "num_layers": "how many of the top layers get adapters (-1: all)",
    "max_seq_length": "longer rows are cut to this many tokens",
    "steps_per_eval": "validation every this many steps (dpo/kto: on the held-out pairs)",
    "steps_per_save": "a checkpoint to resume from every this many steps",
    "early_stopping_patience": "stop after this many evaluations without a better one (0: never)",
    "steps_per_report": "a train loss, speed and memory line every this many steps",
    "val_batches": "batches each validation measures (-1: the whole valid split)",
    "pref_learning_rate": "a dpo/kto run's own learning rate: 1-2 orders below SFT's (TRL)",
    "pref_epochs": "a dpo/kto run's length: passes over the pairs (1-3)",
    "beta": "0.1 as TRL and mlx-lm-lora: higher keeps closer to the SFT adapter",
    "sft_weight": "dpo/kto: the accepted answers' loss added (RPO): keeps them likely",
    "stop_on_collapse": "stop a dpo/kto run whose chosen answers collapse; keep the weights before",
    "mask_prompt": "train on the answer tokens only (dpo/kto always do)",
    "grad_checkpoint": "recompute activations: less memory, slower steps",
}


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{LABELS.get(field, field)}: {message}")
        self.field = field


class TrainForm(Grid):
    # Fields are one row high, so focus and errors show as a bracket on both
    # sides (a full border would need three rows a field at 80x24).
    DEFAULT_CSS = """
    TrainForm { grid-size: 4; grid-columns: 17 1fr 17 1fr; grid-rows: 1; grid-gutter: 0 1;
                height: auto; }
    TrainForm Input, TrainForm Select > SelectCurrent {
        height: 1; border: none; padding: 0; border-left: blank; border-right: blank;
    }
    TrainForm Select { height: 1; }
    /* The presets' descriptions are long: their list spans the form, one line each. */
    TrainForm #tf-preset > SelectOverlay { width: 62; max-height: 8; }
    TrainForm Input:focus, TrainForm Select:focus > SelectCurrent {
        border: none; border-left: outer $accent; border-right: outer $accent;
        background-tint: $foreground 12%;
    }
    TrainForm Input.-invalid, TrainForm Input.-invalid:focus {
        border: none; border-left: outer $error; border-right: outer $error;
        background-tint: $error 25%;
    }
    TrainForm Checkbox { height: 1; border: none; padding: 0; }
    TrainForm Checkbox:focus { border: none; background-tint: $foreground 12%; }
    TrainForm Label { height: 1; color: $text-muted; }
    TrainForm Label.-invalid { color: $error; text-style: bold; }
    """

    @dataclass
    class Edited(Message):
        """A valid change: the whole section as it now stands."""

        train: cfg.Train
        field: str

    @dataclass
    class Invalid(Message):
        error: FormError
        in_file: bool = False  # the value came from distill.toml, not an edit

    def __init__(self, train: cfg.Train, *, model_layers: int | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.train = train
        self.model_layers = model_layers
        self.train_rows = 0  # for epochs -> iterations; the screen keeps it current
        self._loading = False

    def compose(self) -> ComposeResult:
        t = self.train
        yield Label("Preset", id="tfl-preset")
        yield Select(
            [(f"{k}: {v}", k) for k, v in loraconfig.PRESET_HELP.items()],
            prompt="(custom)",
            id="tf-preset",
        )
        yield Label("Fine-tune type", id="tfl-fine_tune_type")
        yield Select(
            [(x, x) for x in ("lora", "dora", "full")],
            value=t.fine_tune_type,
            allow_blank=False,
            id="tf-fine_tune_type",
        )
        yield from self._inputs(FIELDS)
        yield Tick("Mask prompt", t.mask_prompt, id="tf-mask_prompt")
        yield Label("(loss on answers)")
        yield Tick("Save memory", t.grad_checkpoint, id="tf-grad_checkpoint")
        yield Label("(slower steps)")
        yield Label("Objective", id="tfl-objective")
        yield Select(
            [(k, k) for k in OBJECTIVES],
            value=t.objective,
            allow_blank=False,
            id="tf-objective",
        )
        yield from self._inputs(PREF_FIELDS)
        yield Tick("Stop on collapse", t.stop_on_collapse, id="tf-stop_on_collapse")
        yield Label("(dpo/kto guard)")

    def _inputs(self, fields: list[tuple[str, str, str]]) -> ComposeResult:
        for name, label, _kind in fields:
            yield Label(label, id=f"tfl-{name}")
            value = "" if name == "epochs" else str(getattr(self.train, name))
            yield Input(
                value,
                id=f"tf-{name}",
                placeholder="-" if name == "epochs" else "",
                # Typing into a field replaces its number ("30", not "60030").
                select_on_focus=True,
            )

    def on_mount(self) -> None:
        self.set_model_layers(self.model_layers)

    def reading_order(self) -> list[Widget]:
        """The fields a tab visits, as a reader sees them: down the left
        column, then down the right one (not row by row across both)."""
        fields = [
            w
            for w in self.query("Input, Select, Checkbox")
            if w.focusable and w.display and w.region.width
        ]
        middle = self.region.x + self.region.width // 2
        return sorted(fields, key=lambda w: (w.region.x >= middle, w.region.y))

    def set_model_layers(self, layers: int | None) -> None:
        """The student's layer count (it may change on the Task screen); a
        saved value it cannot train (16 layers of a 2-layer model) is marked."""
        self.model_layers = layers
        try:
            self._check_layers(self.train.num_layers)
        except FormError as e:
            self.mark(e)
            self.post_message(self.Invalid(e, in_file=True))
        else:
            self.mark(None, "num_layers")

    # -- reading -----------------------------------------------------------------
    def _raw(self, name: str) -> Any:
        if name in KINDS:
            return self.query_one(f"#tf-{name}", Input).value.strip()
        if name in ("fine_tune_type", "objective"):
            return self.query_one(f"#tf-{name}", Select).value
        return self.query_one(f"#tf-{name}", Checkbox).value

    def _check_layers(self, num_layers: int) -> None:
        message = layers_error(num_layers, self.model_layers)
        if message:
            raise FormError("num_layers", message.removeprefix("num_layers "))

    def parse(self, name: str, base: cfg.Train | None = None) -> Any:
        """One field's value, checked as distill.toml would be."""
        raw = self._raw(name)
        kind = KINDS.get(name)
        if kind in ("int", "float"):
            try:
                value: Any = int(raw) if kind == "int" else float(raw)
            except ValueError:
                raise FormError(name, f"not a number: {raw!r}") from None
        else:
            value = raw
        try:
            (base or self.train).replace(**{name: value})
        except cfg.Invalid as e:
            raise FormError(name, e.first.msg) from None
        if name == "num_layers":
            self._check_layers(value)
        return value

    def epochs_iters(self, batch_size: int) -> int | None:
        text = self.query_one("#tf-epochs", Input).value.strip()
        if not text:
            return None
        try:
            epochs = float(text)
        except ValueError:
            raise FormError("epochs", f"not a number: {text!r}") from None
        if epochs <= 0:
            raise FormError("epochs", "must be more than 0")
        return loraconfig.iters_for_epochs(epochs, self.train_rows, batch_size)

    def value(self) -> cfg.Train:
        """The whole form as settings; `FormError` names the first wrong field."""
        update = {name: self.parse(name) for name in LABELS if name != "epochs"}
        iters = self.epochs_iters(update["batch_size"])
        if iters is not None:
            update["iters"] = iters
        return self.train.replace(**update)

    # -- marking -----------------------------------------------------------------
    def mark(self, error: FormError | None, field: str | None = None) -> None:
        """Highlight the field `error` names (and its label), or clear `field`."""
        name = error.field if error else field
        if name is None:
            return
        for wid in (f"#tf-{name}", f"#tfl-{name}"):
            for w in self.query(wid):
                w.set_class(error is not None, "-invalid")

    def first_invalid(self) -> Widget | None:
        return next(iter(self.query("Input.-invalid")), None)

    # -- editing -----------------------------------------------------------------
    def load(self, train: cfg.Train) -> None:
        for name in KINDS:
            if name != "epochs":
                self.query_one(f"#tf-{name}", Input).value = str(getattr(train, name))
        self.query_one("#tf-fine_tune_type", Select).value = train.fine_tune_type
        self.query_one("#tf-objective", Select).value = train.objective
        self.query_one("#tf-mask_prompt", Checkbox).value = train.mask_prompt
        self.query_one("#tf-grad_checkpoint", Checkbox).value = train.grad_checkpoint
        self.query_one("#tf-stop_on_collapse", Checkbox).value = train.stop_on_collapse

    def _edited(self, name: str) -> None:
        try:
            if name == "epochs":
                iters = self.epochs_iters(self.train.batch_size)
                self.mark(None, "epochs")
                if iters is not None:
                    self.query_one("#tf-iters", Input).value = str(iters)
                return
            value = self.parse(name)
        except FormError as e:
            self.mark(e)
            # Unchanged from distill.toml (a field filled in on mount): say so.
            in_file = str(getattr(self.train, name, None)) == str(self._raw(name))
            self.post_message(self.Invalid(e, in_file=in_file))
            return
        self.mark(None, name)
        if getattr(self.train, name) != value:
            self.train = self.train.replace(**{name: value})
            self.post_message(self.Edited(self.train, name))
            if name == "batch_size":
                self._edited("epochs")  # the same epochs are fewer iterations now

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id:
            self._edited(event.input.id.removeprefix("tf-"))

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.checkbox.id:
            self._edited(event.checkbox.id.removeprefix("tf-"))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id in ("tf-fine_tune_type", "tf-objective") and isinstance(
            event.value, str
        ):
            self._edited(event.select.id.removeprefix("tf-"))
        elif event.select.id == "tf-preset" and isinstance(event.value, str):
            preset = loraconfig.apply_preset(self.train, event.value)
            layers = self.model_layers
            if layers is not None and preset.num_layers > layers:
                # Presets are written for real students; fit them to this one.
                preset = preset.replace(num_layers=layers)
            self.load(preset)
