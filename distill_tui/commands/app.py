"""`distill-tui [DIR]`: open the app on a project folder (or on the Task screen
to create one)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.project import Workspace


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir).expanduser().resolve()
    if root.exists() and not root.is_dir():
        from distill_tui.core.errors import UserError

        raise UserError(f"{root}: not a folder")
    # Start-up makes tens of thousands of objects that live as long as the app
    # (modules, classes, widgets, styles). Python's cycle collector would walk
    # them again and again before the first frame: about 30 ms of 300 here,
    # one full pass of 13 ms. It rests until the first frame is drawn; then
    # what start-up made is frozen out of its passes (shorter pauses for the
    # hours the app runs) and it runs as usual.
    gc.disable()
    try:
        workspace = Workspace.open(root) if paths.is_project(root) else None
        require_terminal(root)
        from distill_tui.ui.app import DistillApp

        app = DistillApp(root=root, workspace=workspace, after_first_frame=collect_from_now_on)
        # Our own loop: asyncio.run would wait, after the app, for every thread
        # worker still running (a preflight measuring a big student: 30 s of a
        # blank screen after ctrl+q on the Train screen).
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            app.run(loop=loop)
        finally:
            loop.close()  # its executor is shut down without waiting
    finally:
        gc.enable()
    code = app.return_code or 0
    leave_promptly(code)
    return code


QUIT_GRACE_S = 2.0


def leave_promptly(code: int, grace: float = QUIT_GRACE_S) -> None:
    """After the app: jobs have stopped and committed (quitting waits for
    them), so a thread still running is read-only work nobody waits for (a
    preflight, a chat reply). Give such threads `grace` seconds, then end the
    process rather than wait; a SIGHUP meanwhile ends it at once."""
    from distill_tui.ui.jobs import hang_up_now

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: hang_up_now())
    me = threading.current_thread()
    deadline = time.monotonic() + grace
    for t in threading.enumerate():
        if t is not me and not t.daemon:
            t.join(max(0.0, deadline - time.monotonic()))
    if any(t is not me and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def collect_from_now_on() -> None:
    """The first frame is out: start-up's objects leave the collector's
    generations for good, and it runs again."""
    gc.freeze()
    gc.enable()


def require_terminal(root: Path) -> None:
    """The app reads keys from stdin and draws on stderr: without a terminal on
    both it would wait for keys that never come. Say so, and what to use instead."""
    missing = [name for name, f in (("stdin", sys.stdin), ("stderr", sys.stderr)) if not _tty(f)]
    if missing:
        from distill_tui.core.errors import UserError

        which = " and ".join(missing) + (" is" if len(missing) == 1 else " are")
        raise UserError(
            f"the app needs a terminal ({which} not one); from a script use the headless"
            f" commands, e.g. `distill-tui status {root}`"
            " (`distill-tui -h` lists them all)"
        )


def _tty(f: object) -> bool:
    isatty = getattr(f, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False
