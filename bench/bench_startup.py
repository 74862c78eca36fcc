"""Start-up time: from the command to the first screen drawn.

Runs `distill-tui DIR` in a pseudo-terminal (80x24) several times and times
until the tab bar appears on screen, then quits it with ctrl+q. Side by side:
a bare Python start, and what importing mlx-lm, anthropic and openai up front
would add (the app defers them until a job needs them).

    uv run python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path


def time_to_screen(cmd: list[str], marker: bytes, timeout: float = 60.0) -> float:
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ["TERM"] = "xterm-256color"
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - start < timeout:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                seen += chunk
                if marker in seen:
                    elapsed = time.perf_counter() - start
                    break
        os.write(fd, b"\x11")  # ctrl+q
        deadline = time.time() + 10
        while time.time() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:
                if select.select([fd], [], [], 0.05)[0]:
                    os.read(fd, 65536)
            except OSError:
                pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"no first screen within {timeout}s; got {seen[-300:]!r}")
    return elapsed


def time_cmd(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "proj"
        subprocess.run(
            [py, "-m", "distill_tui.cli", "init", str(proj)], check=True, capture_output=True
        )
        app_cmd = [py, "-m", "distill_tui.cli", str(proj)]
        # Warm the file cache once so every run measures the same thing.
        time_to_screen(app_cmd, b"Task")
        app = [time_to_screen(app_cmd, b"Task") for _ in range(args.runs)]
    bare = [time_cmd([py, "-c", "pass"]) for _ in range(args.runs)]
    heavy = [
        time_cmd([py, "-c", "import mlx.core, mlx_lm, anthropic, openai"]) for _ in range(args.runs)
    ]
    m_app, m_bare, m_heavy = (statistics.median(x) for x in (app, bare, heavy))
    print(f"start-up, median of {args.runs} runs (80x24 pty)")
    print(f"  {'python -c pass':<44} {m_bare * 1000:8.0f} ms")
    print(f"  {'import mlx, mlx_lm, anthropic, openai':<44} {m_heavy * 1000:8.0f} ms")
    print(f"  {'distill-tui DIR: command to first screen':<44} {m_app * 1000:8.0f} ms")
    print(f"  ratio first screen / heavy imports alone: {m_app / m_heavy:.2f}")


if __name__ == "__main__":
    main()
