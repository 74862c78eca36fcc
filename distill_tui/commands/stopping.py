"""SIGINT and SIGTERM for the headless commands.

SIGTERM (a service manager, `kill`, a closing tmux pane) is handled as a
first Ctrl-C: a job that can stop (generation, training, fuse) is asked to,
commits what it has, and the command exits 143 once it has stopped cleanly.
Before or after such a job, SIGTERM ends the command at once, still through
the normal unwinding (open transactions roll back), with exit 143. A second
Ctrl-C quits at once, as before.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_TERMINATED = 128 + signal.SIGTERM  # what a shell reports for a SIGTERM death


class Terminated(Exception):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """SIGTERM arrived while no job could be stopped cleanly."""


_stops: list[threading.Event] = []
_terminated = False


def terminated() -> bool:
    return _terminated


@contextmanager
def sigterm_handled() -> Iterator[None]:
    """Take SIGTERM for the block (from the main thread; elsewhere a no-op)."""
    global _terminated
    _terminated = False
    try:
        previous = signal.signal(signal.SIGTERM, _on_term)
    except ValueError:
        previous = None  # not the main thread (tests calling main() from a worker)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_term(_sig: int, _frame: FrameType | None) -> None:
    global _terminated
    first = not _terminated
    _terminated = True
    if not _stops:
        raise Terminated
    for stop in _stops:
        stop.set()
    if first:
        print(
            "\nstopping (terminated): finishing what is in progress, then exiting",
            file=sys.stderr,
            flush=True,
        )


@contextmanager
def stoppable(stop: threading.Event, on_first_ctrl_c: str) -> Iterator[None]:
    """While the block runs, SIGTERM and a first Ctrl-C set `stop` (the
    message is printed for Ctrl-C); a second Ctrl-C raises KeyboardInterrupt."""

    def on_sigint(_sig: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(on_first_ctrl_c, file=sys.stderr, flush=True)

    _stops.append(stop)
    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        _stops.remove(stop)
