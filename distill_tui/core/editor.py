"""Editing text in the user's own editor ($VISUAL, $EDITOR, vi), for the
Curate screen's `E` and `distill-tui curate --edit ID`: one code path."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile


def edit_externally(text: str, suffix: str = ".txt") -> str:
    """Open `text` in $VISUAL / $EDITOR (vi if neither) and return the result.
    The app suspends itself around this."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="distill-edit-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        subprocess.run([*shlex.split(editor), name], check=True)
        with open(name, encoding="utf-8", newline="") as f:
            edited = f.read()
    finally:
        os.unlink(name)
    return strip_added_newline(text, edited)


def strip_added_newline(before: str, after: str) -> str:
    """Drop the one line ending an editor adds at the end of a file (vi, nano
    and most others end every file with one), unless the text had it before."""
    for ending in ("\r\n", "\n"):
        if after.endswith(ending) and not before.endswith(ending):
            return after[: -len(ending)]
    return after
