"""What a failed write really means. SQLite reports a full disk or a
read-only folder as "disk I/O error" or "unable to open database file"; here
the file system is asked instead, so a message can say "disk full (N bytes
free on /Volumes/x)" or "the project folder is read-only"."""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from pathlib import Path

from distill_tui.core.display import shown

# What a probe writes: SQLite's shared-memory file alone needs 32 KiB.
PROBE_BYTES = 64 * 1024

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def mount_point(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not os.path.ismount(p) and p.parent != p:
        p = p.parent
    return p


def full(path: Path) -> str:
    """'disk full (N bytes free on MOUNT)' for the file system holding `path`."""
    n = free_bytes(path)
    free = f"{n:,} bytes free" if n is not None else "no space left"
    return f"disk full ({free} on {shown(mount_point(path))})"


def read_only(folder: Path) -> str:
    return f"the project folder is read-only ({shown(folder)})"


def _existing(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


def problem(folder: Path, need: int = PROBE_BYTES) -> str | None:
    """Why `folder` cannot take `need` more bytes (full, read-only, no
    permission), found by writing them to a temporary file; None when it can."""
    folder = _existing(folder)
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return read_only(folder)
    except OSError:
        pass
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".distill-probe-") as f:
            f.write(b"\0" * need)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            return f"no permission to write in {shown(folder)}"
        return explain_os(e, folder) or f"{shown(folder)}: cannot write ({e.strerror or e})"
    return None


def explain_os(e: OSError, folder: Path) -> str | None:
    """A full disk or a read-only folder behind an OSError, or None."""
    if e.errno in FULL_ERRNOS:
        return full(folder)
    if e.errno == errno.EROFS:
        return read_only(_existing(folder))
    return None


# SQLite result codes that can mean the disk or the folder, not the file.
_DISK_CODES = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY")


def explain_sqlite(e: sqlite3.Error, folder: Path) -> str | None:
    """For an SQLite error that may come from the disk: what the disk says
    (full, read-only), or None when the disk looks fine."""
    name = getattr(e, "sqlite_errorname", "") or ""
    text = str(e)
    if not name.startswith(_DISK_CODES) and not any(
        w in text for w in ("disk", "unable to open", "readonly", "read-only")
    ):
        return None
    found = problem(folder)
    if found is None and name.startswith("SQLITE_FULL"):
        return full(folder)
    return found
