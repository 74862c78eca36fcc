"""Test helpers shared by the chat, eval and fuse tests: a random LoRA adapter
written in mlx-lm's layout on the tiny model, and a runs/ folder holding it.

The adapter's weights are random and non-zero so it visibly changes outputs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.project import Workspace
from distill_tui.engine.mlx_thread import mlx_thread


def _write_adapter(model_path: Path, out: Path, seed: int, rank: int, num_layers: int) -> None:
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm import load
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model, _ = load(str(model_path))
    model.freeze()
    lora = {"rank": rank, "scale": 20.0, "dropout": 0.0}
    linear_to_lora_layers(model, num_layers, lora)
    mx.random.seed(seed)
    weights = {
        k: mx.random.normal(v.shape) * 0.3 for k, v in tree_flatten(model.trainable_parameters())
    }
    out.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(out / "adapters.safetensors"), weights)
    # The keys mlx_lm.lora writes (vars(args)) that loading reads.
    config = {
        "model": str(model_path),
        "fine_tune_type": "lora",
        "num_layers": num_layers,
        "lora_parameters": lora,
        "iters": 1,
    }
    (out / "adapter_config.json").write_text(json.dumps(config, indent=4))


def make_adapter(model_path: Path, out: Path, seed: int = 1, rank: int = 4, num_layers: int = 2):
    mlx_thread().call(_write_adapter, Path(model_path), Path(out), seed, rank, num_layers)
    return out


def make_run(
    ws: Workspace, model_path: Path, run_id: str = "run-1", seed: int = 1, best: bool = True
) -> Path:
    """A finished run: latest adapter in runs/<id>/, a different one in best/."""
    run = paths.run_dir(ws.root, run_id)
    make_adapter(model_path, run, seed=seed)
    if best:
        make_adapter(model_path, run / "best", seed=seed + 100)
    now = time.time()
    with ws.store.tx() as c:
        c.execute(
            "INSERT INTO runs (id, status, config, created_at, updated_at)"
            " VALUES (?, 'done', '{}', ?, ?)",
            (run_id, now, now),
        )
    return run


def write_split(ws: Workspace, name: str, rows: list[tuple[str, str]], system: str = "") -> Path:
    """data/<name>.jsonl in mlx-lm's chat format."""
    d = paths.data_dir(ws.root)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for q, a in rows:
            msgs = [{"role": "system", "content": system}] if system else []
            msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return path
