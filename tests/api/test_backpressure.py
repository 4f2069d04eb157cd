"""Backpressure (issue 21 item 10): a bounded fitting queue, 503 + Retry-After when full,
other routes fast while fits wait, and abandoned fits cancelled."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor as FuturesExecutor
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from dotenv import dotenv_values

import api.main
import api.service.forecasts as service_forecasts
from api.main import create_app
from api.service.admission import FitGate, OverloadedError
from api.settings import Settings
from api.waiting import await_futures
from forecasting.executor import PoolExecutor
from tests.api.conftest import TestClient, annual, assert_error, make_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"

#: Generous: the point is "not stuck behind the fits", not a latency figure.
FAST_SECONDS = 5.0


class _ThreadExecutor(PoolExecutor):
    """A pool of one thread: a monkeypatched (slow) fit runs in it, unlike in a spawned worker."""

    def _create_pool(self) -> FuturesExecutor:
        return ThreadPoolExecutor(self.n_workers)


@pytest.fixture
def gate_open(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Fits wait for this event (set at teardown so no thread is left blocked)."""
    event = threading.Event()
    real = service_forecasts.fit_plan

    def slow_fit(*args: Any, **kwargs: Any) -> Any:
        event.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(service_forecasts, "fit_plan", slow_fit)
    monkeypatch.setattr(api.main, "fit_executor", lambda _: _ThreadExecutor(1))
    yield event
    event.set()


@pytest.fixture
def saturable(tmp_path: Path, gate_open: threading.Event) -> Iterator[TestClient]:
    """An app whose fitting queue holds 3 fits and whose threadpool has 2 threads."""
    settings: Settings = make_settings(tmp_path, max_pending_fits=3)
    with TestClient(create_app(settings)) as client:

        async def shrink_threadpool() -> None:
            # Fewer threads than waiting fits: a fit waited for in a thread would starve the
            # other routes (as on the main, where GET /v1/series took up to 27 s).
            anyio.to_thread.current_default_thread_limiter().total_tokens = 2

        assert client.portal is not None
        client.portal.call(shrink_threadpool)
        yield client
        gate_open.set()


def _inline(i: int) -> dict[str, Any]:
    return {"data": annual(start=1990 + i), "frequency": "annual", "horizon": 2}


def _wait_until(condition: Any, timeout: float = FAST_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _in_thread(fn: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, out


def test_full_fitting_queue_answers_503_with_retry_after_and_other_routes_stay_fast(
    saturable: TestClient, gate_open: threading.Event
) -> None:
    client = saturable
    service = client.app.state.service  # type: ignore[attr-defined]
    gate_open.set()
    warm = client.post("/v1/forecasts", json=_inline(100))
    assert warm.status_code == 200 and warm.headers["X-Cache"] == "miss"
    gate_open.clear()

    waiting = [_in_thread(client.post, "/v1/forecasts", json=_inline(i)) for i in range(3)]
    _wait_until(lambda: service.gate.pending == 3)

    start = time.monotonic()
    refused = client.post("/v1/forecasts", json=_inline(50))
    assert time.monotonic() - start < FAST_SECONDS
    error = assert_error(refused, 503, "overloaded", "TRADECAST_MAX_PENDING_FITS")
    assert int(refused.headers["Retry-After"]) >= 1
    assert error["details"]["max_pending_fits"] == 3
    assert_error(
        client.post("/v1/backtests", json={**_inline(51), "windows": 2, "models": ["naive"]}), 503, "overloaded"
    )
    batch = {"series": [{"data": annual(start=1952), "frequency": "annual"}], "horizon": 2}
    assert_error(client.post("/v1/forecasts/batch", json=batch), 503, "overloaded")

    # A cached answer is still served, and a route that reads the store answers in time.
    cached = client.post("/v1/forecasts", json=_inline(100))
    assert cached.status_code == 200 and cached.headers["X-Cache"] == "hit"
    listing, out = _in_thread(client.get, "/v1/series")
    listing.join(FAST_SECONDS)
    assert out and out[0].status_code == 200, "GET /v1/series was stuck behind the waiting fits"

    # The queue drains: every waiting forecast is answered and new fits are admitted.
    gate_open.set()
    for thread, result in waiting:
        thread.join(30)
        assert result and result[0].status_code == 200, result
    _wait_until(lambda: service.gate.pending == 0)
    assert client.post("/v1/forecasts", json=_inline(50)).status_code == 200


def test_max_pending_fits_setting_matches_env_example() -> None:
    example = dotenv_values(ENV_EXAMPLE)
    default = Settings.model_fields["max_pending_fits"].default
    assert example["TRADECAST_MAX_PENDING_FITS"] == str(default)
    assert "max_pending_fits" in Settings(_env_file=None).executor.__dataclass_fields__


def test_service_bound_comes_from_settings(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_pending_fits=7))
    assert app.state.service.gate.max_pending == 7


# -- the gate ------------------------------------------------------------------------------


def test_gate_refuses_beyond_the_bound_without_taking_slots() -> None:
    gate = FitGate(2, n_workers=1)
    gate.acquire()
    gate.acquire()
    with pytest.raises(OverloadedError) as caught:
        gate.acquire()
    assert caught.value.code == "overloaded" and caught.value.retry_after >= 1
    assert gate.pending == 2
    gate.release(2)
    assert gate.pending == 0


def test_gate_admits_a_batch_larger_than_the_bound_only_when_idle() -> None:
    gate = FitGate(2)
    gate.acquire(5)
    assert gate.pending == 5
    with pytest.raises(OverloadedError):
        gate.acquire(1)
    gate.release(5)


def test_gate_slot_comes_back_when_the_future_ends_even_cancelled() -> None:
    gate = FitGate(1)
    gate.acquire()
    future: Future[int] = Future()
    gate.release_when_done(future)
    assert future.cancel()
    assert gate.pending == 0


def test_retry_after_grows_with_measured_fit_time() -> None:
    gate = FitGate(1, n_workers=1)
    for _ in range(50):
        gate.observe(10.0)
    gate.acquire()
    with pytest.raises(OverloadedError) as caught:
        gate.acquire()
    assert caught.value.retry_after >= 9


# -- waiting on the event loop -------------------------------------------------------------


def test_await_futures_cancels_queued_work_when_the_client_has_gone() -> None:
    queued: Future[int] = Future()

    async def gone() -> bool:
        return True

    assert asyncio.run(await_futures([queued], gone, poll_seconds=0.01)) is None
    assert queued.cancelled()


def test_await_futures_returns_results_in_order() -> None:
    first: Future[int] = Future()
    second: Future[int] = Future()

    async def connected() -> bool:
        return False

    async def run() -> list[int] | None:
        task = asyncio.ensure_future(await_futures([first, second], connected, poll_seconds=0.01))
        await asyncio.sleep(0.03)
        second.set_result(2)
        first.set_result(1)
        return await task

    assert asyncio.run(run()) == [1, 2]


def test_cancelled_queued_fit_never_runs() -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def task(i: int) -> int:
        calls.append(i)
        started.set()
        release.wait(10)
        return i

    executor = _ThreadExecutor(1)
    try:
        running = executor.submit(task, 1)
        started.wait(5)
        queued = executor.submit(task, 2)

        async def gone() -> bool:
            return True

        assert asyncio.run(await_futures([queued], gone, poll_seconds=0.01)) is None
        release.set()
        assert running.result(10).value == 1
    finally:
        release.set()
        executor.shutdown()
    assert calls == [1]
