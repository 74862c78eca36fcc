"""The `mlx_lm.lora` YAML config and command with the same settings as a
`[train]` section, so a run's settings can be trained again without this
tool; presets from the guide's advice; epochs converted to iterations.

The same settings, not the same run: mlx_lm.lora shuffles batches its own
way and has no early stopping, so its adapter differs from ours. Its
`adapter_path` is a fresh folder inside the run (`RERUN_DIR`), so running the
saved command never overwrites the run's own adapters."""

from __future__ import annotations

import math
import shlex
from typing import Any

from distill_tui.core import config as cfg

# The guide: rank 8-16 for simple tasks, 32-64 for complex ones; learning
# rate 1e-5 to 1e-4; a lower batch size when memory is short.
PRESETS: dict[str, dict[str, Any]] = {
    "simple": {"lora_rank": 8, "learning_rate": 1e-4, "batch_size": 4, "num_layers": 8},
    "balanced": {"lora_rank": 16, "learning_rate": 5e-5, "batch_size": 4, "num_layers": 16},
    "complex": {"lora_rank": 64, "learning_rate": 2e-5, "batch_size": 4, "num_layers": 16},
    "low-memory": {
        "lora_rank": 8,
        "learning_rate": 5e-5,
        "batch_size": 1,
        "num_layers": 8,
        "grad_checkpoint": True,
    },
}

PRESET_HELP: dict[str, str] = {
    "simple": "classification, extraction: rank 8, lr 1e-4",
    "balanced": "most tasks: rank 16, lr 5e-5",
    "complex": "long or reasoning outputs: rank 64, lr 2e-5",
    "low-memory": "batch 1, 8 layers, gradient checkpointing",
}


# Where `mlx_lm.lora --config runs/<id>/lora.yaml` writes its adapters.
RERUN_DIR = "rerun"


def apply_preset(train: cfg.Train, name: str) -> cfg.Train:
    return train.replace(**PRESETS[name])


def iters_for_epochs(epochs: float, rows: int, batch_size: int) -> int:
    """Iterations that show every training row `epochs` times."""
    return max(1, math.ceil(epochs * rows / max(1, batch_size)))


def lora_settings(train: cfg.Train, model: str, data_dir: str, adapter_path: str) -> dict[str, Any]:
    """The mlx_lm.lora config keys (see mlx_lm/lora.py CONFIG_DEFAULTS)."""
    return {
        "model": model,
        "train": True,
        "data": data_dir,
        "fine_tune_type": train.fine_tune_type,
        "optimizer": "adam",
        "mask_prompt": train.mask_prompt,
        "num_layers": train.num_layers,
        "batch_size": train.batch_size,
        "iters": train.iters,
        "val_batches": train.val_batches,
        "learning_rate": train.learning_rate,
        "steps_per_report": train.steps_per_report,
        "steps_per_eval": train.steps_per_eval,
        "save_every": train.steps_per_save,
        "adapter_path": adapter_path,
        "max_seq_length": train.max_seq_length,
        "grad_checkpoint": train.grad_checkpoint,
        "seed": train.seed,
        "lora_parameters": {
            "rank": train.lora_rank,
            "scale": train.lora_scale,
            "dropout": train.lora_dropout,
        },
    }


def to_yaml(settings: dict[str, Any]) -> str:
    """The YAML `mlx_lm.lora --config` reads, in the keys' order. PyYAML is what
    mlx-lm itself loads it with, so its dumper's floats (1.0e-05) read back as
    floats, not strings."""
    import yaml

    return str(yaml.safe_dump(settings, sort_keys=False, default_flow_style=False))


def rerun_settings(train: cfg.Train, model: str, data_dir: str, run_dir: str) -> dict[str, Any]:
    """The settings saved as a run's lora.yaml: adapters go to a fresh folder."""
    return lora_settings(train, model, data_dir, f"{run_dir}/{RERUN_DIR}")


def command(yaml_path: str) -> str:
    return f"mlx_lm.lora --config {shlex.quote(yaml_path)}"
