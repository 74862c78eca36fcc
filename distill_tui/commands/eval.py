"""`distill-tui eval DIR [--run RUN] [--limit N] [--split valid|test] [--json]`:
the adapter and the base model answer the split; print their metrics side by
side (or one JSON object) and store the result for the Chat screen."""

from __future__ import annotations

import argparse
import json
import sys

from distill_tui.core import checkpoints
from distill_tui.core.errors import UserError
from distill_tui.core.evals import ADAPTER, BASE, EvalResult
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score the adapter against the base model on the valid/test split",
        description="Both models answer every row of the split greedily; each answer is "
        "scored against the teacher's output. The result is stored in the project.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--run", help="training run id (default: the newest)")
    p.add_argument("--checkpoint", help="best, latest or an iteration number")
    p.add_argument("--split", choices=["valid", "test"], default="valid")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    p.add_argument("--max-tokens", type=int, default=512, help="cap per answer (default 512)")
    p.add_argument("--no-base", action="store_true", help="skip the base model (faster)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--items", action="store_true", help="with --json: include every row")


def format_table(result: EvalResult) -> list[str]:
    base, adapter = result.summary(BASE), result.summary(ADAPTER)
    lines = [f"{'metric':<14}{'base':>8}{'adapter':>9}{'change':>9}"]
    for name, value in adapter.items():
        b = base.get(name)
        bs = f"{b:8.3f}" if b is not None else f"{'-':>8}"
        delta = f"{value - b:+9.3f}" if b is not None else f"{'':>9}"
        lines.append(f"{name:<14}{bs}{value:9.3f}{delta}")
    return lines


def run(args: argparse.Namespace) -> int:
    from distill_tui.engine.chat import ModelHost
    from distill_tui.engine.evaluate import evaluate
    from distill_tui.engine.mlx_thread import MLXBusy

    ws = Workspace.open(args.dir)
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    cp = checkpoints.resolve(ws, args.run, args.checkpoint)
    show = sys.stderr.isatty() and not args.json

    def progress(done: int, total: int, who: str) -> None:
        if show:
            print(f"\r{who:>8} {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        result = evaluate(
            ws,
            ModelHost(),
            cp,
            split=args.split,
            limit=args.limit,
            max_tokens=args.max_tokens,
            include_base=not args.no_base,
            progress=progress,
        )
    except MLXBusy as e:
        raise UserError(str(e)) from None
    if show:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(items=args.items)))
        return 0
    print(f"{cp.label} on {args.split}: {result.rows} rows, {len(result.failures())} wrong")
    for line in format_table(result):
        print(line)
    return 0
