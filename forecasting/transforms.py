"""Invertible transforms and the :class:`Transformed` composite model.

- ``log``: positive level series; intervals are back-transformed by quantile, the mean
  with the log-normal bias adjustment :math:`\\exp(\\mu + \\sigma^2/2)`.
- ``logit``: shares in [0, 1]; exact 0 or 1 are moved ``0.5/n`` inside so the logit is
  finite. Mean and every bound stay strictly inside (0, 1); the mean is the
  back-transformed median.

:class:`NonNegative` is not a transform of the data but of the predictive distribution: the
inner model's distribution censored at zero, for quantities that cannot be negative (trade
values, turnover). It is what :func:`forecasting.forecast` applies to a ``level`` series with
no negative value (``docs/intervals.md``, section 5).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.exceptions import (
    IntervalsNotSupportedError,
    InvalidParameterError,
    InvalidSeriesError,
    NegativeValueError,
)
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.seasonality import z_value

__all__ = ["TRANSFORMS", "NonNegative", "Transformed", "inv_logit", "logit"]

TRANSFORMS = ("none", "log", "logit")

#: Level requested from the inner model to recover the spread for the bias adjustment.
_SPREAD_LEVEL = 68


def logit(x: np.ndarray) -> np.ndarray:
    """log(x / (1 - x))."""
    return np.asarray(np.log(x) - np.log1p(-x))


def inv_logit(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), computed stably."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float))))


class _Wrapper(BaseForecaster):
    """A model around an inner ``model`` whose output goes through an increasing map.

    A wrapper takes drivers and gaps exactly when its inner model does, and its sample paths
    are the inner paths through :meth:`_map`: an increasing map keeps each step's path
    quantiles equal to the mapped bounds.
    """

    model: BaseForecaster | None

    def _inner_template(self) -> BaseForecaster:
        if self.model is None:
            from forecasting.models.naive import Naive

            return Naive()
        return self.model

    def _takes_drivers(self) -> bool:
        return self._inner_template()._takes_drivers()

    def _takes_missing(self) -> bool:
        return self._inner_template()._takes_missing()

    def _fit(self, y: pd.Series) -> None:
        self._fit_exog(y, None)

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        return self._predict_exog(horizon, levels, None)

    def _check_inner_intervals(self, levels: tuple[int, ...]) -> None:
        if levels and not self.inner_.tags.supports_intervals:
            raise IntervalsNotSupportedError(
                f"{type(self.inner_).__name__} gives point forecasts only; call predict with levels=()."
            )

    def _sample_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return self._map(self.inner_._sample_paths(horizon, n_paths, rng))

    def _sample_paths_exog(
        self, horizon: int, n_paths: int, rng: np.random.Generator, X_future: pd.DataFrame
    ) -> np.ndarray:
        return self._map(self.inner_._sample_paths_exog(horizon, n_paths, rng, X_future))

    def _map(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Transformed(_Wrapper):
    """Fit ``model`` on a transformed scale and return forecasts on the original scale.

    Parameters
    ----------
    model : BaseForecaster or None
        The inner model (cloned before each fit). None means ``Naive()``.
    transform : {"log", "logit", "none"}
        The transform. ``log`` needs positive data; ``logit`` needs values in [0, 1].
    """

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=2)

    def __init__(self, model: BaseForecaster | None = None, transform: str = "log") -> None:
        self.model = model
        self.transform = transform

    def min_obs(self) -> int:
        return self._inner_template().min_obs()

    def _fit_exog(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.transform not in TRANSFORMS:
            raise InvalidParameterError(f"Transformed(transform={self.transform!r}): choose one of {TRANSFORMS}.")
        arr = y.to_numpy()
        finite = arr[~np.isnan(arr)]
        if self.transform == "log":
            if np.any(finite <= 0):
                bad = int(np.flatnonzero(arr <= 0)[0])
                raise InvalidSeriesError(
                    f"a log transform needs positive values; got {arr[bad]:g} at {y.index[bad]}. "
                    "Use transform='none' (or kind='level' without log) for data with zeros or negatives."
                )
            z = np.log(arr)
        elif self.transform == "logit":
            if np.any((finite < 0) | (finite > 1)):
                bad = int(np.flatnonzero((arr < 0) | (arr > 1))[0])
                raise InvalidSeriesError(f"a share series needs values in [0, 1]; got {arr[bad]:g} at {y.index[bad]}.")
            # Exact 0 or 1 would give an infinite logit: move only those half an observation
            # inside the interval (cf. Smithson & Verkuilen, 2006).
            eps = 0.5 / max(len(finite), 2)
            z = logit(np.clip(arr, eps, 1.0 - eps))
        else:
            z = arr
        self.inner_ = clone(self._inner_template()).fit(pd.Series(z, index=y.index, name=y.name), X)
        self.tags_inner_ = self.inner_.tags

    def _predict_exog(
        self, horizon: int, levels: tuple[int, ...], X_future: pd.DataFrame | None
    ) -> tuple[np.ndarray, Intervals]:
        inner_levels = levels
        want_spread = self.transform == "log" and self.inner_.tags.supports_intervals
        if want_spread:
            inner_levels = tuple(sorted(set(levels) | {_SPREAD_LEVEL}))
        self._check_inner_intervals(inner_levels)
        fc = self.inner_.predict(horizon, levels=inner_levels, X_future=X_future)
        back = self._map
        mid = fc[MEAN].to_numpy()
        if want_spread:
            sd = (fc[hi_col(_SPREAD_LEVEL)] - fc[lo_col(_SPREAD_LEVEL)]).to_numpy() / (2.0 * z_value(_SPREAD_LEVEL))
            mean = np.exp(mid + 0.5 * sd**2)
        else:
            mean = back(mid)
        intervals = {lv: (back(fc[lo_col(lv)].to_numpy()), back(fc[hi_col(lv)].to_numpy())) for lv in levels}
        if intervals:
            # A bias-adjusted mean can leave a narrow band on a skewed scale; keep it inside the
            # narrowest requested interval so that lo <= mean <= hi holds.
            lo, hi = intervals[min(levels)]
            mean = np.clip(mean, lo, hi)
        return mean, intervals

    def _map(self, z: np.ndarray) -> np.ndarray:
        # Back to the original scale; increasing, so paths map onto the back-transformed bounds.
        if self.transform == "log":
            return np.asarray(np.exp(z))
        if self.transform == "logit":
            return inv_logit(z)
        return np.asarray(z)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"transform": "none"}]


class NonNegative(_Wrapper):
    """``model``'s predictive distribution censored at zero, for quantities that cannot be
    negative (trade values, turnover).

    With :math:`X` the inner model's predictive distribution at a step, the bounds and sample
    paths are those of :math:`\\max(0, X)`: every bound is ``max(0, bound)`` (the quantiles
    of a censored variable are the censored quantiles) and every path ``max(0, path)``. The
    point forecast (column ``mean``) is the inner model's, floored at zero. Upper bounds are
    never changed, and where the inner distribution has no mass below zero nothing changes.

    Parameters
    ----------
    model : BaseForecaster or None
        The inner model (cloned before each fit). None means ``Naive()``.

    Notes
    -----
    Chosen by measurement (``docs/intervals.md``, section 5): a log fit was worse on every
    M3 score and gives implausible upper bounds on short annual series with strong growth;
    the mean of the censored distribution, :math:`E[\\max(0, X)]`, as the point forecast was
    within noise on M3 but raised the sMAPE of annual trade forecasts from 33.5 to 38.0. The
    mean of the censored paths (what growth and full-year figures report) is that censored
    mean, so it can exceed the point forecast where much of :math:`X` lies below zero.
    """

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=1)

    def __init__(self, model: BaseForecaster | None = None) -> None:
        self.model = model

    def _resolve_season_length(self, index: pd.Index) -> int:
        # The inner model's season length decides how many observations it needs.
        return self._inner_template()._resolve_season_length(index)

    def min_obs(self) -> int:
        probe = clone(self._inner_template())
        probe.season_length_ = getattr(self, "season_length_", 1)
        return int(probe.min_obs())

    def _fit_exog(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            negative = arr < 0
        if np.any(negative):
            bad = int(np.flatnonzero(negative)[0])
            raise NegativeValueError(
                f"a non-negative forecast needs values >= 0; got {arr[bad]:g} at {y.index[bad]}. "
                "Use nonnegative=False (or None to decide from the data) for series that can be negative."
            )
        self.inner_ = clone(self._inner_template()).fit(y, X)

    def _predict_exog(
        self, horizon: int, levels: tuple[int, ...], X_future: pd.DataFrame | None
    ) -> tuple[np.ndarray, Intervals]:
        self._check_inner_intervals(levels)
        fc = self.inner_.predict(horizon, levels=levels, X_future=X_future)
        mean = np.maximum(fc[MEAN].to_numpy(), 0.0)
        intervals = {
            lv: (np.maximum(fc[lo_col(lv)].to_numpy(), 0.0), np.maximum(fc[hi_col(lv)].to_numpy(), 0.0))
            for lv in levels
        }
        return mean, intervals

    def _map(self, values: np.ndarray) -> np.ndarray:
        # max(0, .) is non-decreasing, so each step's path quantiles are the censored bounds.
        return np.asarray(np.maximum(values, 0.0))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}]
