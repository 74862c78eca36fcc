"""Reading JSONL the way it is written: one record per `\\n`.

`str.splitlines` also splits on U+2028, U+2029, U+0085 and other separators
that JSON keeps raw inside strings, so it tears a valid record in two. Here a
line ends at `\\n` only (a `\\r` before it is dropped), and a byte-order mark
at the start of the file is skipped instead of spoiling the first line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distill_tui.core.display import shown
from distill_tui.core.errors import UserError

BOM = "\ufeff"


def split(text: str) -> Iterator[tuple[int, str]]:
    """(line number from 1, line) for every line of `text`, empty ones included."""
    text = text.removeprefix(BOM)
    for n, line in enumerate(text.split("\n"), 1):
        yield n, line.removesuffix("\r")


def read(path: Path) -> str:
    """The file's text as UTF-8, or a UserError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{shown(path)}: not valid UTF-8 (byte {e.start})") from None
    except OSError as e:
        raise UserError(f"{shown(path)}: cannot read: {e.strerror or e}") from None


def loads(line: str) -> Any:
    """json.loads that raises ValueError with a short reason for everything a
    hostile line can do: bad JSON, nesting deep enough to exhaust the stack,
    and lone surrogates (valid JSON escapes that no UTF-8 file or SQLite
    text can hold)."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise ValueError("not JSON this program reads (nested too deeply)") from None
    if _bad_text(value):
        raise ValueError("text that is not valid Unicode (a lone surrogate escape)")
    return value


def _bad_text(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False
