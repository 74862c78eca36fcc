"""Inputs without a corpus (issue 22): the teacher proposes topics for the
task, the user edits the tree (core/synth/topics.py), and the teacher writes inputs
for each leaf, round robin. Every candidate passes the filter
(core/synth/candidates.py) before it becomes a pending row with origin "synth", so
the Queue screen and `distill-tui generate` answer them like imported inputs.

Requests run at SYNTH_TEMPERATURE (or the teacher's own, if higher): at 0 a
teacher writes the same inputs again. They are counted as side costs
("synth") and stop at the project's `max_cost_usd`, as generation does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pricing import Usage, cost, fmt_usd, price_for
from distill_tui.core.project import Workspace
from distill_tui.core.synth import topics
from distill_tui.core.synth.candidates import REASONS, parse_list
from distill_tui.engine.generate.queue import RetryPolicy
from distill_tui.engine.generate.teacher_ask import Asker, asker
from distill_tui.engine.generate.teachers import make_teacher
from distill_tui.engine.generate.teachers.base import Teacher
from distill_tui.engine.generate.token_estimates import approx_tokens
from distill_tui.engine.synth.input_filter import make_filter
from distill_tui.engine.synth.prompts import inputs_prompt, topics_prompt

ORIGIN = "synth"
PURPOSE = "synth"  # side_costs purpose
SYNTH_TEMPERATURE = 0.7
MIN_EXAMPLES = 5  # InstructLab asks as many seeds per leaf; we ask them per task
MAX_TOPICS = 20
MAX_PER_LEAF = 50
MAX_ROUNDS = 3  # requests per leaf at most, per fill
STOP_DUP_SHARE = 0.5  # a leaf stops when more than this share of its new ones are duplicates


def readiness(ws: Workspace) -> str | None:
    """Why synthesis cannot start yet, or None when it can."""
    return topics.readiness(ws.settings, MIN_EXAMPLES)


def check_ready(ws: Workspace) -> None:
    why = readiness(ws)
    if why:
        raise UserError(f"synthesis needs instructions and {MIN_EXAMPLES} examples: {why}")


def synth_teacher(ws: Workspace) -> Teacher:
    """The project's teacher at the synthesis temperature. Pass one to every
    call of a session (`teacher=`), so a local model is loaded once; the
    caller closes it (`aclose`)."""
    s = ws.settings.teacher
    temp = max(s.temperature, SYNTH_TEMPERATURE)
    return make_teacher(s.replace(temperature=temp))


@asynccontextmanager
async def _asking(
    ws: Workspace, teacher: Teacher | None, retry: RetryPolicy | None
) -> AsyncIterator[Asker]:
    """The project's teacher at the synthesis temperature (or `teacher`)."""
    own = teacher is None
    teacher = teacher or synth_teacher(ws)
    try:
        async with asker(ws, PURPOSE, teacher, retry) as a:
            yield a
    finally:
        if own:
            await teacher.aclose()


# -- topics --------------------------------------------------------------------------
@dataclass
class Proposed:
    names: list[str]
    ids: list[int]
    cost_usd: float | None


async def propose_topics_async(
    ws: Workspace,
    n: int,
    parent_id: int | None = None,
    *,
    teacher: Teacher | None = None,
    retry: RetryPolicy | None = None,
) -> Proposed:
    """Ask for `n` topics (or subtopics of `parent_id`) and add them to the tree."""
    check_ready(ws)
    if not 1 <= n <= MAX_TOPICS:
        raise UserError(f"ask for 1 to {MAX_TOPICS} topics, not {n}")
    tree = topics.tree(ws.store)
    parent = next((t for t in tree if t.id == parent_id), None)
    if parent_id is not None and parent is None:
        raise UserError(f"no topic {parent_id}")
    siblings = [t.name for t in tree if t.parent_id == parent_id]
    prompt = topics_prompt(ws.settings.task, n, parent.path if parent else None, siblings)
    async with _asking(ws, teacher, retry) as a:
        comp, usd = await a.ask(prompt)
    truncated = (comp.stop_reason or "") in ("max_tokens", "length")
    known = {s.casefold() for s in siblings}
    names: list[str] = []
    for item in parse_list(comp.text, truncated):
        name = " ".join(item.split())
        if len(name) > topics.MAX_NAME or name.casefold() in known:
            continue  # a paragraph is not a topic name
        known.add(name.casefold())
        names.append(name)
    names = names[:n]
    if not names:
        raise UserError(
            "the teacher's reply held no JSON array or list of topics (it began"
            f" {' '.join(comp.text.split())[:80]!r}); nothing added"
        )
    ids = [topics.add(ws.store, name, parent_id) for name in names]
    return Proposed(names, ids, usd)


