"""The Dask backend of the executor, on a small LocalCluster (2 worker processes)."""

from __future__ import annotations

import functools
import gc
import os
import signal
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from forecasting import backtest_many, forecast_many
from forecasting.exceptions import ConvergenceWarning, InvalidParameterError, ModelFitError
from forecasting.executor import DaskExecutor, InProcessExecutor, get_executor, use_backend

distributed = pytest.importorskip("distributed")


def _square(x: int) -> int:
    return x * x


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise ModelFitError(f"cannot fit {x}")
    return x


def _warn() -> str:
    warnings.warn("optimiser stopped early", ConvergenceWarning, stacklevel=1)
    return "done"


def _slow_pid(x: int) -> tuple[int, int]:
    time.sleep(0.4)
    return x, os.getpid()


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", worker_class=distributed.Nanny
    )
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c
    cluster.close()


def _long_frame(n_series: int, n_obs: int = 48) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    ds = pd.period_range("2018-01", periods=n_obs, freq="M")
    parts = []
    for i in range(n_series):
        y = 100 + 10 * np.sin(np.arange(n_obs) * 2 * np.pi / 12) + rng.normal(0, 2, n_obs).cumsum()
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_dask_stream_returns_every_result_and_a_task_error_fails_only_that_task(client):
    with DaskExecutor(client=client) as executor:
        got = dict(executor.stream((i, functools.partial(_fail_on_odd, i)) for i in range(6)))
        squares = dict(executor.stream((i, functools.partial(_square, i)) for i in range(5)))
    assert [got[i].ok for i in range(6)] == [True, False, True, False, True, False]
    assert isinstance(got[3].error, ModelFitError) and got[4].value == 4
    assert {k: r.unwrap() for k, r in squares.items()} == {i: i * i for i in range(5)}
    assert executor.n_workers == 2  # the cluster's threads, once connected


def test_dask_task_warnings_come_back_as_notes(client):
    with DaskExecutor(client=client) as executor:
        result = executor.run(_warn)
    assert result.value == "done"
    assert [n.code for n in result.notes] == ["convergence"]


def test_dask_stream_keeps_at_most_the_window_in_flight(client):
    submitted: list[int] = []

    def tasks():
        for i in range(12):
            submitted.append(i)
            yield i, functools.partial(_square, i)

    with DaskExecutor(client=client) as executor:
        stream = executor.stream(tasks(), window=3)
        first_key, _ = next(stream)
        # 3 submitted at start, one more before the first result was handed back.
        assert len(submitted) == 4
        rest = dict(stream)
    assert set(rest) | {first_key} == set(range(12))


def test_dask_results_are_released_once_handed_back_without_a_garbage_collection(client):
    gc.collect()  # futures of earlier tests
    gc.disable()
    try:
        with DaskExecutor(client=client) as executor:
            tasks = ((i, functools.partial(_square, i)) for i in range(20))
            values = [r.unwrap() for _, r in executor.stream(tasks, window=4)]
            # The client's event loop lets go of the last futures a moment after handing them over.
            deadline = time.monotonic() + 5
            while client.futures and time.monotonic() < deadline:
                time.sleep(0.05)
            held = len(client.futures)
    finally:
        gc.enable()
    assert sorted(values) == [i * i for i in range(20)]
    # Nothing keeps a finished task's future alive: the cluster drops each result once it is handed back.
    assert held == 0


def test_a_worker_killed_mid_batch_is_retried_by_dask_and_the_batch_completes(client):
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2
    results = {}
    with DaskExecutor(client=client) as executor:
        for key, result in executor.stream(((i, functools.partial(_slow_pid, i)) for i in range(10)), window=10):
            if not results:
                # Both workers are busy with queued tasks: kill one of them now.
                os.kill(next(iter(pids)), signal.SIGKILL)
            results[key] = result
    assert sorted(results) == list(range(10))
    assert all(r.ok for r in results.values()), [r.error for r in results.values() if not r.ok]
    assert executor.restarts == 0  # Dask re-ran the tasks itself; our pool was not replaced


