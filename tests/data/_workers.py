"""Subprocess entry points for the crash and concurrency tests (``python -m tests.data._workers``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def open_store(url: str, schema: str) -> Any:
    from data import Store

    kwargs: dict[str, Any] = {}
    if schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    return Store.from_url(url, **kwargs)


def big_result(n_series: int, n_months: int, scale: float) -> Any:
    from data import IngestResult, SeriesMeta

    periods = pd.period_range("2010-01", periods=n_months, freq="M")
    ids = [f"big{i:05d}" for i in range(n_series)]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, n_months),
            "ds": pd.PeriodIndex.from_ordinals(np.tile(periods.asi8, n_series), freq="M"),
            "y": scale * (1.0 + np.arange(n_series * n_months) % 97),
        }
    )
    return IngestResult(frame=frame, metas={i: SeriesMeta(i, frequency="monthly") for i in ids})


def crash_upload(url: str, schema: str, marker: str, n_series: int, n_months: int) -> None:
    """Start a large upload and stop forever in the middle of the observation inserts."""
    from sqlalchemy.engine import Connection

    import data.series_repo as series_repo

    series_repo.OBSERVATION_CHUNK = 1_000
    store = open_store(url, schema)
    original = Connection.exec_driver_sql
    calls = {"n": 0}

    def slow_exec(self: Connection, statement: str, *args: Any, **kwargs: Any) -> Any:
        out = original(self, statement, *args, **kwargs)
        if statement.startswith("INSERT INTO observations"):
            calls["n"] += 1
            if calls["n"] == 5:
                Path(marker).write_text("mid-upload")
                time.sleep(600)  # the parent SIGKILLs us here
        return out

    def slow_copy(conn: Connection, per_row: Any, batch: Any) -> None:
        # PostgreSQL path: stream part of the rows with COPY, then hang inside it.
        driver = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy("COPY observations (vintage_id, ds, y) FROM STDIN") as copy:
            for k in range(5_000):
                copy.write(f"{per_row[k]}\t{batch.ds[k]}\t{batch.y[k]!r}\n")
            Path(marker).write_text("mid-upload")
            time.sleep(600)  # the parent SIGKILLs us here

    Connection.exec_driver_sql = slow_exec  # type: ignore[method-assign]
    series_repo._copy_observations = slow_copy
    store.series.save_ingested(big_result(n_series, n_months, scale=2.0), release="doomed")
    Path(marker).write_text("finished")  # must never happen


def write_many(url: str, schema: str, series_id: str, tag: str, count: int, barrier: str, n_writers: int) -> None:
    """Upload ``count`` vintages of one series once all writers are ready; report as JSON.

    ``barrier`` is a directory: each writer drops a file there once its imports and its
    connection are ready, then waits for the others, so the uploads really overlap.
    """
    from data import ConflictError, SeriesMeta

    store = open_store(url, schema)
    store.check_connection()
    meta = SeriesMeta(series_id, frequency="monthly")
    results = []
    Path(barrier, f"ready_{tag}").write_text("ready")
    deadline = time.monotonic() + 120
    while len(list(Path(barrier).glob("ready_*"))) < n_writers:
        if time.monotonic() > deadline:
            raise SystemExit("the other writers never became ready")
        time.sleep(0.001)
    for k in range(count):
        value = float(hash((tag, k)) % 100_000)
        y = pd.Series([value, value + 1, value + 2], index=pd.period_range("2020-01", periods=3, freq="M"))
        try:
            info = store.series.save_series(meta, y, release=f"{tag}-{k}")
            results.append({"ok": True, "vintage_id": info.vintage_id, "number": info.number, "value": value})
        except ConflictError as exc:
            results.append({"ok": False, "error": str(exc), "value": value})
    store.dispose()
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    command, *argv = sys.argv[1:]
    if command == "crash":
        crash_upload(argv[0], argv[1], argv[2], int(argv[3]), int(argv[4]))
    elif command == "write":
        write_many(argv[0], argv[1], argv[2], argv[3], int(argv[4]), argv[5], int(argv[6]))
    else:
        raise SystemExit(f"unknown command {command}")
