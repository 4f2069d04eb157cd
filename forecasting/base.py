"""The model contract: :class:`ModelTags` and the :class:`BaseForecaster` template."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from forecasting.drivers import check_drivers, check_future_drivers
from forecasting.exceptions import (
    DriversNotSupportedError,
    FutureDriversError,
    IntervalsNotSupportedError,
    InvalidParameterError,
    ModelFitError,
)
from forecasting.frames import build_forecast_frame, future_index
from forecasting.sampling import GRID_LEVELS, check_n_paths, map_to_marginals, quantile_grid
from forecasting.validation import (
    check_horizon,
    check_is_fitted,
    check_levels,
    check_min_obs,
    check_series,
    infer_season_length,
)

__all__ = ["BaseForecaster", "Forecaster", "Intervals", "ModelTags"]

#: level -> (lo, hi) arrays of length horizon.
Intervals = Mapping[int, tuple[np.ndarray, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class ModelTags:
    """What a model supports; read by the base checks, the contract test and the API.

    Attributes
    ----------
    supports_intervals : bool
        ``predict`` accepts non-empty ``levels``.
    handles_missing : bool
        ``fit`` accepts NaN values.
    requires_season_length : bool
        The model is seasonal and needs ``season_length`` (inferred from the index when None).
    min_obs : int
        Minimum number of observations, before seasonal adjustments (see ``min_obs()``).
    supports_exog : bool
        ``fit`` accepts drivers ``X`` and ``predict`` their future values ``X_future``.
    """

    supports_intervals: bool = False
    handles_missing: bool = False
    supports_exog: bool = False
    requires_season_length: bool = False
    min_obs: int = 3


@runtime_checkable
class Forecaster(Protocol):
    """What ``api``, ``reports``, ``backtest`` and ``selection`` rely on."""

    tags: ClassVar[ModelTags]

    def fit(self, y: pd.Series) -> Self: ...

    def predict(self, horizon: int, levels: Sequence[int] = ()) -> pd.DataFrame: ...

    def get_params(self, deep: bool = True) -> dict[str, Any]: ...

    def set_params(self, **params: Any) -> Self: ...

    @property
    def is_fitted(self) -> bool: ...


class BaseForecaster(BaseEstimator):  # type: ignore[misc]
    """Template for every model: validation and output formatting live here.

    Subclasses implement ``_fit(y)`` and ``_predict(horizon, levels)`` and, optionally,
    ``min_obs()`` and ``test_params()``. They never format output columns.
    """

    tags: ClassVar[ModelTags] = ModelTags()

    # ----------------------------------------------------------------- public API
    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Self:
        """Fit the model to ``y`` (and drivers ``X``, for models that take them).

        Parameters
        ----------
        y : pd.Series
            Float series with a regular ``PeriodIndex`` or ``DatetimeIndex``.
        X : pd.DataFrame or None
            Drivers: one numeric column each, on exactly ``y``'s index, without gaps. Only
            for models whose ``supports_exog`` tag is set (see :mod:`forecasting.drivers`).

        Returns
        -------
        self

        Raises
        ------
        InvalidSeriesError, InsufficientDataError, InvalidParameterError, ModelFitError,
        DriversNotSupportedError, InvalidDriversError

        Writes to self: ``index_``, ``freq_``, ``n_obs_``, ``season_length_``,
        ``drivers_`` (the driver names, empty without drivers) and whatever the model learns
        (attributes ending in ``_``).
        """
        self._reset()
        if X is not None and not self._takes_drivers():
            raise DriversNotSupportedError(
                f"{type(self).__name__} takes no drivers; fit it without X, or use a model that "
                "takes them: 'regression_arima' or 'structural'."
            )
        y = check_series(y, min_obs=1, allow_missing=self._takes_missing())
        drivers = None if X is None else check_drivers(X, y.index)
        # min_obs() may depend on the season length, which depends on the index.
        self.season_length_ = self._resolve_season_length(y.index)
        check_min_obs(y, self.min_obs())
        self.index_ = y.index
        self.freq_ = y.index.freq
        self.n_obs_ = len(y)
        self.drivers_ = pd.Index([] if drivers is None else drivers.columns)
        if drivers is None:
            self._fit(y)
        else:
            self._fit_exog(y, drivers)
        self._is_fitted = True
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (), X_future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast ``horizon`` periods ahead with intervals at ``levels`` (percent).

        ``X_future`` (the drivers over the horizon, same columns as ``X``) is required when
        the model was fitted with drivers and refused otherwise.

        Returns
        -------
        pd.DataFrame
            Indexed ``ds`` (continuing the training index) with columns ``mean``, then
            ``lo_<L>``, ``hi_<L>`` per level in ascending order.

        Raises
        ------
        NotFittedError, InvalidParameterError, IntervalsNotSupportedError, ModelFitError,
        FutureDriversError
        """
        check_is_fitted(self)
        horizon = check_horizon(horizon)
        levels = check_levels(levels)
        if levels and not self.tags.supports_intervals:
            raise IntervalsNotSupportedError(
                f"{type(self).__name__} gives point forecasts only; call predict with levels=()."
            )
        future = self._future_drivers(horizon, X_future)
        if future is None:
            mean, intervals = self._predict(horizon, levels)
        else:
            mean, intervals = self._predict_exog(horizon, levels, future)
        return build_forecast_frame(future_index(self.index_, horizon), mean, intervals, model_name=type(self).__name__)

    def sample_paths(
        self,
        horizon: int,
        n_paths: int = 1000,
        random_state: int | None = None,
        X_future: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Draw ``n_paths`` future sample paths from the predictive distribution of ``predict``.

        Parameters
        ----------
        horizon : int
            Number of periods ahead (>= 1).
        n_paths : int
            Number of paths (1..100,000).
        random_state : int or None
            Seed: the same seed gives the same paths; None draws fresh ones.
        X_future : pd.DataFrame or None
            The drivers over the horizon, as for ``predict``.

        Returns
        -------
        pd.DataFrame
            Indexed ``ds`` like ``predict``'s frame, one float column per path (named
            0..n_paths-1, the column index is named ``path``). At every step the quantiles
            of the paths agree with ``predict``'s bounds; across steps the paths are
            dependent as the model says (see ``docs/paths.md``).

        Raises
        ------
        NotFittedError, InvalidParameterError, IntervalsNotSupportedError, ModelFitError
        """
        check_is_fitted(self)
        horizon = check_horizon(horizon)
        n_paths = check_n_paths(n_paths)
        if not self.tags.supports_intervals:
            raise IntervalsNotSupportedError(
                f"{type(self).__name__} gives point forecasts only, so it has no predictive distribution to sample."
            )
        future = self._future_drivers(horizon, X_future)
        rng = np.random.default_rng(random_state)
        if future is None:
            paths = self._sample_paths(horizon, n_paths, rng)
        else:
            paths = self._sample_paths_exog(horizon, n_paths, rng, future)
        if paths.shape != (horizon, n_paths) or not np.all(np.isfinite(paths)):
            raise ModelFitError(f"{type(self).__name__} produced non-finite or misshapen sample paths.")
        columns = pd.RangeIndex(n_paths, name="path")
        return pd.DataFrame(paths, index=future_index(self.index_, horizon), columns=columns)

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` has completed."""
        return bool(getattr(self, "_is_fitted", False))

    def min_obs(self) -> int:
        """Minimum number of observations this instance needs (after season inference)."""
        return self.tags.min_obs

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        """Parameter sets giving small, fast, interesting instances for the contract test."""
        return [{}]

    # ----------------------------------------------------------------- hooks
    def _fit(self, y: pd.Series) -> None:
        raise NotImplementedError

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        raise NotImplementedError

    def _sample_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Paths of shape (horizon, n_paths): the model's raw paths (its dependence across
        steps) mapped rank for rank onto the quantile function ``_predict`` reports."""
        raw = self._raw_paths(horizon, n_paths, rng)
        _, intervals = self._predict(horizon, GRID_LEVELS)
        probs, quantiles = quantile_grid(intervals)
        return map_to_marginals(raw, probs, quantiles)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        raise IntervalsNotSupportedError(f"{type(self).__name__} does not simulate sample paths.")

    # Hooks of models that take drivers (tag ``supports_exog``): the base calls these instead
    # of ``_fit``/``_predict``/``_sample_paths`` when drivers were given.
    def _fit_exog(self, y: pd.Series, X: pd.DataFrame) -> None:
        raise NotImplementedError

    def _predict_exog(
        self, horizon: int, levels: tuple[int, ...], X_future: pd.DataFrame
    ) -> tuple[np.ndarray, Intervals]:
        raise NotImplementedError

    def _sample_paths_exog(
        self, horizon: int, n_paths: int, rng: np.random.Generator, X_future: pd.DataFrame
    ) -> np.ndarray:
        raise NotImplementedError

    def _takes_drivers(self) -> bool:
        """Whether ``fit`` accepts ``X`` (wrappers answer for their inner model)."""
        return self.tags.supports_exog

    def _takes_missing(self) -> bool:
        """Whether ``fit`` accepts NaN in ``y`` (wrappers answer for their inner model)."""
        return self.tags.handles_missing

    def _future_drivers(self, horizon: int, X_future: pd.DataFrame | None) -> pd.DataFrame | None:
        fitted_with = getattr(self, "drivers_", pd.Index([]))
        if X_future is None:
            if len(fitted_with):
                raise FutureDriversError(
                    f"{type(self).__name__} was fitted with drivers {list(fitted_with)}; give their "
                    f"values over the {horizon} forecast periods as X_future."
                )
            return None
        if not len(fitted_with):
            if not self._takes_drivers():
                raise DriversNotSupportedError(
                    f"{type(self).__name__} takes no drivers; call predict without X_future."
                )
            raise FutureDriversError(
                f"{type(self).__name__} was fitted without drivers; call predict without X_future."
            )
        return check_future_drivers(X_future, future_index(self.index_, horizon), fitted_with)

    # ----------------------------------------------------------------- helpers
    def _resolve_season_length(self, index: pd.Index) -> int:
        given = getattr(self, "season_length", None)
        if given is None:
            return infer_season_length(index)
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            raise InvalidParameterError(
                f"{type(self).__name__}(season_length={given!r}): season_length must be an "
                "integer >= 1 or None (inferred from the frequency)."
            )
        return given

    def _reset(self) -> None:
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attr)
        self._is_fitted = False
