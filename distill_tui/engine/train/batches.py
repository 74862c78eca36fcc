"""Deterministic batches for mlx-lm's `train()` and `evaluate()`.

mlx-lm's own `iterate_batches` shuffles with NumPy's global random state, which
evaluation also draws from, so the data order depends on when evaluations
happened and cannot be replayed after a crash. This is the same batching
(rows sorted by length so a batch holds rows of similar length and little
padding, fixed groups of `batch_size`, each distributed rank taking every
`size`-th row of a group, padding to a multiple of 32 plus one) with a
private generator: the order is a pure function of (seed, position), which a
checkpoint records so a resumed run sees exactly the batches it would have.

With `by_length` (`[train] group_by_length`), a training epoch groups rows of
similar length in tokens, so little compute goes on padding: as Hugging
Face's `LengthGroupedSampler` (its `group_by_length`, also off by default),
each epoch shuffles the rows, sorts them by length within chunks of
MEGABATCH batches and shuffles the batches, so the same rows are not together
every epoch. mlx-lm's own sort cannot do this for chat rows: it measures
`CacheDataset.itemlen`, the raw row, a dict of one key, so every chat row is
1 long and its groups keep the file's order (as ours do without the option).
Call on the MLX thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

PAD_TO = 32


def _length(dataset: Any, i: int) -> int:
    if hasattr(dataset, "itemlen"):
        return int(dataset.itemlen(i))
    item = dataset[i]
    return len(item[0] if isinstance(item, tuple) else item)


def length_order(dataset: Any) -> list[int]:
    """Row indices shortest first, as mlx-lm orders them: batches of similar
    lengths waste little compute on padding (unsorted cost ~5% tokens/s)."""
    return sorted(range(len(dataset)), key=lambda i: _length(dataset, i))


def batch_groups(
    order: list[int], batch_size: int, rank: int = 0, size: int = 1
) -> list[list[int]]:
    n_rows = len(order)
    if n_rows < batch_size:
        raise ValueError(
            f"the training split has {n_rows} rows, fewer than batch size {batch_size}; "
            "lower the batch size or accept more rows"
        )
    if batch_size % size != 0:
        raise ValueError(
            f"batch size {batch_size} must be divisible by the number of workers {size}"
        )
    return [
        order[i + rank : i + rank + batch_size : size]
        for i in range(0, n_rows - batch_size + 1, batch_size)
    ]


MEGABATCH = 50  # batches per length-sorted chunk (Hugging Face's default)


def tokens(dataset: Any, i: int) -> int:
    """Row `i`'s length in tokens: from the processed row for mlx-lm's
    CacheDataset (it keeps it, so training does not tokenize it again), not
    its `itemlen` (see above)."""
    from mlx_lm.tuner.datasets import CacheDataset

    if isinstance(dataset, CacheDataset):
        item = dataset[i]
        return len(item[0] if isinstance(item, tuple) else item)
    return _length(dataset, i)


def epoch_groups(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, rank: int = 0, size: int = 1
) -> list[list[int]]:
    """One training epoch's batches by length, in order: rows shuffled,
    sorted by length within chunks of MEGABATCH batches, grouped, and the
    groups shuffled. A pure function of (seed, epoch): a resume sees the same."""
    rng = np.random.default_rng([seed, epoch])
    rows = rng.permutation(len(lengths)).tolist()
    chunk = batch_size * MEGABATCH
    order = [
        r
        for i in range(0, len(rows), chunk)
        for r in sorted(rows[i : i + chunk], key=lengths.__getitem__)
    ]
    groups = batch_groups(order, batch_size, rank, size)
    return [groups[k] for k in rng.permutation(len(groups))]


def epoch_order(seed: int, epoch: int, n_groups: int) -> np.ndarray:
    """The permutation of batch groups in one epoch; independent per epoch so
    a resume can jump straight to any position."""
    return np.random.default_rng([seed, epoch]).permutation(n_groups)


def make_batch(dataset: Any, rows: list[int], max_seq_length: int) -> tuple[Any, Any]:
    import mlx.core as mx

    items = [dataset[j] for j in rows]
    seqs: Sequence[Any]
    offsets: Sequence[int]
    if len(items[0]) == 2:
        seqs, offsets = zip(*items, strict=True)
    else:
        seqs, offsets = items, [0] * len(items)
    lengths = [min(len(x), max_seq_length) for x in seqs]
    width = 1 + PAD_TO * ((max(len(x) for x in seqs) + PAD_TO - 1) // PAD_TO)
    width = min(width, max_seq_length)
    arr = np.zeros((len(rows), width), np.int32)
    for j, seq in enumerate(seqs):
        arr[j, : lengths[j]] = seq[: lengths[j]]
    return mx.array(arr), mx.array(list(zip(offsets, lengths, strict=True)))


def iterate(
    dataset: Any,
    batch_size: int,
    max_seq_length: int,
    *,
    seed: int,
    loop: bool,
    start: int = 0,
    rank: int = 0,
    size: int = 1,
    on_rows: Callable[[int, list[int]], None] | None = None,
    make: Callable[[list[int]], Any] | None = None,
    by_length: bool = False,
) -> Iterator[Any]:
    """Yield batches from position `start` (batches already consumed);
    `on_rows(position, rows)` sees the rows of every batch before it is made;
    `make(rows)` makes one instead of `make_batch` (preference batches);
    `by_length` groups a training epoch's rows by length (see above)."""
    groups = batch_groups(length_order(dataset), batch_size, rank, size)
    grouped = by_length and loop
    lengths = [tokens(dataset, i) for i in range(len(dataset))] if grouped else []
    pos, epoch_made, this_epoch = start, -1, groups
    while True:
        epoch, k = divmod(pos, len(groups))
        if not loop and epoch > 0:
            return
        if grouped:
            if epoch != epoch_made:
                this_epoch = epoch_groups(lengths, batch_size, seed, epoch, rank, size)
                epoch_made = epoch
            rows = this_epoch[k]
        else:
            rows = groups[int(epoch_order(seed, epoch, len(groups))[k])]
        if on_rows is not None:
            on_rows(pos, rows)
        yield make_batch(dataset, rows, max_seq_length) if make is None else make(rows)
        pos += 1
