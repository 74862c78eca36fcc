"""`distill-tui chat DIR --run RUN --prompt TEXT`: one reply from the student,
streamed to stdout, for scripts. Timing and warnings go to stderr."""

from __future__ import annotations

import argparse
import sys

from distill_tui.core import chatlog
from distill_tui.core.errors import UserError
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "chat",
        help="print one reply from the student (or the base model)",
        description="Send one prompt to the student with a run's adapter and print the reply.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--run", help="training run id (default: the newest)")
    p.add_argument(
        "--checkpoint", help="best, latest or an iteration number (default: best, else latest)"
    )
    p.add_argument("--prompt", required=True, help="the user message ('-' reads stdin)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--base", action="store_true", help="answer with the base model, no adapter")
    who.add_argument("--model", help="answer with this model folder instead (a fused model)")
    p.add_argument("--system", help="system prompt (default: the one training used)")
    p.add_argument("--temperature", type=finite_float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=finite_float, default=1.0)
    p.add_argument("--max-tokens", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from distill_tui.engine.chat.session import (
        GenSettings,
        ModelHost,
        Target,
        build_messages,
        student_model,
        training_system_prompt,
    )
    from distill_tui.engine.mlx_thread import MLXBusy

    ws = Workspace.open(args.dir)
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise UserError("--prompt is empty")
    wrong = chatlog.check_settings(
        temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens, seed=args.seed
    )
    if wrong:  # the Chat screen's bounds: a seed of -1 was a raw mlx TypeError
        raise UserError("; ".join(f"--{k.replace('_', '-')}: {m}" for k, m in wrong))
    if args.model:
        target = Target(args.model)
    elif (
        args.base and args.run is None and args.checkpoint is None and not checkpoints.list_runs(ws)
    ):
        # The base model needs no run: the project's student, before any training.
        target = Target(student_model(ws))
    else:
        target = Target.of(checkpoints.resolve(ws, args.run, args.checkpoint))
        if args.base:
            target = target.base()
    system = training_system_prompt(ws) if args.system is None else args.system
    settings = GenSettings(args.temperature, args.top_p, args.max_tokens, args.seed, system)
    host = ModelHost()
    host.select(target)
    if warning := host.system_warning(system):
        print(f"distill-tui: warning: {warning}", file=sys.stderr)

    def out(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        reply = host.reply(target, build_messages(system, [], prompt), settings, on_chunk=out)
    except MLXBusy as e:
        raise UserError(str(e)) from None
    sys.stdout.write("\n")
    ttft = f"{reply.ttft_s:.2f}s" if reply.ttft_s is not None else "-"
    rate = f" {reply.tokens_per_sec:.1f} tok/s," if reply.tokens_per_sec is not None else ""
    print(
        f"[{reply.target}] {reply.tokens} tokens,{rate}"
        f" first token {ttft}, ended: {reply.finish_reason}",
        file=sys.stderr,
    )
    return 0
