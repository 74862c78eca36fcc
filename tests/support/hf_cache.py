"""A Hugging Face hub cache laid out by hand, for tests that must not download."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def cache_repo(cache: Path, kind: str, repo_id: str, files: dict[str, Path], rev: str) -> None:
    """Lay out one repo the way huggingface_hub's downloads do: content in
    blobs/, a snapshot of symlinks per revision, refs/main naming it."""
    root = cache / f"{kind}s--{repo_id.replace('/', '--')}"
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(rev)
    snap = root / "snapshots" / rev
    snap.mkdir(parents=True)
    for i, (name, src) in enumerate(files.items()):
        blob = root / "blobs" / f"{rev[:8]}{i:032x}"
        blob.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, blob)
        os.symlink(os.path.relpath(blob, snap), snap / name)
