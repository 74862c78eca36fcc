"""`distill-tui [DIR]`: open the app on a project folder (or on the Task screen
to create one)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.project import Workspace


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir).expanduser().resolve()
    if root.exists() and not root.is_dir():
        from distill_tui.core.errors import UserError

        raise UserError(f"{root}: not a folder")
    workspace = Workspace.open(root) if paths.is_project(root) else None
    require_terminal(root)
    from distill_tui.ui.app import DistillApp

    app = DistillApp(root=root, workspace=workspace)
    app.run()
    return app.return_code or 0


def require_terminal(root: Path) -> None:
    """The app reads keys from stdin and draws on stderr: without a terminal on
    both it would wait for keys that never come. Say so, and what to use instead."""
    missing = [name for name, f in (("stdin", sys.stdin), ("stderr", sys.stderr)) if not _tty(f)]
    if missing:
        from distill_tui.core.errors import UserError

        which = " and ".join(missing) + (" is" if len(missing) == 1 else " are")
        raise UserError(
            f"the app needs a terminal ({which} not one); from a script use the headless"
            f" commands, e.g. `distill-tui status {root}`"
            " (`distill-tui -h` lists them all)"
        )


def _tty(f: object) -> bool:
    isatty = getattr(f, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False
