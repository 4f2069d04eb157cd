"""``auto`` through gaps: fill the gaps with a state-space smoother, then combine as ``auto``.

A series with missing observations cannot go to ``auto``'s members (ETS, ARIMA, Theta and
CES need every value). Fitting only a state-space model through the gaps loses much of
``auto``'s accuracy: on M3 monthly series with 30% of the values removed, the structural
model alone was about a third less accurate than ``auto`` on the complete copies
(``docs/drivers.md``, "Gaps: the imputed auto"). So :class:`ImputedAuto` fills each gap
with the structural model's smoothed estimate of the observation (the Kalman smoother's
``E[y_t | all observed values]``) and fits ``auto`` on the completed series.

The intervals carry the imputation's uncertainty by multiple imputation: with
``n_imputations = k > 0``, ``k`` completions are also drawn from the smoother's joint
posterior of the missing values (simulation smoother, Durbin & Koopman 2002), ``auto`` is
fitted on each, and the bounds are quantiles of the equal mixture of their predictive
distributions (each distribution taken from its own calibrated bounds). The point forecast
is always the one from the smoothed completion, so it does not depend on random draws.

References
----------
Durbin, J. & Koopman, S. J. (2002). A simple and efficient simulation smoother for state
space time series analysis. Biometrika 89(3).
Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from forecasting.auto import Auto
from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.exceptions import InvalidParameterError, ModelFitError
from forecasting.models.statespace import AutoStateSpace, Structural
from forecasting.sampling import GRID_LEVELS, map_to_marginals, quantile_grid

__all__ = ["ImputedAuto", "smoothed_completion"]


def smoothed_completion(y: pd.Series, season_length: int | None = None) -> tuple[pd.Series, Any]:
    """``y`` with every gap filled by the structural model's smoothed observation estimate.

    Returns the completed series and the fitted statsmodels results (for simulation).

    Raises
    ------
    ModelFitError
        The structural model cannot be fitted to the observed values.
    """
    imputer = Structural(season_length=season_length).fit(y)
    result = imputer.result_
    smoothed = np.asarray(result.smoother_results.smoothed_forecasts, dtype=float)[0]
    gaps = y.isna().to_numpy()
    if not np.all(np.isfinite(smoothed[gaps])):
        raise ModelFitError("the structural smoother gave non-finite estimates for the gaps of this series.")
    filled = y.copy()
    filled.iloc[np.flatnonzero(gaps)] = smoothed[gaps]
    return filled, result


def _simulated_completions(y: pd.Series, result: Any, k: int, seed: int) -> list[pd.Series]:
    """``k`` draws of the missing values from their joint posterior given the observed ones."""
    model = result.model
    gaps = np.flatnonzero(y.isna().to_numpy())
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.update(result.params)
        sim = model.simulation_smoother()
        rng = np.random.default_rng(seed)
        for _ in range(k):
            n_eps = sim.model.k_endog * sim.model.nobs
            n_eta = sim.model.k_posdef * sim.model.nobs
            sim.simulate(
                measurement_disturbance_variates=rng.standard_normal(n_eps),
                state_disturbance_variates=rng.standard_normal(n_eta),
                initial_state_variates=rng.standard_normal(sim.model.k_states),
            )
            state = np.asarray(sim.simulated_state, dtype=float)
            design = np.asarray(model["design"], dtype=float)
            signal = (design[0] @ state) if design.ndim == 2 else np.einsum("st,st->t", design[0], state)
            noise = rng.standard_normal(len(gaps)) * np.sqrt(float(np.asarray(model["obs_cov"]).ravel()[0]))
            draw = y.copy()
            draw.iloc[gaps] = signal[gaps] + noise
            out.append(draw)
    return out


def _mixture_bounds(grids: list[tuple[np.ndarray, np.ndarray]], level: int) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` % bounds of the equal mixture of distributions given by quantile grids.

    Each distribution's CDF is interpolated linearly in the normal score between its grid
    quantiles (as :func:`forecasting.sampling.map_to_marginals` does) and the mixture's CDF,
    evaluated at every grid quantile of every member, is inverted by interpolation.
    """
    horizon = grids[0][1].shape[0]
    targets = np.array([0.5 - level / 200.0, 0.5 + level / 200.0])
    lo, hi = np.empty(horizon), np.empty(horizon)
    for t in range(horizon):
        xs = np.unique(np.concatenate([q[t] for _, q in grids]))
        cdf = np.mean([ndtr(np.interp(xs, q[t], ndtri(p))) for p, q in grids], axis=0)
        lo[t], hi[t] = np.interp(targets, np.maximum.accumulate(cdf), xs)
    return lo, hi


