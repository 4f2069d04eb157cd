"""Drivers and gaps (issue 20): the two experiments behind ``docs/drivers.md``.

(a) Simulated drivers: monthly series ``y = 100 + beta * x + ARIMA noise`` where the driver
    ``x`` (a random walk plus a seasonal wave) is known over the horizon. Forecast with the
    drivers (``X``, ``X_future``) and without (univariate ``auto``); report the ratio of the
    mean absolute errors (target: at most 0.5) and the 95% coverage of the forecast with
    drivers (target: 90-99%).
(b) Gaps: a sample of M3 monthly series with 30% of the training observations removed at
    random (the last one kept, so the forecast origin is the same); forecast the gappy copy
    with ``missing="model"`` and the complete copy as a user would, with the defaults
    (``missing="error"``; before 2026-12-07 the complete copy also went through
    ``missing="model"``, which hid the cost of the gaps); report the ratio of the mean sMAPEs
    on the M3 test parts (target: within 10%, ratio <= 1.10).

(c) Scenarios with uncertain drivers: the simulated series of (a), but the driver's future
    is *not* known; the scenario is the driver's own naive forecast (its last value held).
    Report the 95% coverage of the actuals with the scenario taken as certain and with
    ``driver_uncertainty=True`` (the driver's own forecast errors fed through the model).

The simulation's parameters and the deletion seed are fixed before any run and not tuned.

Run from the repository root (``make bench-domain`` runs both with the defaults)::

    python -m bench.drivers_bench simulated --series 40
    python -m bench.drivers_bench gaps --data <m3 folder>/m3.csv.gz --sample 200 --model auto
    python -m bench.drivers_bench scenarios --series 20 --model structural
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

import forecasting
from forecasting import metrics

logger = logging.getLogger(__name__)

HORIZON = 12
N_TRAIN = 96


def simulate_driven(
    seed: int, n: int = N_TRAIN, horizon: int = HORIZON
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """One simulated series: y, X, X_future and the future actuals."""
    rng = np.random.default_rng(seed)
    total = n + horizon
    t = np.arange(total)
    x = np.cumsum(rng.normal(0.0, 1.0, total)) + 5.0 * np.sin(2 * np.pi * t / 12.0 + rng.uniform(0, 2 * np.pi))
    beta = rng.uniform(1.0, 3.0)
    # ARIMA(1,0,1) noise with unit innovations.
    eps = rng.normal(0.0, 1.0, total + 1)
    noise = np.zeros(total)
    for i in range(1, total):
        noise[i] = 0.6 * noise[i - 1] + eps[i + 1] + 0.3 * eps[i]
    index = pd.period_range("2010-01", periods=total, freq="M")
    y = pd.Series(100.0 + beta * x + noise, index=index, name=f"sim{seed}")
    X = pd.DataFrame({"x": x}, index=index)
    return y.iloc[:n], X.iloc[:n], X.iloc[n:], y.iloc[n:].to_numpy()


def run_simulated(n_series: int, model: str) -> pd.DataFrame:
    """Experiment (a): one row per series with both MAEs and the 95% coverage."""
    rows = []
    for seed in range(n_series):
        y, X, X_future, actual = simulate_driven(seed)
        with_x = forecasting.forecast(y, HORIZON, (95,), model=model, X=X, X_future=X_future)
        plain = forecasting.forecast(y, HORIZON, (95,), model="auto")
        rows.append(
            {
                "series": y.name,
                "mae_drivers": metrics.mae(actual, with_x["mean"].to_numpy()),
                "mae_univariate": metrics.mae(actual, plain["mean"].to_numpy()),
                "covered_95": float(np.mean((actual >= with_x["lo_95"]) & (actual <= with_x["hi_95"]))),
            }
        )
    return pd.DataFrame(rows)


def run_scenarios(n_series: int, model: str, driver_paths: int = 50) -> pd.DataFrame:
    """Experiment (c): 95% coverage with the driver's naive path as certain, and with its errors."""
    rows = []
    for seed in range(n_series):
        y, X, X_future, actual = simulate_driven(seed)
        held = pd.DataFrame({"x": np.repeat(X["x"].iloc[-1], HORIZON)}, index=X_future.index)
        row: dict[str, object] = {"series": y.name}
        for label, uncertain in (("certain", False), ("uncertain", True)):
            fc = forecasting.forecast_scenarios(
                y,
                HORIZON,
                X,
                {"naive": held},
                (95,),
                model,
                driver_uncertainty=uncertain,
                driver_model="naive",
                n_paths=20 * driver_paths,
                driver_paths=driver_paths,
            )["naive"]
            inside = (actual >= fc["lo_95"].to_numpy()) & (actual <= fc["hi_95"].to_numpy())
            row[f"covered_95_{label}"] = float(np.mean(inside))
            row[f"width_95_{label}"] = float(np.mean(fc["hi_95"] - fc["lo_95"]))
        rows.append(row)
    return pd.DataFrame(rows)


