"""Start-up time: from the command to the first screen drawn, against a bare
Textual app that draws a screen of text, in one run, as a ratio; and against
a bare Textual app that draws the Task screen's widgets (bare_task_form.py),
Textual's own floor for that form.

The app is launched on a new project (the Task screen) and on projects of
1,000 answered rows last left on the Curate and on the Queue screen (a
returning user's first screen).

Each launch runs in an 80x24 pseudo-terminal read through the `pyte` terminal
emulator, and is timed until the screen holds its text (for the app: the
screen's fields or rows, its footer and the tab bar or status line; for the
bare app: its text and footer), then quit with ctrl+q. The launches
alternate, after one warm-up launch each, so load on a shared machine falls
on all alike.

    uv run python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pyte

BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static

TEXT = "\\n".join(f"line {i}: a screen of text, as an app draws it" for i in range(18))

class Bare(App):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Static(TEXT)
        yield Static("bare app ready")
        yield Footer()

Bare().run()
"""


def time_to_screen(
    cmd: list[str], markers: list[str], env: dict[str, str], timeout: float = 60.0
) -> float:
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(cmd[0], cmd, {**env, "TERM": "xterm-256color"})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    start = time.perf_counter()
    elapsed = None
    try:
        while time.perf_counter() - start < timeout:
            if not select.select([fd], [], [], 0.02)[0]:
                continue
            try:
                stream.feed(os.read(fd, 65536))
            except OSError:
                break
            text = "\n".join(screen.display)
            if all(m in text for m in markers):
                elapsed = time.perf_counter() - start
                break
        os.write(fd, b"\x11")  # ctrl+q
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
            try:
                if select.select([fd], [], [], 0.05)[0]:
                    os.read(fd, 65536)
            except OSError:
                pass
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"no first screen within {timeout}s:\n" + "\n".join(screen.display))
    return elapsed


def curating(tmp: Path, py: str, screen: str = "curate") -> Path:
    """A project of 1,000 answered rows, last left on the Curate (or another)
    screen: where a returning user's start-up ends."""
    from bench_curate import fill

    from distill_tui.core.project import Workspace

    root = tmp / f"left-on-{screen}"
    subprocess.run(
        [py, "-m", "distill_tui.cli", "init", str(root)], check=True, capture_output=True
    )
    ws = Workspace.open(root)
    fill(ws, 1000)
    ws.store.set_meta("ui.screen", screen)
    ws.store.close()
    return root


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
        # Compiled bytecode as an installed app has it (written by the warm-up
        # launch), in a folder of its own: a shell with PYTHONDONTWRITEBYTECODE
        # would otherwise compile every module from source at every launch.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        bare_py = Path(tmp) / "bare.py"
        bare_py.write_text(BARE_APP)
        form_py = Path(__file__).resolve().parent / "bare_task_form.py"
        cases = {
            "bare Textual app (a screen of text)": (
                [py, str(bare_py)],
                ["bare app ready", "line 0", "Quit"],
            ),
            "bare Textual app (the Task form's widgets)": (
                [py, str(form_py)],
                ["bare form ready", "Instructions", "Quit"],
            ),
            "distill-tui DIR (the Task screen)": (
                [py, "-m", "distill_tui.cli", str(proj)],
                ["Instructions", "Quit", "proj"],
            ),
            "distill-tui DIR (reopened on Curate, 1,000 rows)": (
                [py, "-m", "distill_tui.cli", str(curating(Path(tmp), py))],
                ["Support ticket 1:", "Quit", "left-on-curate"],
            ),
            "distill-tui DIR (reopened on Queue, 1,000 rows)": (
                [py, "-m", "distill_tui.cli", str(curating(Path(tmp), py, "queue"))],
                ["Support ticket 1:", "Quit", "done 1000"],
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for cmd, markers in cases.values():
            time_to_screen(cmd, markers, env)  # warm the file cache, write bytecode
        for _ in range(args.runs):
            for name, (cmd, markers) in cases.items():
                times[name].append(time_to_screen(cmd, markers, env))
    bare, form, app, curate, queue = (statistics.median(t) for t in times.values())
    print(f"start-up to the first screen drawn, median of {args.runs} (80x24 pty)")
    for name, t in times.items():
        spread = f"{min(t) * 1000:.0f}-{max(t) * 1000:.0f}"
        print(f"  {name:<50} {statistics.median(t) * 1000:6.0f} ms  (runs {spread} ms)")
    print(f"  ratio app / bare Textual app: {app / bare:.2f}x  (load {os.getloadavg()[0]:.1f})")
    print(f"  ratio app / the same form in bare Textual: {app / form:.2f}x")
    print(f"  ratio app reopened on Curate / bare Textual app: {curate / bare:.2f}x")
    print(f"  ratio app reopened on Queue / bare Textual app: {queue / bare:.2f}x")
    print(f"  ratio the same form in bare Textual / bare Textual app: {form / bare:.2f}x")


if __name__ == "__main__":
    main()
