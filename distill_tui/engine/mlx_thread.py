"""The one thread that runs every MLX call in the process.

On Apple GPUs an MLX stream belongs to the thread that created it, and mlx-lm
creates a module-level stream when it is imported, so loading on one thread and
generating or training on another fails (mlx-lm issue 1181). Every import of
mlx / mlx_lm and every call into them goes through `MLXThread.submit` or
`MLXThread.call`. Workers and CLI commands wait on the returned future.

The thread also holds a lease: the local teacher and training share unified
memory, so only one heavy job ("training", "local teacher", "fuse") may hold
the MLX thread at a time; a second gets `MLXBusy` with a message saying why.

The thread ends before the interpreter finalizes (an `atexit` hook), after
`mx.clear_streams()` on it. Left running, a daemon thread that wakes during
finalization is ended by Python 3.11-3.13 with `pthread_exit`; its
thread-local MLX random key (set by any `mx.random` call, which loading a
model makes) then takes the GIL in its C++ destructor, and the process
aborts with "terminate called without an active exception" (exit 134).
`clear_streams` drops that key and the thread's streams, so the thread's
exit needs no GIL.
"""

from __future__ import annotations

import atexit
import queue
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


# How long the exit hook waits for a running MLX job before leaving it be.
EXIT_WAIT_S = 10.0


class MLXBusy(RuntimeError):
    """Another heavy MLX job holds the thread."""


def _release_thread_state() -> None:
    """Drop this thread's MLX streams and random key, so that its exit runs no
    destructor that needs the GIL (see the module docstring)."""
    mx = sys.modules.get("mlx.core")
    clear = getattr(mx, "clear_streams", None)
    if clear is not None:
        try:
            clear()
        except Exception:  # noqa: BLE001 - the process is ending; nothing to report to
            pass


class MLXThread:
    def __init__(self, name: str = "mlx") -> None:
        self._queue: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._lease_lock = threading.Lock()
        self._holder: str | None = None
        self.calls: list[tuple[str, int]] = []  # (label, thread ident), for tests
        self._closed = False
        self._thread.start()
        _live.add(self)

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                _release_thread_state()
                return
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                fut.set_exception(e)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        fut: Future[T] = Future()
        label = getattr(fn, "__qualname__", repr(fn))

        def run() -> T:
            self.calls.append((label, threading.get_ident()))
            return fn(*args, **kwargs)

        if self._closed:
            raise RuntimeError("the MLX thread has shut down")
        if threading.current_thread() is self._thread:
            # Already on the MLX thread (nested call): run inline, no deadlock.
            try:
                fut.set_result(run())
            except BaseException as e:  # noqa: BLE001
                fut.set_exception(e)
            return fut
        self._queue.put((run, fut))
        return fut

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` on the MLX thread and wait for its result."""
        return self.submit(fn, *args, **kwargs).result()

    def on_thread(self) -> bool:
        return threading.current_thread() is self._thread

    # -- lease ------------------------------------------------------------------
    @property
    def holder(self) -> str | None:
        return self._holder

    @contextmanager
    def lease(self, job: str) -> Iterator[None]:
        with self._lease_lock:
            if self._holder is not None:
                raise MLXBusy(
                    f"cannot start {job}: {self._holder} is running and they share "
                    f"memory; wait for it to finish or stop it first"
                )
            self._holder = job
        try:
            yield
        finally:
            with self._lease_lock:
                self._holder = None

    def shutdown(self, wait: float | None = None) -> None:
        """End the thread after the work already queued; with `wait`, join it
        for up to that many seconds."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        if wait is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)


_live: weakref.WeakSet[MLXThread] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    # atexit runs before the interpreter starts finalizing, while a thread can
    # still take the GIL, so the MLX threads end here and not in finalization.
    for t in list(_live):
        t.shutdown(wait=EXIT_WAIT_S)


_default: MLXThread | None = None
_default_lock = threading.Lock()


def mlx_thread() -> MLXThread:
    """The process-wide MLX thread, started on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MLXThread()
        return _default