class ImputedAuto(BaseForecaster):
    """``auto`` on a series whose gaps the structural smoother filled (see the module docstring).

    On a series without gaps it is exactly :class:`~forecasting.auto.Auto`. A sparse series
    (fewer than ``min_observed_share`` of its periods observed) is not filled: there the
    completion would be mostly the smoother's own output, so the state-space choice
    (:class:`~forecasting.models.statespace.AutoStateSpace`) forecasts it directly, with
    intervals that widen where nothing was observed.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    n_imputations : int
        Simulated completions whose fits widen the intervals (0: the smoothed completion
        alone).
    min_observed_share : float
        Share of observed periods, in (0, 1], from which the gaps are filled.
    random_state : int
        Seed of the simulated completions.
    """

    tags: ClassVar[ModelTags] = replace(Auto.tags, handles_missing=True, supports_exog=False)
    interval_method: ClassVar[str] = "auto's calibrated intervals on the series completed by the structural smoother"

    def __init__(
        self,
        season_length: int | None = None,
        n_imputations: int = 0,
        min_observed_share: float = 0.5,
        random_state: int = 0,
    ) -> None:
        self.season_length = season_length
        self.n_imputations = n_imputations
        self.min_observed_share = min_observed_share
        self.random_state = random_state

    def min_obs(self) -> int:
        # Wrappers (the logit scale of shares) ask before the season length is resolved.
        return Auto(season_length=getattr(self, "season_length_", self.season_length)).min_obs()

    def _check_params(self) -> tuple[int, float]:
        k, share = self.n_imputations, self.min_observed_share
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= 50:
            raise InvalidParameterError(f"ImputedAuto(n_imputations={k!r}): give an integer in 0..50.")
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 < share <= 1.0:
            raise InvalidParameterError(f"ImputedAuto(min_observed_share={share!r}): give a share in (0, 1].")
        return k, float(share)

    def _fit(self, y: pd.Series) -> None:
        k, share = self._check_params()
        m = int(self.season_length_)
        gaps = y.isna()
        self.n_imputed_ = int(gaps.sum())
        self.draws_: list[BaseForecaster] = []
        if not self.n_imputed_:
            self.inner_: BaseForecaster = Auto(season_length=m).fit(y)
            self.params_ = {"imputed": 0, **self.inner_.params_}
            return
        if 1.0 - float(gaps.mean()) < share:
            self.n_imputed_ = 0
            self.inner_ = AutoStateSpace(season_length=m).fit(y)
            self.interval_method_ = AutoStateSpace.interval_method
            self.params_ = {"imputed": 0, "sparse": True, **self.inner_.params_}
            return
        filled, result = smoothed_completion(y, m)
        self.inner_ = Auto(season_length=m).fit(filled)
        completions = _simulated_completions(y, result, k, int(self.random_state)) if k else []
        self.draws_ = [Auto(season_length=m).fit(c) for c in completions]
        self.params_ = {"imputed": self.n_imputed_, "imputations": k, **self.inner_.params_}

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        mean, intervals = self.inner_._predict(horizon, levels)
        if not self.draws_ or not levels:
            return mean, intervals
        grids = [quantile_grid(fit._predict(horizon, GRID_LEVELS)[1]) for fit in [self.inner_, *self.draws_]]
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for level in levels:
            lo, hi = _mixture_bounds(grids, level)
            out[level] = (np.minimum(lo, mean), np.maximum(hi, mean))
        return mean, out

    def _sample_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # The completed series' model gives the dependence across steps; the marginals are
        # this model's (the mixture over completions when there are several).
        raw = self.inner_._sample_paths(horizon, n_paths, rng)
        if not self.draws_:
            return np.asarray(raw)
        _, intervals = self._predict(horizon, GRID_LEVELS)
        probs, quantiles = quantile_grid(intervals)
        return map_to_marginals(raw, probs, quantiles)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"n_imputations": 2}]
