"""`distill-tui generate DIR`: run the teacher over pending rows, headless.

Calls the same `run_queue` as the Queue screen. A progress line goes to
stderr (rewritten in place on a terminal, one line every few seconds
otherwise) and a summary to stdout. Exit 0 when every row asked for was
answered and stored; 1 when rows failed; 2 when the run stopped on a
configuration, key, network, store or other error (a paid answer the store
would not take is kept in unsaved-answers.jsonl and stored by the next run).
The first Ctrl-C, or SIGTERM, lets in-flight requests finish and store their
answers (SIGTERM then exits 143); a second Ctrl-C quits at once.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from distill_tui.commands.stopping import stoppable
from distill_tui.core.display import shown
from distill_tui.core.generate.pricing import fmt_spend
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace
from distill_tui.engine.generate.estimate import estimate
from distill_tui.engine.generate.queue import Progress


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate teacher completions for pending rows")
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--limit", type=int, metavar="N", help="generate at most N rows (a pilot run)")
    p.add_argument(
        "--dry-run", action="store_true", help="print the token and cost estimate and exit"
    )
    p.add_argument(
        "--batch", action="store_true", help="use Anthropic Message Batches (half price, slower)"
    )
    p.add_argument(
        "--max-cost",
        type=finite_float,
        metavar="USD",
        help="budget cap for the project's teacher spend",
    )
    p.add_argument("--retry-failed", action="store_true", help="queue failed rows again first")
    p.add_argument("--quiet", action="store_true", help="no progress line, only the summary")


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def progress_line(p: Progress) -> str:
    return (
        f"{p.state:<8} {p.done + p.failed}/{p.planned} done {p.done} failed {p.failed}"
        f" in-flight {p.in_flight} retries {p.retries} | {p.rows_per_min:.0f} rows/min"
        f" ETA {fmt_eta(p.eta_s)} | tokens {p.input_tokens:,} in"
        f" ({p.cache_read_tokens:,} cached) {p.output_tokens:,} out"
        f" | {fmt_spend(p.cost_usd, p.cost_unknown)}"
        + (f" | rate limited: waiting {fmt_eta(p.wait_s)}" if p.wait_s >= 1 else "")
    )


class _Printer:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.waiting = False

    def __call__(self, p: Progress) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        # A rate-limit hold is shown the moment it starts, not 5 s later.
        waiting = p.wait_s >= 1
        show = p.state == "finished" or (waiting and not self.waiting)
        self.waiting = waiting
        if self.tty:
            if show or now - self.last >= 0.2:
                sys.stderr.write("\r\x1b[K" + progress_line(p)[:200])
                sys.stderr.flush()
                self.last = now
            if p.state == "finished":
                sys.stderr.write("\n")
        elif show or now - self.last >= 5.0:
            print(progress_line(p), file=sys.stderr, flush=True)
            self.last = now


def run(args: argparse.Namespace) -> int:
    from distill_tui.core.generate import queue as q

    ws = Workspace.open(args.dir)
    if args.limit is not None and args.limit < 1:
        raise SystemExit("distill-tui generate: --limit must be at least 1")
    if not args.dry_run:
        _recover(ws, args.retry_failed)
    batch = args.batch or ws.settings.teacher.use_batches
    est = estimate(ws, args.limit, batch=batch)
    print(f"estimate: {est.describe()}", file=sys.stderr)
    if args.dry_run:
        return 0
    if est.rows == 0 and not q.batch_row_ids(ws.store):
        print("nothing to generate: no pending rows")
        return 0

    stop = threading.Event()
    with stoppable(stop, "\nstopping: waiting for in-flight requests (Ctrl-C again to quit)"):
        if batch:
            from distill_tui.engine.generate.teachers.message_batches import run_batches

            result = run_batches(
                ws,
                limit=args.limit,
                max_cost_usd=args.max_cost,
                on_progress=_Printer(args.quiet),
                stop_event=stop,
            )
        else:
            from distill_tui.engine.generate.queue import run_queue

            result = run_queue(
                ws,
                limit=args.limit,
                max_cost_usd=args.max_cost,
                on_progress=_Printer(args.quiet),
                stop_event=stop,
            )
    p = result.progress
    c = ws.store.counts()
    print(
        f"{shown(result.message)}. This run: {p.done} done, {p.failed} failed, {p.retries} retries,"
        f" {p.input_tokens:,} input tokens ({p.cache_read_tokens:,} cached),"
        f" {p.output_tokens:,} output tokens, {fmt_spend(p.cost_usd, p.cost_unknown)}."
        f" Project: {c['done']} done, {c['failed']} failed, {c['pending']} pending,"
        f" {fmt_spend(float(c['cost_usd']), int(c['cost_unknown']))} spent."
    )
    if not result.ok:
        print(f"distill-tui: {shown(result.message)}", file=sys.stderr)
        return 2
    if p.failed:
        print(
            f"distill-tui: {p.failed} row(s) failed; `distill-tui generate DIR --retry-failed`"
            " queues them again",
            file=sys.stderr,
        )
        return 1
    return 0


def _recover(ws: Workspace, retry_failed: bool) -> None:
    """Before counting pending rows: store answers an earlier run could not
    write, put rows a killed run left `running` back in the queue, and with
    --retry-failed queue failed rows again. Done under the runner lock, so a
    live run elsewhere is refused rather than disturbed."""
    from distill_tui.core.generate import queue as q
    from distill_tui.core.generate import unsaved

    token = q.acquire_runner(ws.store, "generate")
    try:
        kept = unsaved.store_kept(ws.store)
        stale = q.reset_stale(ws.store)
        failed = q.retry_failed(ws.store) if retry_failed else 0
    finally:
        q.release_runner(ws.store, token)
    if kept:
        print(f"stored {kept} answer(s) an earlier run had kept in {unsaved.NAME}", file=sys.stderr)
    if stale:
        print(f"queued {stale} row(s) left running by a stopped run again", file=sys.stderr)
    if failed:
        print(f"queued {failed} failed row(s) again", file=sys.stderr)
