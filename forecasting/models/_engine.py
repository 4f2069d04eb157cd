"""Shared wrapper over statsforecast's compiled implementations of R's automatic models.

Why statsforecast: on this project's 2-core benchmark machine its AutoETS fits a monthly M3
series in milliseconds, where an exhaustive statsmodels ``ETSModel`` search costs seconds
(see ``docs/engine.md`` for the measurements). statsmodels stays the engine for
decomposition-free econometric models.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.exceptions import ModelFitError
from forecasting.seasonality import is_seasonal

__all__ = ["StatsForecastModel"]


class StatsForecastModel(BaseForecaster):
    """Base for models backed by a statsforecast model object.

    Subclasses implement ``_engine(season_length)`` returning an unfitted statsforecast
    model. Seasonal forms are used only when the series passes the 90% ACF seasonality test
    at lag ``season_length`` (as the M-competition benchmarks do); otherwise the engine is
    built with ``season_length=1``. Subclasses whose engine chooses the seasonal form itself
    by an information criterion may offer ``seasonality_test=False`` to skip the pre-test.
    """

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=4)
    interval_method: ClassVar[str] = "model distribution (normal errors)"

    season_length: int | None
    seasonality_test: bool = True

    def _engine(self, season_length: int) -> Any:
        raise NotImplementedError

    def _describe(self, engine: Any) -> str:
        return type(self).__name__

    def _fit(self, y: pd.Series) -> None:
        arr = np.ascontiguousarray(y.to_numpy(dtype=np.float64))
        m = self.season_length_
        self.seasonal_ = bool(m > 1 and (not self.seasonality_test or is_seasonal(arr, m)))
        used = m if self.seasonal_ else 1
        engine = self._engine(used)
        try:
            with warnings.catch_warnings():
                # The compiled optimisers warn on overflow while exploring bad parameter regions;
                # the fitted result is checked below instead.
                warnings.simplefilter("ignore")
                engine.fit(arr)
        except Exception as exc:
            raise ModelFitError(f"{type(self).__name__} could not be fitted to this series: {exc}") from exc
        self.engine_ = engine
        self.params_ = {"model": self._describe(engine), "season_length": used}

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = self.engine_.predict(horizon, level=list(levels) if levels else None)
        except Exception as exc:
            raise ModelFitError(f"{type(self).__name__} could not forecast: {exc}") from exc
        mean = np.asarray(out["mean"], dtype=float)
        intervals = {
            lv: (np.asarray(out[f"lo-{lv}"], dtype=float), np.asarray(out[f"hi-{lv}"], dtype=float)) for lv in levels
        }
        if not np.all(np.isfinite(mean)) or any(
            not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))) for lo, hi in intervals.values()
        ):
            raise ModelFitError(f"{type(self).__name__} produced non-finite forecasts on this series.")
        return mean, intervals

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # statsforecast simulates with the fitted model's own recursion (ETS states, ARIMA
        # with its differencing, Theta's dynamic coefficients, CES states) and per-step
        # errors. It reseeds numpy's global generator, which is restored so that callers'
        # global random state is untouched.
        seed = int(rng.integers(2**31 - 1))
        state = np.random.get_state()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = np.asarray(self.engine_.simulate(h=horizon, n_paths=n_paths, seed=seed), dtype=float)
        except Exception as exc:
            raise ModelFitError(f"{type(self).__name__} could not simulate sample paths: {exc}") from exc
        finally:
            np.random.set_state(state)
        if raw.shape != (n_paths, horizon) or not np.all(np.isfinite(raw)):
            raise ModelFitError(f"{type(self).__name__} simulated non-finite sample paths on this series.")
        return raw.T
