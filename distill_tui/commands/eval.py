"""`distill-tui eval DIR [--run RUN] [--limit N] [--split valid|test] [--json]`:
the adapter and the base model answer the split; print their metrics side by
side (or one JSON object) and store the result for the Chat screen.

Rows of the split that were training rows of the run (the split was exported
again with another seed) make it refuse; `--allow-overlap` evaluates anyway and
says how many in the result.

`--judge [--judge-max-cost USD]` has the teacher grade the adapter's answers;
`--add-similar N` has it write N new inputs like the failing rows and queues
them for `distill-tui generate`; `--last` reuses the stored evaluation."""

from __future__ import annotations

import argparse
import json
import sys

from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import confusion, evals, split_overlap
from distill_tui.core.evaluate.evals import EvalResult
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints
from distill_tui.core.train.objectives import MIN_PAIRS

DEFAULT_JUDGE_CAP = 1.0  # USD; the same default as engine.judge.DEFAULT_MAX_COST_USD


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score the adapter against the base model on the valid/test split",
        description="Both models answer every row of the split greedily; each answer is "
        "scored against the teacher's output. The result is stored in the project.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--run", help="training run id (default: the newest)")
    p.add_argument("--checkpoint", help="best, latest or an iteration number")
    p.add_argument("--split", choices=["valid", "test"], default="valid")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    p.add_argument("--max-tokens", type=int, default=512, help="cap per answer (default 512)")
    p.add_argument(
        "--no-base",
        action="store_true",
        help="skip the base model's answers (faster); its general perplexity is still measured",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--items", action="store_true", help="with --json: include every row")
    p.add_argument(
        "--allow-overlap",
        action="store_true",
        help="evaluate even when split rows were training rows of the run (after an export"
        " with another seed); the result says how many",
    )
    p.add_argument(
        "--last",
        action="store_true",
        help="do not answer again: use the run's newest stored evaluation",
    )
    p.add_argument(
        "--judge",
        action="store_true",
        help="the teacher grades each adapter answer against the reference (pass/fail)",
    )
    p.add_argument(
        "--judge-max-cost",
        type=finite_float,
        metavar="USD",
        default=DEFAULT_JUDGE_CAP,
        help=f"stop judging before this much is spent (default {DEFAULT_JUDGE_CAP:g}; 0: no cap)",
    )
    p.add_argument(
        "--add-similar",
        type=int,
        metavar="N",
        help="ask the teacher for N new inputs like the failing rows and add them to the "
        "generation queue (run `distill-tui generate` next)",
    )


def format_table(result: EvalResult) -> list[str]:
    headers, rows = evals.comparison(result)
    widths = [
        14,
        *(max(8, len(h) + 1, *(len(r[n]) + 1 for r in rows)) for n, h in enumerate(headers) if n),
    ]

    def line(cells: list[str]) -> str:
        return "".join(
            f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines = [line(headers), *map(line, rows)]
    lines.append(f"95% CI: {evals.CI_METHOD.removeprefix('95%: ')}")
    if result.pairs and result.pair_rows < MIN_PAIRS:
        lines.append(
            f"pair acc: {result.pair_rows} held-out preference pair(s): too few pairs to"
            f" measure (fewer than {MIN_PAIRS}; `distill-tui pairs` adds the student's mistakes)"
        )
    elif result.pairs:
        lines.append(
            f"pair acc: of {result.pair_rows} held-out preference pairs, the share whose"
            " chosen answer the model finds likelier than the rejected one"
        )
    return lines


def verdict_lines(result: EvalResult) -> list[str]:
    """The verdict against the parent, the flips, the general perplexity (and
    its warning), and the confusion matrix of a label task, as `eval` prints
    them after the table."""
    v, f = result.verdict(), result.flips()
    if v is None or f is None:
        lines = ["verdict: none (the run's parent did not answer: run without --no-base)"]
    else:
        lines = [
            f"verdict: {v.line()}",
            f"flips vs {f.vs}: fixed {f.fixed}, regressed {f.regressed}, kept {f.kept},"
            f" still wrong {f.still_wrong}",
        ]
    if general := result.general_line():
        lines.append(general)
    if warning := result.general_warning():
        lines.append(f"warning: {warning}")
    matrix = result.confusion()
    if matrix is not None:
        lines += ["", "confusion (the adapter's answers):", *confusion.render(matrix)]
    for name, m in result.field_confusions().items():
        lines += ["", f"confusion of field {name!r}:", *confusion.render(m)]
    return lines


def run(args: argparse.Namespace) -> int:
    from distill_tui.engine.chat.evaluate import evaluate
    from distill_tui.engine.chat.session import ModelHost
    from distill_tui.engine.mlx_thread import MLXBusy

    ws = Workspace.open(args.dir)
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    if args.add_similar is not None and args.add_similar < 1:
        raise UserError("--add-similar must be at least 1")
    if args.judge_max_cost < 0:
        raise UserError("--judge-max-cost must be 0 (no cap) or more")
    cap = args.judge_max_cost or None
    cp = checkpoints.resolve(ws, args.run, args.checkpoint)
    show = sys.stderr.isatty() and not args.json

    def progress(done: int, total: int, who: str) -> None:
        if show:
            print(f"\r{who:>8} {done}/{total}", end="", file=sys.stderr, flush=True)

    overlap = None
    if args.last:
        stored = evals.latest(ws.store, cp.run_id)
        if stored is None:
            raise UserError(
                f"run {cp.run_id} has no stored evaluation yet: run eval without --last"
            )
        result = stored
        overlap = split_overlap.of_result(ws.root, result)
        if args.judge:
            from distill_tui.engine.chat.judge import judge

            judge(ws, result, max_cost_usd=cap, progress=lambda d, t: progress(d, t, "judge"))
            evals.update(ws.store, result)
    else:
        overlap = split_overlap.check(
            ws.root,
            ws.settings,
            cp.run_id,
            args.split,
            limit=args.limit,
            allow=args.allow_overlap,
            allow_hint="--allow-overlap evaluates anyway",
        )
        try:
            result = evaluate(
                ws,
                ModelHost(),
                cp,
                split=args.split,
                limit=args.limit,
                max_tokens=args.max_tokens,
                include_base=not args.no_base,
                progress=progress,
                judge=args.judge,
                judge_max_cost_usd=cap,
            )
        except MLXBusy as e:
            raise UserError(str(e)) from None
    if show:
        print(file=sys.stderr)
    similar = None
    if args.add_similar:
        from distill_tui.engine.synth.similar import add_similar

        failing = [i.input for i in result.failures()]
        if failing:
            similar = add_similar(ws, failing, args.add_similar)
    if args.json:
        out = result.to_json(items=args.items)
        if args.add_similar:
            out["similar"] = (
                {"asked": similar.asked, "added": similar.added, "cost_usd": similar.cost_usd}
                if similar
                else {"asked": args.add_similar, "added": 0, "cost_usd": 0.0}
            )
        if overlap is not None:
            out["overlap"] = {"seen": overlap.seen, "rows": overlap.rows}
            out["warning"] = overlap.message()
        print(json.dumps(out))
        return 0
    label = f"{result.run_id}:{result.checkpoint}"
    print(f"{label} on {result.split}: {result.rows} rows, {len(result.failures())} wrong")
    if overlap is not None:
        print(f"warning: {overlap.message()}: these scores measure recall, not generalisation")
    for line in format_table(result):
        print(shown(line))
    if result.judge is not None:
        print(f"judge: {result.judge.note()}")
    for line in verdict_lines(result):
        print(shown(line))
    if args.add_similar:
        print(similar.summary() if similar else "no failing rows: no similar inputs asked for")
    return 0
