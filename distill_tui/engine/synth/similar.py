"""Targeted data from failures: the teacher writes new inputs like the ones
the adapter got wrong, and they join the dataset as pending rows (origin
"similar"), so the Queue screen and `distill-tui generate` answer them next.
The guide's "analyse failures, add targeted data" loop, one key long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from distill_tui.core.config import Task
from distill_tui.core.errors import UserError
from distill_tui.core.generate import side_costs
from distill_tui.core.generate.pricing import fmt_usd
from distill_tui.core.project import Workspace
from distill_tui.core.synth.candidates import FilterReport, parse_list
from distill_tui.engine.generate.queue import RetryPolicy
from distill_tui.engine.generate.teacher_ask import asker
from distill_tui.engine.generate.teachers.base import Prompt, Teacher
from distill_tui.engine.synth.input_filter import make_filter

ORIGIN = "similar"
MAX_SHOWN = 20  # failing inputs quoted in the prompt; more cost tokens, add little
MAX_COUNT = 200


def default_count(failures: int) -> int:
    """How many inputs one key press asks for: two per failure, 5 to 50."""
    return max(5, min(50, 2 * failures))


def similar_prompt(task: Task, failing: Sequence[str], n: int) -> Prompt:
    shown = list(failing)[:MAX_SHOWN]
    about = [
        "You write inputs for a dataset that teaches a small model one narrow task.",
        f"The task, as given to the model:\n{task.instructions.strip() or '(no instructions)'}",
    ]
    if task.input_description.strip():
        about.append(f"What an input looks like: {task.input_description.strip()}")
    about.append(
        "The model still gets the inputs below wrong. Write new inputs of the same kind and "
        "difficulty that exercise the same cases: vary wording, length and details; do not "
        "copy or lightly edit them, and do not answer them."
    )
    quoted = "\n".join(f"<input>\n{text}\n</input>" for text in shown)
    ask = (
        f"Inputs the model gets wrong:\n{quoted}\n\n"
        f"Write {n} new inputs. Reply with only a JSON array of {n} strings, one input each."
    )
    return Prompt(system="\n\n".join(about), examples=(), input=ask)


def parse_inputs(text: str, truncated: bool = False) -> list[str]:
    """New inputs from the teacher's reply: a JSON array or a marked list,
    never stray lines (core/synth/candidates.py)."""
    return parse_list(text, truncated)


@dataclass
class SimilarResult:
    asked: int
    inputs: list[str]  # what the teacher wrote, after parsing
    added: int  # new pending rows
    duplicates: int  # exact or near duplicates of the dataset or the batch
    cost_usd: float | None  # None: no known price
    report: FilterReport | None = None  # what the filter kept and dropped, and why

    def summary(self) -> str:
        why = f" ({self.report.describe()})" if self.report else ""
        return (
            f"the teacher wrote {len(self.inputs)} of {self.asked} inputs like the failing rows: "
            f"{self.added} added to the generation queue{why}, {fmt_usd(self.cost_usd)}"
        )


async def add_similar_async(
    ws: Workspace,
    failing: Sequence[str],
    n: int,
    *,
    teacher: Teacher | None = None,
    retry: RetryPolicy | None = None,
) -> SimilarResult:
    if not failing:
        raise UserError("no failing rows to write similar inputs for")
    if not 1 <= n <= MAX_COUNT:
        raise UserError(f"ask for 1 to {MAX_COUNT} similar inputs, not {n}")
    prompt = similar_prompt(ws.settings.task, failing, n)
    async with asker(ws, side_costs.SIMILAR, teacher, retry) as a:
        comp, usd = await a.ask(prompt)
    truncated = (comp.stop_reason or "") in ("max_tokens", "length")
    inputs = parse_inputs(comp.text, truncated)[:n]
    if not inputs:
        raise UserError(
            "the teacher's reply held no JSON array or list of inputs (it began"
            f" {' '.join(comp.text.split())[:80]!r}); nothing added"
        )
    check = make_filter(ws)
    check.extend(failing)  # copies of the failing rows teach nothing new
    report = check.filter(inputs)
    res = ws.store.add_inputs(((s, "similar to failures") for s in report.kept), origin=ORIGIN)
    return SimilarResult(n, inputs, res.added, report.duplicates + res.duplicates, usd, report)


def add_similar(ws: Workspace, failing: Sequence[str], n: int, **kwargs: object) -> SimilarResult:
    """Blocking form for workers and the CLI: ask the teacher for `n` inputs
    like `failing` and add them as pending rows."""
    return asyncio.run(add_similar_async(ws, failing, n, **kwargs))  # type: ignore[arg-type]
