"""Backpressure: a bound on the fits this process has queued or running.

Without a bound, a burst of uncached forecasts queues without limit: every request waits
behind all the others (the issue measured a 12 s median for 50 concurrent ``auto`` fits)
and a client that gave up long ago is still fitted. :class:`FitGate` admits a fit only while
fewer than ``max_pending`` are queued or running, and otherwise refuses at once with
:class:`OverloadedError` (503 with ``Retry-After``), before anything is submitted. A slot is
taken before a task is submitted and given back when its future ends, however it ends
(result, error, cancellation).

Uploads are bounded the same way by :class:`UploadWorker`: a series upload (JSON or a file)
is parsed and stored in a few threads of its own, never in the threadpool that the other
routes share, and one more than those threads can take is refused at once, before its body
is read. However slow or numerous the uploads, ``/health`` and the reading routes keep
their threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["FitGate", "OverloadedError", "UploadSlot", "UploadWorker"]

T = TypeVar("T")

#: Seconds a fit is assumed to take before any has been measured (``Retry-After``).
_FIRST_GUESS_SECONDS = 1.0

#: Weight of the newest fit in the running mean of fit durations.
_SMOOTHING = 0.2


class OverloadedError(Exception):
    """The fitting queue is full: retry after ``retry_after`` seconds (HTTP 503)."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.details = {"retry_after": retry_after, **(details or {})}


class FitGate:
    """Admits fits while fewer than ``max_pending`` are queued or running in this process.

    Parameters
    ----------
    max_pending : int
        Most fits queued or running at once (``TRADECAST_MAX_PENDING_FITS``).
    n_workers : int
        Fits that run at once (for the ``Retry-After`` estimate).
    """

    def __init__(self, max_pending: int, n_workers: int = 1) -> None:
        if max_pending < 1:
            raise ValueError(f"FitGate(max_pending={max_pending}) must admit at least one fit.")
        self.max_pending = max_pending
        self.n_workers = max(n_workers, 1)
        self._pending = 0
        self._mean_seconds = _FIRST_GUESS_SECONDS
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Fits admitted and not finished yet."""
        return self._pending

    def acquire(self, n: int = 1) -> None:
        """Take ``n`` slots, or raise :class:`OverloadedError` without taking any.

        ``n`` slots are granted when they fit under the bound, or when nothing is pending:
        a request larger than the bound (a batch) still runs on an idle service rather
        than never.
        """
        self._admit(n, take=True)

    def check(self, n: int = 1) -> None:
        """Raise :class:`OverloadedError` now if :meth:`acquire` of ``n`` would, taking nothing.

        For refusing before the work that precedes a fit (reading the body, parsing the
        data): under saturation a refusal must cost next to nothing, or clients that retry
        at once (ignoring ``Retry-After``) slow every other route. ``acquire`` still decides.
        """
        self._admit(n, take=False)

    def _admit(self, n: int, *, take: bool) -> None:
        if n <= 0:
            return
        with self._lock:
            if self._pending and self._pending + n > self.max_pending:
                retry_after = self._retry_after()
                pending = self._pending
            else:
                if take:
                    self._pending += n
                return
        raise OverloadedError(
            f"the service is fitting its maximum of {self.max_pending} forecasts "
            f"(TRADECAST_MAX_PENDING_FITS); retry in {retry_after} s",
            retry_after=retry_after,
            details={"pending": pending, "requested": n, "max_pending_fits": self.max_pending},
        )

    def force(self, n: int) -> None:
        """Take ``n`` slots whatever is pending (work bounded elsewhere, e.g. batch jobs)."""
        with self._lock:
            self._pending += max(n, 0)

    def release(self, n: int = 1) -> None:
        """Give back ``n`` slots."""
        with self._lock:
            self._pending = max(self._pending - n, 0)

    def observe(self, seconds: float) -> None:
        """Record a finished fit's duration (for ``Retry-After``)."""
        with self._lock:
            self._mean_seconds += _SMOOTHING * (seconds - self._mean_seconds)

    def release_when_done(self, future: Future[Any]) -> None:
        """Give one slot back when ``future`` ends (result, error or cancellation)."""
        future.add_done_callback(lambda _: self.release())

    def _retry_after(self) -> int:
        # The queue ahead drains n_workers fits at a time: a client retrying sooner would
        # most likely be refused again.
        return max(1, math.ceil(self._mean_seconds * self._pending / self.n_workers))


