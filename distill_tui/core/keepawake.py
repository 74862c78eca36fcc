"""Keep a Mac awake while a long job runs, and let it sleep when the job ends.

`caffeinate -i -w PID` prevents idle sleep until PID exits, so even if this
process dies the assertion is released. Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from types import TracebackType


class KeepAwake:
    """Context manager; nests safely (only the outermost one starts caffeinate)."""

    _depth = 0
    _proc: subprocess.Popen[bytes] | None = None

    def __init__(self, reason: str = "") -> None:
        self.reason = reason

    @staticmethod
    def available() -> bool:
        return platform.system() == "Darwin" and shutil.which("caffeinate") is not None

    def __enter__(self) -> KeepAwake:
        cls = type(self)
        cls._depth += 1
        if cls._depth == 1 and self.available():
            try:
                cls._proc = subprocess.Popen(
                    ["caffeinate", "-i", "-w", str(os.getpid())],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                cls._proc = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cls = type(self)
        cls._depth = max(0, cls._depth - 1)
        if cls._depth == 0 and cls._proc is not None:
            cls._proc.terminate()
            try:
                cls._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                cls._proc.kill()
            cls._proc = None

    @classmethod
    def active(cls) -> bool:
        return cls._depth > 0
