"""Long jobs the app runs (generation, training, evaluation, fuse): they keep
the Mac awake while they run, ring the terminal and send a desktop
notification when they end, and survive a dropped SSH connection.

On SIGHUP (the terminal went away) the app detaches from the dead terminal and
keeps running without a screen until its jobs finish, writing to the store as
always; `distill-tui DIR` in a new session shows their progress live. With no
job running it simply exits.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text

from distill_tui.core.keepawake import KeepAwake
from distill_tui.core.notify import job_finished_sequence

if TYPE_CHECKING:
    from textual.app import App


@dataclass
class Jobs:
    app: App
    running: dict[str, KeepAwake] = field(default_factory=dict)
    detached: bool = False
    on_change: list[Callable[[], None]] = field(default_factory=list)
    _keep_pipe: int | None = None

    def started(self, name: str) -> None:
        if name in self.running:
            return
        awake = KeepAwake(name)
        awake.__enter__()
        self.running[name] = awake
        self._changed()

    def finished(self, name: str, ok: bool = True, message: str = "") -> None:
        awake = self.running.pop(name, None)
        if awake is not None:
            awake.__exit__(None, None, None)
        text = message or f"{name} {'finished' if ok else 'failed'}"
        if not self.detached:
            self.app.notify(
                Text(text), title=name, severity="information" if ok else "error", markup=False
            )
            self._ring(text)
        self._changed()
        if self.detached and not self.running:
            self.app.exit(0)

    def _ring(self, text: str) -> None:
        driver = getattr(self.app, "_driver", None)
        if driver is not None and not self.app.is_headless:
            driver.write(job_finished_sequence(f"distill-tui: {text}"))

    def _changed(self) -> None:
        for cb in self.on_change:
            cb()

    # -- SIGHUP ------------------------------------------------------------------
    def install_hangup_handler(self) -> None:
        import asyncio

        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.hangup)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass  # not on the main thread, or no SIGHUP on this platform

    def hangup(self) -> None:
        """The terminal is gone: keep jobs running without it, then exit."""
        if self.detached:
            return
        self.detached = True
        if not self.running:
            self._detach_fds()
            self.app.exit(0)
            return
        self._detach_fds()

    def _detach_fds(self) -> None:
        # Writes to a hung-up terminal fail; reads return EOF at once and would
        # spin the input thread. Point stdout/stderr at /dev/null and stdin at a
        # pipe that never delivers anything.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            r, w = os.pipe()
            os.dup2(r, 0)
            self._keep_pipe = w
        except OSError:
            pass
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
