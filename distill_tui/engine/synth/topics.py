"""Inputs without a corpus (issue 22): the teacher proposes topics for the
task, the user edits the tree (core/synth/topics.py), and the teacher writes inputs
for each leaf, round robin. Every candidate passes the filter
(core/synth/candidates.py) before it becomes a pending row with origin "synth", so
the Queue screen and `distill-tui generate` answer them like imported inputs.

Requests run at SYNTH_TEMPERATURE (or the teacher's own, if higher): at 0 a
teacher writes the same inputs again. Their replies get their own token limit
(`synth_max_tokens`: room for the inputs asked, whatever `[teacher]
max_tokens` a one-label task keeps for its answers), and a reply that hits it
is counted and said. They are counted as side costs ("synth") and stop at the
project's `max_cost_usd`, as generation does. A synthesis session holds the
project's runner lock, the one `generate` takes: two at once would propose
the tree twice and pay twice, and both count against one budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass, field

from distill_tui.core.config import Task
from distill_tui.core.display import plural
from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.core.generate import side_costs
from distill_tui.core.generate.pricing import Usage, cost, fmt_usd, price_for
from distill_tui.core.project import Workspace
from distill_tui.core.store import StoreBusy
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
PURPOSE = side_costs.SYNTH
SYNTH_TEMPERATURE = 0.7
MIN_EXAMPLES = 5  # InstructLab asks as many seeds per leaf; we ask them per task
MAX_TOPICS = 20
MAX_PER_LEAF = 50
MAX_ROUNDS = 3  # requests per leaf at most, per fill
STOP_DUP_SHARE = 0.5  # a leaf stops when more than this share of its new ones are duplicates
# A synthesis reply's token limit: room for the inputs asked, at least enough
# for 20 topic names, at most what every current API model accepts.
MIN_REPLY_TOKENS = 1024
MAX_REPLY_TOKENS = 4096


def readiness(ws: Workspace) -> str | None:
    """Why synthesis cannot start yet, or None when it can."""
    return topics.readiness(ws.settings, MIN_EXAMPLES)


def check_ready(ws: Workspace) -> None:
    why = readiness(ws)
    if why:
        raise UserError(f"synthesis needs instructions and {MIN_EXAMPLES} examples: {why}")


def synth_max_tokens(task: Task, per_leaf: int = 8) -> int:
    """A reply's token limit when `per_leaf` inputs are asked at once: each
    as long as the longest example input (about four characters a token),
    with its quotes and comma, and half as much again to spare; 1,024 to
    4,096 tokens. Separate from `[teacher] max_tokens`, which sizes answers."""
    longest = max((approx_tokens(e.input) for e in task.examples), default=64)
    want = int(1.5 * per_leaf * (longest + 4)) + 32
    return max(MIN_REPLY_TOKENS, min(MAX_REPLY_TOKENS, want))


def synth_teacher(ws: Workspace, per_leaf: int = 8) -> Teacher:
    """The project's teacher at the synthesis temperature and with the
    synthesis token limit (or the teacher's own, if higher). Pass one to
    every call of a session (`teacher=`), so a local model is loaded once;
    the caller closes it (`aclose`)."""
    s = ws.settings.teacher
    temp = max(s.temperature, SYNTH_TEMPERATURE)
    limit = max(s.max_tokens, synth_max_tokens(ws.settings.task, per_leaf))
    return make_teacher(s.replace(temperature=temp, max_tokens=limit))


def reply_limit(teacher: Teacher) -> int | None:
    """The token limit `teacher` was made with, when it says."""
    limit = getattr(getattr(teacher, "settings", None), "max_tokens", None)
    return limit if isinstance(limit, int) else None


def _cut(stop_reason: str | None) -> bool:
    return (stop_reason or "") in ("max_tokens", "length")


@contextmanager
def session_lock(ws: Workspace) -> Iterator[None]:
    """Hold the project's runner lock (the one `generate` takes) for a
    synthesis session; another run holding it is refused in generate's words."""
    token = q.acquire_runner(ws.store, ORIGIN)
    try:
        yield
    finally:
        with contextlib.suppress(StoreBusy):
            # Left behind, the lock is taken over: its process will be gone.
            q.release_runner(ws.store, token)


def _locked(ws: Workspace, held: bool) -> contextlib.AbstractContextManager[None]:
    return nullcontext() if held else session_lock(ws)


@asynccontextmanager
async def _asking(
    ws: Workspace, teacher: Teacher | None, retry: RetryPolicy | None, per_leaf: int = 8
) -> AsyncIterator[Asker]:
    """The project's teacher for synthesis (or `teacher`)."""
    own = teacher is None
    teacher = teacher or synth_teacher(ws, per_leaf)
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
    cut: bool = False  # the reply hit its token limit (its last topic was dropped)


async def propose_topics_async(
    ws: Workspace,
    n: int,
    parent_id: int | None = None,
    *,
    teacher: Teacher | None = None,
    retry: RetryPolicy | None = None,
    held: bool = False,
) -> Proposed:
    """Ask for `n` topics (or subtopics of `parent_id`) and add them to the
    tree, holding the runner lock (`held`: the caller holds it)."""
    check_ready(ws)
    if not 1 <= n <= MAX_TOPICS:
        raise UserError(f"ask for 1 to {MAX_TOPICS} topics, not {n}")
    with _locked(ws, held):
        return await _propose(ws, n, parent_id, teacher, retry)


async def _propose(
    ws: Workspace,
    n: int,
    parent_id: int | None,
    teacher: Teacher | None,
    retry: RetryPolicy | None,
) -> Proposed:
    tree = topics.tree(ws.store)
    parent = next((t for t in tree if t.id == parent_id), None)
    if parent_id is not None and parent is None:
        raise UserError(f"no topic {parent_id}")
    siblings = [t.name for t in tree if t.parent_id == parent_id]
    prompt = topics_prompt(ws.settings.task, n, parent.path if parent else None, siblings)
    under = f" under {parent.path!r}" if parent else ""
    async with _asking(ws, teacher, retry) as a:
        comp, usd = await a.ask(prompt, what=f"{n} topic name(s){under}")
    truncated = _cut(comp.stop_reason)
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
        cut = " and hit its token limit" if truncated else ""
        raise UserError(
            f"the teacher's reply held no JSON array or list of topics{cut} (it began"
            f" {' '.join(comp.text.split())[:80]!r}); nothing added"
        )
    ids = [topics.add(ws.store, name, parent_id) for name in names]
    return Proposed(names, ids, usd, truncated)


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
    cut: int = 0  # replies that hit their token limit
    last_reply: str = ""  # the teacher's last reply as written, to see why none was kept

    @property
    def duplicates(self) -> int:
        return self.dropped["duplicate"] + self.dropped["near-duplicate"]

    def line(self) -> str:
        drops = ", ".join(f"{n} {r}" for r, n in self.dropped.items() if n)
        return (
            f"{self.path}: kept {self.kept} of {self.written} written ({self.asked} asked)"
            + (f"; dropped {drops}" if drops else "")
            + (f"; {self.cut} reply(ies) hit the token limit" if self.cut else "")
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
    max_tokens: int | None = None  # the replies' token limit, when known

    @property
    def kept(self) -> int:
        return sum(leaf.kept for leaf in self.leaves)

    @property
    def cut(self) -> int:
        return sum(leaf.cut for leaf in self.leaves)

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
            f"{plural(self.kept, 'new input')} in the queue from {self.written} written over"
            f" {plural(len(self.leaves), 'leaf topic')}"
            + (f", {rate:.0%} duplicates dropped" if rate is not None else "")
            + f", {plural(self.requests, 'request')}, {money}{end}"
            + self._cut_note()
        )

    def _cut_note(self) -> str:
        if not self.cut:
            return ""
        limit = f" of {self.max_tokens} tokens" if self.max_tokens else ""
        return (
            f"; {self.cut} reply(ies) hit the synthesis token limit{limit}, so their last"
            " input was dropped: ask for fewer inputs per topic"
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
    held: bool = False,
) -> SynthResult:
    """Ask the teacher for inputs until every leaf has `per_leaf` (round
    robin, at most MAX_ROUNDS requests a leaf, never more than `per_leaf`
    kept); a leaf stops early when more than half of a reply's inputs were
    duplicates, or twice held none. Holds the runner lock (`held`: the
    caller holds it)."""
    check_ready(ws)
    if not 1 <= per_leaf <= MAX_PER_LEAF:
        raise UserError(f"ask for 1 to {MAX_PER_LEAF} inputs per topic, not {per_leaf}")
    if not topics.leaves(ws.store):
        raise UserError("the topic tree is empty: propose or add topics first")
    with _locked(ws, held):
        return await _fill(ws, per_leaf, teacher, retry, max_cost_usd, progress, stop)


async def _fill(
    ws: Workspace,
    per_leaf: int,
    teacher: Teacher | None,
    retry: RetryPolicy | None,
    max_cost_usd: float | None,
    progress: ProgressFn | None,
    stop: threading.Event | None,
) -> SynthResult:
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
    async with _asking(ws, teacher, retry, per_leaf) as a:
        result.max_tokens = reply_limit(a.teacher)
        if cap is not None and a.price is None:
            raise UserError(
                f"no price is known for {a.teacher.model!r}, so max_cost_usd cannot be "
                f'enforced: add [teacher.prices."{a.teacher.model}"] to distill.toml'
            )
        active = [t for t, _ in todo]
        for rnd in range(MAX_ROUNDS):
            this_round = list(active)
            for i, t in enumerate(this_round, 1):
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
                where = f"leaf {i} of {len(this_round)}" + (f", round {rnd + 1}" if rnd else "")
                comp, usd = await a.ask(
                    inputs_prompt(ws.settings.task, t.path, n, have),
                    what=f"{n} input(s) for {t.path!r} ({where})",
                )
                result.requests += 1
                if usd is None:
                    result.cost_unknown += 1
                else:
                    result.cost_usd += usd
                truncated = _cut(comp.stop_reason)
                leaf.cut += truncated
                leaf.last_reply = comp.text
                items = parse_list(comp.text, truncated)[: 2 * n]
                # Never more than the leaf still needs: the rest are not looked at.
                report = check.filter(items, limit=need[t.id])
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
                elif report.duplicates > STOP_DUP_SHARE * report.examined:
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
