"""Measure what `core.preflight` needs: the templated token length of every
training row (with mlx-lm's own dataset code, so it matches training) and the
student's sizes, read from a lazily loaded model without reading its weights.
Runs on the MLX thread."""

from __future__ import annotations

import types
from typing import Any, cast

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.preflight import ModelShape, Preflight, run_preflight
from distill_tui.core.project import Workspace
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread
from distill_tui.engine.runplan import resolve_model


def _measure(model_name: str, data_dir: Any, train: cfg.Train) -> tuple[list[int], ModelShape, int]:
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.datasets import load_local_dataset
    from mlx_lm.tuner.utils import linear_to_lora_layers
    from mlx_lm.utils import load

    from distill_tui.engine.gguf import mlx_path

    source = mlx_path(model_name)  # a .gguf file: its converted folder
    try:
        model, tokenizer = cast("tuple[Any, Any]", load(source, lazy=True))
    except Exception as e:  # noqa: BLE001 - missing model, no network, bad folder
        raise UserError(f"cannot load the student {model_name!r}: {e}") from None
    opts = types.SimpleNamespace(mask_prompt=train.mask_prompt)
    train_set, _, _ = load_local_dataset(data_dir, tokenizer, opts)
    lengths = [len(train_set.process(train_set[i])[0]) for i in range(len(train_set))]
    params: dict[str, Any] = dict(cast(Any, tree_flatten(model.parameters())))
    total = sum(v.size for v in params.values())
    nbytes = sum(v.nbytes for v in params.values())
    args = getattr(model, "args", None)
    hidden = int(getattr(args, "hidden_size", 0) or 0)
    vocab = int(getattr(args, "vocab_size", 0) or 0)
    n_layers = len(model.layers)
    model.freeze()
    if train.fine_tune_type == "full":
        n = train.num_layers if train.num_layers >= 0 else n_layers
        layers = model.layers[-n:] if n else []
        trainable = sum(
            v.size for layer in layers for _, v in cast(Any, tree_flatten(layer.parameters()))
        )
    else:
        linear_to_lora_layers(
            model,
            min(train.num_layers, n_layers),
            {"rank": train.lora_rank, "scale": train.lora_scale, "dropout": 0.0},
            use_dora=train.fine_tune_type == "dora",
        )
        trainable = sum(v.size for _, v in cast(Any, tree_flatten(model.trainable_parameters())))
    shape = ModelShape(
        params=total,
        bytes_per_param=nbytes / max(total, 1),
        hidden_size=hidden,
        num_layers=n_layers,
        vocab_size=vocab,
    )
    return lengths, shape, trainable


def preflight(
    ws: Workspace, train: cfg.Train | None = None, *, thread: MLXThread | None = None
) -> Preflight:
    train = train or ws.settings.train
    data_dir = paths.data_dir(ws.root)
    if not (data_dir / "train.jsonl").is_file():
        raise UserError(f"{data_dir / 'train.jsonl'}: no exported training split yet")
    lengths, shape, trainable = (thread or mlx_thread()).call(
        _measure, resolve_model(ws), data_dir, train
    )
    return run_preflight(
        lengths,
        shape,
        max_seq_length=train.max_seq_length,
        batch_size=train.batch_size,
        trainable_params=trainable,
        grad_checkpoint=train.grad_checkpoint,
    )
