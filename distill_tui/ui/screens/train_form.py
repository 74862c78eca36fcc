"""The Train screen's hyperparameter form: `[train]` fields, a preset picker,
and `value()` that validates them into a `cfg.Train` (or says which field is
wrong). Holds no training logic."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Checkbox, Input, Label, Select

from distill_tui.core import config as cfg
from distill_tui.core import loraconfig

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
]


class FormError(ValueError):
    pass


class TrainForm(Grid):
    DEFAULT_CSS = """
    TrainForm { grid-size: 4; grid-columns: 17 1fr 17 1fr; grid-rows: 1; grid-gutter: 0 1;
                height: auto; }
    TrainForm Input { height: 1; border: none; padding: 0 1; }
    TrainForm Select { height: 1; }
    TrainForm Select > SelectCurrent { height: 1; border: none; padding: 0 1; }
    TrainForm Checkbox { height: 1; border: none; padding: 0; }
    TrainForm Label { height: 1; color: $text-muted; }
    """

    def __init__(self, train: cfg.Train, **kw: Any) -> None:
        super().__init__(**kw)
        self.train = train

    def compose(self) -> ComposeResult:
        t = self.train
        yield Label("Preset")
        yield Select(
            [(f"{k}: {v}", k) for k, v in loraconfig.PRESET_HELP.items()],
            prompt="(custom)",
            id="tf-preset",
        )
        yield Label("Fine-tune type")
        yield Select(
            [(x, x) for x in ("lora", "dora", "full")],
            value=t.fine_tune_type,
            allow_blank=False,
            id="tf-fine_tune_type",
        )
        for name, label, _kind in FIELDS:
            yield Label(label)
            value = "" if name == "epochs" else str(getattr(t, name))
            yield Input(value, id=f"tf-{name}", placeholder="-" if name == "epochs" else "")
        yield Checkbox("Mask prompt", t.mask_prompt, id="tf-mask_prompt")
        yield Label("(loss on completions only)")
        yield Checkbox("Grad checkpoint", t.grad_checkpoint, id="tf-grad_checkpoint")
        yield Label("(less memory, slower)")

    def load(self, train: cfg.Train) -> None:
        self.train = train
        for name, _label, _kind in FIELDS:
            if name != "epochs":
                self.query_one(f"#tf-{name}", Input).value = str(getattr(train, name))
        self.query_one("#tf-fine_tune_type", Select).value = train.fine_tune_type
        self.query_one("#tf-mask_prompt", Checkbox).value = train.mask_prompt
        self.query_one("#tf-grad_checkpoint", Checkbox).value = train.grad_checkpoint

    def value(self, train_rows: int) -> cfg.Train:
        """The form as settings; `FormError` names the field that is wrong."""
        update: dict[str, Any] = {}
        epochs: float | None = None
        for name, label, kind in FIELDS:
            text = self.query_one(f"#tf-{name}", Input).value.strip()
            if name == "epochs":
                if text:
                    try:
                        epochs = float(text)
                    except ValueError:
                        raise FormError(f"{label}: not a number") from None
                continue
            try:
                update[name] = int(text) if kind == "int" else float(text)
            except ValueError:
                raise FormError(f"{label}: not a number: {text!r}") from None
        if epochs is not None:
            update["iters"] = loraconfig.iters_for_epochs(epochs, train_rows, update["batch_size"])
        update["fine_tune_type"] = self.query_one("#tf-fine_tune_type", Select).value
        update["mask_prompt"] = self.query_one("#tf-mask_prompt", Checkbox).value
        update["grad_checkpoint"] = self.query_one("#tf-grad_checkpoint", Checkbox).value
        try:
            return cfg.Train.model_validate({**self.train.model_dump(), **update})
        except ValidationError as e:
            err = e.errors()[0]
            raise FormError(f"{err['loc'][0]}: {err['msg']}") from None

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "tf-preset" and isinstance(event.value, str):
            try:
                base = self.value(0)
            except FormError:
                base = self.train
            self.load(loraconfig.apply_preset(base, event.value))
