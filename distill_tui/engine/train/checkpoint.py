"""Adapter folders and resumable checkpoints of a run. Call on the MLX thread.

An adapter folder (`runs/<id>/`, `runs/<id>/best/`) holds `adapters.safetensors`
and `adapter_config.json` in the layout `mlx_lm.generate --adapter-path` and
`mlx_lm.fuse` accept. A checkpoint (`runs/<id>/checkpoints/<iter>/`) adds the
optimizer state and `state.json` (iteration, data position, early-stopping
state), so a resumed run continues with the curve it would have had instead
of restarting the optimizer as `mlx_lm.lora --resume-adapter-file` does.

Every file is written beside its final name and renamed into place, and a
checkpoint folder is renamed into place last, so a kill -9 at any moment
leaves either the previous checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, cast

from distill_tui.core.train.checkpoints import ADAPTER_CONFIG, ADAPTER_FILE
from distill_tui.core.train.checkpoints import CHECKPOINTS_DIR as CHECKPOINTS

KEEP = 2  # checkpoints kept; older ones are deleted once a newer one is whole


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _save_arrays(path: Path, arrays: dict[str, Any]) -> None:
    import mlx.core as mx

    tmp = path.with_name(f".tmp-{path.name}")  # keeps the .safetensors suffix
    mx.save_safetensors(str(tmp), arrays)
    os.replace(tmp, path)


def adapter_weights(model: Any) -> dict[str, Any]:
    from mlx.utils import tree_flatten

    return dict(tree_flatten(model.trainable_parameters()))


def save_adapter(model: Any, folder: Path, adapter_config: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _save_arrays(folder / ADAPTER_FILE, adapter_weights(model))
    _write_text(folder / ADAPTER_CONFIG, json.dumps(adapter_config, indent=2, sort_keys=True))


def save_iteration_adapter(model: Any, run_dir: Path, iteration: int) -> None:
    """`<iter>_adapters.safetensors` beside the latest, as `mlx_lm.lora` names
    its intermediate saves (chat and eval offer them as `iter N`)."""
    _save_arrays(run_dir / f"{iteration:07d}_{ADAPTER_FILE}", adapter_weights(model))


def save_checkpoint(
    run_dir: Path, iteration: int, model: Any, optimizer: Any, state: dict[str, Any]
) -> Path:
    from mlx.utils import tree_flatten

    root = run_dir / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{iteration:07d}"
    tmp = root / f".tmp-{iteration:07d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _save_arrays(tmp / ADAPTER_FILE, adapter_weights(model))
    _save_arrays(tmp / "optimizer.safetensors", dict(tree_flatten(optimizer.state)))
    _write_text(tmp / "state.json", json.dumps({**state, "iter": iteration}, indent=2))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in list_checkpoints(run_dir)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Whole checkpoints, oldest first (half-written ones start with '.')."""
    root = run_dir / CHECKPOINTS
    if not root.is_dir():
        return []
    done = [p for p in root.iterdir() if p.name.isdigit() and (p / "state.json").is_file()]
    return sorted(done, key=lambda p: int(p.name))


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def load_checkpoint(path: Path, model: Any, optimizer: Any) -> dict[str, Any]:
    """Restore weights and optimizer state in place; return state.json."""
    import mlx.core as mx
    from mlx.utils import tree_unflatten

    model.load_weights(str(path / ADAPTER_FILE), strict=False)
    opt_state = cast(dict[str, Any], mx.load(str(path / "optimizer.safetensors")))
    optimizer.state = tree_unflatten(list(opt_state.items()))
    return json.loads((path / "state.json").read_text(encoding="utf-8"))
