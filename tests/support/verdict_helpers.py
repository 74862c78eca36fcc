"""Runs with stored evaluations for the verdict tests: an SFT run better than
the base, and a DPO run from it that collapsed (worse than its SFT start)."""

from __future__ import annotations

import json
import time

from distill_tui.core.evaluate import evals
from distill_tui.core.evaluate.evals import ADAPTER, BASE, SFT, EvalItem, EvalResult
from distill_tui.core.evaluate.metrics import score
from distill_tui.core.project import Workspace

LABELS = ["billing", "bug", "feature", "account"]


def _run(ws: Workspace, run_id: str, config: dict, at: float) -> None:
    with ws.store.tx() as c:
        c.execute(
            "INSERT INTO runs (id, status, config, best_iter, best_val_loss, created_at,"
            " updated_at) VALUES (?, 'finished', ?, 20, 0.5, ?, ?)",
            (run_id, json.dumps(config), at, at),
        )


def _eval(ws: Workspace, run_id: str, run: list[str], parent: list[str], vs: str) -> EvalResult:
    refs = LABELS * 8
    items = []
    for n, ref in enumerate(refs):
        item = EvalItem(n, None, f"ticket {n}", ref)
        for who, answers in ((ADAPTER, run), (vs, parent)):
            item.answers[who] = answers[n]
            item.scores[who] = score(answers[n], ref)
        items.append(item)
    result = EvalResult(run_id, "best", "valid", "text", items)
    evals.save(ws.store, result)
    return result


def sft_and_collapsed_dpo(ws: Workspace) -> Workspace:
    """sft-1 (better than the base on 32 rows) and dpo-1 from it (right on 3
    of the 32 its SFT start got all right)."""
    now = time.time()
    _run(ws, "sft-1", {"train": {"objective": "sft"}}, now - 100)
    dpo = {"from_run": "sft-1", "train": {"objective": "dpo", "beta": 0.1, "sft_weight": 0.0}}
    _run(ws, "dpo-1", dpo, now)
    right = LABELS * 8
    _eval(ws, "sft-1", right, ["nonsense"] * 32, BASE)  # better than the base
    _eval(ws, "dpo-1", ["nonsense"] * 29 + right[29:], right, SFT)  # collapsed
    return ws
