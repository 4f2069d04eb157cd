"""Interval coverage on real economic trade series that are not M3 (issue 3).

The interval calibration of ``auto`` is learned on the M3 training parts; this benchmark
checks the same coverage bounds on trade data it never saw, by rolling origins:

- annual: IMF Direction of Trade Statistics, exports and imports between Brazil, China,
  India, Mexico, Russia and Uruguay (60 series, 1948-2020), each series' latest complete
  stretch (values above 1e13 USD, the file's known corrupt cells, count as missing);
  horizon 6, origins at the ends of 2008 ... 2014 (the last forecast year is 2020), only
  origins with at least 20 years of history;
- monthly: Russia's exports to and imports from its 29 main partners (Federal Customs
  Service), Jan 2006 - Dec 2021; horizon 18, origins every 12 months from Dec 2011 to
  Jun 2020 (at least 6 years of history).

Reads the domain folder (``--domain``; ``make bench-domain`` passes the Makefile's
``DOMAIN_DIR``); the files are never copied into the project. Prints, per
frequency and model, 80%/95% coverage over all origins, series and steps, the mean MSIS at
95% and the number of forecasts, then the coverage per forecast origin and per fit length
(under 45 points and 45 or more, where ``auto``'s non-seasonal tables change); writes the
tables to ``var/bench/domain_coverage*.csv``.

Run: ``make bench-domain`` or, from the repository root,
``.venv/bin/python -m bench.domain_coverage --domain <domain folder> [--models auto ets]``;
the model name ``auto-uncalibrated`` scores ``auto`` without its interval calibration.
Expect a few minutes with ``auto`` on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import forecast
from forecasting.auto import Auto
from forecasting.core import latest_complete_stretch
from forecasting.executor import get_executor
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.intervals import load_calibration
from forecasting.metrics import msis

LEVELS = (80, 95)
UNCALIBRATED = "auto-uncalibrated"  # auto's raw mixture intervals, Auto(calibrate=False)
OUT = Path(__file__).resolve().parents[1] / "var" / "bench" / "domain_coverage.csv"


# Fit length from which auto's non-seasonal forecasts use the table of long fits.
def _long_fit() -> int:
    calibration = load_calibration("auto")
    if calibration is None:
        raise RuntimeError("the shipped calibration forecasting/calibration/auto.json is missing")
    return calibration.edges_by_season[1][-1]


LONG_FIT = _long_fit()


def annual_series(domain: Path) -> dict[str, pd.Series]:
    """IMF DOTS annual bilateral trade, one series per (reporter, flow, partner)."""
    raw = pd.read_csv(domain / "imf_dots_annual_bra_chn_ind_mex_rus_ury_1948_2020.csv")
    years = [c for c in raw.columns if c.isdigit()]
    out: dict[str, pd.Series] = {}
    for _, row in raw.iterrows():
        values = pd.to_numeric(row[years], errors="coerce").astype(float)
        values[values > 1e13] = np.nan  # the file's known corrupt cells
        y = pd.Series(values.to_numpy(), index=pd.period_range(years[0], periods=len(years), freq="Y"))
        stretch, _ = latest_complete_stretch(y)
        flow = "exports" if str(row["Indicator Code"]).startswith("TX") else "imports"
        out[f"{row['Country Code']}-{flow}-{row['Counterpart Country Code']}"] = stretch[stretch > 0]
    return out


def monthly_series(domain: Path) -> dict[str, pd.Series]:
    """Russia's monthly trade by partner, one series per (flow, partner)."""
    raw = pd.read_csv(domain / "russia_fcs_trade_by_partner_monthly_2006_2021.csv")
    raw["ds"] = pd.PeriodIndex.from_fields(year=raw["year"], month=raw["month"], freq="M")
    out: dict[str, pd.Series] = {}
    for (flow, partner), part in raw.groupby(["flow_russia", "partner_en"]):
        y = part.set_index("ds")["value_musd"].sort_index()
        full = y.reindex(pd.period_range(y.index.min(), y.index.max(), freq="M"))
        stretch, _ = latest_complete_stretch(full)
        out[f"{flow}-{partner}"] = stretch
    return out


Task = tuple[str, str, pd.Series, np.ndarray]


def tasks(series: dict[str, pd.Series], horizon: int, origins: list[pd.Period], min_obs: int) -> Iterator[Task]:
    for key, y in series.items():
        for origin in origins:
            train = y[y.index <= origin]
            test = y[(y.index > origin)].iloc[:horizon]
            if len(train) >= min_obs and len(test) == horizon:
                yield key, str(origin), train, test.to_numpy()


