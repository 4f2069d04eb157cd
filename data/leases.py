"""Leases: the one way a job tells other processes that its worker is still alive.

Every kind of durable job (job rows in ``api_jobs``: batch and structure forecasts, source
refreshes; report runs in ``report_runs``) belongs to one worker while it runs. The worker
renews its claim every third of the lease; a job whose claim has not been renewed for a
whole lease was interrupted (its process died or was restarted), and another worker takes it
over with a conditional UPDATE, so that only one takes it. Both tables store when the claim
ends (``lease_until``, revisions ``0006_run_lease`` and ``0011_job_lease``), computed with
:class:`Lease` from ``TRADECAST_JOB_LEASE_SECONDS`` and renewed with :class:`LeaseKeeper`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

__all__ = ["Lease", "LeaseKeeper"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    """How long a worker's claim on a job lasts unless renewed.

    Parameters
    ----------
    seconds : float
        The lease's length; a claim not renewed this long is taken over. The worker renews
        it every third of that, so that two renewals may fail (a busy database) before the
        job is taken for interrupted.
    """

    seconds: float

    @property
    def renew_every(self) -> float:
        """Seconds between two renewals."""
        return self.seconds / 3

    def until(self, now: datetime | None = None) -> datetime:
        """When a lease taken or renewed at ``now`` ends."""
        return (now or datetime.now(UTC)) + timedelta(seconds=self.seconds)


class LeaseKeeper:
    """Renews a lease on a daemon thread until stopped (a context manager).

    Parameters
    ----------
    renew : callable
        Called every ``every`` seconds. Returning ``False`` means the lease was lost (the job
        finished, or was taken over): the keeper stops. An exception is logged and the next
        renewal tried (the database may be unavailable a moment).
    every : float
        Seconds between two calls.
    name : str
        The thread's name, and the job named in log lines.
    """

    def __init__(self, renew: Callable[[], bool | None], every: float, *, name: str) -> None:
        self.renew = renew
        self.every = every
        self.name = name
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> LeaseKeeper:
        """Start renewing; returns self.

        Writes to self: ``thread``.
        """
        self.stop_event.clear()
        self.thread = threading.Thread(target=self.keep, name=self.name, daemon=True)
        self.thread.start()
        return self

    def keep(self) -> None:
        """The thread's loop: renew every ``every`` seconds until stopped or lost."""
        while not self.stop_event.wait(self.every):
            try:
                if self.renew() is False:
                    logger.warning("%s: lease lost (the job was taken over or finished)", self.name)
                    return
            except Exception:  # the database may be down a moment; the next renewal may succeed
                logger.warning("%s: renewing the lease failed", self.name, exc_info=True)

    def stop(self, timeout: float | None = None) -> None:
        """Stop renewing and wait for the thread (at most ``timeout`` seconds)."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=timeout)

    def __enter__(self) -> LeaseKeeper:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
