"""`distill-tui curate DIR`: review decisions and checks from scripts, with
the same store functions the Curate screen calls."""

from __future__ import annotations

import argparse

from distill_tui.core import curation, paths
from distill_tui.core import curation_query as cq
from distill_tui.core.checks import run_checks
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "curate",
        help="accept, reject or check rows from scripts",
        description="Accept or reject generated rows by id, accept every unreviewed row, "
        "undo the last curation action, or run the checks that flag rows.",
    )
    p.add_argument("dir", help="project folder")
    act = p.add_mutually_exclusive_group(required=True)
    act.add_argument(
        "--accept-all", action="store_true", help="accept every generated, unreviewed row"
    )
    act.add_argument("--accept", nargs="+", type=int, metavar="ID", help="accept these rows")
    act.add_argument("--reject", nargs="+", type=int, metavar="ID", help="reject these rows")
    act.add_argument("--undo", action="store_true", help="undo the last curation action")
    act.add_argument(
        "--check",
        action="store_true",
        help="flag duplicates, empty/truncated/too-long outputs and bad JSON",
    )
    p.add_argument("--reason", metavar="TAG", help="reason tag for --reject")
    p.add_argument(
        "--no-tokens",
        action="store_true",
        help="with --check: skip loading the student's tokenizer (no too-long check)",
    )


def _check(ws: Workspace, no_tokens: bool) -> int:
    count, tid = None, ""
    if not no_tokens:
        from distill_tui.engine.student_tokens import load_token_counter

        try:
            model = paths.resolve_model(ws.root, ws.settings.student.model)
            count, tid = load_token_counter(model), model
        except UserError as e:
            print(f"warning: {e}; skipping the too-long check")
    s = run_checks(ws.store, ws.settings, count, tid)
    flagged = ", ".join(f"{k} {v}" for k, v in s.counts.items() if v) or "nothing flagged"
    print(f"checked {s.checked} changed rows: {flagged}")
    return 0


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    store = ws.store
    if args.reason and not args.reject:
        raise UserError("--reason goes with --reject")
    if args.check:
        return _check(ws, args.no_tokens)
    if args.undo:
        res = curation.undo(store)
        if res is None:
            print("nothing to undo")
        else:
            extra = f" ({res.skipped} changed since, left alone)" if res.skipped else ""
            print(f"undid {res.kind} on {len(res.row_ids)} row(s){extra}")
        return 0
    ids = args.accept or args.reject
    if ids:
        missing = curation.missing_ids(store, ids)
        if missing:
            raise UserError(f"no row with id {', '.join(map(str, missing))}")
        not_done = [r.id for r in map(lambda i: cq.get(store, i), ids) if r and r.status != "done"]
        if not_done:
            raise UserError(f"row {', '.join(map(str, not_done))} has no output to review yet")
    if args.accept_all:
        ids = cq.ids(store, cq.Filter(decision="unreviewed"))
        n = curation.accept(store, ids) if ids else 0
    elif args.accept:
        n = curation.accept(store, ids)
    else:
        if args.reason:
            curation.add_reason(store, args.reason)
        n = curation.reject(store, ids, args.reason)
    verb = "accepted" if (args.accept_all or args.accept) else "rejected"
    c = store.counts()
    print(
        f"{verb} {n} row(s); now accepted {c['accepted']}, rejected {c['rejected']},"
        f" unreviewed {c['unreviewed']}"
    )
    return 0
