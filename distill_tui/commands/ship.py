"""`distill-tui ship DIR --target server|lmstudio|ollama|gguf [--quant f16|q8_0]`:
take a fused student where other tools run it, say what its teachers' terms
ask of it first, and check it with the fuse probes where it runs here, and on
the task: the first `--task-rows` held-out rows beside the adapter."""

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
    from distill_tui.engine.ship.gguf_writer import QUANTS
    from distill_tui.engine.ship.targets import TARGETS
    from distill_tui.engine.ship.task_check import DEFAULT_ROWS

    p = sub.add_parser(
        "ship",
        help="run the fused student elsewhere: mlx_lm.server, LM Studio, Ollama, GGUF",
        description="Take a fused model (distill-tui fuse) where other tools run it. "
        "gguf: a llama.cpp file (Llama-architecture students with a GGUF source); "
        "server: the mlx_lm.server command (--check starts it and probes it); "
        "lmstudio: a link where LM Studio looks; ollama: a Modelfile, and "
        "`ollama create` when Ollama is installed.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--target", required=True, choices=TARGETS)
    p.add_argument("--fused", type=Path, help="fused model folder (default: the newest)")
    p.add_argument("--quant", default="f16", choices=QUANTS, help="GGUF weights (default f16)")
    p.add_argument("--out", type=Path, help="GGUF file to write (default: beside the folder)")
    p.add_argument("--name", help="Ollama model name (default: the folder's name)")
    p.add_argument("--check", action="store_true", help="server: start it and probe it")
    p.add_argument("--probes", type=int, default=8, metavar="N", help="probe prompts (default 8)")
    p.add_argument(
        "--task-rows",
        type=int,
        default=DEFAULT_ROWS,
        metavar="N",
        help="the shipped model answers the first N held-out rows beside the adapter, scored"
        f" by the task's metric (default {DEFAULT_ROWS}; 0: skip)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--force",
        action="store_true",
        help="ship even when the run's last evaluation is worse than its parent",
    )


def _fused(ws: Workspace, given: Path | None) -> Path:
    if given is not None:
        folder = given.expanduser().resolve()
        if not (folder / "config.json").is_file():
            raise UserError(f"{shown(folder)}: not a fused model folder (no config.json)")
        return folder
    found = checkpoints.list_fused(ws)
    if not found:
        raise UserError("no fused model yet: fuse a run first (distill-tui fuse DIR)")
    return max(found, key=lambda p: p.stat().st_mtime)


def run(args: argparse.Namespace) -> int:
    from distill_tui.engine.chat.evaluate import default_probe_inputs
    from distill_tui.engine.ship import targets as ship

    ws = Workspace.open(args.dir)
    fused = _fused(ws, args.fused)
    prov = provenance.read_json(fused)
    # The run's last verdict against its parent; a worse run is refused unless --force.
    gate = verdict.gate(ws.store, prov.run_id if prov else None, prov.checkpoint if prov else None)
    print(f"distill-tui: {shown(gate.line())}", file=sys.stderr)
    gate.check("ship", args.force)
    if prov is not None:
        for t in prov.teachers:
            print(f"distill-tui: teacher {shown(t.teacher)}: {shown(t.terms)}", file=sys.stderr)
    probes = default_probe_inputs(ws, max(1, args.probes))
    stop = threading.Event()
    try:
        with stoppable(stop, "\nstopping after this stage (Ctrl-C again to quit at once)"):
            report = ship.ship(
                ws,
                fused,
                args.target,
                probes,
                prov,
                quant=args.quant,
                out=args.out,
                name=args.name,
                check=args.check,
                stop=stop,
                task_rows=args.task_rows,
            )
    except ship.ShipStopped as e:
        print(f"\ndistill-tui: {shown(str(e))}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(shown(report.summary()))
        for line in report.lines:
            print(f"  {shown(line)}")
    # A shipped model that answers differently (beyond near-ties) is a failure.
    return 0 if report.ok else 1