def propose_topics(ws: Workspace, n: int, parent_id: int | None = None, **kw: object) -> Proposed:
    return asyncio.run(propose_topics_async(ws, n, parent_id, **kw))  # type: ignore[arg-type]


# -- estimate --------------------------------------------------------------------------
@dataclass(frozen=True)
class SynthEstimate:
    leaves: int
    requests: int  # first round
    inputs: int
    cost_usd: float | None  # None: no known price
    cost_usd_max: float | None  # every leaf asked MAX_ROUNDS times
    model: str

    def describe(self) -> str:
        if self.cost_usd is None or self.cost_usd_max is None:
            money = f"cost unknown: no price for {self.model!r} (add [teacher.prices])"
        else:
            money = f"about ${self.cost_usd:.4f} (at most ${self.cost_usd_max:.4f})"
        return (
            f"{self.inputs} input(s) for {self.leaves} leaf topic(s): {self.requests} request(s)"
            f" to {self.model}; {money}; counted at about 4 characters a token"
        )


def _wanted(ws: Workspace, per_leaf: int) -> list[tuple[topics.Topic, int]]:
    return [
        (t, per_leaf - t.kept)
        for t in topics.leaves(ws.store)
        if t.kept < per_leaf and not t.exhausted
    ]


def estimate(ws: Workspace, per_leaf: int) -> SynthEstimate:
    """Tokens and cost of filling every leaf to `per_leaf` inputs, before any
    is spent: each request's prompt, and answers as long as the examples."""
    s = ws.settings
    todo = _wanted(ws, per_leaf)
    ex = [approx_tokens(e.input) for e in s.task.examples] or [50]
    per_input = sum(ex) / len(ex) + 4  # quotes and commas of the JSON array
    tokens_in = tokens_out = 0
    for t, n in todo:
        p = inputs_prompt(s.task, t.path, n, topics.leaf_inputs(ws.store, t.id))
        tokens_in += approx_tokens(p.system) + approx_tokens(p.input)
        tokens_out += int(n * per_input)
    price = price_for(
        s.teacher.model, s.teacher.prices, provider=s.teacher.provider, base_url=s.teacher.base_url
    )
    usd = cost(Usage(input_tokens=tokens_in, output_tokens=tokens_out), price)
    return SynthEstimate(
        leaves=len(todo),
        requests=len(todo),
        inputs=sum(n for _, n in todo),
        cost_usd=usd,
        cost_usd_max=None if usd is None else usd * MAX_ROUNDS,
        model=s.teacher.model,
    )


# -- filling the leaves -------------------------------------------------------------------
@dataclass
class LeafResult:
    path: str
    asked: int = 0
    written: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {r: 0 for r in REASONS})
    stopped: str = ""  # why the leaf stopped before its target ("" if it did not)

    @property
    def duplicates(self) -> int:
        return self.dropped["duplicate"] + self.dropped["near-duplicate"]

    def line(self) -> str:
        drops = ", ".join(f"{n} {r}" for r, n in self.dropped.items() if n)
        return (
            f"{self.path}: kept {self.kept} of {self.written} written ({self.asked} asked)"
            + (f"; dropped {drops}" if drops else "")
            + (f"; {self.stopped}" if self.stopped else "")
        )


@dataclass
class SynthResult:
    leaves: list[LeafResult] = field(default_factory=list)
    requests: int = 0
    cost_usd: float = 0.0
    cost_unknown: int = 0
    capped: bool = False
    stopped: bool = False

    @property
    def kept(self) -> int:
        return sum(leaf.kept for leaf in self.leaves)

    @property
    def written(self) -> int:
        return sum(leaf.written for leaf in self.leaves)

    def duplicate_rate(self) -> float | None:
        dups = sum(leaf.duplicates for leaf in self.leaves)
        return dups / self.written if self.written else None

    def summary(self) -> str:
        rate = self.duplicate_rate()
        end = "; stopped at the cost cap" if self.capped else "; stopped" if self.stopped else ""
        money = fmt_usd(self.cost_usd) + (
            f" (+{self.cost_unknown} of unknown price)" if self.cost_unknown else ""
        )
        return (
            f"{self.kept} new input(s) in the queue from {self.written} written over"
            f" {len(self.leaves)} leaf topic(s)"
            + (f", {rate:.0%} duplicates dropped" if rate is not None else "")
            + f", {self.requests} request(s), {money}{end}"
        )


