"""Scale-out benchmark (``make bench-scale``): many monthly series on three backends.

N monthly series are resampled from the M3 monthly training parts and perturbed (seeded):
each draw picks an M3 monthly series, keeps a random tail of it (at least 36 months),
rescales it by a log-normal factor and adds Gaussian noise of 2 % of its standard deviation.
Every series ends in the same month, so the panel is what a statistics office holds.

Each model (``ets``, ``theta``, ``auto``) forecasts the panel (horizon 18, levels 80 and 95)
through :func:`forecasting.forecast_many` on

- ``one``: one process (``n_jobs=1``);
- ``pool``: the process pool (``n_jobs=WORKERS``);
- ``dask``: a Dask ``LocalCluster`` of ``WORKERS`` single-threaded worker processes
  (``backend="dask"`` with the cluster's client active);

and, for the models statsforecast has (``ets`` → ``AutoETS``, ``theta`` → ``Theta``, both
with ``season_length=12``), with statsforecast's own distributed path: ``StatsForecast.
forecast`` on a Dask data frame of ``2 x WORKERS`` partitions, which runs through its Fugue
backend on the same ``LocalCluster`` (``sf_dask``).

Reported per run: wall seconds, series per second per core (cores = 1 for ``one``,
``WORKERS`` otherwise), the client's peak resident memory above what it held before the run
(sampled every 20 ms from ``/proc``; for ``one`` the fitting happens in the client), the
size of the result frame, and series per CPU-second: CPU time of the client, its reaped
children (the pool's workers) and the Dask workers together, also shown split into the
client process's (with a LocalCluster, its scheduler too) and the workers'. On a shared machine the wall
figures depend on the neighbours' load; the CPU figure much less (but Dask's background
cost is paid per second of wall time). For each N the ``one`` and ``pool`` runs come first
with no cluster alive, then the cluster (tradecast's own ``start_local_cluster``) is started,
untimed, for ``dask`` and ``sf_dask`` and closed after them. Each row ends with the 1-minute
load average at the run's start and end. ``--chunk-size 16 --dask-defaults`` re-creates the
Dask settings used before ``LOCAL_CLUSTER_CONFIG`` (Dask's own defaults), for comparison.

Run: ``python -m bench.scale --data ../shared/data/m3/m3.csv.gz --n 1000 --models ets theta auto``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import resource
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.m3 import load_m3
from forecasting.batch import forecast_many
from forecasting.executor import start_local_cluster

__all__ = ["ScaleRun", "make_panel", "main", "run_scale"]

logger = logging.getLogger(__name__)

HORIZON = 18
LEVELS = (80, 95)
BACKENDS = ("one", "pool", "dask", "sf_dask")
#: statsforecast's model for each of ours that it has (same season length).
SF_MODELS = {"ets": "AutoETS", "theta": "Theta"}
_MIN_LENGTH = 36


@dataclass(frozen=True)
class ScaleRun:
    """One model on one backend over the panel."""

    n: int
    model: str
    backend: str
    cores: int
    seconds: float
    series_per_s_per_core: float
    series_per_cpu_s: float
    client_peak_mb: float
    result_mb: float
    n_forecast: int
    load_start: float = float("nan")
    load_end: float = float("nan")
    client_cpu_s: float = float("nan")
    worker_cpu_s: float = float("nan")


def make_panel(m3_path: str | Path, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` monthly series resampled and perturbed from the M3 monthly training parts.

    Returns
    -------
    pd.DataFrame
        Long frame ``unique_id, ds, y`` (``ds`` monthly periods, every series ending in
        the same month).
    """
    bases = [s.train.to_numpy(dtype=float) for s in load_m3(m3_path, periods=["monthly"])]
    rng = np.random.default_rng(seed)
    end = pd.Period("2024-12", freq="M")
    uids, periods, values = [], [], []
    for i, pick in enumerate(rng.integers(len(bases), size=n)):
        base = bases[pick]
        length = int(rng.integers(min(_MIN_LENGTH, len(base)), len(base) + 1))
        tail = base[-length:]
        noise = rng.normal(0.0, 0.02 * (tail.std() or 1.0), length)
        y = np.maximum(tail + noise, 0.01 * abs(tail.mean()) + 1e-6) * rng.lognormal(0.0, 0.5)
        uids.append(np.full(length, f"s{i:07d}"))
        periods.append(pd.period_range(end=end, periods=length, freq="M"))
        values.append(y)
    ds = pd.PeriodIndex.from_ordinals(np.concatenate([p.asi8 for p in periods]), freq="M")
    return pd.DataFrame({"unique_id": np.concatenate(uids), "ds": ds, "y": np.concatenate(values)})


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextmanager
def _peak_rss(interval: float = 0.02) -> Iterator[list[float]]:
    """Yield a list that holds, after the block, the peak RSS above the start (MB)."""
    start = _rss_mb()
    peak = [start]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak[0] = max(peak[0], _rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out: list[float] = []
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out.append(max(peak[0], _rss_mb()) - start)


#: Series per task for forecast_many (None: the executor's default; ``--chunk-size``).
_CHUNK: dict[str, int | None] = {"size": None}


def _ours(frame: pd.DataFrame, model: str, n_jobs: int, backend: str | None) -> pd.DataFrame:
    return forecast_many(
        frame, HORIZON, LEVELS, model=model, n_jobs=n_jobs, progress=False, backend=backend, chunk_size=_CHUNK["size"]
    )


def _statsforecast_dask(frame: pd.DataFrame, model: str, n_partitions: int) -> pd.DataFrame:
    import dask.dataframe as dd
    import statsforecast.models as sfm
    from statsforecast import StatsForecast

    sf_frame = frame.assign(ds=frame["ds"].dt.to_timestamp(how="end").dt.normalize())
    sf = StatsForecast(models=[getattr(sfm, SF_MODELS[model])(season_length=12)], freq="ME")
    ddf = dd.from_pandas(sf_frame, npartitions=n_partitions)
    out = sf.forecast(df=ddf, h=HORIZON, level=list(LEVELS))
    return out.compute() if hasattr(out, "compute") else out


def _call(frame: pd.DataFrame, model: str, backend: str, workers: int) -> pd.DataFrame:
    if backend == "sf_dask":
        return _statsforecast_dask(frame, model, 2 * workers)
    if backend == "one":
        return _ours(frame, model, 1, None)
    return _ours(frame, model, workers, "process" if backend == "pool" else "dask")


def _cpu_seconds(client: Any | None) -> tuple[float, float]:
    """CPU seconds used so far by this process (the client, and a LocalCluster's scheduler),
    and by the workers: its reaped children (the pool's) and the cluster's worker processes."""
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = sum(client.run(time.process_time).values()) if client is not None else 0.0
    return own, children.ru_utime + children.ru_stime + float(workers)


def _time_run(n: int, model: str, backend: str, cores: int, call: Callable[[], pd.DataFrame], client: Any) -> ScaleRun:
    cluster = client if backend in ("dask", "sf_dask") else None
    load_start = os.getloadavg()[0]
    with warnings.catch_warnings(), _peak_rss() as peak:
        warnings.simplefilter("ignore")
        own0, workers0 = _cpu_seconds(cluster)
        start = time.perf_counter()
        out = call()
        seconds = time.perf_counter() - start
        own1, workers1 = _cpu_seconds(cluster)
    own, workers = own1 - own0, workers1 - workers0
    cpu = own + workers
    result_mb = float(out.memory_usage(deep=True).sum()) / 2**20
    n_done = int(out["unique_id"].nunique()) if "unique_id" in out.columns else len(out.index.unique())
    per_core = n / seconds / cores
    load_end = os.getloadavg()[0]
    return ScaleRun(
        n,
        model,
        backend,
        cores,
        seconds,
        per_core,
        n / cpu,
        peak[0],
        result_mb,
        n_done,
        load_start,
        load_end,
        own,
        workers,
    )


def run_scale(
    frame: pd.DataFrame, models: Sequence[str], backends: Sequence[str], workers: int, client: Any | None
) -> list[ScaleRun]:
    """Every model on every backend (``client``: the LocalCluster's, for dask and sf_dask)."""
    n = int(frame["unique_id"].nunique())
    runs: list[ScaleRun] = []
    for model in models:
        for backend in backends:
            if backend == "sf_dask" and model not in SF_MODELS:
                continue
            call = functools.partial(_call, frame, model, backend, workers)
            cores = 1 if backend == "one" else workers
            ctx = client.as_current() if client is not None else _null()
            with ctx:
                # Untimed warm-up on a few series: imports and statsforecast's numba compilation
                # in long-lived workers are paid once per worker, not per batch.
                if backend in ("dask", "sf_dask"):
                    _warm_up(frame, model, backend, workers)
                run = _time_run(n, model, backend, cores, call, client)
            logger.info("%s", run)
            print(_row(run), flush=True)  # noqa: T201 (the lab reports on stdout)
            runs.append(run)
    return runs


def _warm_up(frame: pd.DataFrame, model: str, backend: str, workers: int) -> None:
    few = frame[frame["unique_id"].isin(frame["unique_id"].unique()[: 4 * workers])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):  # twice: a task may land on either worker
            if backend == "dask":
                _ours(few, model, workers, "dask")
            else:
                _statsforecast_dask(few, model, 2 * workers)


@contextmanager
def _null() -> Iterator[None]:
    yield


def _row(run: ScaleRun) -> str:
    return (
        f"| {run.n:,} | {run.model} | {run.backend} | {run.cores} | {run.seconds:.1f} | "
        f"{run.series_per_s_per_core:.2f} | {run.series_per_cpu_s:.2f} | {run.client_peak_mb:.0f} | "
        f"{run.result_mb:.1f} | {run.n_forecast:,} | {run.client_cpu_s:.1f} / {run.worker_cpu_s:.1f} | "
        f"{run.load_start:.1f} / {run.load_end:.1f} |"
    )


def ratios(runs: Sequence[ScaleRun]) -> list[str]:
    """Per-core throughput of dask over pool, and of dask over statsforecast on Dask."""
    wall = {(r.n, r.model, r.backend): r.series_per_s_per_core for r in runs}
    cpu = {(r.n, r.model, r.backend): r.series_per_cpu_s for r in runs}
    lines = []
    for n, model, backend in sorted(wall):
        if backend != "dask":
            continue
        for other in ("pool", "sf_dask"):
            if (n, model, other) in wall:
                by_wall = wall[(n, model, "dask")] / wall[(n, model, other)]
                by_cpu = cpu[(n, model, "dask")] / cpu[(n, model, other)]
                lines.append(f"N={n:,} {model}: dask / {other} per core = {by_wall:.2f} (wall), {by_cpu:.2f} (CPU)")
    return lines


#: Dask's own defaults for the keys :data:`~forecasting.executor.LOCAL_CLUSTER_CONFIG` changes.
DASK_DEFAULTS = {
    "distributed.worker.profile.enabled": True,
    "distributed.admin.tick.interval": "20ms",
    "distributed.admin.system-monitor.interval": "500ms",
}


def _start_cluster(workers: int, dask_defaults: bool) -> tuple[Any, float]:
    """The LocalCluster tradecast itself starts (``start_local_cluster``), and its start-up time.

    ``dask_defaults=True`` puts back Dask's defaults for the settings tradecast changes.
    """
    start = time.perf_counter()
    client = start_local_cluster(workers, DASK_DEFAULTS if dask_defaults else None)
    return client, time.perf_counter() - start


def _run_size(n: int, args: argparse.Namespace, local: list[str], clustered: list[str]) -> list[ScaleRun]:
    """One panel size: the backends without a cluster first, then those on a fresh cluster.

    No cluster is alive during the ``one`` and ``pool`` runs, so its idle cost (in this
    process: the scheduler and the nannies) is not charged to them.
    """
    frame = make_panel(args.data, n, args.seed)
    runs = run_scale(frame, args.models, local, args.workers, None) if local else []
    if clustered:
        client, startup = _start_cluster(args.workers, args.dask_defaults)
        print(f"N={n:,}: cluster start-up {startup:.1f} s (not counted)", flush=True)  # noqa: T201
        try:
            runs += run_scale(frame, args.models, clustered, args.workers, client)
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="m3.csv.gz")
    parser.add_argument("--n", type=int, nargs="+", default=[1000], help="panel sizes (e.g. 1000 10000 100000)")
    parser.add_argument("--models", nargs="+", default=["ets", "theta", "auto"])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="var/bench")
    parser.add_argument("--chunk-size", type=int, default=None, help="series per task (default: the executor's)")
    parser.add_argument(
        "--dask-defaults", action="store_true", help="Dask's default settings, not LOCAL_CLUSTER_CONFIG (comparison)"
    )
    args = parser.parse_args(argv)
    _CHUNK["size"] = args.chunk_size
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    print(f"load average {os.getloadavg()}, cpu count {os.cpu_count()}")  # noqa: T201
    print(  # noqa: T201
        "| N | model | backend | cores | seconds | series/s/core (wall) | series/CPU-s | client peak MB "
        "| result MB | forecast | CPU-s client / workers | load start / end |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")  # noqa: T201
    local = [b for b in args.backends if b in ("one", "pool")]
    clustered = [b for b in args.backends if b in ("dask", "sf_dask")]
    runs: list[ScaleRun] = []
    for n in args.n:
        runs += _run_size(n, args, local, clustered)
    for line in ratios(runs):
        print(line)  # noqa: T201
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "scale-" + "-".join(map(str, args.n)) + "-" + "-".join(args.models) + ".json"
    (out / name).write_text(json.dumps([asdict(r) for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