class UploadWorker:
    """Parses and stores uploads in ``max_concurrent`` threads of its own, refusing one more.

    Also bounds other long work a route would otherwise do in the shared threadpool
    (report runs started through the API), named by ``what`` and ``setting``.

    Parameters
    ----------
    max_concurrent : int
        Uploads admitted at once (``TRADECAST_MAX_CONCURRENT_UPLOADS``): the threads, and
        the bound. An admitted upload holds its slot from before its body is read until its
        work ends in its thread, even if its client has gone meanwhile.
    what, setting : str
        What the refusal names ("uploads") and the setting of the bound.

    Examples
    --------
    In an ``async`` route::

        with uploads.admit() as slot:       # OverloadedError (503) when full
            raw = await request.body()
            page = await slot.run(parse_and_store, raw)
    """

    def __init__(
        self, max_concurrent: int, *, what: str = "uploads", setting: str = "TRADECAST_MAX_CONCURRENT_UPLOADS"
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"UploadWorker(max_concurrent={max_concurrent}) must admit at least one upload.")
        self.max_concurrent = max_concurrent
        self.what = what  # named in the refusal, with its setting
        self.setting = setting
        self._threads: ThreadPoolExecutor | None = None  # started by the first upload
        self._active = 0
        self._mean_seconds = _FIRST_GUESS_SECONDS
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        """Uploads admitted and not finished yet."""
        return self._active

    def admit(self) -> UploadSlot:
        """A slot for one upload, or :class:`OverloadedError` when every slot is taken."""
        with self._lock:
            if self._active < self.max_concurrent:
                self._active += 1
                return UploadSlot(self)
            active = self._active
            retry_after = max(1, math.ceil(self._mean_seconds))
        raise OverloadedError(
            f"the service is already running its maximum of {self.max_concurrent} {self.what} "
            f"({self.setting}); retry in {retry_after} s",
            retry_after=retry_after,
            details={
                f"active_{self.what.replace(' ', '_')}": active,
                self.setting.removeprefix("TRADECAST_").lower(): self.max_concurrent,
            },
        )

    def shutdown(self) -> None:
        """Stop the threads: an upload under way finishes (before the store closes).

        A later upload starts new threads (an app can be started again, as tests do).
        """
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn: Callable[..., T], args: tuple[Any, ...]) -> Future[T]:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.max_concurrent, thread_name_prefix="tradecast-upload")
            threads = self._threads
        # The request's context (its id, for the logs) goes with the work into the thread.
        return threads.submit(contextvars.copy_context().run, fn, *args)

    def _release(self, seconds: float | None) -> None:
        with self._lock:
            self._active = max(self._active - 1, 0)
            if seconds is not None:
                self._mean_seconds += _SMOOTHING * (seconds - self._mean_seconds)


class UploadSlot:
    """One admitted upload (from :meth:`UploadWorker.admit`); a context manager.

    Leaving the ``with`` block gives the slot back, or, while work submitted by :meth:`run`
    still runs in its thread (the awaiting request was cancelled), when that work ends.
    """

    def __init__(self, worker: UploadWorker) -> None:
        self._worker = worker
        self._future: Future[Any] | None = None
        self._started = 0.0

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` in an upload thread, awaited without holding the event loop."""
        if self._future is not None:
            raise RuntimeError("an upload slot runs one task")
        self._started = time.perf_counter()
        future = self._worker._submit(fn, args)
        self._future = future
        return await asyncio.wrap_future(future)

    def __enter__(self) -> UploadSlot:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        future = self._future
        if future is None:
            self._worker._release(None)
        else:
            future.add_done_callback(lambda _: self._worker._release(time.perf_counter() - self._started))
