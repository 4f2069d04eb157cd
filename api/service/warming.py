"""Warm the fitting workers at start-up and say how far that got (``GET /ready``).

A fresh process pays for its first fit: the models' imports and numba's compilation of
statsforecast's kernels (seconds), where a warm fit takes a fraction of a second.
:class:`WarmUp` runs :func:`api.service.fitting.warm_up` (small fits of ``auto``) on every
fitting worker in a background thread, and ``/ready`` answers 503 with what is still warming
until each worker has done it once. The service answers forecasts meanwhile; they are slower.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from forecasting.executor import Executor, InProcessExecutor, TaskResult

__all__ = ["NotReadyError", "WarmUp"]

logger = logging.getLogger(__name__)

#: Seconds between rounds of warm-up tasks while some worker has not answered yet.
_ROUND_PAUSE = 0.2


class NotReadyError(Exception):
    """The fitting workers are still warming up (HTTP 503 from ``/ready``)."""

    code = "warming_up"

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.details = {"retry_after": retry_after, **(details or {})}


class WarmUp:
    """Runs ``warm`` once on each of the executor's workers, in a background thread.

    ``warm`` returns the id of the process it ran in; it is cheap in a process it already
    warmed. Each worker counts as warm once it has returned its process id. Readiness never
    waits longer than ``timeout`` seconds: past it the service says ready and names the
    workers that did not answer, because a service held unready for ever serves no one.
    """

    def __init__(
        self, executor: Executor, warm: Callable[[], int], *, what: str = "warm-up task", timeout: float = 300.0
    ) -> None:
        self.executor = executor
        self.warm = warm
        self.what = what
        self.timeout = timeout
        self.n_workers = 1 if isinstance(executor, InProcessExecutor) else executor.n_workers
        self.warmed: set[int] = set()
        self.note = ""
        self.seconds: float | None = None
        self._started: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """Whether every worker has warmed up (or the warm-up has ended otherwise)."""
        return self._done.is_set()

    def start(self) -> None:
        """Start warming in a daemon thread (it never blocks start-up)."""
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="tradecast-warm-up", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ready (or ``timeout`` seconds); return :attr:`ready`."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        assert self._started is not None
        deadline = self._started + self.timeout
        try:
            while not self._all_warm() and time.monotonic() < deadline:
                missing = max(self.n_workers - len(self.warmed), 1)
                futures = [self.executor.submit(self.warm) for _ in range(missing)]
                for future in futures:
                    self._collect(future, deadline)
                if not self._all_warm():
                    time.sleep(_ROUND_PAUSE)
            if not self._all_warm():
                self.note = f"gave up after {self.timeout:.0f} s: {self._progress()}"
        except Exception as exc:  # a warm-up failure must not keep the service unready
            self.note = f"warm-up failed ({type(exc).__name__}: {exc}); the first fits will be slower"
            logger.warning("warm-up of the fitting workers failed", exc_info=exc)
        finally:
            self.seconds = time.monotonic() - self._started
            self._done.set()
            logger.info("fitting workers ready in %.1f s (%s)", self.seconds, self.note or self._progress())

    def _collect(self, future: Future[TaskResult[int]], deadline: float) -> None:
        result = future.result(timeout=max(deadline - time.monotonic(), 0.0))
        self.warmed.add(result.unwrap())

    def _all_warm(self) -> bool:
        # A worker thread of this very process (in-process fits, a threaded Dask cluster)
        # shares its imports and compiled kernels with every other one.
        return len(self.warmed) >= self.n_workers or os.getpid() in self.warmed

    def _progress(self) -> str:
        done = min(len(self.warmed), self.n_workers) if not self._all_warm() else self.n_workers
        where = "in this process" if isinstance(self.executor, InProcessExecutor) else "fit worker process(es)"
        return f"{done} of {self.n_workers} {where} warmed"

    def describe(self) -> str:
        """One sentence for ``/ready``: what is warming, or how the warm-up ended."""
        if not self.ready:
            elapsed = time.monotonic() - (self._started or time.monotonic())
            return f"warming up: {self.what} ({self._progress()}, {elapsed:.1f} s so far)"
        done = f"{self.what}: {self._progress()} in {self.seconds or 0.0:.1f} s"
        return done + (f"; {self.note}" if self.note else "")

    def check(self) -> None:
        """Raise :class:`NotReadyError` while warming."""
        if not self.ready:
            raise NotReadyError(
                f"not ready: {self.describe()}; forecasts are answered meanwhile, more slowly.",
                retry_after=1,
                details={"warmed": min(len(self.warmed), self.n_workers), "workers": self.n_workers},
            )
