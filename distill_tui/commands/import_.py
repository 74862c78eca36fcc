"""`distill-tui import DIR PATH...`: add inputs for the teacher to process."""

from __future__ import annotations

import argparse
import sys

from distill_tui.core.generate.importer import DEFAULT_MAX_BYTES, ImportOptions, import_inputs
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import inputs from files, folders or JSONL",
        description="Import inputs: folders (recursive), text files (one input each), "
        "JSONL (a prompt/input field) or, with --lines, one input per line.",
    )
    p.add_argument("dir", help="project folder")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to import")
    p.add_argument("--glob", default="*", help="file pattern inside folders (default: *)")
    p.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help="skip larger files (default: %(default)s)",
    )
    p.add_argument("--field", help="JSONL field holding the input (default: prompt, input, text)")
    p.add_argument("--lines", action="store_true", help="each line of a text file is one input")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    opts = ImportOptions(
        glob=args.glob,
        max_bytes=args.max_bytes,
        field=args.field,
        mode="lines" if args.lines else "auto",
    )
    report = import_inputs(ws.store, args.paths, opts)
    for line in report.skipped:
        print(f"skipped {line}", file=sys.stderr)
    print(report.summary)
    return 1 if report.added == 0 and report.skipped and report.duplicates == 0 else 0
