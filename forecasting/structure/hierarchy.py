"""Coherent forecasts of a hierarchy: :func:`forecast_hierarchy`."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.core import DEFAULT_LEVELS, MISSING_POLICIES
from forecasting.exceptions import (
    ForecastingWarning,
    InvalidParameterError,
    ReconciliationWarning,
    UnknownHierarchyIdError,
)
from forecasting.executor import check_backend, resolve_n_jobs
from forecasting.models.ets import ETS
from forecasting.sampling import check_n_paths
from forecasting.structure._frames import check_totals, long_forecast, to_wide
from forecasting.structure._hierarchy import Hierarchy, build_hierarchy
from forecasting.structure._joint import NodeDraws, ProgressCallback, couple_paths, draw_nodes
from forecasting.structure.reconcile import (
    METHODS,
    MIN_COMPLETE_ROWS,
    count_complete_rows,
    reconciliation_matrix,
    step_variance_matrix,
)
from forecasting.structure.summary import path_bounds
from forecasting.validation import check_horizon, check_levels, infer_season_length

__all__ = [
    "DEFAULT_METHOD",
    "base_centre",
    "check_missing_policy",
    "check_tolerance",
    "forecast_hierarchy",
    "reconcile_draws",
    "warn_moved",
]

#: Chosen on the training origins of the visible-data benchmark (docs/structure.md).
DEFAULT_METHOD = "mint_shrink"


def base_centre(model: str | BaseForecaster, season_length: int, missing: str) -> tuple[str, BaseForecaster] | None:
    """The model whose point forecasts centre the default base of a structure, if any.

    With the default ``model="auto"`` on seasonal (monthly, quarterly) structures without gaps,
    each node's point forecast and in-sample residuals (so the MinT weights) come from AutoETS
    without the seasonality pre-test (``ets_untested``, one of ``auto``'s monthly members) and
    its sample paths from ``auto``, re-centred on that point forecast: on both structure
    benchmarks' choosing origins it was the more accurate base at every level, and ``auto``'s
    calibrated paths keep the coverage (docs/structure.md, issue 32). Annual structures keep
    ``auto`` (not measured there); so does any other model or ``missing="model"``.
    """
    if model != "auto" or season_length <= 1 or missing != "error":
        return None
    return "ets_untested", ETS(seasonality_test=False)


def check_missing_policy(missing: object) -> str:
    """``"error"`` or ``"model"`` (see :func:`forecasting.forecast`)."""
    if missing not in MISSING_POLICIES:
        raise InvalidParameterError(f"missing must be one of {MISSING_POLICIES}; got {missing!r}.")
    return str(missing)


def check_tolerance(tolerance: object, name: str = "tolerance") -> float:
    """A relative tolerance in [0, 1)."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise InvalidParameterError(f"{name} must be a number in [0, 1); got {tolerance!r}.")
    return float(tolerance)


def _complete_frame(wide: pd.DataFrame, tree: Hierarchy, tolerance: float) -> pd.DataFrame:
    """Every node's history: stated totals checked, missing aggregates derived from their parts."""
    missing = [b for b in tree.bottom if b not in wide.columns]
    if missing:
        raise UnknownHierarchyIdError(
            f"hierarchy names {missing[:5]!r}{' ...' if len(missing) > 5 else ''} but the frame has no such "
            f"series (it has {list(wide.columns)[:8]!r}{' ...' if wide.shape[1] > 8 else ''}); a bottom-level id "
            "needs its observations (an aggregate may be left out: it is derived)."
        )
    extra = [c for c in wide.columns if c not in tree.nodes]
    if extra:
        warnings.warn(
            f"series {extra[:5]!r} are not in the hierarchy and were left out.", ForecastingWarning, stacklevel=3
        )
    check_totals(wide, tree.children, tolerance)
    out = wide[[c for c in wide.columns if c in tree.nodes]].copy()
    for node in reversed(tree.aggregates):  # children before parents
        if node not in out:
            kids = list(tree.children[node])
            out[node] = out[kids].sum(axis=1, min_count=len(kids))  # NaN where a part is missing
    return out[list(tree.nodes)]


def reconcile_draws(
    tree: Hierarchy,
    draws: Mapping[str, NodeDraws],
    method: str,
    levels: Sequence[int],
    index: pd.PeriodIndex,
    seed: int | None,
) -> pd.DataFrame:
    """Reconcile the base forecasts and paths of every node (one method, one origin).

    Split from :func:`forecast_hierarchy` so that several methods can share one set of base
    fits (the benchmark compares them on the same draws).
    """
    nodes = list(tree.nodes)
    base = np.column_stack([draws[n].mean for n in nodes])  # (horizon, n_nodes)
    residuals = np.column_stack([draws[n].residuals for n in nodes])
    centred = [draws[n].paths - draws[n].paths.mean(axis=1, keepdims=True) + draws[n].mean[:, None] for n in nodes]
    paths = np.stack(couple_paths(centred, residuals, seed))  # (n_nodes, horizon, n_paths)
    g, used = _step_matrices(tree.summing, method, residuals, paths)  # (horizon, n_bottom, n_nodes)
    reconciled = np.einsum("nb,hbm,mhp->nhp", tree.summing, g, paths)
    mean = np.einsum("nb,hbm,hm->hn", tree.summing, g, base)
    out = long_forecast(index, nodes, mean, path_bounds(np.moveaxis(reconciled, 0, 1), mean, levels))
    out.attrs["method"] = method
    out.attrs["method_used"] = used
    out.attrs["moved"] = warn_moved(nodes, index, mean, paths)
    return out


def _step_matrices(
    summing: np.ndarray, method: str, residuals: np.ndarray, paths: np.ndarray
) -> tuple[np.ndarray, str]:
    """``G`` per step, and the name of the weighting actually used.

    ``mint_shrink`` needs a residual covariance; from fewer than ``MIN_COMPLETE_ROWS`` periods
    where every node has a residual (short annual structures, gaps) it is not estimable, and
    each node is weighted by its own base forecast variance at each step instead.
    """
    horizon = paths.shape[1]
    if method == "mint_shrink" and count_complete_rows(residuals) < MIN_COMPLETE_ROWS:
        return step_variance_matrix(summing, paths), "wls_step_variance"
    g = reconciliation_matrix(summing, method, residuals)
    return np.broadcast_to(g, (horizon, *g.shape)), method


def warn_moved(
    nodes: Sequence[str], index: pd.PeriodIndex, reconciled: np.ndarray, paths: np.ndarray, level: int = 80
) -> dict[str, str]:
    """Warn for each node whose reconciled mean leaves its own base ``level`` % band.

    Returns ``{node: message}``; each such node gets one :class:`ReconciliationWarning`
    with that message (naming the first period outside the band).
    """
    lo = np.quantile(paths, 0.5 - level / 200.0, axis=2)  # (n_nodes, horizon)
    hi = np.quantile(paths, 0.5 + level / 200.0, axis=2)
    moved: dict[str, str] = {}
    for i, node in enumerate(nodes):
        outside = np.flatnonzero((reconciled[:, i] < lo[i]) | (reconciled[:, i] > hi[i]))
        if not outside.size:
            continue
        t = int(outside[0])
        moved[node] = (
            f"reconciliation moved {node!r} outside its own {level}% band at {index[t]}: coherent value "
            f"{reconciled[t, i]:.4g} against its own forecast's band {lo[i, t]:.4g} to {hi[i, t]:.4g}. "
            "The other series of the structure pull it: their histories and this one's disagree."
        )
        warnings.warn(ReconciliationWarning(moved[node]), stacklevel=3)
    return moved


def forecast_hierarchy(
    frame: pd.DataFrame,
    horizon: int,
    hierarchy: Mapping[str, Sequence[str]],
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    method: str = DEFAULT_METHOD,
    *,
    n_paths: int = 1000,
    seed: int | None = 0,
    tolerance: float = 1e-3,
    n_jobs: int = 1,
    backend: str | None = None,
    missing: str = "error",
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Forecast every node of a hierarchy so that aggregates equal the sum of their parts.

    Parameters
    ----------
    frame : pd.DataFrame
        Long observations ``unique_id``, ``ds``, ``y``: every bottom-level series, and any
        aggregates that are observed (others are derived as the sum of their parts). All on
        one frequency and the same periods, without gaps.
    horizon : int
        Number of periods ahead (>= 1).
    hierarchy : mapping of str to list of str
        Each aggregate id and the ids it sums. Nesting (``{"world": ["china", "rest"],
        "china": ["china_x", "china_m"]}``) and shared children (partner totals and flow
        totals over the same partner-by-flow series) are allowed.
    levels : sequence of int
        Interval levels in percent.
    model : str or BaseForecaster
        The model of every node's base forecast (default ``"auto"``); a node it cannot fit
        falls back to ``naive2``, then ``naive``, with a :class:`FallbackWarning`. On monthly
        and quarterly structures without gaps the default takes each node's point forecast
        and residuals from AutoETS without the seasonality pre-test and its paths from
        ``"auto"`` (:func:`base_centre`); ``attrs["models"]`` then reads
        ``"ets_untested@auto"`` for those nodes.
    method : {"bottom_up", "ols", "wls_struct", "mint_shrink"}
        Reconciliation (:mod:`forecasting.structure.reconcile`). Default ``"mint_shrink"``,
        the most accurate on the training origins of the benchmark in ``docs/structure.md``.
    n_paths : int
        Sample paths per node (intervals are quantiles of the reconciled paths).
    seed : int or None
        Seed of the paths and of their coupling; the same seed gives the same frame.
    tolerance : float
        Largest relative gap between a stated total and the sum of its parts.
    n_jobs : int
        Workers of the executor that fits the nodes (``-1`` every core).
    missing : {"error", "model"}
        ``"error"`` (default) refuses gaps. ``"model"`` fits every node with a state-space
        model whose likelihood skips missing observations (as :func:`forecasting.forecast`),
        so series with gaps and different spans can be forecast; nothing is filled in. A stated
        total is checked against its parts at the periods where all of them are observed, and
        a derived aggregate is missing where any of its parts is.
    backend : {"process", "dask"}, optional
        The executor's backend (:func:`forecasting.executor.get_executor`); default: the
        block's :func:`~forecasting.executor.use_backend`, else ``"process"``.
    progress : callable, optional
        ``progress(n_done, n_total, node)``, called with ``(0, n_total, "")`` once the checks
        pass and again as each node's base forecast is fitted (long structures show how far
        they are; the service records it as the structure's job progress).

    Returns
    -------
    pd.DataFrame
        Long forecast frame ``unique_id, ds, mean, lo_<L>, hi_<L>...`` of every node
        (aggregates first). Every aggregate's mean is the sum of its parts' means (to rounding)
        and every path is coherent, so bounds are quantiles of sums, not sums of bounds.
        ``attrs`` holds ``method``, ``model``, ``n_paths`` and the models each node used.

    Raises
    ------
    InvalidHierarchyError, HierarchyCycleError, UnknownHierarchyIdError
        The hierarchy is malformed, cyclic, or names an id with no series.
    IncoherentTotalError
        A stated total differs from the sum of its parts by more than ``tolerance``.
    FrequencyMismatchError, MisalignedPeriodsError, InvalidSeriesError
        The series do not share one frequency and span, or break a rule of the parser.
    InvalidParameterError, InsufficientDataError, ModelFitError

    Notes
    -----
    Base forecasts ``y_hat`` and paths of every node come from ``model`` on the executor;
    paths of different nodes are paired by a Gaussian copula of the in-sample residual
    correlation. Each path is centred on its node's point forecast and reconciled with the
    same linear map, ``y_tilde = S G y_hat``, so the reported mean is the reconciled point
    forecast and the mean of the reconciled paths.
    """
    horizon, levels = check_horizon(horizon), check_levels(levels)
    n_paths, tolerance = check_n_paths(n_paths), check_tolerance(tolerance)
    resolve_n_jobs(n_jobs)
    if backend is not None:
        check_backend(backend)
    if method not in METHODS:
        raise InvalidParameterError(f"method must be one of {METHODS}; got {method!r}.")
    missing = check_missing_policy(missing)
    tree = build_hierarchy(hierarchy)
    wide = _complete_frame(to_wide(frame, gaps=missing == "model"), tree, tolerance)
    nodes = list(tree.nodes)
    centre = base_centre(model, infer_season_length(wide.index), missing)
    draws = draw_nodes(
        {n: wide[n] for n in nodes},
        horizon,
        n_paths,
        model,
        seed,
        n_jobs,
        backend,
        missing=missing,
        centre=centre,
        progress=progress,
    )
    index = pd.period_range(wide.index[-1] + 1, periods=horizon, freq=wide.index.freq)
    out = reconcile_draws(tree, draws, method, levels, index, seed)
    out.attrs.update(model=str(model), n_paths=n_paths, models={n: draws[n].model for n in nodes})
    return out
