"""`distill-tui curate DIR`: review decisions, edits and checks from scripts,
with the same store functions the Curate screen calls and its rules: a
rejection says why (a tag, or `--no-reason` on purpose), an edit from a file
or $EDITOR drops the one newline an editor adds. `distill-tui rows` lists
the ids."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.curate import curation
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import edit_checked, invalid_json, run_checks, undo_checked
from distill_tui.core.curate.editor import edit_externally, strip_added_newline
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace

# The reason tag of an answer `--regenerate` rejects when none is given.
REGEN_REASON = "regenerated"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "curate",
        help="accept, reject, edit or check rows from scripts",
        description="Accept or reject generated rows by id (`distill-tui rows` lists them), "
        "accept every unreviewed row, edit a row, undo the last curation action, or run "
        "the checks that flag rows.",
    )
    p.add_argument("dir", help="project folder")
    act = p.add_mutually_exclusive_group(required=True)
    act.add_argument(
        "--accept-all", action="store_true", help="accept every generated, unreviewed row"
    )
    act.add_argument("--accept", nargs="+", type=_row_id, metavar="ID", help="accept these rows")
    act.add_argument("--reject", nargs="+", type=_row_id, metavar="ID", help="reject these rows")
    act.add_argument(
        "--edit",
        type=_row_id,
        metavar="ID",
        help="edit a row: its output from --output-file, its input from --input-file, "
        "or its output in $EDITOR",
    )
    act.add_argument(
        "--regenerate",
        nargs="+",
        type=_row_id,
        metavar="ID",
        help="queue these rows for `generate` again; the answer they hold is rejected "
        f"(--reason, default {REGEN_REASON!r}), so it becomes the rejected side of a pair",
    )
    act.add_argument("--undo", action="store_true", help="undo the last curation action")
    act.add_argument(
        "--check",
        action="store_true",
        help="flag duplicates, empty/truncated/too-long outputs and bad JSON",
    )
    p.add_argument("--reason", metavar="TAG", help="reason tag for --reject or --regenerate")
    p.add_argument(
        "--no-reason",
        action="store_true",
        help="with --reject: reject without a reason, on purpose",
    )
    p.add_argument("--output-file", metavar="FILE", help="with --edit: the new output ('-': stdin)")
    p.add_argument("--input-file", metavar="FILE", help="with --edit: the new input ('-': stdin)")
    p.add_argument(
        "--no-tokens",
        action="store_true",
        help="with --check: skip loading the student's tokenizer (no too-long check)",
    )


def _row_id(text: str) -> int:
    """A row id, as `distill-tui rows` lists them; `--accept all` says which
    flag does that."""
    try:
        return int(text)
    except ValueError:
        if text.strip().lower() == "all":
            hint = "--accept-all accepts every generated, unreviewed row"
        else:
            hint = "`distill-tui rows DIR` lists the ids"
        raise argparse.ArgumentTypeError(f"{text!r} is not a row id ({hint})") from None


def _check(ws: Workspace, no_tokens: bool) -> int:
    count, tid = None, ""
    if not no_tokens:
        from distill_tui.engine.models.student_tokens import load_token_counter

        try:
            model = paths.resolve_model(ws.root, ws.settings.student.model)
            count, tid = load_token_counter(model), model
        except UserError as e:
            print(f"warning: {e}; skipping the too-long check")
    s = run_checks(ws.store, ws.settings, count, tid)
    flagged = ", ".join(f"{k} {v}" for k, v in s.counts.items() if v) or "nothing flagged"
    print(f"checked {s.checked} changed rows: {flagged}")
    return 0


def _read(name: str, flag: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{flag} {shown(name)}: not UTF-8 text") from None
    except OSError as e:
        raise UserError(f"{flag} {shown(name)}: {e.strerror or e}") from None


def _edit(ws: Workspace, row_id: int, output_file: str | None, input_file: str | None) -> int:
    if output_file == "-" and input_file == "-":
        raise UserError("only one of --output-file and --input-file can read stdin")
    row = cq.get(ws.store, row_id)
    if row is None:
        raise UserError(f"no row with id {row_id}")
    output = new_input = None
    if output_file is None and input_file is None:
        try:
            output = edit_externally(row.output or "")
        except (OSError, subprocess.CalledProcessError) as e:
            raise UserError(f"$EDITOR failed: {e}") from None
        if not output.strip():
            raise UserError(
                f"row {row_id} unchanged: the editor left the output empty, and an empty"
                " output is refused (reject the row instead)"
            )
    if output_file is not None:
        output = strip_added_newline(row.output or "", _read(output_file, "--output-file"))
    if input_file is not None:
        new_input = strip_added_newline(row.input, _read(input_file, "--input-file"))
    changed, problem = edit_checked(ws.store, ws.settings, row_id, output, new_input)
    print(f"edited row {row_id}" if changed else f"row {row_id} unchanged")
    if problem is not None:
        print(f"warning: row {row_id}: {problem} (flagged bad-json)", file=sys.stderr)
    return 0


def _regenerate(ws: Workspace, ids: list[int], reason: str | None) -> int:
    """The Curate screen's `x` then `g`: the answer a row holds is rejected
    (unless it already is), then the row goes back to the queue; once a new
    answer is accepted, the rejected one is the other side of a "regen" pair."""
    store = ws.store
    missing = curation.missing_ids(store, ids)
    if missing:
        raise UserError(f"no row with id {', '.join(map(str, missing))}")
    rows = [r for r in (cq.get(store, i) for i in ids) if r is not None]
    waiting = [r.id for r in rows if r.status not in ("done", "failed")]
    if waiting:
        raise UserError(f"row {', '.join(map(str, waiting))} is already waiting for an answer")
    answered = [r.id for r in rows if r.status == "done" and r.decision != "rejected"]
    if answered:
        reason = reason or REGEN_REASON
        curation.add_reason(store, reason)
        curation.reject(store, answered, reason)
    n = curation.regenerate(store, ids)
    kept = f"; {len(answered)} answer(s) rejected ({reason}), kept for pairs" if answered else ""
    print(f"queued {n} row(s) again{kept}; `distill-tui generate {shown(ws.root)}` answers them")
    return 0


def _reason(ws: Workspace, args: argparse.Namespace) -> str | None:
    """The Curate screen's rule: a rejection says why, or says on purpose
    that it has no reason."""
    reason = (args.reason or "").strip()
    if args.no_reason and reason:
        raise UserError("--reason and --no-reason: give one")
    if not reason and not args.no_reason:
        known = curation.reasons(ws.store)
        tags = f" (tags so far: {', '.join(known)})" if known else ""
        raise UserError(
            f"say why the rows are rejected: --reason TAG{tags}, or --no-reason on purpose"
        )
    return reason or None


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    store = ws.store
    if args.regenerate:
        if args.no_reason:
            raise UserError("--no-reason goes with --reject")
        return _regenerate(ws, args.regenerate, (args.reason or "").strip() or None)
    if (args.reason or args.no_reason) and not args.reject:
        raise UserError("--reason and --no-reason go with --reject")
    if (args.output_file or args.input_file) and args.edit is None:
        raise UserError("--output-file and --input-file go with --edit")
    if args.edit is not None:
        return _edit(ws, args.edit, args.output_file, args.input_file)
    reason = _reason(ws, args) if args.reject else None
    if args.check:
        return _check(ws, args.no_tokens)
    if args.undo:
        res = undo_checked(store, ws.settings)
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
    if args.accept_all or args.accept:
        bad = invalid_json(store, ws.settings, list(ids))
        for row_id, problem in list(bad.items())[:5]:
            print(f"warning: row {row_id}: {problem}; accepted anyway", file=sys.stderr)
        if len(bad) > 5:
            print(f"warning: {len(bad) - 5} more rows are not valid JSON", file=sys.stderr)
    if args.accept_all:
        n = curation.accept(store, ids) if ids else 0
    elif args.accept:
        n = curation.accept(store, ids)
    else:
        if reason:
            curation.add_reason(store, reason)
        n = curation.reject(store, ids, reason)
    verb = "accepted" if (args.accept_all or args.accept) else "rejected"
    c = store.counts()
    print(
        f"{verb} {n} row(s); now accepted {c['accepted']}, rejected {c['rejected']},"
        f" unreviewed {c['unreviewed']}"
    )
    return 0
