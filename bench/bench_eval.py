"""Evaluation's generation: one row at a time (as before) against the rows
decoded together (as `evaluate` does now), on a trained project, adapter and
base model, with the answers compared text for text.

    uv run distill-tui demo DIR --no-open && uv run distill-tui curate DIR --accept-all
    uv run distill-tui export DIR && uv run distill-tui train DIR
    uv run python bench/bench_eval.py DIR [--limit N]

Both sides use the same loaded model (loaded and warmed before timing) and the
same token budgets; the base model is timed too, since on a CPU its wordy
answers cost most of an evaluation.
"""

from __future__ import annotations

import argparse
import os
import time

from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.evaluate import _budget, load_split
from distill_tui.engine.chat.session import GenSettings, ModelHost, Target


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--max-tokens", type=int, default=512)
    args = ap.parse_args()
    ws = Workspace.open(args.dir)
    rows = load_split(ws, "valid")[: args.limit]
    cp = checkpoints.resolve(ws, None)
    host = ModelHost()
    adapter = Target.of(cp)
    prompts = [r.prompt for r in rows]
    budgets = [_budget(r.reference, args.max_tokens) for r in rows]
    host.select(adapter)
    host.answer(adapter, prompts[0], GenSettings(max_tokens=2))  # warm up
    print(f"{len(rows)} validation rows, checkpoint {cp.label}; load {os.getloadavg()[0]:.1f}")
    print(f"  {'':<10} {'one at a time':>14} {'batched':>10} {'ratio':>7}  identical")
    totals = [0.0, 0.0]
    for who, target in (("adapter", adapter), ("base", adapter.base())):
        t0 = time.perf_counter()
        one = [
            host.answer(target, p, GenSettings(temperature=0.0, max_tokens=n)).text
            for p, n in zip(prompts, budgets, strict=True)
        ]
        t_one = time.perf_counter() - t0
        got: dict[int, str] = {}
        t0 = time.perf_counter()

        def keep(i: int, text: str, _stop: str, got: dict[int, str] = got) -> None:
            got[i] = text

        host.answer_all(target, prompts, budgets, keep)
        t_batch = time.perf_counter() - t0
        same = sum(got.get(i) == a for i, a in enumerate(one))
        totals[0] += t_one
        totals[1] += t_batch
        print(
            f"  {who:<10} {t_one:>12.1f} s {t_batch:>8.1f} s {t_one / t_batch:>6.2f}x"
            f"  {same}/{len(one)}"
        )
    print(
        f"  {'both':<10} {totals[0]:>12.1f} s {totals[1]:>8.1f} s"
        f" {totals[0] / totals[1]:>6.2f}x  (load now {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
