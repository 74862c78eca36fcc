"""Measure what `core.preflight` needs: the templated token length (and
masked prompt length) of every training row and the validation row count,
with mlx-lm's own dataset code so they match training, and the student's
sizes, read from a lazily loaded model without reading its weights.
Runs on the MLX thread. It also says when data/ is older than the store's
accepted rows (`core.export_stale`)."""

from __future__ import annotations

import dataclasses
import types
from typing import Any, NamedTuple, cast

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.dataset import export_stale
from distill_tui.core.dataset.export import verify_split
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train.preflight import ModelShape, Preflight, run_preflight
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread
from distill_tui.engine.train.runplan import resolve_model


class _Measured(NamedTuple):
    lengths: list[int]
    offsets: list[int]  # where each row's completion starts (0 without mask_prompt)
    valid_rows: int
    shape: ModelShape
    trainable: int


def _measure(model_name: str, data_dir: Any, train: cfg.Train) -> _Measured:
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.datasets import load_local_dataset
    from mlx_lm.tuner.utils import linear_to_lora_layers
    from mlx_lm.utils import load

    from distill_tui.engine.models.gguf import mlx_path

    source = mlx_path(model_name)  # a .gguf file: its converted folder
    try:
        model, tokenizer = cast("tuple[Any, Any]", load(source, lazy=True))
    except Exception as e:  # noqa: BLE001 - missing model, no network, bad folder
        raise UserError(f"cannot load the student {model_name!r}: {e}") from None
    opts = types.SimpleNamespace(mask_prompt=train.mask_prompt)
    try:
        train_set, valid_set, _ = load_local_dataset(data_dir, tokenizer, opts)
        processed = [train_set.process(train_set[i]) for i in range(len(train_set))]
    except Exception as e:  # noqa: BLE001 - a corrupt line, a row mlx-lm cannot template
        raise UserError(f"cannot read the exported split in {data_dir}: {e}") from None
    lengths = [len(tokens) for tokens, _ in processed]
    offsets = [int(offset) for _, offset in processed]
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
    return _Measured(lengths, offsets, len(valid_set), shape, trainable)


def preflight(
    ws: Workspace, train: cfg.Train | None = None, *, thread: MLXThread | None = None
) -> Preflight:
    train = train or ws.settings.train
    data_dir = paths.data_dir(ws.root)
    if not (data_dir / "train.jsonl").is_file():
        raise UserError(f"{data_dir / 'train.jsonl'}: no exported training split yet")
    verify_split(data_dir)
    m = (thread or mlx_thread()).call(_measure, resolve_model(ws), data_dir, train)
    pf = run_preflight(
        m.lengths,
        m.shape,
        max_seq_length=train.max_seq_length,
        batch_size=train.batch_size,
        trainable_params=m.trainable,
        grad_checkpoint=train.grad_checkpoint,
        num_layers=train.num_layers,
        valid_rows=m.valid_rows,
        offsets=m.offsets,
        iters=train.iters,
    )
    stale = export_stale.compare(ws.root, ws.store)
    if stale is None:
        return pf
    return dataclasses.replace(
        pf,
        problems=[stale.message("x on the Curate screen exports them"), *pf.problems],
        suggestions=[
            "export before training (x on the Curate screen, `distill-tui export DIR`,"
            " or `distill-tui train DIR --export`)",
            *pf.suggestions,
        ],
    )
