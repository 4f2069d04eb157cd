"""Models on statsmodels' state-space framework: they take drivers and series with gaps.

- :class:`RegressionARIMA`: regression on the drivers with (seasonal) ARIMA errors, orders
  chosen by AICc over a small grid (``SARIMAX``).
- :class:`Structural`: an unobserved-components model, local linear trend plus a stochastic
  seasonal where the data allow, with the drivers as regressors (``UnobservedComponents``).

Both are fitted by maximum likelihood through the Kalman filter, which skips a missing
observation (its prediction step runs, its update step is left out), so a series with gaps
is fitted as observed, with nothing filled in (Durbin & Koopman, 2012, section 4.10). Their
intervals are the normal predictive distribution of the filter: state uncertainty plus
future disturbances; they do not include parameter uncertainty or uncertainty about the
future drivers, which are taken as known.

References
----------
Durbin, J. & Koopman, S.J. (2012). *Time Series Analysis by State Space Methods*, 2nd ed.
Oxford University Press.
Harvey, A.C. (1989). *Forecasting, Structural Time Series Models and the Kalman Filter*.
Cambridge University Press.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtri

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.exceptions import InvalidParameterError, ModelFitError
from forecasting.sampling import GRID_LEVELS, map_to_marginals, quantile_grid

__all__ = ["AutoStateSpace", "RegressionARIMA", "Structural"]

#: Seasonal components need this many complete seasons of observed values.
_SEASONS_NEEDED = 2


class _StateSpace(BaseForecaster):
    """Shared fit/predict/paths over a fitted statsmodels ``MLEResults``.

    Subclasses implement ``_estimate(y, X) -> results`` and describe themselves in ``params_``.
    """

    tags: ClassVar[ModelTags] = replace(
        BaseForecaster.tags, supports_intervals=True, handles_missing=True, supports_exog=True, min_obs=4
    )
    interval_method: ClassVar[str] = "state-space predictive distribution (normal errors, drivers taken as known)"

    def _estimate(self, y: np.ndarray, X: np.ndarray | None) -> Any:
        raise NotImplementedError

    def _fit(self, y: pd.Series) -> None:
        self._fit_exog(y, None)

    def _fit_exog(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        endog = y.to_numpy(dtype=float)
        exog = None if X is None else X.to_numpy(dtype=float)
        self.n_observed_ = int(np.isfinite(endog).sum())
        try:
            with warnings.catch_warnings():
                # statsmodels warns about optimiser convergence and non-invertible starting
                # values while searching; the chosen fit is checked for finite output instead.
                warnings.simplefilter("ignore")
                self.result_ = self._estimate(endog, exog)
        except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
            raise ModelFitError(f"{type(self).__name__} could not be fitted to this series: {exc}") from exc
        self.sigma2_ = float(np.nanvar(np.asarray(self.result_.resid, dtype=float)[self._burn() :]))
        if X is not None:
            self.params_["drivers"] = self._driver_coefficients(X.columns)

    def _driver_coefficients(self, columns: pd.Index) -> dict[str, float]:
        # statsmodels names the coefficient of the i-th driver column x<i> (SARIMAX) or
        # beta.x<i> (UnobservedComponents) when it is given arrays.
        names = list(self.result_.model.param_names)
        values = np.asarray(self.result_.params, dtype=float)
        found = {}
        for i, column in enumerate(columns, start=1):
            for label in (f"x{i}", f"beta.x{i}"):
                if label in names:
                    found[str(column)] = float(values[names.index(label)])
        return found

    def _burn(self) -> int:
        return int(getattr(self.result_, "loglikelihood_burn", 0))

    def _forecast(self, horizon: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        exog = None if X_future is None else X_future.to_numpy(dtype=float)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = self.result_.get_forecast(horizon, exog=exog)
                mean = np.asarray(pred.predicted_mean, dtype=float)
                se = np.asarray(pred.se_mean, dtype=float)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ModelFitError(f"{type(self).__name__} could not forecast: {exc}") from exc
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(se))):
            raise ModelFitError(f"{type(self).__name__} produced non-finite forecasts on this series.")
        return mean, se

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        return self._predict_exog(horizon, levels, None)

    def _predict_exog(
        self, horizon: int, levels: tuple[int, ...], X_future: pd.DataFrame | None
    ) -> tuple[np.ndarray, Intervals]:
        mean, se = self._forecast(horizon, X_future)
        intervals = {}
        for level in levels:
            z = float(ndtri(0.5 + level / 200.0))
            intervals[level] = (mean - z * se, mean + z * se)
        return mean, intervals

    def _sample_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return self._sample_paths_exog(horizon, n_paths, rng, None)

    def _sample_paths_exog(
        self, horizon: int, n_paths: int, rng: np.random.Generator, X_future: pd.DataFrame | None
    ) -> np.ndarray:
        # Raw paths: the fitted model simulated forward from the filtered end state with its
        # own disturbances (their dependence across steps), then mapped onto predict's normal
        # marginals, which also carry the uncertainty of the end state.
        exog = None if X_future is None else X_future.to_numpy(dtype=float)
        seed = int(rng.integers(2**31 - 1))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = _simulate(self.result_, horizon, n_paths, exog, seed)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ModelFitError(f"{type(self).__name__} could not simulate sample paths: {exc}") from exc
        raw = np.asarray(raw, dtype=float).reshape(horizon, n_paths)
        # A path identical at every step (a model without future disturbances) still ranks.
        raw = raw + 1e-12 * rng.standard_normal(raw.shape)
        _, intervals = self._predict_exog(horizon, GRID_LEVELS, X_future)
        probs, quantiles = quantile_grid(intervals)
        return map_to_marginals(raw, probs, quantiles)

    def _seasonal_period(self) -> int:
        """The season length used: the resolved one when two seasons are observed, else 1."""
        m = int(self.season_length_)
        if m > 1 and getattr(self, "seasonal", True) and self.n_observed_ >= _SEASONS_NEEDED * m + 2:
            return m
        return 1


class RegressionARIMA(_StateSpace):
    """Regression on the drivers with ARIMA errors; without drivers, a (seasonal) ARIMA.

    .. math:: y_t = \\beta' x_t + \\eta_t, \\quad \\phi(B)\\Phi(B^s)(1-B)^d(1-B^s)^D \\eta_t
              = c + \\theta(B)\\Theta(B^s)\\varepsilon_t

    ``d`` (KPSS tests) and ``D`` (seasonal-strength test) are chosen on the observed values
    as in Hyndman & Khandakar (2008); then ``p, q`` by AICc over ``p <= max_p, q <= max_q``
    (orders 0 or 1 each: the Kalman filter's cost grows with the state dimension, and a
    seasonal MA made each monthly fit about ten times slower for little gain). The
    seasonal part is ``(1, D, 0)``, used only with two observed seasons. A constant
    (``d + D = 0``) or drift (``d + D = 1``) is included.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    max_p, max_q : int
        Largest AR and MA orders searched (0 or 1).
    seasonal : bool
        Allow a seasonal part.

    References
    ----------
    Hyndman, R.J. & Khandakar, Y. (2008). Automatic time series forecasting: the forecast
    package for R. *Journal of Statistical Software* 27(3).
    """

    def __init__(self, season_length: int | None = None, max_p: int = 1, max_q: int = 1, seasonal: bool = True) -> None:
        self.season_length = season_length
        self.max_p = max_p
        self.max_q = max_q
        self.seasonal = seasonal

    def _orders(self) -> list[tuple[int, int]]:
        for name in ("max_p", "max_q"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1:
                raise InvalidParameterError(f"RegressionARIMA({name}={value!r}): give 0 or 1.")
        grid = itertools.product(range(self.max_p + 1), range(self.max_q + 1))
        return [(p, q) for p, q in grid if p + q <= 2 and max(p, q) <= 1]

    def _estimate(self, y: np.ndarray, X: np.ndarray | None) -> Any:
        orders = self._orders()
        m = self._seasonal_period()
        d, D = _differences(y, m)
        trend = {0: "c", 1: "t"}.get(d + D, "n")
        fixed = getattr(self, "_fixed_order", None)
        if fixed is not None:  # refit at orders already chosen (AutoStateSpace's final fit)
            best, best_order, seasonal_ar = _sarimax(y, X, fixed[:2], d, D, m, fixed[2], trend), fixed[:2], fixed[2]
            best_aicc = float(best.aicc) if best is not None else np.inf
        else:
            best, best_aicc, best_order, seasonal_ar = _search(y, X, orders, d, D, m, trend)
        if best is None:
            raise ValueError("no ARIMA order of the grid could be estimated")
        self.order_ = (best_order[0], best_order[1], seasonal_ar)
        seasonal = f"({seasonal_ar},{D},0)[{m}]" if m > 1 else ""
        self.params_ = {
            "model": f"ARIMA({best_order[0]},{d},{best_order[1]})" + seasonal,
            "trend": trend,
            "aicc": best_aicc,
            "season_length": m,
        }
        return best

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"max_p": 1, "max_q": 0}]


class Structural(_StateSpace):
    """Unobserved components: local linear trend, stochastic seasonal and drivers.

    .. math:: y_t = \\mu_t + \\gamma_t + \\beta' x_t + \\varepsilon_t, \\quad
              \\mu_{t+1} = \\mu_t + \\nu_t + \\xi_t, \\quad \\nu_{t+1} = \\nu_t + \\zeta_t

    with a dummy-variable seasonal :math:`\\gamma_t` of ``season_length`` periods when two
    seasons are observed (``seasonal=True``). Variances by maximum likelihood with a diffuse
    initial state.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    seasonal : bool
        Allow a seasonal component.
    trend : {"local linear trend", "local level", "smooth trend"}
        The trend component.

    References
    ----------
    Harvey, A.C. (1989). *Forecasting, Structural Time Series Models and the Kalman Filter*.
    """

    _TRENDS: ClassVar[tuple[str, ...]] = ("local linear trend", "local level", "smooth trend")

    def __init__(
        self, season_length: int | None = None, seasonal: bool = True, trend: str = "local linear trend"
    ) -> None:
        self.season_length = season_length
        self.seasonal = seasonal
        self.trend = trend

    def _estimate(self, y: np.ndarray, X: np.ndarray | None) -> Any:
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        if self.trend not in self._TRENDS:
            raise InvalidParameterError(f"Structural(trend={self.trend!r}): choose one of {self._TRENDS}.")
        m = self._seasonal_period()
        model = UnobservedComponents(y, level=self.trend, seasonal=m if m > 1 else None, exog=X)
        res = model.fit(disp=False, maxiter=200)
        self.params_ = {"model": self.trend + (f" + seasonal[{m}]" if m > 1 else ""), "season_length": m}
        return res

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"trend": "local level", "seasonal": False}]


def _sarimax(
    y: np.ndarray, X: np.ndarray | None, order: tuple[int, int], d: int, D: int, m: int, seasonal_ar: int, trend: str
) -> Any:
    """One SARIMAX fit, or None when the optimiser fails on it."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal_order = (seasonal_ar, D, 0, m) if m > 1 else (0, 0, 0, 0)
    model = SARIMAX(
        y, exog=X, order=(order[0], d, order[1]), seasonal_order=seasonal_order, trend=trend, concentrate_scale=True
    )
    try:
        res = model.fit(disp=False, maxiter=50)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return res if np.isfinite(float(res.aicc)) else None


