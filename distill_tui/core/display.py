"""Text from outside (file names, inputs) shown on a terminal: control
characters are escaped so a file named with an escape sequence cannot
recolour, move or clear the user's screen."""

from __future__ import annotations

import os
import unicodedata


def shown(value: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """`value` with every control, format or unpaired-surrogate character
    written as a Python escape (\\x1b, \\n, \\u202e); printable text,
    non-ASCII letters and backslashes included, is kept as is."""
    text = os.fsdecode(value)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` and the noun agreeing with it: "1 validation pair", "2 validation
    pairs", "0 inputs"; `nouns` for a plural that is not noun + "s" ("leaves")."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"
