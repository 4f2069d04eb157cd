"""The functions that run on the executor's workers: fit and forecast, warm-up.

A backtest runs :func:`forecasting.fit.backtest_models` on the workers as it is.

They take and return picklable values only; the executor records their warnings and
their errors (:class:`forecasting.executor.TaskResult`).
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

import forecasting
from forecasting.fit import DriverCoefficient, ForecastPlan
from forecasting.outlook import FullYearOptions, GrowthBlocks, GrowthOptions

__all__ = ["FitOutcome", "fit_plan", "import_models", "warm_up"]


@dataclass(frozen=True)
class FitOutcome:
    """What a forecasting worker sends back: the frame, how its intervals were made, the blocks,
    the scenarios and the drivers' coefficients (plain values: no fitted model crosses processes)."""

    frame: pd.DataFrame
    interval_method: str
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None
    scenarios: dict[str, pd.DataFrame] | None = None
    coefficients: tuple[DriverCoefficient, ...] = ()


def fit_plan(plan: ForecastPlan) -> FitOutcome:
    """Fit a checked forecast (:func:`forecasting.plan_forecast`, run in the request thread) once."""
    fitted = plan.fit()
    return FitOutcome(
        fitted.forecast,
        fitted.interval_method,
        fitted.growth,
        fitted.full_year,
        fitted.scenarios or None,
        tuple(fitted.coefficients),
    )


def import_models() -> int:
    """Import every registered model (the light warm-up); return this process's id."""
    forecasting.list_models()
    return os.getpid()


#: The process that :func:`warm_up` has warmed (a forked child must warm itself again).
_warmed_pid: int | None = None
_warm_lock = threading.Lock()


def _warm_series(freq: str, n: int, season: int) -> pd.Series:
    # A trend with a seasonal wave and a deterministic wiggle: small, yet enough for every
    # candidate of auto (seasonal ones included) to be fitted and compiled.
    t = np.arange(n, dtype=float)
    values = 100.0 + 0.8 * t + 6.0 * np.sin(2 * np.pi * t / season) + 2.0 * np.cos(1.7 * t)
    return pd.Series(values, index=pd.period_range("2010-01", periods=n, freq=freq), name="warm_up")


def warm_up() -> int:
    """Import the models and run small fits of ``auto`` once in this process; return its pid.

    A fresh worker's first fit otherwise pays for the imports and for numba compiling the
    statsforecast kernels (seconds, against a fraction of a second warm). Monthly, quarterly
    and annual series take different candidates, so each is fitted once, with intervals and
    the growth and full-year blocks a forecast request may ask for. Cheap once warmed.
    """
    global _warmed_pid
    with _warm_lock:
        if _warmed_pid != os.getpid():
            forecasting.list_models()
            with warnings.catch_warnings():
                # Whatever the tiny series make the models say is not the caller's concern.
                warnings.simplefilter("ignore")
                for freq, n, season in (("M", 48, 12), ("Q", 24, 4), ("Y", 16, 4)):
                    monthly = freq == "M"
                    growth, full_year = (GrowthOptions(), FullYearOptions()) if monthly else (None, None)
                    y = _warm_series(freq, n, season)
                    forecasting.fit_forecast(y, 6, (80, 95), "auto", "level", growth=growth, full_year=full_year)
            _warmed_pid = os.getpid()
    return os.getpid()
