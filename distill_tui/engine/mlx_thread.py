"""The one thread that runs every MLX call in the process.

On Apple GPUs an MLX stream belongs to the thread that created it, and mlx-lm
creates a module-level stream when it is imported, so loading on one thread and
generating or training on another fails (mlx-lm issue 1181). Every import of
mlx / mlx_lm and every call into them goes through `MLXThread.submit` or
`MLXThread.call`. Workers and CLI commands wait on the returned future.

The thread also holds a lease: the local teacher and training share unified
memory, so only one heavy job ("training", "local teacher", "fuse") may hold
the MLX thread at a time; a second gets `MLXBusy` with a message saying why.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class MLXBusy(RuntimeError):
    """Another heavy MLX job holds the thread."""


class MLXThread:
    def __init__(self, name: str = "mlx") -> None:
        self._queue: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._lease_lock = threading.Lock()
        self._holder: str | None = None
        self.calls: list[tuple[str, int]] = []  # (label, thread ident), for tests
        self._thread.start()

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
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

    def shutdown(self) -> None:
        self._queue.put(None)


_default: MLXThread | None = None
_default_lock = threading.Lock()


def mlx_thread() -> MLXThread:
    """The process-wide MLX thread, started on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MLXThread()
        return _default
