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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from distill_tui.core.keepawake import KeepAwake
from distill_tui.core.notify import job_finished_sequence
from distill_tui.ui.text import say

if TYPE_CHECKING:
    from textual.app import App


@dataclass
class Jobs:
    app: App
    running: dict[str, KeepAwake] = field(default_factory=dict)
    detached: bool = False
    exit_code: int = 0
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
            say(self.app, text, title=name, severity="information" if ok else "error")
            self._ring(text)
        self._changed()
        if self.detached and not self.running:
            self._exit_detached()

    def _ring(self, text: str) -> None:
        driver = getattr(self.app, "_driver", None)
        if driver is not None and not self.app.is_headless:
            driver.write(job_finished_sequence(f"distill-tui: {text}"))

    def _changed(self) -> None:
        for cb in self.on_change:
            cb()

    # -- the screen failed ------------------------------------------------------
    def continue_without_screen(self, line: str) -> None:
        """The screen cannot be drawn any more: give the terminal back, say so in
        one line, and let the running jobs finish (the process then exits 1)."""
        if self.detached:
            return
        self.detached = True
        self.exit_code = 1
        driver = getattr(self.app, "_driver", None)
        if driver is not None:
            try:
                driver.stop_application_mode()
                queue = getattr(getattr(driver, "_writer_thread", None), "_queue", None)
                deadline = time.monotonic() + 1
                while queue is not None and not queue.empty() and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(0.1)  # the writer thread writes what it took last
            except Exception:  # noqa: BLE001 - the terminal may be half gone already
                pass
            driver.write = lambda data: None  # type: ignore[method-assign]
            driver.flush = lambda: None  # type: ignore[method-assign]
        names = ", ".join(self.running)
        note = (
            f"{line}\n{names} goes on without the screen; the app exits when it ends"
            " (ctrl+c stops it now; what is done so far is saved).\n"
        )
        try:
            os.write(2, note.encode("utf-8", "replace"))
        except OSError:
            pass

    # -- SIGHUP ------------------------------------------------------------------
    def install_hangup_handler(self) -> None:
        import asyncio

        # A plain signal handler, not the event loop's: when the terminal has
        # already gone, the loop may be blocked on a full output queue.
        try:
            loop = asyncio.get_running_loop()
            signal.signal(signal.SIGHUP, lambda *_: self._on_sighup(loop))
        except (RuntimeError, ValueError, AttributeError):
            pass  # not on the main thread, or no SIGHUP on this platform

    def _on_sighup(self, loop) -> None:  # type: ignore[no-untyped-def]
        if self.detached:
            return
        self.detached = True
        self._detach_output()
        loop.call_soon_threadsafe(self.hangup)

    def hangup(self) -> None:
        """The terminal is gone: keep jobs running without it, then exit."""
        self.detached = True
        if not self.running:
            self._exit_detached()

    def _exit_detached(self) -> None:
        # Closing the pipe's write end lets the input thread see EOF and end.
        if self._keep_pipe is not None:
            os.close(self._keep_pipe)
            self._keep_pipe = None
        self.app.exit(return_code=self.exit_code)

    def _detach_output(self) -> None:
        # Writes to a hung-up terminal fail with EIO and kill Textual's writer
        # thread; reads return EOF at once and would spin the input thread.
        # Point stdout/stderr at /dev/null, stdin at a pipe that never
        # delivers, and drain whatever the app still queues for the screen.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            r, w = os.pipe()
            os.dup2(r, 0)
            self._keep_pipe = w
        except OSError:
            pass
        driver = getattr(self.app, "_driver", None)
        writer = getattr(driver, "_writer_thread", None)
        queue = getattr(writer, "_queue", None)
        if queue is not None:

            def drain() -> None:
                while True:
                    queue.get()

            threading.Thread(target=drain, name="hangup-drain", daemon=True).start()
        if driver is not None:
            driver.write = lambda data: None  # type: ignore[method-assign]
            driver.flush = lambda: None  # type: ignore[method-assign]
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
