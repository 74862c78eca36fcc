"""Export accepted rows as mlx-lm training data: `data/train.jsonl`,
`valid.jsonl` and (when `[split] test_fraction` > 0) `test.jsonl`.

The split is a seeded shuffle of *input groups*: rows whose inputs are the same
once case and spacing are ignored (or that the checks found near-identical)
always land on the same side, so the validation loss measures generalisation,
not recall. A group's side depends only on the seed and its own text, so adding
rows later does not move old rows between train and valid.

Files are written to temporary names and renamed into place only when all of
them are complete. The manifest `split.json`, renamed first, holds the sha256
of every split file, so a set that an interruption left half old and half new
(a new train beside an old valid: validation rows also in train) no longer
matches it, and `verify_split` (run by `train` and `eval`) refuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.config import Project
from distill_tui.core.dataset import dataset_hash
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store

SPLITS = ("train", "valid", "test")
FORMATS = ("chat", "completions")
MANIFEST = "split.json"


def normalize(text: str) -> str:
    """What 'identical input' means: same words, ignoring case and spacing."""
    return " ".join(text.casefold().split())


def messages_for(settings: Project, input: str, output: str, fmt: str = "chat") -> list[dict]:
    """The conversation the student is trained on (and its tokens are counted on)."""
    msgs = []
    if fmt == "chat" and settings.task.instructions.strip():
        msgs.append({"role": "system", "content": settings.task.instructions})
    msgs.append({"role": "user", "content": input})
    msgs.append({"role": "assistant", "content": output})
    return msgs


def record_for(settings: Project, input: str, output: str, fmt: str) -> dict[str, Any]:
    """One JSONL line in a format `mlx_lm.lora --data` reads unchanged."""
    if fmt == "completions":
        return {"prompt": input, "completion": output}
    return {"messages": messages_for(settings, input, output, fmt)}


def record_input(rec: dict[str, Any]) -> str:
    """The user input of one split record in either format (`record_for`
    backwards); raises KeyError/TypeError/IndexError on anything else."""
    if "messages" in rec:
        users = [m for m in rec["messages"] if m["role"] == "user"]
        return str(users[-1]["content"])
    return str(rec["prompt"])


@dataclass
class Sample:
    row_id: int
    input: str
    output: str


@dataclass
class ExportResult:
    counts: dict[str, int]
    paths: list[Path]
    dataset_hash: str
    format: str
    row_ids: dict[str, list[int]] = field(default_factory=dict)


def _group_keys(samples: list[Sample], links: dict[int, int]) -> dict[int, str]:
    """row id -> group key; `links` joins near-duplicates (row -> earlier row)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    by_text: dict[str, int] = {}
    for s in samples:
        first = by_text.setdefault(normalize(s.input), s.row_id)
        if first != s.row_id:
            parent[find(s.row_id)] = find(first)
    ids = {s.row_id for s in samples}
    for a, b in links.items():
        if a in ids and b in ids:
            parent[find(a)] = find(b)
    text = {s.row_id: normalize(s.input) for s in samples}
    # The key of a group is the text of its root, so it does not depend on ids.
    return {s.row_id: text[find(s.row_id)] for s in samples}


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}\0{key}".encode()).hexdigest()


def split_samples(
    samples: list[Sample],
    valid_fraction: float,
    test_fraction: float,
    seed: int,
    batch_size: int,
    links: dict[int, int] | None = None,
) -> dict[str, list[Sample]]:
    """Seeded, leak-free split; raises UserError when the rows cannot fill
    every non-empty split with at least `batch_size` rows (mlx-lm needs that)."""
    n = len(samples)
    if n == 0:
        raise UserError(
            "no accepted rows to export: accept rows on the Curate screen (key 3)"
            " or run `distill-tui curate DIR --accept-all`"
        )
    keys = _group_keys(samples, links or {})
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(keys[s.row_id], []).append(s)
    order = sorted(groups, key=lambda k: _rank(seed, k))

    def want(frac: float) -> int:
        return 0 if frac <= 0 else max(round(n * frac), batch_size)

    targets = {"test": want(test_fraction), "valid": want(valid_fraction)}
    need = targets["test"] + targets["valid"] + batch_size
    if n < need:
        parts = [f"{batch_size} train"]
        parts += [f"{targets[k]} {k}" for k in ("valid", "test") if targets[k]]
        raise UserError(
            f"too few accepted rows to export: {n} accepted, need at least {need}"
            f" ({' + '.join(parts)}; mlx-lm needs batch_size = {batch_size} rows in each"
            " split). Accept more rows, lower [train] batch_size, or lower the"
            " [split] fractions"
        )
    out: dict[str, list[Sample]] = {k: [] for k in SPLITS}
    it = iter(order)
    for name in ("test", "valid"):
        while len(out[name]) < targets[name]:
            out[name].extend(groups[next(it)])
    for k in it:
        out["train"].extend(groups[k])
    if len(out["train"]) < batch_size:
        # Say what joined the groups: near-duplicates are not identical.
        near = len(set(_group_keys(samples, {}).values())) - len(groups)
        what = (
            f"identical and near-duplicate inputs ({near} group(s) joined at"
            " character 5-gram similarity >= 0.8 by the last checks)"
            if near
            else "identical inputs"
        )
        raise UserError(
            f"too few distinct inputs to export: after keeping {what} on one"
            f" side, train has {len(out['train'])} rows and batch_size is {batch_size}"
        )
    return out


