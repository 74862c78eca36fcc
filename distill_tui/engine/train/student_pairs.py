"""The student's own mistakes as preference pairs (`distill-tui pairs`, the
Train screen's `p`).

A trained student answers every input of the exported split greedily, in
batches, as evaluation does. Where its answer is wrong against the accepted
one, that answer is kept (core/curate/preferences.py, source "student"): the
accepted answer is the chosen side, the student's the rejected one. Pairs that
fix what *this* student gets wrong teach more than hand-made ones (on-policy
pairs; CLAIR, arXiv 2408.06266). Training inputs give training pairs; held-out
inputs give held-out pairs, so a preference run's pair accuracy is measured on
enough pairs, never on rows it trains on (the preference split follows the SFT
split).

"Wrong" is the task's metric for label and JSON tasks
(core/evaluate/task_metric.py); for free text the teacher judges, within a
cost cap, as evaluation's judge does, and rows it did not reach are not used.
Where it judged an answer wrong, the teacher then writes a minimal revision
of it within what is left of the cap (CLAIR's "minimal revisions"): that is
the chosen side, so the pair differs only where the student was wrong.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distill_tui.core import paths
from distill_tui.core.curate import preferences
from distill_tui.core.curate.feedback import row_ids_for_inputs
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals, metrics
from distill_tui.core.evaluate.task_metric import is_right, task_metric
from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.evaluate import SplitRow, _budget, read_rows
from distill_tui.engine.chat.session import ModelHost, Target
from distill_tui.engine.generate.teachers.base import Prompt

# (done, total) after each answer; on the MLX thread.
ProgressFn = Callable[[int, int], None]
SIDES = ("train", "valid")


@dataclass
class MinedPairs:
    run_id: str
    checkpoint: str
    metric: str  # what decided "wrong": a metric name, or "judge"
    answered: dict[str, int] = field(default_factory=dict)  # side -> inputs answered
    wrong: dict[str, int] = field(default_factory=dict)  # side -> wrong answers
    added: int = 0  # new pairs (an answer kept before is not added again)
    not_judged: int = 0  # free text past the judge's cost cap
    revised: int = 0  # pairs whose chosen side is the teacher's minimal revision
    stopped: bool = False

    def text(self) -> str:
        """What `pairs` prints and the Train screen says, in one line."""
        n = sum(self.answered.values())
        bad = sum(self.wrong.values())
        how = "judged by the teacher" if self.metric == "judge" else f"by {self.metric}"
        sides = ", ".join(
            f"{self.wrong.get(s, 0)} of {self.answered[s]} {s}" for s in SIDES if s in self.answered
        )
        if not bad:
            line = (
                f"the student made 0 mistakes on {n} inputs ({how}): no pairs to add; a"
                " preference run has only the curation's pairs"
            )
        else:
            line = (
                f"the student answered {n} inputs: {bad} wrong ({sides}; {how}); added"
                f" {self.added} pair(s) from its mistakes (source student"
                f"{'' if self.added == bad else f'; {bad - self.added} were kept before'})"
            )
        if self.revised:
            line += f"; {self.revised} chosen as the teacher's minimal revision"
        if self.not_judged:
            line += f"; {self.not_judged} answers not judged (the cost cap)"
        if self.stopped:
            line += "; stopped early"
        return line


def split_rows(ws: Workspace, side: str) -> list[SplitRow]:
    path = paths.data_dir(ws.root) / f"{side}.jsonl"
    if not path.is_file():
        if side == "train":
            raise UserError(f"{path}: no exported split; export the accepted rows first")
        return []
    return read_rows(path)


def mine_pairs(
    ws: Workspace,
    run_id: str | None = None,
    *,
    checkpoint: str | None = None,
    limit: int | None = None,
    max_cost_usd: float | None = 1.0,
    host: ModelHost | None = None,
    stop: threading.Event | None = None,
    progress: ProgressFn | None = None,
    judge_teacher: Any = None,
) -> MinedPairs:
    """Answer the split's inputs with the run's checkpoint (best when there
    is one; the newest SFT run when `run_id` is None) and keep the wrong
    answers as pairs. `limit` caps the training inputs answered (the held-out
    ones are few and all answered)."""
    from distill_tui.engine.train.runplan import newest_sft_run

    if run_id is None:
        run_id = newest_sft_run(ws, "pairs")
    cp = checkpoints.resolve(ws, run_id, checkpoint)
    host = host or ModelHost()
    rows = {s: split_rows(ws, s) for s in SIDES}
    if limit is not None:
        rows["train"] = rows["train"][: max(0, limit)]
    todo = [(s, r) for s in SIDES for r in rows[s]]
    if not todo:
        raise UserError("the exported split has no rows to answer")
    fmt = ws.settings.task.output_format
    metric = task_metric(fmt, [r.reference for _, r in todo])
    answers: dict[int, tuple[str, str]] = {}

    def answered(i: int, text: str, finish: str) -> None:
        answers[i] = (text, finish)
        if progress is not None:
            progress(len(answers), len(todo))

    with host.mlx.lease("pairs"):
        done = host.answer_all(
            Target.of(cp),
            [r.prompt for _, r in todo],
            [_budget(r.reference, 512) for _, r in todo],
            answered,
            stop,
        )
    result = MinedPairs(cp.run_id, cp.name, metric, stopped=not done)
    wrong = [
        i
        for i, (text, _) in answers.items()
        if not is_right(text, todo[i][1].reference, fmt, metric)
    ]
    revisions: dict[int, str] = {}
    if metric == metrics.F1:
        wrong, result.not_judged, spent = _judged(
            ws, todo, answers, wrong, max_cost_usd, judge_teacher, stop
        )
        result.metric = "judge"
        if spent is not None:
            left = None if max_cost_usd is None else max(0.0, max_cost_usd - spent)
            revisions = asyncio.run(
                _revise(ws, [(i, todo[i][1], answers[i][0]) for i in wrong], left, judge_teacher)
            )
    for side in SIDES:
        result.answered[side] = sum(1 for i in answers if todo[i][0] == side)
        result.wrong[side] = sum(1 for i in wrong if todo[i][0] == side)
    ids = row_ids_for_inputs(ws.store, [todo[i][1].input for i in wrong])
    keep = [
        (ids[todo[i][1].input], answers[i][0])
        for i in wrong
        if ids.get(todo[i][1].input) is not None
    ]
    revised = {
        (ids[todo[i][1].input], answers[i][0]): text
        for i, text in revisions.items()
        if ids.get(todo[i][1].input) is not None
    }
    result.revised = len(revised)
    result.added = preferences.add_student_answers(ws.store, cp.run_id, keep, revised)
    return result


def _judged(
    ws: Workspace,
    todo: list[tuple[str, SplitRow]],
    answers: dict[int, tuple[str, str]],
    wrong: list[int],
    max_cost_usd: float | None,
    teacher: Any,
    stop: threading.Event | None,
) -> tuple[list[int], int, float | None]:
    """Free text: the teacher judges every answer that is not an exact match
    (token F1 alone would call a good paraphrase wrong). Returns the failed
    ones, how many the cost cap left unjudged and what judging cost (None:
    no teacher to ask, the metric decided)."""
    from distill_tui.engine.chat.judge import judge

    items = []
    for i in sorted(answers):
        row = todo[i][1]
        item = evals.EvalItem(i, None, row.input, row.reference)
        item.answers[evals.ADAPTER] = answers[i][0]
        item.scores[evals.ADAPTER] = metrics.score(answers[i][0], row.reference, "text")
        items.append(item)
    result = evals.EvalResult(None, "pairs", "train", "text", items)
    try:
        summary = judge(ws, result, max_cost_usd=max_cost_usd, teacher=teacher, stop=stop)
    except UserError:
        # No teacher to ask (no key, no server): fall back to the metric.
        return wrong, 0, None
    failed, unjudged = [], 0
    for item in items:
        verdict = item.scores.get(evals.ADAPTER, {}).get(evals.JUDGE)
        if verdict is None:
            unjudged += 1
        elif verdict < 1.0:
            failed.append(item.index)
    return failed, unjudged, summary.cost_usd


def revise_prompt(instructions: str, input: str, reference: str, answer: str) -> Prompt:
    """Ask for the smallest change that makes the student's answer right."""
    system = (
        "You correct a small model's answer for one narrow task. Change as little as you"
        " can: keep its words where they are right and fix only what is wrong or missing, so"
        " that it says what the reference says. Reply with the corrected answer only.\n\n"
        f"The task:\n{instructions.strip() or '(no instructions)'}"
    )
    body = (
        f"<input>\n{input}\n</input>\n<reference>\n{reference}\n</reference>\n"
        f"<answer>\n{answer}\n</answer>\n\nThe corrected answer, and nothing else:"
    )
    return Prompt(system=system, examples=(), input=body)


