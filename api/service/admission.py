"""Backpressure: a bound on the fits this process has queued or running.

Without a bound, a burst of uncached forecasts queues without limit: every request waits
behind all the others (the issue measured a 12 s median for 50 concurrent ``auto`` fits)
and a client that gave up long ago is still fitted. :class:`FitGate` admits a fit only while
fewer than ``max_pending`` are queued or running, and otherwise refuses at once with
:class:`OverloadedError` (503 with ``Retry-After``), before anything is submitted. A slot is
taken before a task is submitted and given back when its future ends, however it ends
(result, error, cancellation).
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import Future
from typing import Any

__all__ = ["FitGate", "OverloadedError"]

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
        if n <= 0:
            return
        with self._lock:
            if self._pending and self._pending + n > self.max_pending:
                retry_after = self._retry_after()
                pending = self._pending
            else:
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
