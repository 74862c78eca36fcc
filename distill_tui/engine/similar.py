"""Targeted data from failures: the teacher writes new inputs like the ones
the adapter got wrong, and they join the dataset as pending rows (origin
"similar"), so the Queue screen and `distill-tui generate` answer them next.
The guide's "analyse failures, add targeted data" loop, one key long.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from distill_tui.core import metrics, side_costs
from distill_tui.core.config import Task
from distill_tui.core.errors import UserError
from distill_tui.core.pricing import fmt_usd
from distill_tui.core.project import Workspace
from distill_tui.engine.queue import RetryPolicy
from distill_tui.engine.teacher_ask import asker
from distill_tui.engine.teachers.base import Prompt, Teacher

ORIGIN = "similar"
MAX_SHOWN = 20  # failing inputs quoted in the prompt; more cost tokens, add little
MAX_COUNT = 200

# "1. x", "1) x", "- x", "* x", "• x" list markers a model puts before each item.
_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*•])\s+")
_ARRAY = re.compile(r"\[.*\]", re.S)


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


def _clean(line: str) -> str:
    line = _MARKER.sub("", line.strip())
    if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'`":
        line = line[1:-1]
    return line.strip().rstrip(",").strip()


def parse_inputs(text: str, truncated: bool = False) -> list[str]:
    """New inputs from the teacher's reply: a JSON array of strings (objects
    are kept as compact JSON), else one input per line with list markers,
    quotes and a lead-in line ("Here are 5 inputs:") removed. When the reply
    was cut off at the token limit, the last line-item is dropped."""
    body = metrics.strip_fence(text.strip())
    m = _ARRAY.search(body)
    if m:
        try:
            items = json.loads(m.group(0))
        except json.JSONDecodeError:
            items = None
        if isinstance(items, list):
            out = [i if isinstance(i, str) else json.dumps(i, ensure_ascii=False) for i in items]
            return _unique(s.strip() for s in out)
    lines = [ln for ln in body.splitlines() if ln.strip() and ln.strip() not in "[]```"]
    if truncated and lines:
        lines = lines[:-1]
    if lines and lines[0].rstrip().endswith(":"):
        lines = lines[1:]  # "Here are 5 new inputs:"
    return _unique(_clean(ln) for ln in lines)


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for s in items:
        if s and s not in seen:
            seen.add(s)
            out.append(s)
    return out


@dataclass
class SimilarResult:
    asked: int
    inputs: list[str]  # what the teacher wrote, after parsing
    added: int  # new pending rows
    duplicates: int  # already in the dataset
    cost_usd: float | None  # None: no known price

    def summary(self) -> str:
        dup = f" ({self.duplicates} already in the dataset)" if self.duplicates else ""
        return (
            f"the teacher wrote {len(self.inputs)} of {self.asked} inputs like the failing rows: "
            f"{self.added} added to the generation queue{dup}, {fmt_usd(self.cost_usd)}"
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
    known = set(failing)
    inputs = [s for s in parse_inputs(comp.text, truncated) if s not in known][:n]
    if not inputs:
        raise UserError(
            f"the teacher's reply held no inputs (it began {comp.text[:80]!r}); nothing added"
        )
    res = ws.store.add_inputs(((s, "similar to failures") for s in inputs), origin=ORIGIN)
    return SimilarResult(n, inputs, res.added, res.duplicates, usd)


def add_similar(ws: Workspace, failing: Sequence[str], n: int, **kwargs: object) -> SimilarResult:
    """Blocking form for workers and the CLI: ask the teacher for `n` inputs
    like `failing` and add them as pending rows."""
    return asyncio.run(add_similar_async(ws, failing, n, **kwargs))  # type: ignore[arg-type]
