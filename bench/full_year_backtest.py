"""Backtest of ``forecasting.full_year`` against the analysts' year-to-date rule (issue 18).

Data: Russia's monthly exports to and imports from its 29 main partners (Federal Customs
Service, Jan 2006 - Dec 2021, USD millions), ``russia_fcs_trade_by_partner_monthly_2006_2021.csv``
in the domain folder. China-Russia trade is in it (partner China). The China-Russia GACC
press file is not used: its monthly figures are complete only for 2023, too few for rolling
years.

Series kept: every (flow, partner) with all 192 months present (no gaps) and a median month of
at least 50 USD millions (smaller flows are dominated by one-off shipments). The script prints
which series were dropped and why.

Cases: for every kept series, test year ``Y`` in ``--years`` (default 2014-2021, so every fit
has at least 8 years of history) and cutoff ``k`` in 3, 6, 9 observed months of ``Y``:

- ``full_year``: ``forecasting.full_year(y[: Y-k], model)`` (default ``auto``), 2,000 paths;
- ``rule``: last year's total x (this year's YTD / last year's YTD).

Scores: absolute percentage error of the annual total (APE, %), and for ``full_year`` whether
the 80% and 95% intervals contain the actual total. Means are over all cases; the standard
error treats series as the independent units (the mean of per-series means, its standard
deviation over series divided by the square root of their number), since the years of one
series are correlated.

Writes ``var/bench/full_year.csv`` (summary per cutoff) and ``var/bench/full_year_cases.csv``
(every case). Run::

    python -m bench.full_year_backtest --domain ../shared/data/domain [--jobs 2] [--model auto]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import full_year
from forecasting.frames import MEAN, hi_col, lo_col

LEVELS = (80, 95)
CUTOFFS = (3, 6, 9)
MIN_MEDIAN_MUSD = 50.0
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "full_year.csv"
DEFAULT_DOMAIN = Path(os.environ.get("TRADECAST_DOMAIN_DIR", ROOT.parent / "shared" / "data" / "domain"))


def load_series(domain: Path) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """Kept series by ``flow-partner`` key, and the dropped ones with the reason."""
    raw = pd.read_csv(domain / "russia_fcs_trade_by_partner_monthly_2006_2021.csv")
    raw["ds"] = pd.PeriodIndex.from_fields(year=raw["year"], month=raw["month"], freq="M")
    full = pd.period_range("2006-01", "2021-12", freq="M")
    kept: dict[str, pd.Series] = {}
    dropped: dict[str, str] = {}
    for (flow, partner), part in raw.groupby(["flow_russia", "partner_en"]):
        key = f"{flow}-{partner}"
        y = part.groupby("ds")["value_musd"].sum().reindex(full)
        if y.isna().any():
            dropped[key] = f"{int(y.isna().sum())} missing months"
        elif float(y.median()) < MIN_MEDIAN_MUSD:
            dropped[key] = f"median month {y.median():.1f} < {MIN_MEDIAN_MUSD:g} USD mn"
        elif (y <= 0).any():
            dropped[key] = "non-positive months"
        else:
            kept[key] = y.rename(key).astype(float)
    return kept, dropped


def run_case(args: tuple[str, pd.Series, int, int, str]) -> dict[str, object] | None:
    """Score one (series, year, cutoff) case; None (with a message) if full_year fails."""
    key, y, year, cutoff, model = args
    train = y[: pd.Period(f"{year}-{cutoff:02d}", freq="M")]
    actual = float(y[str(year)].sum())
    last_total = float(y[str(year - 1)].sum())
    ytd, ytd_last = float(train[str(year)].sum()), float(y[str(year - 1)].iloc[:cutoff].sum())
    rule = last_total * ytd / ytd_last
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fy = full_year(train, levels=LEVELS, model=model).iloc[0]
    except Exception as exc:  # reported, never hidden
        sys.stderr.write(f"  full_year failed on {key} {year} after {cutoff}: {exc}\n")
        return None
    row: dict[str, object] = {
        "series": key,
        "year": year,
        "cutoff": cutoff,
        "actual": actual,
        "full_year": float(fy[MEAN]),
        "rule": rule,
        "ape_full_year": 100 * abs(float(fy[MEAN]) - actual) / actual,
        "ape_rule": 100 * abs(rule - actual) / actual,
    }
    for lv in LEVELS:
        row[f"in{lv}"] = float(fy[lo_col(lv)] <= actual <= fy[hi_col(lv)])
    return row


def summarize(cases: pd.DataFrame) -> pd.DataFrame:
    """Per cutoff: case means, and standard errors with series as the units."""
    rows = []
    for cutoff, part in cases.groupby("cutoff"):
        per_series = part.groupby("series")[["ape_full_year", "ape_rule", *[f"in{lv}" for lv in LEVELS]]].mean()
        per_series["diff"] = per_series["ape_full_year"] - per_series["ape_rule"]
        n = len(per_series)
        row: dict[str, object] = {"cutoff_months": cutoff, "cases": len(part), "series": n}
        for col, name in (("ape_full_year", "mape_full_year"), ("ape_rule", "mape_rule"), ("diff", "mape_diff")):
            row[name] = float(per_series[col].mean())
            row[f"{name}_se"] = float(per_series[col].std(ddof=1) / np.sqrt(n))
        for lv in LEVELS:
            row[f"coverage_{lv}"] = float(100 * per_series[f"in{lv}"].mean())
            row[f"coverage_{lv}_se"] = float(100 * per_series[f"in{lv}"].std(ddof=1) / np.sqrt(n))
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain", type=Path, default=DEFAULT_DOMAIN)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--years", type=int, nargs=2, default=(2014, 2021), metavar=("FIRST", "LAST"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not args.domain.is_dir():
        sys.exit(f"domain data folder not found: {args.domain} (set --domain or TRADECAST_DOMAIN_DIR)")
    series, dropped = load_series(args.domain)
    for key, why in sorted(dropped.items()):
        sys.stdout.write(f"dropped {key}: {why}\n")
    work = [
        (key, y, year, cutoff, args.model)
        for key, y in series.items()
        for year in range(args.years[0], args.years[1] + 1)
        for cutoff in CUTOFFS
    ]
    sys.stdout.write(f"{len(series)} series kept, {len(dropped)} dropped; {len(work)} cases\n")
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = [r for r in pool.map(run_case, work, chunksize=4) if r is not None]
    cases = pd.DataFrame(results)
    summary = summarize(cases)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cases.to_csv(OUT.with_name("full_year_cases.csv"), index=False)
    summary.to_csv(OUT, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        sys.stdout.write(summary.round(2).to_string(index=False) + "\n")
    sys.stdout.write(f"{len(cases)} cases scored in {time.perf_counter() - started:.0f} s -> {OUT}\n")


if __name__ == "__main__":
    main()
