"""The generation queue runner: one engine function, `run_queue`, that the
Queue screen's worker and `distill-tui generate` both call.

It claims pending rows, sends them to the teacher with a concurrency limit and
a requests-per-minute pace, retries transient errors with backoff that honours
retry-after (a 429 holds every new request, not just the one that got it),
stops the run on a permanent error, stops cleanly at the budget cap, and
commits every answer the moment it arrives. Pause and stop are cooperative:
threading events checked between requests; in-flight requests finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

from distill_tui.core import disk
from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.core.generate import unsaved
from distill_tui.core.generate.pricing import cost, price_for
from distill_tui.core.project import Workspace
from distill_tui.core.store import StoreBusy
from distill_tui.engine.generate.pacing import FaultWatch, RateLimiter, RetryPolicy
from distill_tui.engine.generate.teachers import make_teacher
from distill_tui.engine.generate.teachers.base import (
    Completion,
    PermanentError,
    Teacher,
    TransientError,
    build_prompt,
)

__all__ = ["Progress", "RateLimiter", "RetryPolicy", "RowEvent", "RunResult", "run_queue"]


@dataclass
class Progress:
    state: str = "starting"  # running | paused | stopping | finished
    planned: int = 0
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0  # of the answers whose price is known
    cost_unknown: int = 0  # answers from a model with no known price
    spent_usd: float = 0.0  # the project's total, earlier runs included
    elapsed_s: float = 0.0
    rows_per_min: float = 0.0
    eta_s: float | None = None
    last_error: str | None = None
    teacher: str = ""
    wait_s: float = 0.0  # seconds left of a rate-limit hold (retry-after)
    unsaved: int = 0  # paid answers kept in unsaved-answers.jsonl (store locked or full)
    lost: int = 0  # paid answers neither the store nor that file could take


@dataclass(frozen=True)
class RowEvent:
    """One row changed: running, retrying, done, failed or pending (released)."""

    row_id: int
    status: str
    attempts: int
    error: str | None = None
    output: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0  # None: no known price
    latency_s: float | None = None


@dataclass
class RunResult:
    # finished | limit | budget | stopped | error
    reason: str
    message: str
    progress: Progress = field(default_factory=Progress)

    @property
    def ok(self) -> bool:
        return self.reason != "error"

    @property
    def complete(self) -> bool:
        """No row failed and every answer is in the store."""
        p = self.progress
        return self.ok and p.failed == 0 and p.unsaved == 0 and p.lost == 0


ProgressFn = Callable[[Progress], None]
RowFn = Callable[[RowEvent], None]

_TICK = 0.05  # how often waits look at the stop and pause events


class _Run:
    def __init__(
        self,
        ws: Workspace,
        teacher: Teacher,
        *,
        limit: int | None,
        max_cost_usd: float | None,
        retry: RetryPolicy,
        on_progress: ProgressFn | None,
        on_row: RowFn | None,
        stop: threading.Event,
        pause: threading.Event,
        keeper: unsaved.Keeper | None = None,
    ) -> None:
        self.ws, self.store, self.teacher = ws, ws.store, teacher
        self.keeper = keeper
        s = ws.settings.teacher
        self.limit, self.budget, self.retry = limit, max_cost_usd, retry
        # A batched (local) teacher runs one batch at a time on the MLX thread;
        # it has no rate limit to respect.
        local = teacher.batch_size > 1 or teacher.provider == "mlx"
        self.max_in_flight = teacher.batch_size if local else s.concurrency
        self.limiter = RateLimiter(0 if local else s.requests_per_minute)
        self.price = price_for(
            teacher.model, s.prices, provider=teacher.provider, base_url=s.base_url
        )
        if self.budget is not None and self.price is None:
            raise UserError(
                f"no price is known for {teacher.model!r}, so max_cost_usd cannot be enforced: "
                f'add [teacher.prices."{teacher.model}"] with input and output USD per million '
                "tokens to distill.toml"
            )
        self.on_progress, self.on_row = on_progress, on_row
        self.stop, self.pause = stop, pause
        self.fatal: PermanentError | Exception | None = None
        self.p = Progress(teacher=teacher.name)
        self._spent_before = 0.0
        self._t0 = time.monotonic()
        self._finished_at: deque[float] = deque()
        self._last_emit = 0.0
        self.faults = FaultWatch(retry)

    # -- reporting --------------------------------------------------------------
    def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_emit < 0.1:
            return
        self._last_emit = now
        p = self.p
        p.elapsed_s = now - self._t0
        while self._finished_at and now - self._finished_at[0] > 60:
            self._finished_at.popleft()
        window = min(60.0, max(p.elapsed_s, 1e-9))
        p.rows_per_min = len(self._finished_at) * 60.0 / window if self._finished_at else 0.0
        remaining = max(p.planned - p.done - p.failed, 0)
        p.eta_s = remaining * 60.0 / p.rows_per_min if p.rows_per_min > 0 else None
        p.spent_usd = self._spent_before + p.cost_usd
        p.wait_s = self.limiter.held_s()
        if self.on_progress:
            self.on_progress(replace(p))

    def row(self, ev: RowEvent) -> None:
        if self.on_row:
            self.on_row(ev)

    @property
    def halted(self) -> bool:
        return self.stop.is_set() or self.fatal is not None

    # -- the run ------------------------------------------------------------------
    async def run(self) -> RunResult:
        self._spent_before = q.spent_usd(self.store)
        pending = q.pending_count(self.store)
        self.p.planned = min(pending, self.limit) if self.limit is not None else pending
        self.p.state = "running"
        self.emit(force=True)
        tasks: set[asyncio.Task[None]] = set()
        claimed = 0
        reason = "finished"
        while True:
            if self.halted:
                reason = "error" if self.fatal else "stopped"
                break
            if self.pause.is_set():
                if self.p.state != "paused":
                    self.p.state = "paused"
                    self.emit(force=True)
                await self._wait(tasks)
                continue
            if self.p.state == "paused":
                self.p.state = "running"
                self.emit(force=True)
            if self.limit is not None and claimed >= self.limit:
                reason = "limit"
                break
            if self._over_budget():
                reason = "budget"
                break
            if self.p.in_flight >= self.max_in_flight:
                await self._wait(tasks)
                continue
            if not await self._paced():
                continue
            n = self.teacher.batch_size
            if self.limit is not None:
                n = min(n, self.limit - claimed)
            try:
                rows = q.claim(self.store, n)
            except (StoreBusy, sqlite3.Error) as e:
                self.fatal = self.fatal or self._store_error(e)
                continue
            if not rows:
                if tasks:  # a retry may still put rows back; wait for the rest
                    await self._wait(tasks)
                    continue
                break
            self.limiter.take()
            claimed += len(rows)
            # Counted here, not in the task, so the next loop turn sees it.
            self.p.in_flight += len(rows)
            task = asyncio.create_task(self._work(rows))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(0)  # let the request start before claiming more
        if tasks:
            self.p.state = "stopping"
            self.emit(force=True)
            await asyncio.gather(*tasks)
        if self.fatal is not None:
            reason = "error"
        self.p.state = "finished"
        self.emit(force=True)
        return RunResult(reason, self._message(reason), replace(self.p))

    async def _wait(self, tasks: set[asyncio.Task[None]]) -> None:
        if tasks:
            await asyncio.wait(tasks, timeout=_TICK, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(_TICK)

    async def _paced(self) -> bool:
        """Wait for the next request slot; False if stop or pause came first."""
        while (d := self.limiter.delay()) > 0:
            if self.halted or self.pause.is_set():
                return False
            await asyncio.sleep(min(d, _TICK))
        return True

    def _over_budget(self) -> bool:
        if self.budget is None:
            return False
        done = self.p.done or 1
        per_row = self.p.cost_usd / done if self.p.done else 0.0
        projected = self._spent_before + self.p.cost_usd + self.p.in_flight * per_row
        return projected >= self.budget

    def _message(self, reason: str) -> str:
        p = self.p
        if reason == "error":
            kept = (
                f"; {p.unsaved} paid answer(s) kept in {unsaved.NAME}, stored by the next run"
                if p.unsaved
                else ""
            )
            if p.lost:
                kept += (
                    f"; {p.lost} answer(s) received and not kept (nothing could be written),"
                    " so they will be asked for again"
                )
            return f"stopped: {self.fatal}{kept}"
        if reason == "budget":
            return f"stopped at the budget cap: ${p.spent_usd:.4f} spent of ${self.budget:.2f}"
        if reason == "stopped":
            return "stopped by request; pending rows stay queued"
        if reason == "limit":
            return f"generated the {self.limit} row(s) asked for"
        return "all pending rows processed"

    # -- one request (or one local batch) --------------------------------------
    async def _work(self, rows: list[q.Claimed]) -> None:
        try:
            await self._attempts(rows)
        except Exception as e:  # noqa: BLE001 - the store failed under us
            # Stop the run with the reason instead of losing the exception in
            # a task nobody awaits; rows left running go back to pending on
            # the next run.
            self.fatal = self.fatal or (
                e if isinstance(e, UserError) else UserError(f"{type(e).__name__}: {e}")
            )
            self.p.last_error = str(e)
        finally:
            self.p.in_flight -= len(rows)
            self.emit()

    async def _attempts(self, rows: list[q.Claimed]) -> None:
        prompts = [build_prompt(self.ws.settings.task, r.input) for r in rows]
        attempts = {r.id: r.attempts for r in rows}
        for r in rows:
            self.row(RowEvent(r.id, "running", attempts[r.id]))
        # Forced: a throttled emit here is dropped when the request starts
        # right after the last one, and "in flight" would read 0 until it ends.
        self.emit(force=True)
        tries = 1
        while True:
            t0 = time.monotonic()
            try:
                if len(prompts) == 1 and self.teacher.batch_size == 1:
                    comps = [await self.teacher.complete(prompts[0])]
                else:
                    comps = await self.teacher.complete_batch(prompts)
            except TransientError as e:
                err = str(e)
                self.p.last_error = err
                if stop := self.faults.stop_for(e):
                    self.fatal = self.fatal or UserError(stop)
                    self._release(rows, attempts, err)
                    return
                if e.retry_after:
                    self.limiter.hold_for(e.retry_after)
                if tries >= self.retry.max_attempts:
                    for r in rows:
                        msg = f"gave up after {tries} attempts: {err}"
                        q.fail(self.store, r.id, msg)
                        self.p.failed += 1
                        self._finished_at.append(time.monotonic())
                        self.row(RowEvent(r.id, "failed", attempts[r.id], msg))
                    return
                self.p.retries += 1
                for r in rows:
                    q.note_retry(self.store, r.id, err)
                    attempts[r.id] += 1
                    self.row(RowEvent(r.id, "retrying", attempts[r.id], err))
                self.emit(force=True)
                if not await self._sleep(self.retry.delay(tries, e.retry_after)):
                    self._release(rows, attempts, f"not retried (run stopped): {err}")
                    return
                tries += 1
                continue
            except PermanentError as e:
                self.fatal = self.fatal or e
                self.p.last_error = str(e)
                self._release(rows, attempts, str(e))
                return
            except Exception as e:  # noqa: BLE001 - a bug or a broken local model
                # Unknown errors would likely repeat on every row: stop, do
                # not burn through the queue.
                self.fatal = self.fatal or UserError(f"{type(e).__name__}: {e}")
                self.p.last_error = str(e)
                self._release(rows, attempts, f"{type(e).__name__}: {e}")
                return
            self.faults.answered()
            await self._store(rows, comps, attempts, (time.monotonic() - t0) / len(rows))
            return

    async def _sleep(self, seconds: float) -> bool:
        """Sleep for a retry, then wait for a rate slot; False if the run halted."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.halted:
                return False
            await asyncio.sleep(min(left, _TICK))
        while (d := self.limiter.delay()) > 0:
            if self.halted:
                return False
            await asyncio.sleep(min(d, _TICK))
        self.limiter.take()
        return not self.halted

    def _release(self, rows: list[q.Claimed], attempts: dict[int, int], error: str) -> None:
        q.release(self.store, [r.id for r in rows], error)
        for r in rows:
            self.row(RowEvent(r.id, "pending", attempts[r.id], error))

    async def _commit(self, row: q.Claimed, rec: q.GenerationRecord) -> bool:
        """Write one paid answer, waiting out another process's write lock for
        up to `write_wait_s`; then, or at once on any other database error,
        keep it in the unsaved-answers file. False when it was kept, not stored."""
        # Once an answer had to be kept, the lock is known held: one try each.
        wait = 0.0 if self.p.unsaved else self.retry.write_wait_s
        deadline = time.monotonic() + wait
        while True:
            try:
                q.complete(self.store, row.id, rec)
                return True
            except (StoreBusy, sqlite3.Error) as e:
                # Busy: wait for the lock. Anything else (a full disk, a store
                # damaged mid-run) will not pass by waiting.
                if isinstance(e, StoreBusy) and time.monotonic() < deadline:
                    await asyncio.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
                    continue
                self.fatal = self.fatal or self._store_error(e)
                try:
                    if self.keeper is None:
                        raise OSError(f"{unsaved.NAME} is not open")
                    self.keeper.keep(row.id, row.input, rec)
                except OSError:
                    # Nowhere left to write: stop asking at once (fatal is set).
                    self.p.lost += 1
                    return False
                self.p.unsaved += 1
                return False

    def _store_error(self, e: Exception) -> Exception:
        if isinstance(e, StoreBusy):
            return e
        why = None
        if isinstance(e, sqlite3.Error):
            why = disk.explain_sqlite(e, self.store.path.parent)
        return UserError(f"cannot write the store: {why or e}")

    async def _store(
        self,
        rows: list[q.Claimed],
        comps: list[Completion],
        attempts: dict[int, int],
        latency: float,
    ) -> None:
        batch = bool(getattr(self.teacher, "discounted", False))
        for r, c in zip(rows, comps, strict=True):
            usd = cost(c.usage, self.price, batch=batch)
            lat = c.latency_s if c.latency_s is not None else latency
            rec = q.GenerationRecord(
                c.text, self.teacher.name, c.prompt_hash, c.usage, usd, lat, c.stop_reason
            )
            if not await self._commit(r, rec):
                continue
            p = self.p
            p.done += 1
            p.input_tokens += c.usage.input_tokens
            p.output_tokens += c.usage.output_tokens
            p.cache_read_tokens += c.usage.cache_read_tokens
            if usd is None:
                p.cost_unknown += 1
            else:
                p.cost_usd += usd
            self._finished_at.append(time.monotonic())
            self.row(
                RowEvent(
                    r.id,
                    "done",
                    attempts[r.id],
                    None,
                    c.text,
                    c.usage.input_tokens,
                    c.usage.output_tokens,
                    usd,
                    lat,
                )
            )


