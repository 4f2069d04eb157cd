"""Real-time backtest of China-Russia trade (GACC, annual) over its recorded releases (issue 22).

The compiled file ``china_russia_annual_trade_compiled.csv`` of the domain folder holds, per
year, the total China's customs (GACC) reported and the press report that carried it. Each
report is taken as a release: its publication date is the earliest full date (``2019-01-14``)
named in the ``gacc_source`` text, else the end of the earliest month named (``2025-01``),
else the end of the earliest year named (``vietnamplus 2011`` -> 2011-12-31). That is when the
figure is *known to have been* public, often later than GACC's own January release.

The releases are loaded into a temporary store, one vintage per publication date holding every
year published by then (``store.series.save_series(..., published_at=..., skip_unchanged=True)``), and
read back in publication order (``store.series.vintage_history``). Each vintage is forecast
``--horizon`` years ahead from its latest unbroken stretch
(:func:`forecasting.realtime.realtime_backtest`) and scored against the latest figures. The
same origins are also run on the latest figures cut at each origin ("pseudo real time"):
the difference between the two is the effect of revisions.

Run: ``make bench-realtime`` or, from the repository root,
``.venv/bin/python -m bench.realtime_backtest --domain <domain folder> [--models naive drift auto]``.
Writes ``var/bench/realtime_backtest.csv`` (every forecast) and prints the tables.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from data import SeriesMeta, Store
from forecasting.realtime import RealtimeBacktest, pseudo_vintages, realtime_backtest, score_realtime

FILE = "china_russia_annual_trade_compiled.csv"
SERIES_ID = "cn_ru_trade_total_annual"
_FULL = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?!\d)")
_MONTH = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})(?![\d-])")
_YEAR = re.compile(r"(?<![\d-])((?:19|20)\d{2})(?![\d-])")


def publication_date(source: str, year: int) -> datetime:
    """When a press report of ``year``'s figure was public, from the dates its source names."""
    full = [datetime(int(y), int(m), int(d), tzinfo=UTC) for y, m, d in _FULL.findall(source)]
    if full:
        return min(full)
    months = [pd.Period(f"{y}-{m}", freq="M").end_time.floor("s") for y, m in _MONTH.findall(source)]
    if months:
        end: datetime = min(months).to_pydatetime()
        return end.replace(tzinfo=UTC)
    years = [int(y) for y in _YEAR.findall(source) if int(y) > year]
    if years:
        return datetime(min(years), 12, 31, tzinfo=UTC)
    raise ValueError(f"no publication date after {year} in {source!r}")


def read_releases(domain: Path) -> pd.DataFrame:
    """``year, value, published_at, source`` of every GACC annual figure in the compiled file."""
    raw = pd.read_csv(domain / FILE)
    rows = raw[raw["gacc_total_usd_bn"].notna()]
    out = pd.DataFrame(
        {
            "year": rows["year"].astype(int),
            "value": rows["gacc_total_usd_bn"].astype(float),
            "source": rows["gacc_source"].astype(str),
        }
    )
    out["published_at"] = [publication_date(s, y) for s, y in zip(out["source"], out["year"], strict=True)]
    return out.sort_values(["published_at", "year"]).reset_index(drop=True)


def store_releases(store: Store, releases: pd.DataFrame) -> int:
    """One vintage per publication date with every year published by then; returns how many."""
    meta = SeriesMeta(SERIES_ID, name="China-Russia trade (GACC)", frequency="annual", unit="USD bn")
    made = 0
    for when in sorted(releases["published_at"].unique()):
        known = releases[releases["published_at"] <= when]
        index = pd.PeriodIndex([pd.Period(str(y), freq="Y") for y in known["year"]], freq="Y")
        y = pd.Series(known["value"].to_numpy(), index=index).sort_index()
        info = store.series.save_series(
            meta, y, published_at=when, skip_unchanged=True, release=f"press {when:%Y-%m-%d}"
        )
        made += int(info.created)
    return made


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", type=Path, required=True, help="The shared domain-data folder.")
    parser.add_argument("--models", nargs="+", default=["naive", "drift", "auto"])
    parser.add_argument("--horizon", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    releases = read_releases(args.domain)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.from_url(f"sqlite:///{Path(tmp) / 'realtime.db'}")
        store.create_schema()
        try:
            n_vintages = store_releases(store, releases)
            history = store.series.vintage_history(SERIES_ID)
        finally:
            store.dispose()
    vintages = [(f"{h.vintage.effective_at:%Y-%m-%d}", h.series) for h in history]
    latest = history[-1].series
    real = realtime_backtest(vintages, latest, args.horizon, models=args.models)
    pseudo = realtime_backtest(pseudo_vintages(vintages, latest), latest, args.horizon, models=args.models)
    _report(releases, n_vintages, real, pseudo, args.out)
    _say(f"\n{time.perf_counter() - started:.1f} s")
    return 0


def _report(
    releases: pd.DataFrame, n_vintages: int, real: RealtimeBacktest, pseudo: RealtimeBacktest, out: Path
) -> None:
    pd.set_option("display.width", 160)
    _say(f"{len(releases)} GACC annual figures, {n_vintages} vintages (one per publication date)")
    _say(releases[["year", "value", "published_at"]].to_string(index=False))
    _say(f"\nskipped vintage x model ({len(real.skipped)}): too few years in the latest unbroken stretch")
    for label, reason in real.skipped:
        _say(f"  {label}: {reason}")
    shown = real.frame[["vintage", "model", "cutoff", "ds", "h", "mean", "lo_80", "hi_80", "y"]]
    _say("\nreal-time forecasts (y = latest figure, NaN = not published yet)")
    _say(shown.round(2).to_string(index=False))
    _say("\nreal time: errors against the latest figures (USD bn)")
    _say(score_realtime(real.frame).round(3).to_string(index=False))
    _say("\nreal time, on the vintages every model forecast")
    _say(score_realtime(real.frame, common=True).round(3).to_string(index=False))
    _say("\npseudo real time (latest figures cut at the same origins)")
    _say(score_realtime(pseudo.frame).round(3).to_string(index=False))
    out.mkdir(parents=True, exist_ok=True)
    real.frame.to_csv(out / "realtime_backtest.csv", index=False)


if __name__ == "__main__":
    sys.exit(main())
