"""Tell a user in another window that a long job ended: the terminal bell and
an OSC 9 desktop notification (iTerm2, WezTerm, kitty, Windows Terminal, and
most terminals over SSH pass it through; others ignore it)."""

from __future__ import annotations

import re
from typing import TextIO

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def osc9(message: str) -> str:
    """The escape sequence for a desktop notification. Control characters
    (which could end the sequence early or inject others) are removed."""
    clean = _UNSAFE.sub(" ", message)[:200]
    return f"\x1b]9;{clean}\x07"


def job_finished_sequence(message: str) -> str:
    return "\a" + osc9(message)


def notify_terminal(stream: TextIO, message: str) -> bool:
    """Ring and notify on `stream` if it is a terminal; returns whether it did."""
    try:
        if not stream.isatty():
            return False
        stream.write(job_finished_sequence(message))
        stream.flush()
        return True
    except (OSError, ValueError):
        return False  # the terminal went away (dropped SSH): nothing to tell
