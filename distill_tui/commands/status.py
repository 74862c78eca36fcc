"""`distill-tui status DIR [--json]`: the project's counts."""

from __future__ import annotations

import argparse
import json
from typing import Any

from distill_tui.core.display import shown
from distill_tui.core.evaluate import lineage
from distill_tui.core.generate import side_costs
from distill_tui.core.generate.pricing import fmt_spend
from distill_tui.core.project import Workspace
from distill_tui.core.ship import provenance, terms


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="print the project's counts")
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    counts: dict[str, Any] = dict(ws.store.counts())
    # Requests that answer no row (synthesis, similar inputs, judging) are paid for too.
    side = side_costs.total_usd(ws.store)
    counts["side_cost_usd"] = side
    by_purpose = {k: float(v.get("usd", 0.0)) for k, v in side_costs.totals(ws.store).items()}
    counts["cost_usd"] = float(counts["cost_usd"]) + side
    # Answers and requests whose model has no known price: not counted as $0.
    counts["cost_unknown"] = int(counts["cost_unknown"]) + side_costs.unknown_requests(ws.store)
    summary = provenance.terms_summary(ws)
    licence, licence_source, lines = (
        summary.student_license,
        summary.license_source,
        summary.teachers,
    )
    if args.json:
        counts["runs"] = lineage.runs_json(ws.store)  # objective, parent, last verdict
        teachers = [{"teacher": k, "terms": v} for k, v in lines.items()]
        out = {**counts, "side_costs_usd": by_purpose}
        print(json.dumps({**out, "student_license": licence, "teachers": teachers}))
        return 0
    print(f"{shown(ws.settings.task.name)}  ({shown(ws.root)})")
    print(
        f"inputs {counts['inputs']}: pending {counts['pending']}, running {counts['running']},"
        f" done {counts['done']}, failed {counts['failed']}"
    )
    print(
        f"curation: accepted {counts['accepted']}, rejected {counts['rejected']},"
        f" unreviewed {counts['unreviewed']}"
    )
    print(
        f"teacher: {counts['input_tokens']:,} input tokens"
        f" ({counts['cache_read_tokens']:,} from cache),"
        f" {counts['output_tokens']:,} output tokens,"
        f" {fmt_spend(float(counts['cost_usd']), int(counts['cost_unknown']))}"
        + (f" (of it {side_costs.describe(ws.store)})" if side else "")
    )
    print(f"student: {shown(ws.settings.student.model)}, licence {licence} ({licence_source})")
    for teacher, line in lines.items():
        print(f"teacher {shown(teacher)}: {shown(line)}")
    print(f"({terms.NOT_ADVICE})")
    return 0
