"""`distill-tui fuse DIR --run RUN [--out PATH] [--dequantize]`: fuse the adapter
into the base model, then check that the fused model answers the probe
prompts as the adapter did. Exits 1 when they disagree. Ctrl-C or SIGTERM stops
between stages and removes what was written (SIGTERM then exits 143)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from distill_tui.commands.stopping import stoppable
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import verdict
from distill_tui.core.project import Workspace
from distill_tui.core.ship import provenance
from distill_tui.core.train import checkpoints


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fuse",
        help="fuse a run's adapter into the base model",
        description="Fuse the adapter into the base with mlx-lm and compare greedy outputs "
        "of the adapter and the fused model on probe prompts. The result is an MLX "
        "folder; a note says whether mlx-lm can export this student as a GGUF.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--run", help="training run id (default: the newest)")
    p.add_argument("--checkpoint", help="best, latest or an iteration number")
    p.add_argument(
        "--out",
        type=Path,
        help="new folder for the fused model (default: fused/RUN-CHECKPOINT in the project, "
        "where the Chat screen lists it)",
    )
    p.add_argument(
        "--dequantize", action="store_true", help="write full-precision weights (bigger, exact)"
    )
    p.add_argument("--probes", type=int, default=4, metavar="N", help="probe prompts (default 4)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--force",
        action="store_true",
        help="fuse even when the run's last evaluation is worse than its parent",
    )


def run(args: argparse.Namespace) -> int:
    from distill_tui.engine.chat.evaluate import default_probe_inputs
    from distill_tui.engine.chat.fuse import FuseStopped, check_fuse_out, fuse_run, gguf_note
    from distill_tui.engine.mlx_thread import MLXBusy

    ws = Workspace.open(args.dir)
    cp = checkpoints.resolve(ws, args.run, args.checkpoint)
    # The run's last verdict against its parent; a worse run is refused unless --force.
    gate = verdict.gate(ws.store, cp.run_id, cp.name)
    print(f"distill-tui: {shown(gate.line())}", file=sys.stderr)
    gate.check("fuse", args.force)
    out = (args.out or checkpoints.default_fused_out(ws.root, cp)).expanduser().resolve()
    check_fuse_out(ws, cp, out)
    print(f"distill-tui: {shown(gguf_note(cp.base_model))}", file=sys.stderr)
    show = sys.stderr.isatty() and not args.json

    def progress(stage: str, done: int, total: int) -> None:
        if show:
            print(f"\r{stage:<16} {done}/{total}   ", end="", file=sys.stderr, flush=True)

    probes = default_probe_inputs(ws, max(1, args.probes))
    prov = provenance.gather(ws, cp.run_id, cp.name)
    for t in prov.teachers:
        print(f"distill-tui: teacher {shown(t.teacher)}: {shown(t.terms)}", file=sys.stderr)
    stop = threading.Event()
    try:
        with stoppable(stop, "\nstopping after this stage (Ctrl-C again to quit at once)"):
            report = fuse_run(
                ws,
                cp,
                out,
                probes,
                prov=prov,
                dequantize=args.dequantize,
                progress=progress,
                stop=stop,
            )
    except MLXBusy as e:
        raise UserError(str(e)) from None
    except FuseStopped as e:
        print(f"\ndistill-tui: {shown(str(e))}", file=sys.stderr)
        return 1
    if show:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(shown(report.summary()))
        for p in report.probes:
            if not p.agree:
                print(f"  differs on: {p.prompt[:60]!r}")
    return 0 if report.ok else 1