def remove_at_random(y: pd.Series, share: float, seed: int) -> pd.Series:
    """``y`` with ``share`` of its values (never the last) set to NaN."""
    rng = np.random.default_rng(seed)
    gappy = y.copy()
    k = round(share * len(y))
    gappy.iloc[rng.choice(len(y) - 1, size=k, replace=False)] = np.nan
    return gappy


def run_gaps(path: str, sample: int, model: str, share: float = 0.3, seed: int = 20) -> pd.DataFrame:
    """Experiment (b): one row per M3 monthly series with both sMAPEs."""
    from bench.m3 import load_m3

    rows = []
    for i, s in enumerate(load_m3(path, periods=["monthly"], sample=sample)):
        gappy = remove_at_random(s.train, share, seed + i)
        row: dict[str, object] = {"series": s.series_id}
        for label, y in (("complete", s.train), ("gaps", gappy)):
            # The baseline is what a user gets from the complete series with the defaults
            # (missing="error"); only the gappy copy goes through missing="model".
            missing = "model" if label == "gaps" else "error"
            try:
                fc = forecasting.forecast(y, s.horizon, (), model=model, missing=missing)
                row[f"smape_{label}"] = metrics.smape(s.test, fc["mean"].to_numpy())
            except forecasting.ForecastingError as exc:
                logger.warning("%s (%s): %s", s.series_id, label, exc)
                row[f"smape_{label}"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.drivers_bench", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="experiment", required=True)
    sim = sub.add_parser("simulated", help="(a) known future drivers vs univariate auto")
    sim.add_argument("--series", type=int, default=40)
    sim.add_argument("--model", default="auto")
    scen = sub.add_parser("scenarios", help="(c) 95%% coverage with uncertain drivers")
    scen.add_argument("--series", type=int, default=20)
    scen.add_argument("--model", default="structural")
    gaps = sub.add_parser("gaps", help="(b) M3 monthly with 30%% of observations removed")
    gaps.add_argument("--data", required=True)
    gaps.add_argument("--sample", type=int, default=200)
    gaps.add_argument("--model", default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    if args.experiment == "simulated":
        table = run_simulated(args.series, args.model)
        ratio = table["mae_drivers"].mean() / table["mae_univariate"].mean()
        logger.info(
            "simulated drivers, %d series, model=%s: MAE with drivers %.3f, univariate auto %.3f, ratio %.3f "
            "(target <= 0.5); 95%% coverage %.1f%% (target 90-99)",
            len(table),
            args.model,
            table["mae_drivers"].mean(),
            table["mae_univariate"].mean(),
            ratio,
            100 * table["covered_95"].mean(),
        )
    elif args.experiment == "scenarios":
        table = run_scenarios(args.series, args.model)
        logger.info(
            "scenarios, %d simulated series, model=%s, driver path = its last value held: 95%% coverage "
            "%.1f%% with the path as certain (mean width %.2f), %.1f%% with driver_uncertainty (mean width %.2f)",
            len(table),
            args.model,
            100 * table["covered_95_certain"].mean(),
            table["width_95_certain"].mean(),
            100 * table["covered_95_uncertain"].mean(),
            table["width_95_uncertain"].mean(),
        )
    else:
        table = run_gaps(args.data, args.sample, args.model)
        done = table.dropna()
        ratio = done["smape_gaps"].mean() / done["smape_complete"].mean()
        diff = done["smape_gaps"] - done["smape_complete"]
        logger.info(
            "M3 monthly, %d series (%d fitted both ways), model=%s, 30%% removed: sMAPE complete %.2f, "
            "with gaps %.2f (paired difference %.2f, standard error %.2f), ratio %.3f (target <= 1.10); "
            "CPU %.1f s",
            len(table),
            len(done),
            args.model,
            done["smape_complete"].mean(),
            done["smape_gaps"].mean(),
            diff.mean(),
            diff.std(ddof=1) / np.sqrt(len(diff)),
            ratio,
            time.process_time(),
        )
    logger.info("%.0f s", time.perf_counter() - start)


if __name__ == "__main__":
    main()
