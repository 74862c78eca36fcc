"""`distill-tui export DIR`: write data/train.jsonl, valid.jsonl (and
test.jsonl) from the accepted rows, or with `--rows FILE` every row with its
provenance for `distill-tui import-rows`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.dataset.export import FORMATS, export_dataset
from distill_tui.core.dataset.export_rows import export_rows, salvage_line
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write the train/valid/test split of accepted rows for mlx-lm",
        description="Split the accepted rows (seeded, identical inputs on one side) into "
        "DIR/data/{train,valid,test}.jsonl for `mlx_lm.lora --data`. With --rows FILE, "
        "write every row with its history instead (read back with import-rows).",
    )
    p.add_argument("dir", help="project folder")
    p.add_argument("--format", choices=FORMATS, help="default: [split] format in distill.toml")
    p.add_argument("--seed", type=int, help="default: [split] seed in distill.toml")
    p.add_argument("--rows", metavar="FILE", help="export all rows with provenance to FILE")
    p.add_argument("--force", action="store_true", help="with --rows: replace an existing FILE")
    p.add_argument(
        "--preferences",
        action="store_true",
        help="also write DIR/data/pref/: DPO pairs from edits and reject-regenerate-accept"
        " rows, and KTO rows, on the same sides as the split",
    )


def run(args: argparse.Namespace) -> int:
    if args.rows and args.preferences:
        raise UserError("--rows and --preferences: export one at a time")
    if args.rows:
        # A damaged store may still give up most of its rows: reading is allowed.
        ws = Workspace.open(args.dir, allow_damaged=True)
        protected = (paths.config_path(ws.root),)
        lost: list[int] = []
        missing: list[int] = []
        n = export_rows(
            ws.store,
            Path(args.rows),
            overwrite=args.force,
            protected=protected,
            lost=lost,
            missing=missing,
        )
        print(f"wrote {n} rows to {shown(args.rows)}")
        if ws.store.damaged:
            print(f"distill-tui: {salvage_line(lost, missing)}", file=sys.stderr)
            return 1
        return 0
    ws = Workspace.open(args.dir)
    res = export_dataset(ws.root, ws.store, ws.settings, fmt=args.format, seed=args.seed)
    out = paths.data_dir(ws.root)
    parts = [f"{k}.jsonl ({n})" for k, n in res.counts.items() if n]
    print(
        f"wrote {shown(out)}/: {', '.join(parts)}; {res.format} format,"
        f" hash {res.dataset_hash[:12]}"
    )
    if args.preferences:
        from distill_tui.core.curate.preferences import export_preferences, sources_text

        pref = export_preferences(ws.root, ws.store, ws.settings, fmt=args.format, seed=args.seed)
        c, src = pref.counts, pref.by_source
        print(
            f"wrote {shown(paths.pref_dir(ws.root))}/: pairs train {c['train']}, valid"
            f" {c['valid']} ({sources_text(src)});"
            f" KTO rows train {c['kto_train']}, valid {c['kto_valid']}"
        )
    return 0
