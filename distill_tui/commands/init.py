"""`distill-tui init DIR`: create a project folder."""

from __future__ import annotations

import argparse

from distill_tui.core.display import shown
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create a project folder")
    p.add_argument("dir", help="project folder to create")
    p.add_argument("--name", help="task name (default: the folder's name)")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.create(args.dir)
    if args.name:
        ws.settings.task.name = args.name
        ws.save_settings()
    print(f"created {shown(ws.root)} (edit distill.toml or run `distill-tui {shown(args.dir)}`)")
    return 0
