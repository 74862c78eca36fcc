"""`distill-tui rows DIR`: list rows with their ids, filtered and sorted as on
the Curate screen (the same `curation_query` reads), for the ids that
`curate --accept/--reject/--edit` take."""

from __future__ import annotations

import argparse
import json

from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import FLAGS
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rows",
        help="list rows with their ids (filters like the Curate screen's)",
        description="List rows, one a line with its id, or as JSON lines with --json. "
        "The filters are the Curate screen's: status, decision, reason, text, output "
        "length and check flags.",
    )
    p.add_argument("dir", help="project folder")
    p.add_argument("--status", choices=cq.STATUSES, help="generation status")
    p.add_argument("--decision", choices=cq.DECISION_FILTERS, help="curation decision")
    p.add_argument("--reason", metavar="TAG", help="rejected with this reason tag")
    p.add_argument("--text", metavar="TEXT", help="input or output contains TEXT (any case)")
    p.add_argument("--min-chars", type=int, metavar="N", help="output at least N characters")
    p.add_argument("--max-chars", type=int, metavar="N", help="output at most N characters")
    p.add_argument("--flag", choices=(*FLAGS, "any"), help="flagged by `curate --check`")
    p.add_argument("--sort", choices=cq.SORTS, default="id", help="order (default: id)")
    p.add_argument("--desc", action="store_true", help="reverse the order")
    p.add_argument("--limit", type=int, metavar="N", help="at most N rows")
    p.add_argument("--json", action="store_true", help="one JSON object a line, texts whole")


def _filter(args: argparse.Namespace) -> cq.Filter:
    return cq.Filter(
        status=args.status,
        decision=args.decision,
        reason=args.reason,
        text=args.text,
        min_chars=args.min_chars,
        max_chars=args.max_chars,
        flag=args.flag,
        sort=args.sort,
        descending=args.desc,
    )


def _record(r: cq.RowView) -> dict:
    return {
        "id": r.id,
        "status": r.status,
        "decision": r.decision,
        "reason": r.reason,
        "edited": r.edited,
        "flags": list(r.flags),
        "tokens": r.tokens,
        "input": r.input,
        "output": r.output,
    }


def _clip(text: str | None, width: int) -> str:
    one = shown(" ".join((text or "").split()))
    return one if len(one) <= width else one[: width - 1] + "…"


def _line(r: cq.RowView) -> str:
    state = r.decision or ("unreviewed" if r.status == "done" else r.status)
    if r.reason:
        state += f":{r.reason}"
    mark = "*" if r.edited else " "
    return f"{r.id:>6}{mark} {state:<16} {_clip(r.input, 40):<40}  {_clip(r.output, 40)}"


def run(args: argparse.Namespace) -> int:
    for name in ("min_chars", "max_chars", "limit"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise UserError(f"--{name.replace('_', '-')} must be 0 or more, not {value}")
    ws = Workspace.open(args.dir)
    flt = _filter(args)
    total = cq.count(ws.store, flt)
    limit = total if args.limit is None else min(args.limit, total)
    page = 1000
    shown_rows = 0
    if not args.json:
        print(f"{'id':>6}  {'state':<16} {'input':<40}  output")
    for offset in range(0, limit, page):
        for r in cq.page(ws.store, flt, offset, min(page, limit - offset)):
            print(json.dumps(_record(r), ensure_ascii=False) if args.json else _line(r))
            shown_rows += 1
    if not args.json:
        more = f" of {total}" if shown_rows < total else ""
        print(f"{shown_rows}{more} row(s) ({flt.describe()}); * = edited by hand")
    return 0
