"""Anthropic Message Batches mode: half the price, answers within hours.

Pending rows are submitted as one batch (up to `MAX_REQUESTS`); the batch id
and its row ids go to the store's `batches` table first thing, so a restart
resumes polling that batch instead of paying twice. Its rows stay `running`
(the queue's stale-row reset leaves them alone) until the results arrive;
each result is committed as it is read. Stopping leaves the batch open for the
next `generate --batch` to pick up.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import anthropic

from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pricing import cost, price_for
from distill_tui.core.project import Workspace
from distill_tui.engine.generate.queue import Progress, ProgressFn, RunResult
from distill_tui.engine.generate.teachers.anthropic import (
    build_request,
    classify,
    make_client,
    text_of,
    usage_of,
)
from distill_tui.engine.generate.teachers.base import PermanentError, build_prompt, request_hash

MAX_REQUESTS = 10_000


def _open_batches(ws: Workspace) -> list[tuple[str, list[int]]]:
    cur = ws.store.conn.execute(
        "SELECT id, row_ids FROM batches WHERE provider = 'anthropic'"
        " AND status NOT IN ('ended', 'canceled', 'expired', 'failed') ORDER BY created_at"
    )
    return [(r[0], json.loads(r[1])) for r in cur]


def _set_status(ws: Workspace, bid: str, status: str) -> None:
    with ws.store.tx() as c:
        c.execute(
            "UPDATE batches SET status = ?, updated_at = ? WHERE id = ?", (status, time.time(), bid)
        )


def _submit(ws: Workspace, client: Any, limit: int | None) -> tuple[str, list[int]] | None:
    n = min(limit or MAX_REQUESTS, MAX_REQUESTS)
    rows = q.claim(ws.store, n)
    if not rows:
        return None
    s = ws.settings
    requests = [
        {
            "custom_id": f"row-{r.id}",
            "params": build_request(build_prompt(s.task, r.input), s.teacher),
        }
        for r in rows
    ]
    try:
        batch = client.messages.batches.create(requests=requests)
    except anthropic.APIError as e:
        q.release(ws.store, [r.id for r in rows], str(e))
        raise classify(e) from None
    ids = [r.id for r in rows]
    now = time.time()
    with ws.store.tx() as c:
        c.execute(
            "INSERT INTO batches (id, provider, status, row_ids, created_at, updated_at)"
            " VALUES (?, 'anthropic', ?, ?, ?, ?)",
            (batch.id, batch.processing_status, json.dumps(ids), now, now),
        )
    return batch.id, ids


def _collect(ws: Workspace, client: Any, bid: str, ids: list[int], p: Progress) -> None:
    s = ws.settings.teacher
    price = price_for(s.model, s.prices, provider="anthropic")
    by_row = {r["id"]: r for r in (q.row_detail(ws.store, i) for i in ids) if r}
    seen: set[int] = set()
    for item in client.messages.batches.results(bid):
        row_id = int(item.custom_id.removeprefix("row-"))
        seen.add(row_id)
        res = item.result
        if res.type == "succeeded":
            msg = res.message
            usage = usage_of(msg.usage)
            usd = cost(usage, price, batch=True)
            body = build_request(build_prompt(ws.settings.task, by_row[row_id]["input"]), s)
            rec = q.GenerationRecord(
                text_of(msg),
                f"anthropic:{s.model}",
                request_hash(body),
                usage,
                usd,
                None,
                msg.stop_reason,
            )
            q.complete(ws.store, row_id, rec)
            p.done += 1
            p.input_tokens += usage.input_tokens
            p.output_tokens += usage.output_tokens
            p.cache_read_tokens += usage.cache_read_tokens
            if usd is None:
                p.cost_unknown += 1
            else:
                p.cost_usd += usd
        elif res.type == "errored":
            q.fail(ws.store, row_id, f"batch request errored: {getattr(res, 'error', '')}")
            p.failed += 1
        else:  # canceled or expired: not the row's fault, ask again next time
            q.release(ws.store, [row_id], f"batch request {res.type}")
    missing = [i for i in ids if i not in seen]
    if missing:
        q.release(ws.store, missing, "no result in the batch")
    _set_status(ws, bid, "ended")


def run_batches(
    ws: Workspace,
    *,
    limit: int | None = None,
    max_cost_usd: float | None = None,
    on_progress: ProgressFn | None = None,
    stop_event: threading.Event | None = None,
    client: Any = None,
) -> RunResult:
    """Resume open batches, else submit pending rows as one; poll until the
    results are stored or `stop_event` is set."""
    s = ws.settings.teacher
    stop = stop_event or threading.Event()
    budget = max_cost_usd if max_cost_usd is not None else s.max_cost_usd
    p = Progress(teacher=f"anthropic:{s.model} (batch)")
    token = q.acquire_runner(ws.store, "generate --batch")
    t0 = time.monotonic()

    def emit(state: str) -> None:
        p.state, p.elapsed_s = state, time.monotonic() - t0
        p.spent_usd = q.spent_usd(ws.store)
        if on_progress:
            on_progress(p)

    try:
        q.reset_stale(ws.store)
        if client is None:
            make_client(s, s.request_timeout_s)  # the key check, with its clear message
            client = anthropic.Anthropic(base_url=s.base_url, timeout=s.request_timeout_s)
        work = _open_batches(ws)
        if not work:
            if budget is not None and q.spent_usd(ws.store) >= budget:
                return RunResult("budget", f"budget cap ${budget:.2f} already reached", p)
            try:
                sub = _submit(ws, client, limit)
            except PermanentError as e:
                return RunResult("error", f"stopped: {e}", p)
            if sub is None:
                return RunResult("finished", "no pending rows", p)
            work = [sub]
        p.planned = sum(len(ids) for _, ids in work)
        for bid, ids in work:
            while True:
                emit("waiting")
                try:
                    batch = client.messages.batches.retrieve(bid)
                except anthropic.APIError as e:
                    err = classify(e)
                    if isinstance(err, PermanentError):
                        return RunResult("error", f"stopped: {err}", p)
                    batch = None
                if batch is not None and batch.processing_status == "ended":
                    _collect(ws, client, bid, ids, p)
                    break
                if stop.wait(s.batch_poll_s):
                    emit("finished")
                    return RunResult(
                        "stopped", f"stopped; batch {bid} stays open and resumes next run", p
                    )
        emit("finished")
        return RunResult("finished", "batch results stored", p)
    finally:
        q.release_runner(ws.store, token)