def test_backend_dask_uses_the_active_client(client):
    with client.as_current():
        executor = get_executor(2, backend="dask")
        assert isinstance(executor, DaskExecutor)
        assert executor.client is client
        with executor:
            assert executor.run(_square, 7).value == 49
    assert client.status == "running"  # a client it did not start is left open


def test_use_backend_sets_the_default_and_a_call_can_override_it(client):
    with use_backend("dask"):
        assert isinstance(get_executor(2), DaskExecutor)
        assert isinstance(get_executor(1, backend="process"), InProcessExecutor)
    assert isinstance(get_executor(1), InProcessExecutor)


def test_unknown_backend_is_refused_naming_the_choices():
    with pytest.raises(InvalidParameterError, match=r"backend must be one of 'process', 'dask'; got 'spark'"):
        get_executor(2, backend="spark")
    with pytest.raises(InvalidParameterError, match="backend"), use_backend("ray"):
        pass


def test_forecast_many_on_dask_gives_the_in_process_answer(client):
    frame = _long_frame(5)
    expected = forecast_many(frame, 6, levels=(80,), model="theta", n_jobs=1, progress=False)
    with client.as_current():
        got = forecast_many(frame, 6, levels=(80,), model="theta", backend="dask", chunk_size=2, progress=False)
    pd.testing.assert_frame_equal(got, expected)


def test_forecast_many_refuses_an_unknown_backend():
    with pytest.raises(InvalidParameterError, match="backend"):
        forecast_many(_long_frame(1), 3, backend="threads")


def test_dask_executor_with_a_scheduler_address_connects_to_it(client):
    executor = DaskExecutor(1, scheduler=client.scheduler.address)
    with executor:
        assert executor.run(_square, 3).value == 9
        assert executor.client.scheduler.address == client.scheduler.address
    assert executor._client is None  # the client it opened was closed


def _background_settings() -> tuple[bool, str, str]:
    import dask

    get = dask.config.get
    return (
        get("distributed.worker.profile.enabled"),
        get("distributed.admin.tick.interval"),
        get("distributed.admin.system-monitor.interval"),
    )


# A second LocalCluster of worker processes (20-35 s). In the fast suite: the executor on the
# module's cluster, through its scheduler address and its client.
@pytest.mark.slow
def test_dask_executor_without_a_cluster_starts_and_closes_a_local_one():
    executor = DaskExecutor(1)
    with executor:
        got = dict(executor.stream((i, functools.partial(_square, i)) for i in range(3)))
        cluster = executor._owned[-1]
        # Its workers run with less background work than Dask's defaults (LOCAL_CLUSTER_CONFIG).
        assert list(executor.client.run(_background_settings).values()) == [(False, "500ms", "10s")]
    assert {k: r.value for k, r in got.items()} == {0: 0, 1: 1, 2: 4}
    assert cluster.status.name == "closed"


def test_the_default_chunk_is_larger_on_dask_but_leaves_four_tasks_per_worker():
    assert InProcessExecutor().chunk_size(10_000) == 16
    dask_executor = DaskExecutor(2)  # not connected: sized by its n_workers
    assert dask_executor.chunk_size(100_000) == 64
    assert dask_executor.chunk_size(200) == 25  # 8 tasks of 25 series for 2 workers
    assert dask_executor.chunk_size(40) == 16  # never below the pool's chunk


def test_forecast_many_on_dask_with_the_default_chunk_gives_the_in_process_answer(client):
    frame = _long_frame(40, n_obs=36)
    expected = forecast_many(frame, 3, levels=(80,), model="naive", n_jobs=1, progress=False)
    with client.as_current():
        got = forecast_many(frame, 3, levels=(80,), model="naive", backend="dask", progress=False)
    pd.testing.assert_frame_equal(got, expected)


def test_backtest_many_on_dask_gives_the_in_process_answer(client):
    frame = _long_frame(3, n_obs=40)
    expected = backtest_many(frame, 3, 2, models=("naive", "theta"), levels=(80,), n_jobs=1, progress=False)
    got = backtest_many(frame, 3, 2, models=("naive", "theta"), levels=(80,), progress=False, backend="dask",
                        scheduler=client.scheduler.address, chunk_size=1)  # fmt: skip
    pd.testing.assert_frame_equal(got, expected)
