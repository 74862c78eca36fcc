"""`distill-tui pairs DIR --from RUN`: the trained student answers every input
of the exported split; each wrong answer becomes a preference pair (the
accepted answer chosen, the student's rejected; source "student"), and
data/pref/ is exported again so `train --objective dpo` trains on them.
The Train screen's `p` runs the same engine function."""

from __future__ import annotations

import argparse
import threading

from distill_tui.commands.stopping import stoppable
from distill_tui.core.display import shown
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pairs",
        help="turn a trained student's wrong answers into preference pairs",
        description="The run's student answers the inputs of data/train.jsonl and"
        " data/valid.jsonl greedily; each wrong answer (by the task's metric; free text:"
        " judged by the teacher within --max-cost) becomes a pair with the accepted answer"
        " as chosen. Then data/pref/ is written again, on the same leak-free split.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument(
        "--from",
        dest="from_run",
        metavar="RUN",
        help="the run whose student answers (default: the newest finished SFT run)",
    )
    p.add_argument("--checkpoint", help="best (default when there is one), latest or a number")
    p.add_argument("--limit", type=int, metavar="N", help="answer only the first N training inputs")
    p.add_argument(
        "--max-cost",
        type=finite_float,
        default=1.0,
        metavar="USD",
        help="free-text tasks: stop judging before this much is spent (default 1; 0: no cap)",
    )


def run(args: argparse.Namespace) -> int:
    from distill_tui.core.errors import UserError
    from distill_tui.engine.train.student_pairs import mine_and_export

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit}: give at least 1")
    if args.max_cost < 0:
        raise UserError(f"--max-cost {args.max_cost:g}: give 0 (no cap) or more")
    ws = Workspace.open(args.dir)
    stop = threading.Event()
    last = [0]

    def progress(done: int, total: int) -> None:
        if done == total or done - last[0] >= max(1, total // 10):
            last[0] = done
            print(f"answered {done}/{total}", flush=True)

    with stoppable(stop, "stopping after the answers decoding now (Ctrl-C again to abort)"):
        found, exported = mine_and_export(
            ws,
            run_id=args.from_run,
            checkpoint=args.checkpoint,
            limit=args.limit,
            max_cost_usd=args.max_cost or None,
            stop=stop,
            progress=progress,
        )
    print(shown(f"run {found.run_id} ({found.checkpoint}): {found.text()}"), flush=True)
    print(
        f"wrote {exported}; next: distill-tui train {shown(args.dir)} --objective dpo"
        f" --from {found.run_id}",
        flush=True,
    )
    return 0
