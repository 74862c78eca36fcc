"""`distill-tui synth DIR [--topics N] [--subtopics N] [--per-topic N]`: new
inputs without a corpus, headless. With an empty topic tree the teacher's
`--topics` root topics are taken as they come (and `--subtopics` under each);
then every leaf is filled to `--per-topic` inputs through the same engine as
the Task screen's synthesis dialog. Prints the estimate first, one coverage
line per leaf and a summary; `--dry-run` stops after the estimate. A run
holds the project's runner lock from its first look at the tree to its last
request, so a second `synth` (or `generate`) at once is refused, not paid twice.
`--magpie N` samples N inputs Magpie-style from the local MLX teacher's chat
template instead of the tree (engine/synth/magpie.py), refused in one line
for any other teacher.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from distill_tui.commands import synth_topics
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace
from distill_tui.core.synth import topics
from distill_tui.engine.generate.teacher_ask import NOTICES
from distill_tui.engine.generate.teachers.base import Teacher
from distill_tui.engine.synth import magpie as mp
from distill_tui.engine.synth import topics as synth


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="have the teacher write inputs for a topic tree")
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument(
        "--topics", type=int, default=6, metavar="N", help="root topics to ask for (default 6)"
    )
    p.add_argument(
        "--subtopics", type=int, default=0, metavar="N", help="subtopics under each root (0)"
    )
    p.add_argument(
        "--per-topic", type=int, default=8, metavar="N", help="inputs per leaf topic (default 8)"
    )
    p.add_argument(
        "--magpie",
        type=int,
        metavar="N",
        help="sample N inputs from the local MLX teacher's chat template instead of the tree",
    )
    p.add_argument("--max-cost", type=finite_float, metavar="USD", help="budget cap")
    p.add_argument("--dry-run", action="store_true", help="print the estimate and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    synth_topics.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    if synth_topics.wanted(args):
        return synth_topics.run(args)
    if args.magpie is not None:
        return _magpie(args)
    # Refused before anything is paid for.
    if not 1 <= args.per_topic <= synth.MAX_PER_LEAF:
        raise UserError(f"--per-topic must be 1 to {synth.MAX_PER_LEAF}, not {args.per_topic}")
    if not 1 <= args.topics <= synth.MAX_TOPICS or not 0 <= args.subtopics <= synth.MAX_TOPICS:
        raise UserError(f"--topics must be 1 to {synth.MAX_TOPICS}, --subtopics 0 to it")
    ws = Workspace.open(args.dir)
    # What each request waits for, and each retry, on stderr.
    say = None if args.json else (lambda m: print(shown(m), file=sys.stderr, flush=True))
    token = NOTICES.set(say)
    try:
        return asyncio.run(_run(ws, args))
    finally:
        NOTICES.reset(token)


async def _run(ws: Workspace, args: argparse.Namespace) -> int:
    if args.dry_run:
        return await _steps(ws, args, None)
    with synth.session_lock(ws):
        # One teacher, in one event loop, for the whole command: a local model is
        # loaded once, and an API client stays on the loop it was made on.
        teacher = synth.synth_teacher(ws, args.per_topic)
        try:
            return await _steps(ws, args, teacher)
        finally:
            await teacher.aclose()


async def _steps(ws: Workspace, args: argparse.Namespace, teacher: Teacher | None) -> int:
    say = (lambda _m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    if not topics.tree(ws.store) and teacher is not None:
        roots = await synth.propose_topics_async(ws, args.topics, teacher=teacher, held=True)
        say(f"topics: {', '.join(shown(n) for n in roots.names)}")
        if args.subtopics:
            for rid in roots.ids:
                await synth.propose_topics_async(
                    ws, args.subtopics, rid, teacher=teacher, held=True
                )
    est = synth.estimate(ws, args.per_topic)
    say(f"estimate: {est.describe()}")
    if args.dry_run:
        if not topics.tree(ws.store):
            say("the topic tree is empty: the teacher proposes topics when run without --dry-run")
        return 0

    def progress(leaf: synth.LeafResult, _res: synth.SynthResult) -> None:
        say(shown(leaf.line()))

    res = await synth.fill_async(
        ws,
        args.per_topic,
        max_cost_usd=args.max_cost,
        progress=progress,
        teacher=teacher,
        held=True,
    )
    tree = topics.tree(ws.store)
    if args.json:
        out = {
            "kept": res.kept,
            "written": res.written,
            "requests": res.requests,
            "cost_usd": res.cost_usd,
            "capped": res.capped,
            "cut": res.cut,
            "max_tokens": res.max_tokens,
            "leaves": [
                {
                    "path": t.path,
                    "kept": t.kept,
                    "written": t.written,
                    "dropped": t.dropped,
                    "exhausted": t.exhausted,
                }
                for t in tree
                if t.is_leaf
            ],
        }
        print(json.dumps(out))
        return 0
    print("coverage (kept/wanted per leaf):")
    for line in topics.describe_coverage(tree, args.per_topic):
        print("  " + shown(line))
    print(res.summary())
    return 0


def _magpie(args: argparse.Namespace) -> int:
    if not 1 <= args.magpie <= mp.MAX_N:
        raise UserError(f"--magpie must be 1 to {mp.MAX_N}, not {args.magpie}")
    ws = Workspace.open(args.dir)
    mp.check_local(ws)
    say = (lambda _m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    t = ws.settings.teacher
    say(
        f"estimate: {args.magpie} user turn(s) sampled from {shown(t.model)}'s chat template"
        f" in batches of {t.local_batch_size}, up to {mp.default_max_tokens(ws.settings.task)}"
        " tokens each; local, $0"
    )
    if args.dry_run:
        return 0
    res = mp.magpie(ws, args.magpie, progress=lambda r: say(shown(r.leaf.line())))
    leaf = res.leaf
    if args.json:
        out = {
            "kept": res.kept,
            "written": res.written,
            "ended": res.ended,
            "batches": res.batches,
            "prefix_tokens": res.prefix_tokens,
            "dropped": leaf.dropped,
            "stopped": leaf.stopped,
        }
        print(json.dumps(out))
        return 0
    print("coverage:")
    print("  " + shown(leaf.line()))
    print(res.summary())
    return 0
