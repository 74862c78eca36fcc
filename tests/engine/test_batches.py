"""`[train] group_by_length`: training batches of rows of similar length
(mlx-lm's own sort measures the raw chat row, 1 for every row, and keeps the
file's order, as ours does without the option)."""

from __future__ import annotations

import json
import types

from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.train import batches


def _padded(groups: list[list[int]], lengths: list[int]) -> int:
    """Tokens computed per epoch: every row padded to its batch's width."""
    return sum(len(g) * (1 + 32 * ((max(lengths[r] for r in g) + 31) // 32)) for g in groups)


def _grouping(tiny_model, tmp_path):
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset
    from mlx_lm.utils import load

    data = tmp_path / "data"
    data.mkdir()
    # Short and long answers interleaved, as a queue leaves them.
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": "word " * (3 if i % 2 else 90)},
            ]
        }
        for i in range(16)
    ]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (data / "valid.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:8]))
    _, tokenizer = load(str(tiny_model))
    train, valid, _ = load_local_dataset(data, tokenizer, types.SimpleNamespace(mask_prompt=True))
    ds, val = CacheDataset(train), CacheDataset(valid)
    lengths = [len(ds[i][0]) for i in range(len(ds))]
    sizes = {int(ds.itemlen(i)) for i in range(len(ds))}  # what mlx-lm sorts by
    seen: list[list[int]] = []
    it = batches.iterate(
        ds, 4, 2048, seed=0, loop=True, by_length=True, on_rows=lambda _p, r: seen.append(r)
    )
    for _ in range(8):  # two epochs
        next(it)
    plain: list[list[int]] = []
    it = batches.iterate(ds, 4, 2048, seed=0, loop=True, on_rows=lambda _p, r: plain.append(r))
    for _ in range(4):
        next(it)
    val_rows: list[list[int]] = []
    for _ in batches.iterate(
        val, 4, 2048, seed=0, loop=False, on_rows=lambda _p, r: val_rows.append(r)
    ):
        pass
    return lengths, sizes, seen, val_rows, plain


def test_training_batches_group_rows_of_similar_length(tiny_model, tmp_path):
    lengths, sizes, seen, val_rows, plain = mlx_thread().call(_grouping, tiny_model, tmp_path)
    assert sizes == {1}  # mlx-lm's itemlen: one key per chat row, whatever its length
    first, second = seen[:4], seen[4:]
    for epoch in (first, second):
        assert sorted(r for g in epoch for r in g) == list(range(16))  # every row once
        for g in epoch:  # short answers with short, long with long
            assert len({r % 2 for r in g}) == 1, g
    file_order = [list(range(i, i + 4)) for i in range(0, 16, 4)]
    assert _padded(first, lengths) < 0.7 * _padded(file_order, lengths)
    # Not the same rows together every epoch.
    assert {frozenset(g) for g in first} != {frozenset(g) for g in second}
    # Validation keeps the file's order in its groups: a few of them are a fair sample.
    assert sorted(val_rows) == [list(range(0, 4)), list(range(4, 8))]
    # Without the option (the default), the groups are the file's, as mlx-lm's.
    assert sorted(plain) == file_order