def _search(
    y: np.ndarray, X: np.ndarray | None, orders: list[tuple[int, int]], d: int, D: int, m: int, trend: str
) -> tuple[Any, float, tuple[int, int], int]:
    """``(result, aicc, (p, q), P)``: ``p, q`` by AICc without a seasonal AR, then ``P`` in {0, 1}.

    A seasonal AR term makes each likelihood evaluation far dearer (its stationary
    initialisation solves a Lyapunov equation of dimension ``m + p``): measured on monthly
    series, a grid of four fits with it cost about 7 s of CPU against under 1 s without.
    So the ``(p, q)`` grid runs without it, and only the chosen order is refitted with it,
    kept when its AICc is lower (one dear fit instead of four).
    """
    best, best_aicc, best_order = None, np.inf, orders[0]
    for order in orders:
        res = _sarimax(y, X, order, d, D, m, 0, trend)
        if res is not None and float(res.aicc) < best_aicc:
            best, best_aicc, best_order = res, float(res.aicc), order
    if best is None or m <= 1:
        return best, best_aicc, best_order, 0
    with_ar = _sarimax(y, X, best_order, d, D, m, 1, trend)
    if with_ar is not None and float(with_ar.aicc) < best_aicc:
        return with_ar, float(with_ar.aicc), best_order, 1
    return best, best_aicc, best_order, 0


