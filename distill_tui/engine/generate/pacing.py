"""How the generation queue paces and gives up: backoff between retries, the
requests-per-minute pace with a server's retry-after, and when a transient
error should stop the whole run instead of being retried."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from distill_tui.engine.generate.teachers.base import TransientError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's retry-after wins when longer.

    A server asking to wait longer than `max_wait_s` stops the run instead of
    holding it silently; `max_unreachable` connection failures or timeouts in
    a row stop it too (a dead or hanging teacher would fail every row); an
    answer the store's write lock keeps out is retried for `write_wait_s`."""

    max_attempts: int = 6
    base_s: float = 1.0
    cap_s: float = 60.0
    max_wait_s: float = 600.0
    max_unreachable: int = 5
    write_wait_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        backoff *= 0.5 + random.random() / 2  # jitter: spread a burst of 429s
        return max(backoff, retry_after or 0.0)


class RateLimiter:
    """Paces request starts evenly at `rpm` per minute (0 = unlimited), and
    holds every start until a server-given retry-after has passed."""

    def __init__(self, rpm: int) -> None:
        self.interval = 60.0 / rpm if rpm > 0 else 0.0
        self._next = 0.0
        self._hold = 0.0

    def delay(self) -> float:
        now = time.monotonic()
        return max(self._next, self._hold, now) - now

    def take(self) -> None:
        now = time.monotonic()
        # Keep the schedule when we woke a little late, so sleep jitter does
        # not eat into the allowed rate; after an idle gap restart from now.
        base = self._next if now - self._next < self.interval else now
        self._next = max(base, self._hold) + self.interval

    def hold_for(self, seconds: float) -> None:
        self._hold = max(self._hold, time.monotonic() + seconds)

    def held_s(self) -> float:
        """Seconds left of a server-given hold (0 when none)."""
        return max(self._hold - time.monotonic(), 0.0)


class FaultWatch:
    """Decides when transient errors mean the run cannot go on: a dead or
    hanging teacher (`max_unreachable` connection failures or timeouts in a
    row, with no answer between them) or a retry-after beyond `max_wait_s`."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.unreachable = 0

    def answered(self) -> None:
        self.unreachable = 0

    def stop_for(self, e: TransientError) -> str | None:
        """Why this error should stop the run, or None to retry it."""
        if e.kind in ("connection", "timeout"):
            self.unreachable += 1
            if self.unreachable >= self.policy.max_unreachable:
                return (
                    f"the teacher did not answer {self.unreachable} requests in a row"
                    f" (last: {e}); check the base URL and the network. Rows stay pending"
                )
        else:
            self.unreachable = 0
        if e.retry_after is not None and e.retry_after > self.policy.max_wait_s:
            return (
                f"the teacher asked to wait {duration(e.retry_after)} before the next"
                f" request (retry-after), more than the {duration(self.policy.max_wait_s)}"
                " this run waits; rows stay pending, run generate again later"
            )
        return None


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
