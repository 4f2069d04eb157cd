"""Temporal hierarchies: forecasts of one flow at every aggregation of the year, made coherent.

A monthly series is also a 2-, 3-, 4- and 6-monthly series and an annual one. Each
aggregation is forecast by its own model; the forecasts of one year form a hierarchy (the
annual value is the sum of its two half-years, each of those the sum of its quarters, ...),
reconciled by the structure machinery (:mod:`forecasting.structure.reconcile`), so that the
reconciled months add up exactly to the reconciled quarters and year. Athanasopoulos, Hyndman,
Kourentzes and Petropoulos (2017) report that this "THieF" pooling improves monthly and
quarterly accuracy over the base models, most at longer horizons.

Aggregates are formed from the end of the series backwards (the last month closes a block at
every level), so the forecast origin is the same at every level; the oldest months that do not
fill a whole year are left out of every level.

References
----------
Athanasopoulos, G., Hyndman, R. J., Kourentzes, N. & Petropoulos, F. (2017). Forecasting with
temporal hierarchies. European Journal of Operational Research 262(1), 60-74.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.base import BaseForecaster
from forecasting.core import DEFAULT_LEVELS, build_model
from forecasting.exceptions import ForecastingError, InsufficientDataError, InvalidParameterError
from forecasting.frames import build_forecast_frame, future_index
from forecasting.structure._joint import in_sample_residuals
from forecasting.structure.reconcile import reconciliation_matrix, step_variance_matrix
from forecasting.structure.summary import path_bounds
from forecasting.validation import check_horizon, check_levels, check_series, infer_season_length

__all__ = [
    "TEMPORAL_METHODS",
    "TemporalBase",
    "TemporalForecast",
    "aggregation_levels",
    "forecast_temporal",
    "reconcile_temporal",
    "temporal_base",
    "temporal_summing",
]

#: ``wls_struct``: weights by the number of months in a node (THieF's structural scaling);
#: ``wls_var``: each node weighted by the variance of its own base forecast (its sample paths)
#: in that year, so a level whose model is unsure (an annual level of few points) counts little;
#: ``mint_shrink``: the shrunk covariance of the base residuals stacked by year (its diagonal,
#: the per-node residual variances, when fewer than 8 years of residuals);
#: ``wls_mse``: THieF's series variance scaling, every node of a level weighted by that level's
#: in-sample mean squared one-step error, floored at :data:`MSE_FLOOR` of the structural scale.
TEMPORAL_METHODS = ("wls_struct", "wls_var", "wls_mse", "mint_shrink")

#: ``wls_mse`` floors a level's error variance at this share of the structural one (the
#: bottom level's, times the periods in a block): unguarded, a level whose model fits its few
#: points nearly exactly (an annual level of four years) takes almost all the weight, the
#: outliers ``mint_shrink`` showed (docs/engine.md). Half is set a priori, not tuned.
MSE_FLOOR = 0.5


@dataclass(frozen=True)
class TemporalForecast:
    """Reconciled forecasts of one flow at every aggregation level.

    ``frames[k]`` is the forecast frame of the ``k``-period aggregates (``k = 1`` the series'
    own frequency), indexed by the last period of each block; ``paths`` the reconciled sample
    paths of the series' own frequency (horizon, n_paths).
    """

    frames: dict[int, pd.DataFrame]
    paths: np.ndarray
    method: str
    models: dict[int, str]

    @property
    def frame(self) -> pd.DataFrame:
        """The forecast frame at the series' own frequency."""
        return self.frames[1]


def aggregation_levels(season_length: int) -> tuple[int, ...]:
    """Every block length that divides the year, longest first (12: 12, 6, 4, 3, 2, 1)."""
    return tuple(k for k in range(season_length, 0, -1) if season_length % k == 0)


