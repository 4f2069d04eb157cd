"""The start-up warm-up behind ``/ready``: every worker warms once, and it always ends."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from api.service.fitting import warm_up
from api.service.warming import NotReadyError, WarmUp
from forecasting.executor import Executor, InProcessExecutor, TaskResult


class PidsExecutor(Executor):
    """Two 'workers': each task answers the next pid of ``pids`` (repeating the last one)."""

    def __init__(self, pids: list[int]) -> None:
        self.n_workers = 2
        self.pids: Iterator[int] = iter(pids)
        self.last = pids[-1]
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[TaskResult[Any]]:
        self.submitted += 1
        fn()
        done: Future[TaskResult[Any]] = Future()
        done.set_result(TaskResult(next(self.pids, self.last)))
        return done


def test_warm_up_is_ready_once_every_worker_answered() -> None:
    # Worker 11 takes the first three warm-ups (worker 12 still starting), then 12 answers.
    executor = PidsExecutor([11, 11, 11, 12])
    warming = WarmUp(executor, lambda: 0, what="test warm-up", timeout=30)
    warming.start()
    assert warming.wait(timeout=30)
    assert warming.warmed == {11, 12} and executor.submitted == 4 and warming.note == ""
    assert warming.describe().startswith("test warm-up: 2 of 2 fit worker process(es) warmed in")
    warming.check()


def test_warm_up_gives_up_after_timeout_and_says_so() -> None:
    warming = WarmUp(PidsExecutor([11]), lambda: 0, timeout=0.5)
    warming.start()
    assert warming.wait(timeout=30)
    assert warming.warmed == {11}
    assert "gave up after 0 s: 1 of 2 fit worker process(es) warmed" in warming.describe()


def test_warm_up_failure_still_ends_in_ready() -> None:
    def broken() -> int:
        raise RuntimeError("no numba today")

    warming = WarmUp(InProcessExecutor(), broken, timeout=30)
    warming.start()
    assert warming.wait(timeout=30)
    assert "warm-up failed (RuntimeError: no numba today)" in warming.describe()


def test_check_raises_not_ready_before_start() -> None:
    warming = WarmUp(InProcessExecutor(), lambda: os.getpid(), what="importing")
    with pytest.raises(NotReadyError, match=r"not ready: warming up: importing \(0 of 1 in this process"):
        warming.check()


def test_warm_up_fits_once_per_process() -> None:
    assert warm_up() == os.getpid()
    start = time.perf_counter()
    assert warm_up() == os.getpid()
    assert time.perf_counter() - start < 0.5  # no second round of fits in a warmed process
