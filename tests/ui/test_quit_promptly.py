"""Quitting does not wait on read-only work, and a hangup during a quit ends
the process (issue 34 item 19): ctrl+q on the Train screen showed a blank
screen for about 30 s while a preflight's thread ran on, and closing the
terminal then left the process running for half an hour."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from distill_tui.commands import app as app_cmd
from distill_tui.ui import jobs as jobs_mod


class Exited(Exception):
    pass


def _record_exit(monkeypatch, module, name: str) -> list[object]:
    calls: list[object] = []

    def fake(*args: object) -> None:
        calls.append(args[0] if args else None)
        raise Exited

    monkeypatch.setattr(module, name, fake)
    return calls


@pytest.fixture(autouse=True)
def _keep_sighup():
    old = signal.getsignal(signal.SIGHUP)
    yield
    signal.signal(signal.SIGHUP, old)


def test_a_thread_still_running_after_the_app_does_not_hold_the_exit(monkeypatch):
    calls = _record_exit(monkeypatch, app_cmd.os, "_exit")
    release = threading.Event()
    slow = threading.Thread(target=release.wait, args=(30,), name="preflight-like")
    slow.start()
    try:
        start = time.monotonic()
        with pytest.raises(Exited):
            app_cmd.leave_promptly(0, grace=0.2)
        assert calls == [0] and time.monotonic() - start < 5
    finally:
        release.set()
        slow.join()
    # With nothing left running the process ends the ordinary way.
    calls.clear()
    app_cmd.leave_promptly(0, grace=0.2)
    assert calls == []


def test_a_hangup_once_the_quit_is_under_way_ends_the_process(monkeypatch):
    calls = _record_exit(monkeypatch, jobs_mod, "hang_up_now")
    loop = asyncio.new_event_loop()
    try:
        quitting = jobs_mod.Jobs(app=SimpleNamespace(_exit=True))  # type: ignore[arg-type]
        with pytest.raises(Exited):
            quitting._on_sighup(loop)
        assert calls == [None]
        # With a job running, a hangup still detaches and lets it finish.
        calls.clear()
        busy = jobs_mod.Jobs(app=SimpleNamespace(_exit=False))  # type: ignore[arg-type]
        busy.running["training"] = SimpleNamespace()  # type: ignore[assignment]
        monkeypatch.setattr(busy, "_detach_output", lambda: None)
        loop.call_soon_threadsafe = lambda *_a: None  # type: ignore[method-assign]
        busy._on_sighup(loop)
        assert calls == [] and busy.detached
    finally:
        loop.close()
