"""Folders that appear whole or not at all: the writer fills a hidden sibling
named with its process id (`.NAME.PID.partial`) and renames it into place
when complete, so a crash or `kill -9` never leaves half a model where a
finished one belongs. A sibling whose process is gone is removed by the next
writer (`clean_stale`)."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from distill_tui.core.process import pid_alive

SUFFIX = ".partial"


def staging_dir(final: Path) -> Path:
    """Where this process writes `final` before renaming it into place."""
    return final.parent / f".{final.name}.{os.getpid()}{SUFFIX}"


def _owner(folder: Path) -> int | None:
    stem = folder.name.removesuffix(SUFFIX)
    pid = stem.rpartition(".")[2]
    return int(pid) if folder.name.endswith(SUFFIX) and pid.isdigit() else None


def clean_stale(parent: Path, name: str = "*") -> list[Path]:
    """Remove the staging folders in `parent` (for the final folder `name`, or
    any) left by processes that are gone; return them. A live writer's folder
    is left alone, and so is this process's own (its writer removes it)."""
    removed = []
    try:
        pattern = "*" if name == "*" else glob.escape(name)
        found = list(parent.glob(f".{pattern}.*{SUFFIX}"))
    except OSError:
        return []
    for folder in found:
        pid = _owner(folder)
        if pid is None or pid == os.getpid() or pid_alive(pid) or not folder.is_dir():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
