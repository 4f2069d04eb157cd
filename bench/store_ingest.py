"""Benchmark of the series store (issue 4).

1. Writes a synthetic long CSV of N series x M months (default 10,000 x 120) to a temp dir.
2. Times ``load_series`` (parse + validate) and ``store.series.save_ingested`` (one transaction)
   into a fresh SQLite store, and reports peak memory (``ru_maxrss``, and tracemalloc
   peak for the ingest step when ``--tracemalloc`` is given, which slows it down).
3. Uploads a revised vintage of one series, then times reading that series at the past
   vintage (``as_of`` before the revision): median and p95 of many reads.

Run: ``make bench-store`` or ``.venv/bin/python -m bench.store_ingest [--series N] [--months M]``.
``--postgres URL`` runs the same against PostgreSQL, in a temporary schema dropped at the end.
Targets: ingest < 30 s; read at a past vintage < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine

from data import SeriesMeta, Store, load_series


def write_csv(path: Path, n_series: int, n_months: int, seed: int = 0) -> int:
    """Synthetic long CSV ``unique_id,ds,y`` (positive trade-like values); returns its size."""
    rng = np.random.default_rng(seed)
    periods = pd.period_range("2015-01", periods=n_months, freq="M").astype(str).to_numpy()
    level = rng.uniform(10, 1000, size=(n_series, 1))
    noise = rng.normal(0, 0.05, size=(n_series, n_months)).cumsum(axis=1)
    values = np.round(level * np.exp(noise), 3)
    ids = np.array([f"s{i:05d}" for i in range(n_series)], dtype=object)
    frame = pd.DataFrame({"unique_id": np.repeat(ids, n_months), "ds": np.tile(periods, n_series), "y": values.ravel()})
    frame.to_csv(path, index=False)
    return path.stat().st_size


def maxrss_mb() -> float:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 1024 / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--tracemalloc", action="store_true", help="also report the tracemalloc peak")
    parser.add_argument("--out", type=Path, default=Path("var/bench/store_ingest.json"))
    parser.add_argument("--postgres", metavar="URL", help="benchmark this PostgreSQL database instead of SQLite")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        write_csv(args.generate, args.series, args.months)
        return 0

    with tempfile.TemporaryDirectory(prefix="tc_bench_store_") as tmp:
        tmpdir = Path(tmp)
        csv_path = tmpdir / "synthetic_long.csv"
        t0 = time.perf_counter()
        # Generated in a child process so this process's peak RSS measures the ingest only.
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(csv_path),
                "--series",
                str(args.series),
                "--months",
                str(args.months),
            ],
            check=True,
        )
        size = csv_path.stat().st_size
        t_gen = time.perf_counter() - t0
        rss_before = maxrss_mb()

        schema = f"tc_bench_{os.getpid()}"
        if args.postgres:
            admin = create_engine(args.postgres)
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            store = Store.from_url(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
        else:
            store = Store.from_url(f"sqlite:///{tmpdir / 'bench.db'}")
        try:
            store.create_schema()
            if args.tracemalloc:
                tracemalloc.start()
            t0 = time.perf_counter()
            result = load_series(csv_path, max_bytes=max(size + 1, 50 * 1024 * 1024))
            t_parse = time.perf_counter() - t0
            t0 = time.perf_counter()
            infos = store.series.save_ingested(result, release="bench v1")
            t_save = time.perf_counter() - t0
            trace_peak = tracemalloc.get_traced_memory()[1] / 1e6 if args.tracemalloc else None
            if args.tracemalloc:
                tracemalloc.stop()
            rss_after = maxrss_mb()
            n_obs = int(result.frame["y"].notna().sum())
            del result

            # A revision of one series, then reads of the series as it was before it.
            target = infos[len(infos) // 2].series_id
            past = datetime.now(UTC)
            first = store.series.read_series(target)
            time.sleep(0.01)
            store.series.save_series(SeriesMeta(target, frequency="monthly"), first.series * 1.01, release="bench v2")
            timings = []
            for _ in range(args.reads):
                t0 = time.perf_counter()
                stored = store.series.read_series(target, as_of=past)
                timings.append((time.perf_counter() - t0) * 1000)
            assert stored.vintage.number == 1 and stored.series.equals(first.series)
            if args.postgres:
                with store.engine.connect() as conn:
                    size_bytes = conn.exec_driver_sql(
                        "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                        "AND c.relkind = 'r'"
                    ).scalar_one()
                    db_mb = float(size_bytes) / 1e6
            else:
                db_mb = sum(p.stat().st_size for p in tmpdir.glob("bench.db*")) / 1e6
        finally:
            store.dispose()
            if args.postgres:
                with admin.begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
                admin.dispose()

    ingest_total = t_parse + t_save
    p95 = float(np.percentile(timings, 95))
    rows = [
        ("synthetic CSV", f"{args.series:,} series x {args.months} months, {size / 1e6:.1f} MB ({t_gen:.1f} s)"),
        ("parse + validate (load_series)", f"{t_parse:.2f} s"),
        ("store, one transaction (save_ingested)", f"{t_save:.2f} s ({n_obs:,} observations)"),
        (
            "ingest total",
            f"{ingest_total:.2f} s  (target < 30 s)"
            + ("  [tracemalloc on: times inflated]" if args.tracemalloc else ""),
        ),
        ("peak RSS (ru_maxrss)", f"{rss_after:.0f} MB (before ingest {rss_before:.0f} MB)"),
    ]
    if trace_peak is not None:
        rows.append(("tracemalloc peak during ingest", f"{trace_peak:.0f} MB"))
    rows += [
        ("database size", f"{db_mb:.0f} MB"),
        (
            "read one series at a past vintage",
            f"median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms over {args.reads} reads (target < 20 ms)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    sys.stdout.write(f"store ingest benchmark  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {backend})\n")
    for name, value in rows:
        sys.stdout.write(f"  {name:<{width}}  {value}\n")
    if args.postgres and args.out == Path("var/bench/store_ingest.json"):
        args.out = Path("var/bench/store_ingest_postgres.json")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "backend": backend,
                "series": args.series,
                "months": args.months,
                "csv_mb": size / 1e6,
                "parse_s": t_parse,
                "save_s": t_save,
                "ingest_s": ingest_total,
                "peak_rss_mb": rss_after,
                "tracemalloc_peak_mb": trace_peak,
                "read_past_vintage_median_ms": statistics.median(timings),
                "read_past_vintage_p95_ms": p95,
            },
            indent=2,
        )
    )
    ok = ingest_total < 30 and statistics.median(timings) < 20
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
