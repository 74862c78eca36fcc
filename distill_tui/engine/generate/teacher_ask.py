"""One-off requests to the configured teacher outside the generation queue
(inputs like the failing ones, judging evaluation answers).

They use the queue's own Teacher objects, prices and retry policy, so a
project's provider, base URL, key handling and local MLX lease apply
unchanged; every paid request is recorded with `core.side_costs`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from distill_tui.core.config import Price
from distill_tui.core.errors import UserError
from distill_tui.core.generate import side_costs
from distill_tui.core.generate.pricing import CatalogPrice, cost, price_for
from distill_tui.core.project import Workspace
from distill_tui.engine.generate.queue import RetryPolicy
from distill_tui.engine.generate.teachers import make_teacher
from distill_tui.engine.generate.teachers.base import Completion, Prompt, Teacher, TransientError

# Where a request says what it waits for and each retry: a headless command
# sets it (and prints them); unset, requests are silent. A context variable,
# so every caller of `ask` reports without a callback threaded through.
NOTICES: ContextVar[Callable[[str], None] | None] = ContextVar("teacher_notices", default=None)


def notice(text: str) -> None:
    say = NOTICES.get()
    if say is not None:
        say(text)


@dataclass
class Asker:
    """A teacher ready for one-off requests, with its price."""

    ws: Workspace
    teacher: Teacher
    price: Price | CatalogPrice | None
    retry: RetryPolicy
    purpose: str

    async def ask(self, prompt: Prompt, what: str = "") -> tuple[Completion, float | None]:
        """One answer and its cost (None: no known price), retrying transient
        errors; a permanent error (bad key, unknown model) raises at once.
        `what` names the request in the notices (`NOTICES`)."""
        tries = 1
        if what:
            timeout = self.ws.settings.teacher.request_timeout_s
            notice(f"waiting for {self.teacher.model}: {what} (up to {timeout:g} s a try)")
        while True:
            try:
                comp = await self.teacher.complete(prompt)
                break
            except TransientError as e:
                if tries >= self.retry.max_attempts:
                    raise UserError(f"teacher: gave up after {tries} attempts: {e}") from None
                delay = self.retry.delay(tries, e.retry_after)
                notice(
                    f"teacher: {e}; try {tries + 1} of {self.retry.max_attempts} in {delay:.0f} s"
                )
                await asyncio.sleep(delay)
                tries += 1
        usd = cost(comp.usage, self.price)
        side_costs.record(self.ws.store, self.purpose, comp.usage, usd)
        return comp, usd


@asynccontextmanager
async def asker(
    ws: Workspace,
    purpose: str,
    teacher: Teacher | None = None,
    retry: RetryPolicy | None = None,
) -> AsyncIterator[Asker]:
    """The project's teacher (or `teacher`), closed afterwards if made here.
    A local MLX teacher holds the MLX lease for the duration."""
    s = ws.settings.teacher
    own = teacher is None
    teacher = teacher or make_teacher(s)
    try:
        session: AbstractContextManager[object] = (
            teacher.session() if hasattr(teacher, "session") else nullcontext()
        )
        with session:
            yield Asker(
                ws,
                teacher,
                price_for(teacher.model, s.prices, provider=teacher.provider, base_url=s.base_url),
                retry or RetryPolicy(max_attempts=s.max_attempts),
                purpose,
            )
    finally:
        if own:
            await teacher.aclose()