ProgressFn = Callable[[LeafResult, SynthResult], None]


async def fill_async(
    ws: Workspace,
    per_leaf: int,
    *,
    teacher: Teacher | None = None,
    retry: RetryPolicy | None = None,
    max_cost_usd: float | None = None,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> SynthResult:
    """Ask the teacher for inputs until every leaf has `per_leaf` (round
    robin, at most MAX_ROUNDS requests a leaf); a leaf stops early when more
    than half of a reply's inputs were duplicates, or twice held none."""
    check_ready(ws)
    if not 1 <= per_leaf <= MAX_PER_LEAF:
        raise UserError(f"ask for 1 to {MAX_PER_LEAF} inputs per topic, not {per_leaf}")
    if not topics.leaves(ws.store):
        raise UserError("the topic tree is empty: propose or add topics first")
    cap = max_cost_usd if max_cost_usd is not None else ws.settings.teacher.max_cost_usd
    todo = _wanted(ws, per_leaf)
    result = SynthResult()
    if not todo:
        return result
    check = make_filter(ws)
    need = {t.id: n for t, n in todo}
    state = {t.id: LeafResult(t.path) for t, _ in todo}
    result.leaves = list(state.values())
    empty: dict[int, int] = {}
    async with _asking(ws, teacher, retry) as a:
        if cap is not None and a.price is None:
            raise UserError(
                f"no price is known for {a.teacher.model!r}, so max_cost_usd cannot be "
                f'enforced: add [teacher.prices."{a.teacher.model}"] to distill.toml'
            )
        active = [t for t, _ in todo]
        for _round in range(MAX_ROUNDS):
            for t in list(active):
                if stop is not None and stop.is_set():
                    result.stopped = True
                    return result
                per = result.cost_usd / result.requests if result.requests else 0.0
                if cap is not None and q.spent_usd(ws.store) + per > cap:
                    result.capped = True
                    return result
                leaf = state[t.id]
                n = need[t.id]
                have = topics.leaf_inputs(ws.store, t.id)
                comp, usd = await a.ask(inputs_prompt(ws.settings.task, t.path, n, have))
                result.requests += 1
                if usd is None:
                    result.cost_unknown += 1
                else:
                    result.cost_usd += usd
                truncated = (comp.stop_reason or "") in ("max_tokens", "length")
                items = parse_list(comp.text, truncated)[: 2 * n]
                report = check.filter(items)
                added = topics.add_rows(ws.store, t, report.kept, ORIGIN)
                counts = report.counts()
                topics.record(ws.store, t.id, n, len(items), counts)
                leaf.asked += n
                leaf.written += len(items)
                leaf.kept += added
                for r, c in counts.items():
                    leaf.dropped[r] += c
                need[t.id] -= added
                if not items:
                    empty[t.id] = empty.get(t.id, 0) + 1
                    if empty[t.id] >= 2:
                        leaf.stopped = "the teacher's replies held no JSON array or list"
                        active.remove(t)
                elif report.duplicates > STOP_DUP_SHARE * len(items):
                    leaf.stopped = "stopped early: mostly duplicates"
                    topics.set_exhausted(ws.store, t.id)
                    active.remove(t)
                elif need[t.id] <= 0:
                    active.remove(t)
                if progress is not None:
                    progress(leaf, result)
            if not active:
                break
    for t in active:
        if need[t.id] > 0 and not state[t.id].stopped:
            state[t.id].stopped = f"{need[t.id]} short after {MAX_ROUNDS} requests"
    return result


def fill(ws: Workspace, per_leaf: int, **kwargs: object) -> SynthResult:
    """Blocking form for workers and the CLI."""
    return asyncio.run(fill_async(ws, per_leaf, **kwargs))  # type: ignore[arg-type]
