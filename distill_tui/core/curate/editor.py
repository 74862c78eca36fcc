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
    return edit_texts({"text": text}, suffix)["text"]


def edit_texts(texts: dict[str, str], suffix: str = ".txt") -> dict[str, str]:
    """Open each of `texts` (by name, in order) in $VISUAL / $EDITOR (vi if
    neither), one file each, and return them as the editor left them, less the
    line ending an editor adds. The caller suspends the app around this."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    names: dict[str, str] = {}
    try:
        for key, text in texts.items():
            fd, names[key] = tempfile.mkstemp(prefix=f"distill-{key}-", suffix=suffix)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        subprocess.run([*shlex.split(editor), *names.values()], check=True)
        out = {}
        for key, name in names.items():
            with open(name, encoding="utf-8", newline="") as f:
                out[key] = strip_added_newline(texts[key], f.read())
    finally:
        for name in names.values():
            os.unlink(name)
    return out


def strip_added_newline(before: str, after: str) -> str:
    """Drop the one line ending an editor adds at the end of a file (vi, nano
    and most others end every file with one), unless the text had it before."""
    for ending in ("\r\n", "\n"):
        if after.endswith(ending) and not before.endswith(ending):
            return after[: -len(ending)]
    return after
