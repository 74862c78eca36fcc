"""`distill-tui [DIR]`: open the app on a project folder (or on the Task screen
to create one)."""

from __future__ import annotations

import argparse
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.project import Workspace


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir).expanduser().resolve()
    if root.exists() and not root.is_dir():
        from distill_tui.core.errors import UserError

        raise UserError(f"{root}: not a folder")
    workspace = Workspace.open(root) if paths.is_project(root) else None
    from distill_tui.ui.app import DistillApp

    app = DistillApp(root=root, workspace=workspace)
    app.run()
    return app.return_code or 0
