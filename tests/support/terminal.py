"""A real terminal for UI tests: the installed `distill-tui` command runs in an
80x24 pseudo-terminal, keys are written to it as a terminal sends them, and
`pyte` (a VT100/xterm emulator) renders what a person would see. Tests read
that screen, so they see what Pilot cannot: toasts as drawn, a traceback
printed on the way out, the process ending.

Every key pressed can name the binding it is meant to reach
(`press("ctrl+r", binding="train-start")`), so a test can check that every
binding of every screen and dialog was pressed at least once.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyte

COLS, ROWS = 80, 24

# Every binding id a terminal test reached is appended to this file (one per
# line), shared by the test processes of one session; see tests/conftest.py.
PRESSED_ENV = "DISTILL_TEST_PRESSED_FILE"


def record_pressed(ids: list[str]) -> None:
    path = os.environ.get(PRESSED_ENV)
    if path and ids:
        with open(path, "a", encoding="utf-8") as f:
            f.write("".join(f"{i}\n" for i in ids))


# What a terminal (xterm) sends for each key, as Textual names keys.
KEYS: dict[str, bytes] = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "escape": b"\x1b",
    "backspace": b"\x7f",
    "delete": b"\x1b[3~",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "shift+up": b"\x1b[1;2A",
    "shift+down": b"\x1b[1;2B",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "pageup": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    "space": b" ",
    "slash": b"/",
    "left_square_bracket": b"[",
    "right_square_bracket": b"]",
    "question_mark": b"?",
    "f4": b"\x1bOS",
}


def key_bytes(key: str) -> bytes:
    if key in KEYS:
        return KEYS[key]
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha():
        return bytes([ord(key[5].lower()) - 96])
    if len(key) == 1:
        return key.encode()
    raise ValueError(f"no byte sequence for key {key!r}")


def installed_command() -> str:
    """The `distill-tui` script installed beside this interpreter (the entry point
    a user runs), not a module invocation."""
    path = Path(sys.executable).parent / "distill-tui"
    assert path.is_file(), f"distill-tui is not installed beside {sys.executable}"
    return str(path)


class Terminal:
    """`distill-tui ARGS` in an 80x24 pseudo-terminal, read through a terminal emulator."""

    def __init__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        script: Path | None = None,
    ):
        """`script`: run this Python file (which ends by calling the CLI) instead of
        the installed command, for tests that change the app before it starts."""
        self.args = args
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.transcript = bytearray()
        self.pressed: list[str] = []  # binding ids reached
        self._lock = threading.Lock()
        self._exit_code: int | None = None
        child_env = {**os.environ, **(env or {}), "TERM": "xterm-256color", "COLUMNS": "80"}
        child_env.pop("LINES", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the app
            try:
                if cwd is not None:
                    os.chdir(cwd)
                if script is not None:
                    os.execve(sys.executable, [sys.executable, str(script), *args], child_env)
                os.execve(installed_command(), ["distill-tui", *args], child_env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    # -- output ------------------------------------------------------------------
    def _read(self) -> None:
        while True:
            try:
                ready = select.select([self.fd], [], [], 0.05)[0]
                if not ready:
                    if self._exit_code is not None:
                        return
                    continue
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            with self._lock:
                self.transcript += data
                self.stream.feed(data)

    def text(self) -> str:
        """The screen as a person sees it, line by line."""
        with self._lock:
            return "\n".join(line.rstrip() for line in self.screen.display)

    def flat(self) -> str:
        """The screen as one line (wrapped toast text reads as one phrase)."""
        joined = " ".join(line.strip(" ▌▐▊▎│┃") for line in self.text().splitlines())
        return re.sub(r"\s+", " ", joined)

    def has(self, text: str) -> bool:
        return text in self.text() or text in self.flat()

    def wait_for(self, *texts: str, timeout: float = 30) -> str:
        """Wait until one of `texts` is on screen; returns the one found."""
        deadline = time.monotonic() + timeout
        while True:
            for t in texts:
                if self.has(t):
                    return t
            self.assert_alive()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"none of {texts!r} on screen within {timeout}s; the screen:\n{self.text()}"
                )
            time.sleep(0.05)

    def wait_gone(self, text: str, timeout: float = 30) -> None:
        self.wait_until(lambda: not self.has(text), f"{text!r} still on screen", timeout)

    def wait_until(self, cond: Callable[[], object], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            self.assert_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {timeout}s; the screen:\n{self.text()}")
            time.sleep(0.05)

    def settle(self, quiet: float = 0.3, timeout: float = 10) -> None:
        """Wait until the app has drawn nothing new for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = len(self.transcript), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            n = len(self.transcript)
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    # -- input -------------------------------------------------------------------
    def press(
        self, *keys: str, binding: str | None = None, settle: bool = True, exits: bool = False
    ) -> None:
        """Press keys one after another, as a person would (not a paste);
        `exits`: the keys may end the app, so do not check that it is alive."""
        for key in keys:
            os.write(self.fd, key_bytes(key))
            # A lone ESC followed at once by another byte reads as alt+key.
            time.sleep(0.15 if key == "escape" else 0.03)
        if binding is not None:
            self.pressed.append(binding)
        if exits:
            return
        if settle:
            self.settle()
        self.assert_alive()

    def type(self, text: str) -> None:
        for ch in text:
            os.write(self.fd, ch.encode())
            time.sleep(0.01)
        self.settle()

    def resize(self, cols: int, rows: int) -> None:
        """What a terminal does when its window changes size (SIGWINCH follows)."""
        with self._lock:
            self.screen.resize(rows, cols)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.kill(self.pid, signal.SIGWINCH)
        self.settle()
        self.assert_alive()

    # -- the process ---------------------------------------------------------------
    def poll_exit(self) -> int | None:
        if self._exit_code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._exit_code = os.waitstatus_to_exitcode(status)
        return self._exit_code

    def output(self) -> str:
        return self.transcript.decode("utf-8", "replace")

    def assert_alive(self) -> None:
        code = self.poll_exit()
        assert code is None, f"the app ended (exit {code}):\n{self.output()[-3000:]}"
        self.assert_no_traceback()

    def assert_no_traceback(self) -> None:
        out = self.output()
        assert "Traceback" not in out, out[out.index("Traceback") - 200 :][:4000]

    def wait_exit(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.poll_exit()
            if code is not None:
                self._reader.join(timeout=2)
                return code
            time.sleep(0.05)
        raise AssertionError(f"the app did not exit within {timeout}s:\n{self.text()}")

    def quit(self) -> int:
        """ctrl+q, as a person quits; returns the exit code."""
        os.write(self.fd, key_bytes("ctrl+q"))
        code = self.wait_exit()
        self.assert_no_traceback()
        return code

    def kill(self) -> None:
        if self.poll_exit() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait_exit()
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