def accepted_samples(store: Store) -> list[Sample]:
    rows = store.conn.execute(
        "SELECT id, input, output FROM rows WHERE decision = 'accepted' AND status = 'done'"
        " AND output IS NOT NULL ORDER BY id"
    )
    return [Sample(r[0], r[1], r[2]) for r in rows]


def near_duplicate_links(store: Store) -> dict[int, int]:
    """row -> earlier similar row, from the last check run (if any)."""
    links: dict[int, int] = {}
    for row_id, detail in store.conn.execute(
        "SELECT row_id, detail FROM checks WHERE detail IS NOT NULL"
    ):
        other = json.loads(detail).get("near-duplicate")
        if other is not None:
            links[row_id] = int(other)
    return links


def _write_all(files: dict[Path, bytes], remove: list[Path]) -> None:
    """Write every file to a temp name first, then rename them all, in the
    order given (the manifest first)."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            temps.append((tmp, path))
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        path.with_name(f".{path.name}.tmp").unlink(missing_ok=True)
        raise
    for tmp, path in temps:
        os.replace(tmp, path)
    for path in remove:
        # A stale test.jsonl from an earlier export may hold rows now in train.
        path.unlink(missing_ok=True)


def export_dataset(
    root: Path,
    store: Store,
    settings: Project,
    fmt: str | None = None,
    seed: int | None = None,
    write: Callable[[dict[Path, bytes], list[Path]], None] = _write_all,
) -> ExportResult:
    """Split the accepted rows and write them under `root/data/`."""
    fmt = fmt or settings.split.format
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r} (use chat or completions)")
    seed = settings.split.seed if seed is None else seed
    split = split_samples(
        accepted_samples(store),
        settings.split.valid_fraction,
        settings.split.test_fraction,
        seed,
        settings.train.batch_size,
        near_duplicate_links(store),
    )
    out_dir = paths.data_dir(root)
    if out_dir.is_symlink() and not out_dir.exists():
        raise UserError(f"{shown(out_dir)}: is a broken link; remove it and export again")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{shown(out_dir)}: is a file, not a folder; move it away and export again")
    files: dict[Path, bytes] = {}
    for name in SPLITS:
        if not split[name] and name != "train":
            continue
        lines = [
            json.dumps(record_for(settings, s.input, s.output, fmt), ensure_ascii=False) + "\n"
            for s in split[name]
        ]
        data = "".join(lines).encode("utf-8")
        files[out_dir / f"{name}.jsonl"] = data
    # The definition a run records and the model card names (not the test split).
    digest = dataset_hash.of_bytes({p.name: data for p, data in files.items()})
    row_ids = {k: [s.row_id for s in v] for k, v in split.items()}
    counts = {k: len(v) for k, v in split.items()}
    manifest = {
        "format": fmt,
        "seed": seed,
        "dataset_hash": digest,
        "counts": counts,
        "files": {p.name: hashlib.sha256(data).hexdigest() for p, data in files.items()},
        "row_ids": row_ids,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = {out_dir / MANIFEST: (json.dumps(manifest, indent=1) + "\n").encode(), **files}
    remove = [out_dir / f"{k}.jsonl" for k in SPLITS if not split[k] and k != "train"]
    write(ordered, remove)
    return ExportResult(counts, sorted(ordered), digest, fmt, row_ids)


def verify_split(data_dir: Path) -> None:
    """Refuse split files that are not the set `split.json` describes: an
    export interrupted between renames, or a file changed by hand. Data with
    no manifest (written by hand for mlx-lm) or an older manifest without
    file hashes is taken as it is."""
    path = data_dir / MANIFEST
    if not path.is_file():
        return
    try:
        expected = json.loads(path.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        expected = {}
    if expected is None:
        return
    again = "run `distill-tui export DIR` (or x on the Curate screen) again"
    if not isinstance(expected, dict) or not expected:
        raise UserError(f"{shown(path)}: unreadable manifest; {again}")
    for name in (f"{k}.jsonl" for k in SPLITS):
        p = data_dir / name
        want = expected.get(name)
        if want is None:
            if p.exists():
                raise UserError(
                    f"{shown(p)}: not part of the last export (see {MANIFEST}); {again}"
                )
            continue
        have = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        if have != want:
            state = "is missing" if have is None else "does not match the last export"
            raise UserError(
                f"{shown(p)}: {state} ({MANIFEST}); an export was interrupted or the file"
                f" was changed, so rows could be on both sides of the split; {again}"
            )


def split_rows(root: Path, split: str = "train") -> int:
    """How many rows the exported `split` holds (0 when it is not exported or
    cannot be read): what the Train form's hints and epochs are measured on."""
    path = paths.data_dir(root) / f"{split}.jsonl"
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0
