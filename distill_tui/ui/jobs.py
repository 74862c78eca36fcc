"""Long jobs the app runs (generation, training, evaluation, fuse): they keep
the Mac awake while they run, ring the terminal and send a desktop
notification when they end, and survive a dropped SSH connection.

On SIGHUP (the terminal went away) the app detaches from the dead terminal and
keeps running without a screen until its jobs finish, writing to the store as
always; `distill-tui DIR` in a new session shows their progress live. With no
job running it simply exits. Quitting while a job runs offers the same on
purpose (`leave_headless`), or stops the jobs and quits when they have
stopped (`stop_then_quit`), which is also what SIGTERM does (then exit 143).
A SIGHUP once the quit is under way (the app exiting, its loop ending, a
thread it waits for) ends the process at once: nothing is left to save, and
a process left waiting with no terminal ran on for half an hour.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from distill_tui.core.keepawake import KeepAwake
from distill_tui.core.notify import job_finished_sequence
from distill_tui.ui.text import say

if TYPE_CHECKING:
    from textual.app import App

EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_HANGUP = 128 + getattr(signal, "SIGHUP", 1)


def hang_up_now() -> None:
    """End the process on a hangup when no job is left to finish: the
    terminal is gone, so nothing is drawn, and the store holds every commit."""
    os._exit(EXIT_HANGUP)


@dataclass
class Jobs:
    app: App
    running: dict[str, KeepAwake] = field(default_factory=dict)
    detached: bool = False
    exit_code: int = 0
    on_change: list[Callable[[], None]] = field(default_factory=list)
    # How to ask each job to stop (its stop event's `set`); a job without one
    # runs to its end.
    stops: dict[str, Callable[[], None]] = field(default_factory=dict)
    quitting: bool = False
    _keep_pipe: int | None = None

    def started(self, name: str, stop: threading.Event | Callable[[], None] | None = None) -> None:
        if stop is not None:
            self.stops[name] = stop.set if isinstance(stop, threading.Event) else stop
        if name in self.running:
            return
        awake = KeepAwake(name)
        awake.__enter__()
        self.running[name] = awake
        self._changed()

    def finished(self, name: str, ok: bool = True, message: str = "") -> None:
        self.stops.pop(name, None)
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
        elif self.quitting and not self.running:
            self.app.exit(return_code=self.exit_code)

    # -- quitting with jobs running ---------------------------------------------------
    def stop_all(self) -> list[str]:
        """Ask every job to stop; returns those that cannot be stopped."""
        unstoppable = []
        for name in list(self.running):
            stop = self.stops.get(name)
            if stop is None:
                unstoppable.append(name)
            else:
                stop()
        return unstoppable

    def stop_then_quit(self) -> list[str]:
        """Stop every job and exit once the last one has ended; returns the
        jobs that run to their end because they cannot be stopped."""
        self.quitting = True
        unstoppable = self.stop_all()
        if not self.running:
            self.app.exit(return_code=self.exit_code)
        return unstoppable

    def leave_headless(self, why: str = "", exit_code: int = 0) -> None:
        """Quit the screen but not the jobs, as after an SSH drop: the terminal
        is given back with one message (after `why`, when the screen failed),
        the jobs go on writing to the store, and the process exits when they
        end, with `exit_code`."""
        if self.detached:
            return
        self.exit_code = exit_code
        driver = getattr(self.app, "_driver", None)
        if driver is not None and not self.app.is_headless:
            try:
                driver.suspend_application_mode()  # the terminal as it was, output flushed
            except Exception:  # noqa: BLE001 - the screen may be what failed
                pass
            names = " and ".join(sorted(self.running)) or "the job"
            root = getattr(self.app, "root", ".")
            message = (
                (f"{why}\n" if why else "")
                + f"distill-tui: {names} keeps running without a screen (pid {os.getpid()});"
                f" `distill-tui {root}` shows its progress, ctrl+c here stops it."
                " This process exits when it ends.\n"
            )
            try:
                os.write(2, message.encode())  # where Textual drew: stderr
            except OSError:
                pass
            try:
                # With the terminal back in its normal mode ctrl+c sends SIGINT:
                # stop the jobs cleanly, as the headless commands do.
                signal.signal(signal.SIGINT, lambda *_: self.stop_all())
            except ValueError:
                pass  # not on the main thread (tests)
        self.detached = True
        self._detach_output()
        if not self.running:
            self._exit_detached()

    def _ring(self, text: str) -> None:
        driver = getattr(self.app, "_driver", None)
        if driver is not None and not self.app.is_headless:
            driver.write(job_finished_sequence(f"distill-tui: {text}"))

    def _changed(self) -> None:
        for cb in self.on_change:
            cb()

    # -- SIGTERM -----------------------------------------------------------------
    def install_terminate_handler(self) -> None:
        """SIGTERM (`kill`, a service manager, a closing tmux pane) is ctrl+q's
        "stop it and quit": jobs stop and commit what they have, the terminal is
        given back, and the process exits 143 as a SIGTERM death would."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
            signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(self.terminate))
        except (RuntimeError, ValueError):
            pass  # not on the main thread (tests)

    def terminate(self) -> None:
        self.exit_code = EXIT_TERMINATED
        if self.detached:  # no screen: stop the jobs; the exit follows the last one
            self.stop_all()
            if not self.running:
                self._exit_detached()
            return
        self.stop_then_quit()

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
        quitting = getattr(self.app, "_exit", False) or loop.is_closed() or not loop.is_running()
        if quitting and not self.running:
            hang_up_now()  # the loop may never run a callback again
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
