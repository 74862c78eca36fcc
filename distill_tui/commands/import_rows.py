"""`distill-tui import-rows DIR FILE`: add rows written by `export --rows`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from distill_tui.core.dataset.export_rows import import_rows
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-rows",
        help="add rows with their history from an `export --rows` file",
        description="Add the rows of a file written by `distill-tui export DIR --rows FILE`, "
        "with their teacher answers, decisions and edits. Rows whose input is already in "
        "the project are skipped. A bad row is reported as FILE:LINE: reason and not "
        "imported (exit status 1); the good rows are.",
    )
    p.add_argument("dir", help="project folder")
    p.add_argument("file", help="a JSONL file written by export --rows")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    res = import_rows(ws.store, Path(args.file))
    for problem in res.problems:
        print(problem, file=sys.stderr)
    bad = f", {len(res.problems)} not imported (see above)" if res.problems else ""
    print(f"added {res.added} rows, skipped {res.skipped} already here{bad}")
    return 1 if res.problems else 0
