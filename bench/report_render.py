"""Benchmark of a scheduled report over 20 series (issue 6).

1. Loads 20 monthly series into a fresh temporary SQLite store: Russia's exports to and
   imports from its ten largest partners, Jan 2006 - Dec 2021 (192 months each, USD mn),
   from the domain data folder (``--domain``; ``make bench-report`` passes the Makefile's
   ``DOMAIN_DIR``); without it, or when the file is absent, 20 synthetic trade-like series.
2. For each model asked for (default: ``theta``, a fast real model, then the default
   ``auto``), creates a report definition over the 20 series (horizon 12, levels 80/95,
   3 backtest windows) and times ``run_report`` end to end: read, forecast, backtest,
   charts, HTML, archive; the run's own timings split collect (read, forecast, backtest)
   from render (charts, template).
3. Prints the figures and writes them to ``var/bench/report_render.json``.

Run: ``make bench-report`` or, from the repository root,
``.venv/bin/python -m bench.report_render [--domain <domain folder>] [--models theta auto]``.
Target: the report over 20 series renders in under 10 s. With ``auto`` (an ensemble
refitted for the forecast and for each backtest window, 80 fits in all) expect minutes;
``--jobs 2`` spreads the series over two worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from data import SeriesMeta, Store
from reports.definitions import ReportDefinition
from reports.jobs import run_report
from reports.store import ReportStore

TARGET_SECONDS = 10.0
FCS_FILE = "russia_fcs_trade_by_partner_monthly_2006_2021.csv"


def load_inputs(n_series: int, domain: Path | None) -> tuple[list[tuple[SeriesMeta, pd.Series]], str]:
    """``n_series`` (meta, series) pairs and a description of where they came from."""
    out: list[tuple[SeriesMeta, pd.Series]] = []
    path = domain / FCS_FILE if domain is not None else None
    if path is not None and path.is_file():
        frame = pd.read_csv(path)
        frame["ds"] = pd.PeriodIndex.from_fields(year=frame["year"], month=frame["month"], freq="M")
        totals = frame.groupby("partner_en")["value_musd"].sum().sort_values(ascending=False)
        for partner in totals.index:
            for flow in ("export", "import"):
                part = frame[(frame.partner_en == partner) & (frame.flow_russia == flow)].set_index("ds")
                y = part["value_musd"].sort_index()
                full = pd.period_range(y.index[0], y.index[-1], freq="M")
                if len(y) != len(full) or y.isna().any() or len(y) < 120:
                    continue
                sid = "ru_" + flow + "_" + re.sub(r"[^a-z0-9]+", "_", partner.lower()).strip("_")
                meta = SeriesMeta(sid, name=f"Russia {flow}s, {partner}", frequency="monthly", unit="USD mn")
                out.append((meta, y.astype(float)))
                if len(out) == n_series:
                    return out, f"Russia FCS monthly trade by partner ({path.name})"
    rng = np.random.default_rng(0)
    out = []
    for i in range(n_series):
        idx = pd.period_range("2006-01", periods=192, freq="M")
        season = 1 + 0.1 * np.sin(2 * np.pi * np.arange(192) / 12)
        y = pd.Series(rng.uniform(100, 5000) * season * np.exp(rng.normal(0.005, 0.04, 192).cumsum()), index=idx)
        out.append((SeriesMeta(f"synthetic_{i:02d}", frequency="monthly", unit="USD mn"), y))
    return out, "synthetic monthly series"


def bench_model(store: Store, ids: list[str], model: str, horizon: int, windows: int, jobs: int) -> dict[str, object]:
    """Time one report run with ``model`` over ``ids``."""
    reports = ReportStore.for_store(store)
    name = f"bench-{model.replace('_', '-')}-j{jobs}"
    definition = ReportDefinition(
        name=name, title=f"Benchmark ({model})", series_ids=tuple(ids), horizon=horizon, model=model, schedule=None
    )
    reports.create_definition(definition)
    as_of = datetime(2022, 1, 15, tzinfo=UTC)
    t0 = time.perf_counter()
    run = run_report(name, as_of, store, trigger="manual", backtest_windows=windows, n_jobs=jobs)
    total = time.perf_counter() - t0
    if run.status != "succeeded":
        raise SystemExit(f"report run failed: {run.error}")
    timings = run.details["timings"]
    html_bytes = len(reports.get_html(run.run_id).encode())
    return {
        "model": model,
        "jobs": jobs,
        "series": run.n_series,
        "series_without_forecast": run.n_failed,
        "run_report_seconds": round(total, 3),
        "collect_seconds": timings["collect_s"],
        "render_seconds": timings["render_s"],
        "html_bytes": html_bytes,
        "under_target": total < TARGET_SECONDS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["theta", "auto"])
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the series (report_jobs)")
    parser.add_argument("--out", type=Path, default=Path("var/bench/report_render.json"))
    parser.add_argument("--domain", type=Path, default=None, help="The domain data folder (read only).")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    inputs, source = load_inputs(args.series, args.domain)
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="tc-bench-report-") as tmp:
        store = Store.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.create_schema()
        for meta, y in inputs:
            store.series.save_series(meta, y)
        ids = [meta.series_id for meta, _ in inputs]
        for model in args.models:
            result = bench_model(store, ids, model, args.horizon, args.windows, args.jobs)
            results.append(result)
            verdict = "PASS" if result["under_target"] else "FAIL"
            line = (
                f"{model:>10} (jobs={args.jobs}): report over {result['series']} series in "
                f"{result['run_report_seconds']:.2f} s (forecasts+backtests {result['collect_seconds']:.2f} s, "
                f"charts+HTML {result['render_seconds']:.2f} s, HTML {int(str(result['html_bytes'])) // 1024} KiB) "
                f"[{verdict}: target < {TARGET_SECONDS:.0f} s]"
            )
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        store.dispose()
    payload = {
        "benchmark": "report_render",
        "source": source,
        "horizon": args.horizon,
        "backtest_windows": args.windows,
        "cpus": os.cpu_count(),
        # Other processes on the machine slow every figure down; the load says how busy it was.
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    sys.stdout.write(f"figures written to {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
