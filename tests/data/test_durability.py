"""Crash safety and concurrent writers (SQLite and PostgreSQL), with real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data import ConflictError, SeriesMeta, Store
from tests.data._workers import big_result
from tests.data.conftest import REPO_ROOT, Target

N_SERIES, N_MONTHS = 400, 120  # 48,000 observation rows in the doomed upload


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.data._workers", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_sigkill_mid_upload_leaves_previous_vintage_intact(target: Target, tmp_path: Path):
    store = target.open()
    first = big_result(N_SERIES, N_MONTHS, scale=1.0)
    infos = store.series.save_ingested(first, release="v1")
    assert len(infos) == N_SERIES
    expected = store.series.read_series("big00123").series

    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        _python("crash", target.url, target.schema, str(marker), str(N_SERIES), str(N_MONTHS)),
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"worker exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
            if time.monotonic() > deadline:
                pytest.fail("worker never reached the middle of the upload")
            time.sleep(0.05)
        assert marker.read_text() == "mid-upload"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    assert marker.read_text() == "mid-upload"  # it never finished

    # A fresh connection sees only the first vintage, complete and readable.
    store.dispose()
    after = target.open()
    vintages = after.series.list_vintages("big00123")
    assert [(v.number, v.release) for v in vintages] == [(1, "v1")]
    pd.testing.assert_series_equal(after.series.read_series("big00123").series, expected)
    with after.engine.connect() as conn:
        n_rows = conn.exec_driver_sql("SELECT COUNT(*) FROM observations").scalar_one()
        assert n_rows == N_SERIES * N_MONTHS
        if target.backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    # And the store takes writes again (no stale lock).
    assert after.series.save_ingested(big_result(3, 12, scale=3.0))[0].number == 2
    after.dispose()


def _check_writes(store: Store, series_id: str, outcomes: list[dict]) -> None:
    """Every successful write is its own vintage holding its data; failures are clear conflicts."""
    ok = [o for o in outcomes if o["ok"]]
    failed = [o for o in outcomes if not o["ok"]]
    vintages = store.series.list_vintages(series_id)
    assert len(vintages) == len(ok)
    assert [v.number for v in vintages] == list(range(1, len(ok) + 1))
    assert sorted(o["vintage_id"] for o in ok) == sorted(v.vintage_id for v in vintages)
    for o in ok:
        stored = store.series.read_series(series_id, vintage_id=o["vintage_id"]).series
        assert stored.tolist() == [o["value"], o["value"] + 1, o["value"] + 2]
    for o in failed:
        assert "retry" in o["error"]
    assert len(ok) >= 1


def test_concurrent_writer_threads_land_as_separate_vintages(store: Store):
    meta = SeriesMeta("contested", frequency="monthly")
    n_threads, per_thread = 4, 5
    barrier = threading.Barrier(n_threads)

    def writer(t: int) -> list[dict]:
        out = []
        barrier.wait()
        for k in range(per_thread):
            value = float(1000 * t + k)
            y = pd.Series([value, value + 1, value + 2], index=pd.period_range("2020-01", periods=3, freq="M"))
            try:
                info = store.series.save_series(meta, y)
                out.append({"ok": True, "vintage_id": info.vintage_id, "value": value})
            except ConflictError as exc:
                out.append({"ok": False, "error": str(exc), "value": value})
        return out

    with ThreadPoolExecutor(n_threads) as pool:
        outcomes = [o for chunk in pool.map(writer, range(n_threads)) for o in chunk]
    assert len(outcomes) == n_threads * per_thread
    _check_writes(store, meta.series_id, outcomes)


# Two fresh interpreters importing the data stack (20-40 s on two busy cores); the same
# invariant under concurrent writers is checked fast by the threads test above.
@pytest.mark.slow
def test_concurrent_writer_processes_land_as_separate_vintages(target: Target, tmp_path: Path):
    barrier = tmp_path / "barrier"  # each process waits here until both are ready
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            _python("write", target.url, target.schema, "contested", f"p{p}", "5", str(barrier), "2"),
            cwd=REPO_ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(2)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        outcomes += json.loads(out.strip().splitlines()[-1])
    assert len(outcomes) == 10
    store = target.open()
    _check_writes(store, "contested", outcomes)
    store.dispose()


def test_vintage_numbers_are_unique_per_series_in_the_database(store: Store):
    from sqlalchemy.exc import IntegrityError

    from data.tables import VintagesTable

    info = store.series.save_series(
        SeriesMeta("u", frequency="monthly"), pd.Series([1.0], index=pd.period_range("2020-01", periods=1, freq="M"))
    )
    row = {"series_id": "u", "number": info.number, "created_at": info.created_at, "n_obs": 0, "checksum": ""}
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(VintagesTable.__table__.insert(), row)
    assert np.array_equal([v.number for v in store.series.list_vintages("u")], [1])
