"""A small real file system for full-disk and read-only tests: a tmpfs of a
few hundred KB mounted on a temporary folder (needs root and mount
permission; tests skip with the reason otherwise)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(where: Path, size_kb: int = 400) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or r.returncode})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Fill the file system up to `leave_bytes` free; returns the filler file
    (delete it to free the space again)."""
    path = disk / "filler"
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(path, "ab") as f:
        chunk = b"\0" * 4096
        todo = max(free - leave_bytes, 0)
        with contextlib.suppress(OSError):
            while todo > 0:
                f.write(chunk[: min(todo, 4096)])
                todo -= 4096
            f.flush()
    return path


def read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


def writable(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