def _run(args: tuple[list[str], Task]) -> list[dict[str, object]]:
    models, (key, origin, train, test) = args
    rows: list[dict[str, object]] = []
    for model in models:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec = Auto(calibrate=False) if model == UNCALIBRATED else model
                fc = forecast(train, len(test), levels=LEVELS, model=spec)
        except Exception as exc:  # reported, never hidden
            sys.stderr.write(f"  {model} failed on {key} @ {origin}: {exc}\n")
            continue
        row = {"model": model, "series": key, "origin": origin, "n": len(test), "n_train": len(train)}
        m = 12 if train.index.freqstr.startswith("M") else 1
        for lv in LEVELS:
            lo, hi = fc[lo_col(lv)].to_numpy(), fc[hi_col(lv)].to_numpy()
            row[f"hits{lv}"] = int(np.sum((test >= lo) & (test <= hi)))
            row[f"msis{lv}"] = msis(test, lo, hi, train.to_numpy(), lv, season_length=m)
        row["smape"] = float(np.mean(200 * np.abs(test - fc[MEAN]) / (np.abs(test) + np.abs(fc[MEAN]))))
        rows.append(row)
    return rows


def coverage_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """80%/95% coverage (percent of outcomes inside) and outcome count per frequency, model
    and value of ``column``."""
    grouped = frame.groupby(["frequency", "model", column])
    out = grouped[["n", "hits80", "hits95"]].sum().reset_index()
    out["cov80"] = 100 * out["hits80"] / out["n"]
    out["cov95"] = 100 * out["hits95"] / out["n"]
    return out.rename(columns={"n": "points"}).drop(columns=["hits80", "hits95"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain", type=Path, required=True, help="The domain data folder (read only).")
    parser.add_argument("--models", nargs="+", default=["auto"])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--frequencies", nargs="+", choices=["annual", "monthly"], default=["annual", "monthly"])
    args = parser.parse_args()
    if not args.domain.is_dir():
        sys.exit(f"domain data folder not found: {args.domain} (set --domain)")
    started = time.perf_counter()
    work = {
        "annual": list(tasks(annual_series(args.domain), 6, [pd.Period(str(y), "Y") for y in range(2008, 2015)], 20)),
        "monthly": list(
            tasks(
                monthly_series(args.domain),
                18,
                list(pd.period_range("2011-12", "2020-06", freq="M")[::12]),
                72,
            )
        ),
    }
    work = {freq: items for freq, items in work.items() if freq in args.frequencies}
    results = []
    with get_executor(args.jobs) as executor:
        for freq, items in work.items():
            sys.stderr.write(f"{freq}: {len(items)} forecast origins x {len(args.models)} model(s) ...\n")
            done = dict(executor.stream((i, partial(_run, (args.models, item))) for i, item in enumerate(items)))
            for i in sorted(done):
                for row in done[i].unwrap():
                    row["frequency"] = freq
                    results.append(row)
    frame = pd.DataFrame(results)
    table = (
        frame.groupby(["frequency", "model"])
        .agg(
            series=("series", "nunique"),
            origins=("origin", "size"),
            points=("n", "sum"),
            hits80=("hits80", "sum"),
            hits95=("hits95", "sum"),
            msis95=("msis95", "mean"),
            smape=("smape", "mean"),
        )
        .reset_index()
    )
    table["cov80"] = 100 * table["hits80"] / table["points"]
    table["cov95"] = 100 * table["hits95"] / table["points"]
    table = table.drop(columns=["hits80", "hits95"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    frame["length"] = np.where(frame["n_train"] < LONG_FIT, f"< {LONG_FIT}", f">= {LONG_FIT}")
    by_origin, by_length = coverage_by(frame, "origin"), coverage_by(frame, "length")
    by_origin.to_csv(OUT.with_name("domain_coverage_by_origin.csv"), index=False)
    by_length.to_csv(OUT.with_name("domain_coverage_by_length.csv"), index=False)
    with pd.option_context("display.width", 140, "display.precision", 2):
        sys.stdout.write(table.to_string(index=False) + "\n")
        sys.stdout.write("\nby forecast origin (the calendar's shocks are shared by all series):\n")
        sys.stdout.write(by_origin.to_string(index=False) + "\n")
        sys.stdout.write(f"\nby length of the fit (auto's tables split non-seasonal fits at {LONG_FIT}):\n")
        sys.stdout.write(by_length.to_string(index=False) + "\n")
    sys.stdout.write(f"wall time {time.perf_counter() - started:.0f} s; table written to {OUT}\n")


if __name__ == "__main__":
    main()