def _simulate(result: Any, horizon: int, n_paths: int, exog: np.ndarray | None, seed: int) -> np.ndarray:
    """``result.simulate`` from the end of the sample; statsmodels 0.15 renamed its seed
    argument from ``random_state`` to ``rng``."""
    kwargs: dict[str, Any] = {"anchor": "end", "repetitions": n_paths, "exog": exog}
    try:
        return np.asarray(result.simulate(horizon, rng=seed, **kwargs), dtype=float)
    except TypeError:
        return np.asarray(result.simulate(horizon, random_state=seed, **kwargs), dtype=float)


def _differences(y: np.ndarray, m: int) -> tuple[int, int]:
    """``(d, D)`` from the observed values (gaps dropped: the tests only need a rough guide)."""
    from statsforecast.arima import ndiffs, nsdiffs

    observed = y[np.isfinite(y)]
    D = 0
    if m > 1 and observed.size >= 2 * m + 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            D = min(int(nsdiffs(observed, period=m)), 1)
    if D:
        observed = observed[m:] - observed[:-m]
    d = 0
    if observed.size >= 8:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = min(int(ndiffs(observed)), 1)
    return d, D


class AutoStateSpace(BaseForecaster):
    """``auto`` for drivers and gaps: :class:`RegressionARIMA` or :class:`Structural`, chosen
    by their mean absolute error on a holdout at the end of the series.

    Both candidates are fitted on the series without its last ``holdout`` periods (the
    drivers of those periods taken as known), scored on the observed values of the holdout,
    and the better one is refitted on the whole series. A candidate that cannot be fitted
    on the shortened series is left out; when neither can, :class:`Structural` is used (it
    has the fewest parameters per season).

    The holdout is trusted only when at least ``min_observed_share`` of its periods are
    observed; otherwise :class:`Structural` is used without a holdout comparison. Measured
    on M3 monthly series with 30% of the values removed (``docs/drivers.md``, "Gaps and
    ``auto``"): a holdout with gaps picks between the two models little better than chance,
    and the regression with ARIMA errors loses more accuracy from gaps than the structural
    model, so with the default (1.0) a gap in the holdout means the structural model. On a
    complete series (and one whose gaps are all before the holdout) nothing changes.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    holdout : int or None
        Periods held out; None uses one season (at least 4 periods), at most a quarter of
        the observed values.
    min_observed_share : float
        Share of the holdout's periods that must be observed for the comparison to run, in
        (0, 1]; below it the structural model is used.
    """

    tags: ClassVar[ModelTags] = _StateSpace.tags
    interval_method: ClassVar[str] = _StateSpace.interval_method

    def __init__(
        self, season_length: int | None = None, holdout: int | None = None, min_observed_share: float = 1.0
    ) -> None:
        self.season_length = season_length
        self.holdout = holdout
        self.min_observed_share = min_observed_share

    def _candidates(self) -> dict[str, BaseForecaster]:
        m = int(self.season_length_)
        return {"regression_arima": RegressionARIMA(season_length=m), "structural": Structural(season_length=m)}

    def _holdout_length(self, y: pd.Series) -> int:
        if self.holdout is not None:
            if isinstance(self.holdout, bool) or not isinstance(self.holdout, int) or self.holdout < 1:
                raise InvalidParameterError(f"AutoStateSpace(holdout={self.holdout!r}): give an integer >= 1 or None.")
            return self.holdout
        observed = int(y.notna().sum())
        return max(1, min(max(int(self.season_length_), 4), observed // 4))

    def _min_share(self) -> float:
        share = self.min_observed_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 < share <= 1.0:
            raise InvalidParameterError(
                f"AutoStateSpace(min_observed_share={share!r}): give a share in (0, 1], e.g. 1.0."
            )
        return float(share)

    def _fit(self, y: pd.Series) -> None:
        self._fit_exog(y, None)

    def _fit_exog(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        hold = self._holdout_length(y)
        share = self._min_share()
        scores: dict[str, float] = {}
        orders: dict[str, tuple[int, int, int]] = {}
        seen = np.isfinite(y.iloc[-hold:].to_numpy(dtype=float))
        compared = hold < len(y) and bool(seen.any()) and float(seen.mean()) >= share
        if compared:
            scores, orders = self._score_holdout(y, X, hold)
        chosen = min(scores, key=lambda k: scores[k]) if scores else "structural"
        self.scores_ = scores
        self.chosen_ = chosen
        final = self._candidates()[chosen]
        if chosen in orders:
            # The refit on the whole series keeps the ARIMA orders chosen on the shortened
            # one: the order search is the dear part of the fit (see statespace._search).
            final._fixed_order = orders[chosen]
        self.model_ = final.fit(y, X)
        self.params_ = {
            "chosen": chosen,
            "holdout": hold,
            "holdout_observed": int(seen.sum()),
            "holdout_mae": scores,
            **self.model_.params_,
        }

    def _score_holdout(
        self, y: pd.Series, X: pd.DataFrame | None, hold: int
    ) -> tuple[dict[str, float], dict[str, tuple[int, int, int]]]:
        """Each candidate's MAE on the holdout's observed values, and the ARIMA orders it chose."""
        from forecasting.exceptions import ForecastingError

        actual = y.iloc[-hold:].to_numpy(dtype=float)
        seen = np.isfinite(actual)
        scores: dict[str, float] = {}
        orders: dict[str, tuple[int, int, int]] = {}
        for name, candidate in self._candidates().items():
            try:
                fitted = candidate.fit(y.iloc[:-hold], None if X is None else X.iloc[:-hold])
                fc = fitted.predict(hold, X_future=None if X is None else X.iloc[-hold:])
            except ForecastingError:
                continue
            scores[name] = float(np.mean(np.abs(fc["mean"].to_numpy()[seen] - actual[seen])))
            if hasattr(fitted, "order_"):
                orders[name] = fitted.order_
        return scores, orders

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        return self._predict_exog(horizon, levels, None)

    def _predict_exog(
        self, horizon: int, levels: tuple[int, ...], X_future: pd.DataFrame | None
    ) -> tuple[np.ndarray, Intervals]:
        return self.model_._predict_exog(horizon, levels, X_future)  # type: ignore[no-any-return]

    def _sample_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return self._sample_paths_exog(horizon, n_paths, rng, None)

    def _sample_paths_exog(
        self, horizon: int, n_paths: int, rng: np.random.Generator, X_future: pd.DataFrame | None
    ) -> np.ndarray:
        return self.model_._sample_paths_exog(horizon, n_paths, rng, X_future)  # type: ignore[no-any-return]