def temporal_summing(season_length: int) -> np.ndarray:
    """Summing matrix of one year: a row per block of every level (longest first), a column per period."""
    rows = []
    for k in aggregation_levels(season_length):
        for j in range(season_length // k):
            row = np.zeros(season_length)
            row[j * k : (j + 1) * k] = 1.0
            rows.append(row)
    return np.array(rows)


def _aggregate(y: pd.Series, k: int, m: int) -> pd.Series:
    """Sums of blocks of ``k`` periods, indexed as consecutive 'years' (the model sees season m/k)."""
    values = y.to_numpy(dtype=float).reshape(-1, k).sum(axis=1)
    return pd.Series(values, index=pd.period_range("2000", periods=len(values), freq="Y"), name=f"{y.name}_x{k}")


def _fit_level(
    y: pd.Series, template: BaseForecaster, season: int, steps: int, n_paths: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Base mean, paths (steps, n_paths), in-sample residuals and model name of one level.

    A level the model cannot fit (the annual level of a short series) falls back to
    ``naive2``, then ``naive``, as structure nodes do.
    """
    last: Exception | None = None
    for candidate in (template, build_model("naive2"), build_model("naive")):
        model = clone(candidate)
        if "season_length" in model.get_params():
            model.set_params(season_length=season)
        try:
            fitted = model.fit(y)
            mean = fitted.predict(steps).to_numpy()[:, 0]
            paths = fitted.sample_paths(steps, n_paths, random_state=seed).to_numpy()
        except (ForecastingError, ArithmeticError, ValueError) as exc:
            last = exc
            continue
        return mean, paths, in_sample_residuals(fitted, y), type(candidate).__name__
    assert last is not None
    raise last


def _stack_years(per_level: dict[int, np.ndarray], m: int) -> np.ndarray:
    """(years, nodes) from each level's per-block values (level order as :func:`aggregation_levels`)."""
    return np.hstack([per_level[k].reshape(-1, m // k) for k in aggregation_levels(m)])


def _comonotone(paths: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Pair the levels' paths by the rank of their totals over the horizon (high with high):
    every level forecasts the same future, so their errors move together."""
    return {k: p[:, np.argsort(p.sum(axis=0))] for k, p in paths.items()}


def _check(
    y: pd.Series, horizon: object, levels: Sequence[int], method: object
) -> tuple[pd.Series, int, int, tuple[int, ...]]:
    h, lv = check_horizon(horizon), check_levels(levels)
    if method not in TEMPORAL_METHODS:
        raise InvalidParameterError(f"method must be one of {TEMPORAL_METHODS}; got {method!r}.")
    y = check_series(y)
    m = infer_season_length(y.index)
    if m not in (4, 12):
        raise InvalidParameterError(
            f"temporal hierarchies need monthly or quarterly data; {y.name!r} has season length {m}."
        )
    years = len(y) // m
    if years < 3:
        raise InsufficientDataError(
            f"series {y.name!r}: temporal hierarchies need at least 3 whole years ({3 * m} periods); got {len(y)}."
        )
    return y.iloc[len(y) - years * m :], m, h, lv


def forecast_temporal(
    y: pd.Series,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    method: str = "wls_struct",
    *,
    aggregate_model: str | BaseForecaster | None = None,
    combine: float = 0.0,
    n_paths: int = 1000,
    seed: int = 0,
) -> TemporalForecast:
    """Forecast a monthly or quarterly series at every aggregation of the year, reconciled.

    Parameters
    ----------
    y : pd.Series
        A complete monthly or quarterly series with at least 3 whole years.
    horizon : int
        Periods ahead at the series' own frequency (>= 1); whole years are forecast and cut.
    levels : sequence of int
        Interval levels in percent.
    model : str or BaseForecaster
        The base model of every level (its ``season_length`` set to the level's season).
    method : {"wls_struct", "wls_var", "wls_mse", "mint_shrink"}
        Reconciliation (see :data:`TEMPORAL_METHODS`).
    aggregate_model : str or BaseForecaster, optional
        The base model of the levels above the series' own frequency (default: ``model``).
    combine : float in [0, 1]
        Share of the base forecast at the series' own frequency kept in the result (0: the
        reconciled forecast alone). Still exactly coherent: ``c G_bu + (1 - c) G`` is a
        reconciliation matrix too (it maps coherent forecasts to themselves).
    n_paths, seed
        Sample paths per level and their seed.

    Returns
    -------
    TemporalForecast
        ``frames[k]`` per block length ``k`` (``frames[1]`` the series' own frequency): each
        block's reconciled mean is the sum of its periods' means, path by path as well.

    Raises
    ------
    InvalidParameterError, InsufficientDataError, InvalidSeriesError, ModelFitError
    """
    y, _, horizon, levels = _check(y, horizon, levels, method)
    draws = temporal_base(y, horizon, model, aggregate_model=aggregate_model, n_paths=n_paths, seed=seed)
    return reconcile_temporal(y, horizon, levels, draws, method, combine=combine)


@dataclass(frozen=True)
class TemporalBase:
    """The base forecasts of every aggregation level (before reconciliation)."""

    season_length: int
    mean: dict[int, np.ndarray]
    paths: dict[int, np.ndarray]
    residuals: dict[int, np.ndarray]
    models: dict[int, str]


def temporal_base(
    y: pd.Series,
    horizon: int,
    model: str | BaseForecaster = "auto",
    *,
    aggregate_model: str | BaseForecaster | None = None,
    n_paths: int = 1000,
    seed: int = 0,
) -> TemporalBase:
    """Fit ``model`` at every aggregation level of ``y`` (whole years, cut from the start).

    ``aggregate_model`` (default ``model``) fits the levels above the series' own frequency.
    Split from :func:`forecast_temporal` so that several reconciliations share one set of
    base fits (the benchmark compares them on the same draws).
    """
    y, m, horizon, _ = _check(y, horizon, (), TEMPORAL_METHODS[0])
    n_years = -(-horizon // m)
    bottom = build_model(model)
    upper = bottom if aggregate_model is None else build_model(aggregate_model)
    out: tuple[dict[int, np.ndarray], ...] = ({}, {}, {})
    models: dict[int, str] = {}
    seeds = np.random.SeedSequence(seed).generate_state(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short annual levels make the optimisers warn
        for i, k in enumerate(aggregation_levels(m)):
            season = m // k
            template = bottom if k == 1 else upper
            fitted = _fit_level(_aggregate(y, k, m), template, season, n_years * season, n_paths, int(seeds[i]))
            out[0][k], out[1][k], out[2][k], models[k] = fitted
    return TemporalBase(m, out[0], out[1], out[2], models)


def reconcile_temporal(
    y: pd.Series, horizon: int, levels: Sequence[int], base: TemporalBase, method: str, *, combine: float = 0.0
) -> TemporalForecast:
    """Reconcile :func:`temporal_base`'s forecasts with ``method`` (see :data:`TEMPORAL_METHODS`).

    ``combine`` is the share of the base forecast at the series' own frequency kept in the
    result (see :func:`forecast_temporal`).
    """
    y, m, horizon, levels = _check(y, horizon, levels, method)
    if not isinstance(combine, int | float) or not 0.0 <= combine <= 1.0:
        raise InvalidParameterError(f"combine must be a number in [0, 1]; got {combine!r}.")
    summing = temporal_summing(m)
    stacked = _stack_path_years(_comonotone(base.paths), m)  # (years, nodes, n_paths)
    if method == "wls_var":
        g = step_variance_matrix(summing, np.moveaxis(stacked, 0, 1))  # (years, bottom, nodes)
    else:
        if method == "wls_mse":
            one = _weighted(summing, _level_mse(base.residuals, m))
        else:
            one = reconciliation_matrix(summing, method, _stack_years(base.residuals, m))
        g = np.broadcast_to(one, (stacked.shape[0], *one.shape))
    if combine > 0:
        bottom_up = reconciliation_matrix(summing, "bottom_up")
        g = combine * bottom_up + (1.0 - combine) * g
    rec_mean = np.einsum("nb,ybc,yc->yn", summing, g, _stack_years(base.mean, m))  # (years, nodes)
    rec_paths = np.einsum("nb,ybc,ycp->ynp", summing, g, stacked)
    return _frames(y, m, horizon, levels, rec_mean, rec_paths, method, base.models)


def _level_mse(residuals: dict[int, np.ndarray], m: int) -> np.ndarray:
    """Per node (level order as :func:`aggregation_levels`): its level's mean squared one-step
    error, floored at ``MSE_FLOOR`` times ``k`` times the bottom level's (THieF's ``mse``, guarded)."""
    mse = {k: float(np.nanmean(r**2)) if np.isfinite(r).any() else np.nan for k, r in residuals.items()}
    scale = mse[1] if np.isfinite(mse[1]) and mse[1] > 0 else 0.0
    if scale == 0.0:  # no usable bottom errors: structural scaling
        return np.asarray(temporal_summing(m).sum(axis=1), dtype=float)
    out = []
    for k in aggregation_levels(m):
        structural = k * scale
        value = mse[k] if np.isfinite(mse[k]) else structural
        out.extend([max(value, MSE_FLOOR * structural)] * (m // k))
    return np.array(out)


def _weighted(summing: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``G = (S' W^-1 S)^-1 S' W^-1`` for a diagonal ``W`` (positive variances)."""
    w_inv_s = summing / variances[:, None]
    return np.asarray(np.linalg.solve(summing.T @ w_inv_s, w_inv_s.T))


def _stack_path_years(paths: dict[int, np.ndarray], m: int) -> np.ndarray:
    """(years, nodes, n_paths) from each level's paths (steps, n_paths)."""
    blocks = [paths[k].reshape(-1, m // k, paths[k].shape[1]) for k in aggregation_levels(m)]
    return np.concatenate(blocks, axis=1)


def _frames(
    y: pd.Series,
    m: int,
    horizon: int,
    levels: tuple[int, ...],
    mean: np.ndarray,
    paths: np.ndarray,
    method: str,
    models: dict[int, str],
) -> TemporalForecast:
    """Per level: the reconciled blocks in time order, cut to the blocks that end within the horizon."""
    frames: dict[int, pd.DataFrame] = {}
    months = future_index(y.index, mean.shape[0] * m)
    start = 0
    for k in aggregation_levels(m):
        width = m // k
        level_mean = mean[:, start : start + width].reshape(-1)
        level_paths = paths[:, start : start + width, :].reshape(-1, paths.shape[2])
        start += width
        keep = horizon // k if k > 1 else horizon
        if keep < 1:
            continue
        bounds = path_bounds(level_paths[:keep, None, :], level_mean[:keep, None], levels)
        intervals = {lv: (lo[:, 0], hi[:, 0]) for lv, (lo, hi) in bounds.items()}
        index = months[k - 1 :: k][:keep]
        frames[k] = build_forecast_frame(index, level_mean[:keep], intervals, model_name=f"temporal[{k}]")
    bottom = paths[:, -m:, :].reshape(-1, paths.shape[2])[:horizon]
    return TemporalForecast(frames=frames, paths=bottom, method=method, models=models)
