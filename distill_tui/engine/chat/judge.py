"""The teacher as judge: it grades each adapter answer of an evaluation
against the reference (pass or fail, with a short reason), within a cost cap.

Exact matches pass without a request. The cap is checked before each request
against the spend so far plus the mean cost of one verdict, so a run stops
before it would go over; the result says how many rows were judged. The
`judge` metric is the pass rate over the judged rows.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable

from distill_tui.core.config import Task
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals, metrics
from distill_tui.core.generate import side_costs
from distill_tui.core.project import Workspace
from distill_tui.engine.generate.queue import RetryPolicy
from distill_tui.engine.generate.teacher_ask import asker
from distill_tui.engine.generate.teachers.base import Prompt, Teacher

DEFAULT_MAX_COST_USD = 1.0
JudgeProgressFn = Callable[[int, int], None]  # (done, total) after each verdict

_OBJECT = re.compile(r"\{.*\}", re.S)
_WORD = re.compile(r"\b(pass|fail)(?:ed|es)?\b", re.I)


def judge_prompt(task: Task, input: str, reference: str, answer: str) -> Prompt:
    system = (
        "You grade a small model's answers for one narrow task against a reference answer "
        "written by a stronger model. An answer passes when it says the same thing as the "
        "reference for this task (wording may differ; for a label or JSON the content must "
        "match); it fails when it is wrong, incomplete, or adds claims the reference lacks.\n\n"
        f"The task:\n{task.instructions.strip() or '(no instructions)'}"
    )
    body = (
        f"<input>\n{input}\n</input>\n<reference>\n{reference}\n</reference>\n"
        f"<answer>\n{answer}\n</answer>\n\n"
        'Reply with only a JSON object: {"pass": true or false, "reason": "at most 15 words"}.'
    )
    return Prompt(system=system, examples=(), input=body)


def parse_verdict(text: str) -> tuple[bool | None, str]:
    """(passed, reason) from the judge's reply; passed is None when the reply
    says neither."""
    body = metrics.strip_fence(text.strip())
    m = _OBJECT.search(body)
    if m:
        try:
            data = json.loads(m.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            verdict = data.get("pass", data.get("passed", data.get("verdict")))
            reason = str(data.get("reason", "")).strip()
            if isinstance(verdict, bool):
                return verdict, reason
            if isinstance(verdict, str) and verdict.strip().lower() in ("pass", "fail"):
                return verdict.strip().lower() == "pass", reason
    w = _WORD.search(body)
    if w:
        rest = body[w.end() :].strip(" \t\n:-.—")
        return w.group(1).lower() == "pass", " ".join(rest.split())[:200]
    return None, ""


async def judge_async(
    ws: Workspace,
    result: evals.EvalResult,
    *,
    max_cost_usd: float | None = DEFAULT_MAX_COST_USD,
    teacher: Teacher | None = None,
    retry: RetryPolicy | None = None,
    progress: JudgeProgressFn | None = None,
    stop: threading.Event | None = None,
) -> evals.JudgeSummary:
    todo = [i for i in result.items if evals.ADAPTER in i.answers]
    summary = evals.JudgeSummary(rows=len(todo), max_cost_usd=max_cost_usd)
    result.judge = summary
    ask = [i for i in todo if i.scores.get(evals.ADAPTER, {}).get(metrics.EXACT) != 1.0]
    asking = {id(i) for i in ask}
    for item in todo:
        if id(item) not in asking:
            _set(item, True, "exact match")
            summary.judged += 1
    if progress is not None:
        progress(summary.judged, summary.rows)
    if not ask:
        return summary
    async with asker(ws, side_costs.JUDGE, teacher, retry) as a:
        if max_cost_usd is not None and a.price is None:
            raise UserError(
                f"no price is known for {a.teacher.model!r}, so the judge's cost cap cannot be "
                "enforced: set its price on the Task screen (1; 0 for a free local server) "
                f'or add [teacher.prices."{a.teacher.model}"] to distill.toml'
            )
        asked = 0
        for item in ask:
            if stop is not None and stop.is_set():
                summary.stopped = True
                break
            per = summary.cost_usd / asked if asked else 0.0
            if max_cost_usd is not None and summary.cost_usd + per > max_cost_usd:
                summary.capped = True
                break
            prompt = judge_prompt(
                ws.settings.task, item.input, item.reference, item.answers[evals.ADAPTER]
            )
            comp, usd = await a.ask(prompt)
            asked += 1
            if usd is None:
                summary.cost_unknown += 1
            else:
                summary.cost_usd += usd
            passed, reason = parse_verdict(comp.text)
            if passed is None:
                item.judge = "unclear verdict: " + " ".join(comp.text.split())[:120]
                summary.unclear += 1
            else:
                _set(item, passed, reason)
                summary.judged += 1
            if progress is not None:
                progress(summary.judged + summary.unclear, summary.rows)
    return summary


def _set(item: evals.EvalItem, passed: bool, reason: str) -> None:
    item.scores.setdefault(evals.ADAPTER, {})[evals.JUDGE] = 1.0 if passed else 0.0
    item.judge = reason or ("pass" if passed else "fail")


def judge(ws: Workspace, result: evals.EvalResult, **kwargs: object) -> evals.JudgeSummary:
    """Blocking form: judge `result`'s adapter answers in place (scores gain a
    `judge` metric, items a reason) and return the summary."""
    return asyncio.run(judge_async(ws, result, **kwargs))  # type: ignore[arg-type]