async def _revise(
    ws: Workspace,
    wrong: list[tuple[int, SplitRow, str]],
    max_cost_usd: float | None,
    teacher: Any,
) -> dict[int, str]:
    """The teacher's minimal revision of each wrong answer, while the cap
    allows (checked before each request against the mean cost so far)."""
    from distill_tui.core.generate import side_costs
    from distill_tui.engine.generate.teacher_ask import asker

    out: dict[int, str] = {}
    if not wrong:
        return out
    spent, asked = 0.0, 0
    async with asker(ws, side_costs.REVISE, teacher) as a:
        for i, row, answer in wrong:
            per = spent / asked if asked else 0.0
            if max_cost_usd is not None and spent + per > max_cost_usd:
                break
            prompt = revise_prompt(ws.settings.task.instructions, row.input, row.reference, answer)
            comp, usd = await a.ask(prompt, "a minimal revision of the student's answer")
            asked += 1
            spent += usd or 0.0
            text = metrics.strip_fence(comp.text).strip()
            if text and text != answer.strip():
                out[i] = text
    return out


def mine_and_export(ws: Workspace, **kw: Any) -> tuple[MinedPairs, str]:
    """`mine_pairs`, then data/pref/ written again with the new pairs; the
    second value says what the export holds (the command and the screen)."""
    found = mine_pairs(ws, **kw)
    pref = preferences.export_preferences(ws.root, ws.store, ws.settings)
    c = pref.counts
    return found, (
        f"data/pref/: pairs train {c['train']}, valid {c['valid']}"
        f" ({preferences.sources_text(pref.by_source)})"
    )