async def run_queue_async(
    ws: Workspace,
    teacher: Teacher | None = None,
    *,
    limit: int | None = None,
    max_cost_usd: float | None = None,
    retry: RetryPolicy | None = None,
    on_progress: ProgressFn | None = None,
    on_row: RowFn | None = None,
    stop_event: threading.Event | None = None,
    pause_event: threading.Event | None = None,
    who: str = "generate",
) -> RunResult:
    """Generate pending rows until done, `limit` rows, the budget, a stop, or a
    permanent error. Raises UserError for configuration problems (no key,
    another run holding the project) before anything is requested."""
    s = ws.settings.teacher
    budget = max_cost_usd if max_cost_usd is not None else s.max_cost_usd
    token = q.acquire_runner(ws.store, who)
    own = teacher is None
    keeper: unsaved.Keeper | None = None
    try:
        unsaved.store_kept(ws.store)
        q.reset_stale(ws.store)
        teacher = teacher or make_teacher(s)
        session: AbstractContextManager[object] = (
            teacher.session() if hasattr(teacher, "session") else nullcontext()
        )
        with session:
            run = _Run(
                ws,
                teacher,
                limit=limit,
                max_cost_usd=budget,
                retry=retry or RetryPolicy(max_attempts=s.max_attempts),
                on_progress=on_progress,
                on_row=on_row,
                stop=stop_event or threading.Event(),
                pause=pause_event or threading.Event(),
            )
            # Before the first request: room for every answer that can be in flight.
            keeper = run.keeper = unsaved.Keeper(
                ws.store, unsaved.reserve_for(run.max_in_flight, s.max_tokens)
            )
            return await run.run()
    finally:
        if keeper is not None:
            keeper.close()
        if own and teacher is not None:
            await teacher.aclose()
        with contextlib.suppress(StoreBusy):
            # Left behind, the lock is taken over: its process will be gone.
            q.release_runner(ws.store, token)


def run_queue(ws: Workspace, teacher: Teacher | None = None, **kwargs: object) -> RunResult:
    """Blocking form for worker threads and the CLI (runs its own event loop)."""
    return asyncio.run(run_queue_async(ws, teacher, **kwargs))  # type: ignore[arg-type]
