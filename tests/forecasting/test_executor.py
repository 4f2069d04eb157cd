"""The executor: backends, streamed results, task failures, dead workers, warning notes."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import pytest

from forecasting.exceptions import (
    ConvergenceWarning,
    FallbackWarning,
    ForecastingWarning,
    InvalidParameterError,
    ModelFitError,
    WorkerLostError,
)
from forecasting.executor import (
    InProcessExecutor,
    ProcessExecutor,
    WarningNote,
    capture_warnings,
    get_executor,
    warning_class,
    warning_code,
)


def _square(x: int) -> int:
    return x * x


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise ModelFitError(f"cannot fit {x}")
    return x


def _warn_twice() -> str:
    warnings.warn("optimiser stopped early", ConvergenceWarning, stacklevel=1)
    warnings.warn("optimiser stopped early", ConvergenceWarning, stacklevel=1)
    warnings.warn("overflow in exp", RuntimeWarning, stacklevel=1)
    return "done"


def _die() -> None:
    os._exit(1)  # a worker killed mid-task (as by the out-of-memory killer)


@pytest.mark.parametrize("n_workers", [1, 2])
def test_stream_returns_every_result_keyed_whatever_the_backend(n_workers):
    executor = InProcessExecutor() if n_workers == 1 else ProcessExecutor(n_workers)
    with executor:
        got = dict(executor.stream((i, functools.partial(_square, i)) for i in range(6)))
    assert {k: r.unwrap() for k, r in got.items()} == {i: i * i for i in range(6)}
    assert all(r.seconds >= 0 for r in got.values())


@pytest.mark.parametrize("n_workers", [1, 2])
def test_task_error_is_that_tasks_failure_not_the_batch(n_workers):
    executor = InProcessExecutor() if n_workers == 1 else ProcessExecutor(n_workers)
    with executor:
        got = dict(executor.stream((i, functools.partial(_fail_on_odd, i)) for i in range(4)))
    assert [got[i].ok for i in range(4)] == [True, False, True, False]
    assert isinstance(got[1].error, ModelFitError) and got[2].value == 2
    with pytest.raises(ModelFitError, match="cannot fit 3"):
        got[3].unwrap()


def test_in_process_stream_runs_a_task_only_when_its_result_is_asked_for():
    ran: list[int] = []

    def task(i: int) -> int:
        ran.append(i)
        return i

    stream = InProcessExecutor().stream((i, functools.partial(task, i)) for i in range(3))
    assert next(stream)[0] == 0 and ran == [0]


@pytest.mark.parametrize("n_workers", [1, 2])
def test_task_warnings_come_back_as_deduplicated_code_and_message(n_workers):
    executor = InProcessExecutor() if n_workers == 1 else ProcessExecutor(n_workers)
    with executor:
        result = executor.run(_warn_twice)
    assert result.unwrap() == "done"
    assert result.notes == (
        WarningNote("convergence", "optimiser stopped early"),
        WarningNote("runtime", "overflow in exp"),
    )


def test_capture_warnings_keeps_only_the_asked_category():
    with capture_warnings(UserWarning) as notes:
        warnings.warn("old api", DeprecationWarning, stacklevel=1)
        warnings.warn("fell back", FallbackWarning, stacklevel=1)
    assert notes == [WarningNote("fallback", "fell back")]


def test_warning_codes_map_back_to_our_classes():
    class HessianInversionWarning(UserWarning):
        """A third-party warning without a code."""

    assert warning_code(ConvergenceWarning) == "convergence"
    assert warning_code(HessianInversionWarning) == "hessian_inversion"
    assert warning_code(UserWarning) == "user"
    assert warning_class("convergence") is ConvergenceWarning
    assert warning_class("fallback") is FallbackWarning
    assert warning_class("hessian_inversion") is ForecastingWarning


def test_dead_worker_fails_its_task_and_the_pool_is_restarted():
    with ProcessExecutor(1) as executor:
        lost = executor.run(_die)
        assert isinstance(lost.error, WorkerLostError) and lost.error.code == "worker_lost"
        assert executor.restarts == 1
        assert executor.run(_square, 7).unwrap() == 49


def test_shut_down_pool_refuses_new_tasks():
    executor = ProcessExecutor(1)
    executor.start()
    executor.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        executor.submit(_square, 2)


def test_get_executor_follows_n_jobs():
    assert isinstance(get_executor(1), InProcessExecutor)
    assert isinstance(get_executor(-1, n_tasks=1), InProcessExecutor)
    pool = get_executor(2, n_tasks=5, spawn=True)
    assert isinstance(pool, ProcessExecutor) and pool.n_workers == 2 and pool.spawn
    for bad in (0, -2, True, 1.5):
        with pytest.raises(InvalidParameterError, match="n_jobs"):
            get_executor(bad)  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    """Whether process ``pid`` is still running (a zombie, waiting to be reaped, has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _worker_pids(executor: ProcessExecutor) -> list[int]:
    pool = executor._pool
    assert isinstance(pool, ProcessPoolExecutor)
    return list(pool._processes)  # type: ignore[attr-defined]


def test_pool_with_a_killed_idle_worker_is_replaced_for_later_streams_and_runs():
    with ProcessExecutor(2) as executor:
        executor.start()
        assert dict(executor.stream((i, functools.partial(time.sleep, 0.2)) for i in range(4)))
        pids = _worker_pids(executor)
        assert len(pids) == 2
        pool = executor._pool
        os.kill(pids[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        # Tasks submitted before the pool's management thread has seen the death fail with
        # WorkerLostError (retryable, by design); "later" means after that.
        while not pool._broken and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.05)
        got = dict(executor.stream((i, functools.partial(_square, i)) for i in range(6)))
        assert {k: r.unwrap() for k, r in got.items()} == {i: i * i for i in range(6)}
        assert executor.run(_square, 9).unwrap() == 81
        assert executor.restarts == 1
        assert not set(_worker_pids(executor)) & set(pids)


_PARENT_SCRIPT = """
import sys, time
from forecasting.executor import ProcessExecutor
executor = ProcessExecutor(2, spawn=True)
executor.start()
futures = [executor.submit(time.sleep, 0.5) for _ in range(2)]
for future in futures:
    future.result().unwrap()
print(" ".join(str(pid) for pid in executor._pool._processes), flush=True)
time.sleep(120)
"""


def test_workers_exit_within_seconds_when_their_parent_is_killed(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    log = tmp_path / "parent.log"
    with (
        open(log, "w") as stderr,
        subprocess.Popen(
            [sys.executable, "-c", _PARENT_SCRIPT], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        ) as parent,
    ):
        try:
            assert parent.stdout is not None
            pids = [int(p) for p in parent.stdout.readline().split()]
            assert len(pids) == 2 and all(_alive(pid) for pid in pids), log.read_text()
        finally:
            parent.kill()  # SIGKILL: no atexit hook, no pool shutdown
            parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in pids if _alive(pid)]
    for pid in survivors:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
