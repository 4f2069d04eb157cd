"""Seasonal adjustment around a non-seasonal model (the M4 benchmarks' recipe)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.seasonality import is_seasonal, seasonal_indices

__all__ = ["Deseasonalized", "SeasonallyAdjustedARIMA"]


class Deseasonalized(BaseForecaster):
    """Fit ``model`` to seasonally adjusted data and re-seasonalise its forecasts.

    When the series is seasonal (90% ACF test at lag ``season_length``, or always with
    ``test=False``) and strictly positive, it is divided by the seasonal indices of a
    classical multiplicative decomposition; the inner model (given ``season_length=1``) is
    fitted to the adjusted series, and its mean and bounds are multiplied back by the
    indices of the forecast periods. Otherwise the inner model sees the raw series.

    Parameters
    ----------
    model : BaseForecaster or None
        The non-seasonal inner model (cloned before each fit); None means ``ARIMA()``.
    season_length : int or None
        Periods per season; None infers it from the index.
    test : bool
        Adjust only when the seasonality test passes (default) or whenever ``season_length > 1``.
    """

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=4)

    def __init__(
        self, model: BaseForecaster | None = None, season_length: int | None = None, test: bool = True
    ) -> None:
        self.model = model
        self.season_length = season_length
        self.test = test

    def _inner(self) -> BaseForecaster:
        if self.model is None:
            from forecasting.models.arima import ARIMA

            return ARIMA()
        return self.model

    def min_obs(self) -> int:
        return max(self.tags.min_obs, self._inner().min_obs())

    def _fit(self, y: pd.Series) -> None:
        arr = y.to_numpy()
        m = self.season_length_
        # A classical decomposition needs two full seasons to estimate every index.
        adjust = m > 1 and len(arr) >= 2 * m and bool(np.all(arr > 0)) and (not self.test or is_seasonal(arr, m))
        self.indices_ = seasonal_indices(arr, m) if adjust else np.ones(max(m, 1))
        self.adjusted_ = adjust
        adjusted = arr / self.indices_[np.arange(len(arr)) % len(self.indices_)]
        inner = clone(self._inner())
        if "season_length" in inner.get_params():
            inner.set_params(season_length=1)
        self.inner_ = inner.fit(pd.Series(adjusted, index=y.index, name=y.name))
        self.params_ = {"seasonally_adjusted": adjust, "inner": getattr(self.inner_, "params_", {})}

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        fc = self.inner_.predict(horizon, levels=levels)
        factor = self.indices_[(self.n_obs_ + np.arange(horizon)) % len(self.indices_)]
        mean = fc[MEAN].to_numpy() * factor
        intervals = {lv: (fc[lo_col(lv)].to_numpy() * factor, fc[hi_col(lv)].to_numpy() * factor) for lv in levels}
        return mean, intervals

    def _sample_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # The bounds are the inner model's times the seasonal indices, so its paths times the
        # same indices have exactly this model's marginals (no second mapping needed).
        factor = self.indices_[(self.n_obs_ + np.arange(horizon)) % len(self.indices_)]
        return np.asarray(self.inner_._sample_paths(horizon, n_paths, rng) * factor[:, None])

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        from forecasting.models.theta import Theta

        return [{}, {"model": Theta(), "test": False}]


class SeasonallyAdjustedARIMA(Deseasonalized):
    """Non-seasonal automatic ARIMA on classically seasonally adjusted data.

    A fast alternative to seasonal ARIMA: the seasonal search of statsforecast's
    AutoARIMA costs seconds per monthly series.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    test : bool
        Adjust only when the seasonality test passes (default).
    """

    def __init__(self, season_length: int | None = None, test: bool = True) -> None:
        super().__init__(model=None, season_length=season_length, test=test)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"test": False}]
