"""``auto``: the default model.

What it is was decided by measurement on M3 (see ``docs/engine.md``): an equal-weight
combination whose members depend on the season length, with intervals whose half-widths are
calibrated per season length, series length (and, where the calibration found it worth it,
volatility), step ahead and level (:mod:`forecasting.intervals`). The calibrated base band is
the members' mixture, or, for the tables where the calibration chose it, a normal band with the
members' pooled sd.

- Annual and other non-seasonal data (season length 1): ETS, ARIMA, dynamic optimised Theta.
- Quarterly (4): CES; ARIMA and Theta on seasonally adjusted data (classical multiplicative
  decomposition, always applied); and the standard Theta (which adjusts only when the
  seasonality test passes).
- Monthly and other seasonal data: ETS and seasonal ARIMA that choose seasonality
  themselves (AICc; ARIMA's seasonal-strength test, searched with the CSS approximation),
  standard Theta, dynamic optimised Theta, and CES on seasonally adjusted data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.ensemble import Ensemble, mixture_intervals, pooled_intervals
from forecasting.intervals import (
    MIXTURE,
    POOLED,
    WidthCalibration,
    apply_width_factors,
    load_calibration,
    volatility,
)
from forecasting.models.arima import ARIMA
from forecasting.models.deseasonalized import Deseasonalized
from forecasting.models.ets import ETS
from forecasting.models.theta import CES, Theta

__all__ = ["Auto"]


def members_for(season_length: int) -> tuple[str | BaseForecaster, ...]:
    """The members ``auto`` combines for a series of this season length."""
    if season_length <= 1:
        return ("ets", "arima", "optimized_theta")
    if season_length <= 4:
        return (
            "ces",
            Deseasonalized(model=ARIMA(), test=False),
            Deseasonalized(model=Theta(), test=False),
            "theta",
        )
    return (
        ETS(seasonality_test=False),
        ARIMA(approximation=True),
        "theta",
        "optimized_theta",
        Deseasonalized(model=CES(), test=True),
    )


#: Below this many observations no regular member can be fitted (ARIMA and Theta need 4);
#: ``auto`` then forecasts with the drift method alone (3 observations), so a three-point
#: series still gets an answer, with the thin-evidence warning every short series carries.
SHORT_SERIES_BELOW = 4
SHORT_SERIES_MEMBERS: tuple[str, ...] = ("drift",)


class Auto(Ensemble):
    """The default model: a combination of ETS, ARIMA and Theta variants chosen by season
    length (see the module docstring), with calibrated intervals.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    calibrate : bool
        Apply the packaged interval calibration (default True). With False the intervals
        are the raw mixture quantiles of the ensemble.
    """

    interval_method: ClassVar[str] = "ensemble mixture quantiles"
    # Fixed, not parameters: the members come from members_for() and are always averaged.
    combine: ClassVar[str] = "mean"  # type: ignore[misc]

    def __init__(self, season_length: int | None = None, calibrate: bool = True) -> None:
        self.season_length = season_length
        self.calibrate = calibrate

    tags: ClassVar[ModelTags] = replace(Ensemble.tags, min_obs=3)

    def _member_names(self) -> tuple[str | BaseForecaster, ...]:
        if getattr(self, "n_obs_", SHORT_SERIES_BELOW) < SHORT_SERIES_BELOW:
            return SHORT_SERIES_MEMBERS
        return members_for(int(getattr(self, "season_length_", None) or 1))

    def min_obs(self) -> int:
        return self.tags.min_obs

    def _fit(self, y: pd.Series) -> None:
        super()._fit(y)
        calibration = load_calibration("auto") if self.calibrate else None
        self.calibration_ = calibration
        self.volatility_ = volatility(y.to_numpy())
        self.interval_method_ = self.interval_method
        self.band_ = MIXTURE
        kind = (self.season_length_, self.n_obs_, self.volatility_)
        if calibration is not None and calibration.table(*kind) is not None:
            self.band_ = calibration.band(*kind)
            self.interval_method_ = _describe_calibrated(self.band_, calibration, self.n_obs_)

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        point, shifted, sds = self.member_moments(horizon)
        if not levels:
            return point, {}
        if self.calibration_ is not None:
            # The drift method of the shortest series has the drift's estimation error already.
            sds = self.calibration_.member_sds(sds, self.n_obs_, trend=self.n_obs_ >= SHORT_SERIES_BELOW)
        if self.band_ == POOLED:
            intervals = pooled_intervals(point, sds, levels)
        else:
            intervals = mixture_intervals(shifted, sds, levels)
        calibration = self.calibration_
        if calibration is None:
            return point, intervals
        factors = {}
        for level in levels:
            k = calibration.factor(self.season_length_, self.n_obs_, horizon, level, self.volatility_)
            if k is not None:
                factors[level] = k
        if not factors:
            return point, intervals
        return point, apply_width_factors(point, intervals, factors)


_POOLED_METHOD = "normal around the combined forecast with the members' pooled sd"


def _describe_calibrated(band: str, calibration: WidthCalibration, n_obs: int) -> str:
    """``interval_method_`` of a calibrated fit: the base band and what was done to it."""
    base = Auto.interval_method if band != POOLED else _POOLED_METHOD
    capped = f", member sds capped at {calibration.sd_cap:g} times their median" if calibration.sd_cap else ""
    trend = ""
    if calibration.trend_term is not None and SHORT_SERIES_BELOW <= n_obs < calibration.trend_term_below:
        trend = f", widened by the sampling error of the trend (fits under {calibration.trend_term_below} points)"
    return f"{base}{capped}{trend}, half-widths calibrated ({calibration.source})"
