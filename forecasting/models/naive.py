"""Benchmark models: Naive, SeasonalNaive, Drift, Mean and the M-competition Naive2.

Intervals follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.),
section 5.5, with the residual standard deviation of each method.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.sampling import innovation_paths, random_walk_weights
from forecasting.seasonality import is_seasonal, normal_intervals, seasonal_indices, z_value

__all__ = ["Drift", "Mean", "Naive", "Naive2", "SeasonalNaive"]


def _residual_sd(resid: np.ndarray, n_params: int = 0) -> float:
    resid = resid[~np.isnan(resid)]
    if resid.size == 0:
        return 0.0
    dof = max(resid.size - n_params, 1)
    return float(np.sqrt(np.sum(resid**2) / dof))


class Naive(BaseForecaster):
    """Random walk: every forecast equals the last observation."""

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=2)

    def _fit(self, y: pd.Series) -> None:
        arr = y.to_numpy()
        self.last_ = float(arr[-1])
        self.fitted_values_ = np.r_[np.nan, arr[:-1]]
        self.residuals_ = arr - self.fitted_values_
        self.sigma2_ = _residual_sd(self.residuals_) ** 2

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        mean = np.full(horizon, self.last_)
        sd = np.sqrt(self.sigma2_ * np.arange(1, horizon + 1))
        return mean, normal_intervals(mean, sd, levels)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # A random walk: each step adds an independent shock to the previous one.
        return np.asarray(
            self.last_ + np.sqrt(self.sigma2_) * innovation_paths(random_walk_weights(horizon), n_paths, rng)
        )


class SeasonalNaive(BaseForecaster):
    """Each forecast equals the observation one season earlier.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index (12 monthly, 4 quarterly).
    """

    tags: ClassVar[ModelTags] = replace(
        BaseForecaster.tags, supports_intervals=True, requires_season_length=True, min_obs=2
    )

    def __init__(self, season_length: int | None = None) -> None:
        self.season_length = season_length

    def min_obs(self) -> int:
        return max(self.tags.min_obs, getattr(self, "season_length_", 1) + 1)

    def _fit(self, y: pd.Series) -> None:
        m = self.season_length_
        arr = y.to_numpy()
        self.last_season_ = arr[-m:].copy()
        self.fitted_values_ = np.r_[np.full(m, np.nan), arr[:-m]]
        self.residuals_ = arr - self.fitted_values_
        self.sigma2_ = _residual_sd(self.residuals_) ** 2

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        m = self.season_length_
        steps = np.arange(horizon)
        mean = self.last_season_[steps % m]
        sd = np.sqrt(self.sigma2_ * (steps // m + 1))
        return mean, normal_intervals(mean, sd, levels)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # One random walk per season position: step h shares the shocks of h - m, h - 2m, ...
        weights = random_walk_weights(horizon, lag=self.season_length_)
        mean, _ = self._predict(horizon, ())
        return np.asarray(mean[:, None] + np.sqrt(self.sigma2_) * innovation_paths(weights, n_paths, rng))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"season_length": 4}]


class Drift(BaseForecaster):
    """Random walk with drift: the line through the first and last observations."""

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=3)

    def _fit(self, y: pd.Series) -> None:
        arr = y.to_numpy()
        n = len(arr)
        self.slope_ = float((arr[-1] - arr[0]) / (n - 1))
        self.last_ = float(arr[-1])
        self.fitted_values_ = np.r_[np.nan, arr[:-1] + self.slope_]
        self.residuals_ = arr - self.fitted_values_
        self.sigma2_ = _residual_sd(self.residuals_, n_params=1) ** 2

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        h = np.arange(1, horizon + 1)
        mean = self.last_ + self.slope_ * h
        sd = np.sqrt(self.sigma2_ * h * (1.0 + h / (self.n_obs_ - 1)))
        return mean, normal_intervals(mean, sd, levels)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # The variance h * (1 + h / (n - 1)) is a random walk (h) plus an error in the
        # estimated slope shared by every step (h**2 / (n - 1)): one extra shock per path.
        h = np.arange(1, horizon + 1, dtype=float)
        weights = np.column_stack([random_walk_weights(horizon), h / np.sqrt(self.n_obs_ - 1)])
        mean, _ = self._predict(horizon, ())
        return np.asarray(mean[:, None] + np.sqrt(self.sigma2_) * innovation_paths(weights, n_paths, rng))


class Mean(BaseForecaster):
    """Every forecast equals the sample mean."""

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=2)

    def _fit(self, y: pd.Series) -> None:
        arr = y.to_numpy()
        self.mean_ = float(arr.mean())
        self.fitted_values_ = np.full(len(arr), self.mean_)
        self.residuals_ = arr - self.mean_
        self.sigma2_ = _residual_sd(self.residuals_, n_params=1) ** 2

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        mean = np.full(horizon, self.mean_)
        sd = np.full(horizon, np.sqrt(self.sigma2_ * (1.0 + 1.0 / self.n_obs_)))
        return mean, normal_intervals(mean, sd, levels)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # Independent noise per step plus the error of the estimated mean, shared by all steps.
        weights = np.column_stack([np.eye(horizon), np.full(horizon, 1.0 / np.sqrt(self.n_obs_))])
        return np.asarray(self.mean_ + np.sqrt(self.sigma2_) * innovation_paths(weights, n_paths, rng))


class Naive2(BaseForecaster):
    """M-competition Naive2: the naive method on seasonally adjusted data.

    The series is tested for seasonality at lag ``season_length`` (90% ACF test); if
    seasonal, it is adjusted by classical multiplicative decomposition (additive when the
    data are not all positive), forecast by the naive method, and re-seasonalised.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    """

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=2)

    def __init__(self, season_length: int | None = None) -> None:
        self.season_length = season_length

    def _fit(self, y: pd.Series) -> None:
        arr = y.to_numpy()
        m = self.season_length_
        self.seasonal_ = is_seasonal(arr, m)
        self.multiplicative_ = bool(np.all(arr > 0))
        if self.seasonal_:
            self.indices_ = seasonal_indices(arr, m, multiplicative=self.multiplicative_)
        else:
            self.indices_ = np.ones(m) if self.multiplicative_ else np.zeros(m)
        pos = np.arange(len(arr)) % m
        adjusted = arr / self.indices_[pos] if self.multiplicative_ else arr - self.indices_[pos]
        self.last_ = float(adjusted[-1])
        resid = np.diff(adjusted)
        self.residuals_ = np.r_[np.nan, resid]
        self.sigma2_ = _residual_sd(resid) ** 2

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        pos = (self.n_obs_ + np.arange(horizon)) % self.season_length_
        base = np.full(horizon, self.last_)
        sd = np.sqrt(self.sigma2_ * np.arange(1, horizon + 1))
        if self.multiplicative_:
            factor = self.indices_[pos]
            return base * factor, {
                lv: ((base - z_value(lv) * sd) * factor, (base + z_value(lv) * sd) * factor) for lv in levels
            }
        shift = self.indices_[pos]
        return base + shift, normal_intervals(base + shift, sd, levels)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # A random walk on the adjusted scale; re-seasonalising (a positive factor or a shift
        # per step) keeps the ranks, and the marginal mapping restores the seasonal scale.
        return np.asarray(
            self.last_ + np.sqrt(self.sigma2_) * innovation_paths(random_walk_weights(horizon), n_paths, rng)
        )

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"season_length": 4}]
