"""Polling helpers for Pilot tests: wait on state, never on the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)
        await asyncio.sleep(0)


def screen_text(app) -> str:
    """Everything visible on the current screen, as plain text, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def notifications(app) -> str:
    """The text of every notification raised so far (toasts are not in the screen's strips
    until they are drawn)."""
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)
