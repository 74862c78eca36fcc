"""The one definition of a dataset's `dataset_hash`: sha256 over the file
names and bytes of the split a run trains on (train.jsonl, then
valid.jsonl). `export` writes it to split.json, a run records it
(`runs/<id>/dataset.sha256`), and the model card names it the same, so the
three can be compared by eye."""

from __future__ import annotations

import hashlib
from pathlib import Path

FILES = ("train.jsonl", "valid.jsonl")
DEFINITION = (
    "sha256 of the files the run trained on: train.jsonl and valid.jsonl (data/pref/'s"
    " for a preference run), as split.json and the run record it"
)


def of_bytes(files: dict[str, bytes]) -> str:
    """`files`: name -> bytes; a missing name counts as empty."""
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode())
        h.update(files.get(name, b""))
    return h.hexdigest()


def of_folder(folder: Path) -> str:
    files = {n: (folder / n).read_bytes() for n in FILES if (folder / n).is_file()}
    return of_bytes(files)
