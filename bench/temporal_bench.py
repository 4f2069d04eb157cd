"""Temporal hierarchies against ``auto`` (issue 36): M3 monthly and quarterly.

``--origin choose`` fits each training part without its last ``h`` periods (18 months, 8
quarters) and scores those held-out training values (the test parts are not read);
``--origin report`` fits the whole training part and scores the M3 test part. Arms: ``auto``
(the baseline), and ``forecast_temporal`` on ``--base`` forecasts at every aggregation level,
reconciled by each of ``--methods`` (one set of base fits for all), each also combined with
the base forecast at the series' own frequency for every share in ``--combine``. With
``--aggregate ets``, the same arms again with the levels above the series' frequency fit by
``ets`` (the bottom level's base forecast reused, so both sets share it).

    python -m bench.temporal_bench --data ../shared/data/m3/m3.csv.gz --origin choose --sample 100
    python -m bench.temporal_bench --data ../shared/data/m3/m3.csv.gz --origin choose --sample 100 \
        --methods wls_struct wls_var wls_mse --combine 0 0.5 --aggregate ets
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import forecasting
from bench.m3 import load_m3
from forecasting import metrics
from forecasting.temporal import TEMPORAL_METHODS, TemporalBase, reconcile_temporal, temporal_base

logger = logging.getLogger(__name__)

HOLDOUT = {"monthly": 18, "quarterly": 8}


@dataclass(frozen=True)
class Arms:
    """The temporal arms: reconciliations x combination shares x (optionally) a second base."""

    methods: tuple[str, ...] = TEMPORAL_METHODS
    combine: tuple[float, ...] = (0.0,)
    aggregate: str | None = None


def _scores(actual: np.ndarray, fc: pd.DataFrame, insample: np.ndarray, m: int) -> dict[str, float]:
    mean = fc["mean"].to_numpy()
    out = {"smape": metrics.smape(actual, mean), "mase": metrics.mase(actual, mean, insample, m)}
    for level in (80, 95):
        out[f"cov{level}"] = metrics.coverage(actual, fc[f"lo_{level}"].to_numpy(), fc[f"hi_{level}"].to_numpy())
    out["msis95"] = metrics.msis(actual, fc["lo_95"].to_numpy(), fc["hi_95"].to_numpy(), insample, 95, m)
    return out


def _bases(y: pd.Series, horizon: int, base_model: str, aggregate: str | None) -> dict[str, TemporalBase]:
    """The base fits: ``base_model`` at every level, and (with ``aggregate``) the same bottom
    level under ``aggregate``-fit upper levels (the bottom of that second fit, a cheap naive, dropped)."""
    base = temporal_base(y, horizon, base_model, n_paths=1000)
    out = {base_model: base}
    if aggregate:
        upper = temporal_base(y, horizon, "naive", aggregate_model=aggregate, n_paths=1000)
        fields = [{**getattr(upper, f), 1: getattr(base, f)[1]} for f in ("mean", "paths", "residuals", "models")]
        out[f"{base_model}+{aggregate}"] = TemporalBase(base.season_length, *fields)
    return out


def score_series(
    y: pd.Series, actual: np.ndarray, m: int, model: str, base_model: str, arms: Arms
) -> list[dict[str, object]]:
    horizon, insample = len(actual), y.to_numpy(dtype=float)
    rows: list[dict[str, object]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fc = forecasting.forecast(y, horizon, (80, 95), model=model, nonnegative=False)
            rows.append({"arm": model, **_scores(actual, fc, insample, m)})
            bases = _bases(y, horizon, base_model, arms.aggregate)
        except forecasting.ForecastingError as exc:
            logger.warning("%s: %s", y.name, exc)
            return []
        for name, base in bases.items():
            for method in arms.methods:
                for share in arms.combine:
                    tf = reconcile_temporal(y, horizon, (80, 95), base, method, combine=share)
                    arm = f"temporal_{name}_{method}" + (f"_c{share:g}" if share else "")
                    rows.append({"arm": arm, **_scores(actual, tf.frame, insample, m)})
    return rows


def run(
    path: str, periods: Sequence[str], origin: str, sample: int, model: str, base_model: str, arms: Arms
) -> pd.DataFrame:
    rows = []
    for period in periods:
        for i, s in enumerate(load_m3(path, periods=[period], sample=sample)):
            h = HOLDOUT[period]
            fit, actual = (s.train.iloc[:-h], s.train.to_numpy()[-h:]) if origin == "choose" else (s.train, s.test)
            for row in score_series(fit.rename(s.series_id), actual, s.season_length, model, base_model, arms):
                rows.append({"period": period, "series": s.series_id, **row})
            if (i + 1) % 25 == 0:
                logger.info("%s: %d series done", period, i + 1)
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame, model: str) -> pd.DataFrame:
    """Means per period and arm, and the paired sMAPE / MASE differences to ``model`` with SEs."""
    out = table.groupby(["period", "arm"])[["smape", "mase", "cov80", "cov95", "msis95"]].mean()
    for metric in ("smape", "mase", "msis95"):
        wide = table.pivot_table(index=["period", "series"], columns="arm", values=metric)
        diff = wide.sub(wide[model], axis=0)
        grouped = diff.groupby(level="period")
        out[f"d_{metric}"] = grouped.mean().stack()
        out[f"se_{metric}"] = (grouped.std(ddof=1) / np.sqrt(grouped.count())).stack()
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.temporal_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--origin", choices=("choose", "report"), default="choose")
    parser.add_argument("--periods", nargs="+", default=["monthly", "quarterly"], choices=list(HOLDOUT))
    parser.add_argument("--sample", type=int, default=100, help="series per period")
    parser.add_argument("--model", default="auto", help="the baseline")
    parser.add_argument("--base", default="auto", help="the base model of every temporal level")
    parser.add_argument("--methods", nargs="+", default=list(TEMPORAL_METHODS), choices=TEMPORAL_METHODS)
    parser.add_argument("--combine", nargs="+", type=float, default=[0.0], help="shares of the base forecast kept")
    parser.add_argument("--aggregate", default=None, help="also: the levels above the bottom fit by this model")
    parser.add_argument("--out", default="var/bench")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    arms = Arms(tuple(args.methods), tuple(args.combine), args.aggregate)
    table = run(args.data, args.periods, args.origin, args.sample, args.model, args.base, arms)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    tag = args.base + (f"+{args.aggregate}" if args.aggregate else "")
    table.to_csv(Path(args.out) / f"temporal_{args.origin}_{tag}.csv", index=False)
    with pd.option_context("display.width", 250, "display.precision", 3, "display.max_columns", 20):
        logger.info("M3, %s origins:\n%s", args.origin, summarise(table, args.model))
    logger.info("%.0f s wall, %.0f s CPU", time.perf_counter() - start, time.process_time())


if __name__ == "__main__":
    main()
