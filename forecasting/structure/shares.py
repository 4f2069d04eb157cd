"""Compositions: :func:`forecast_shares` (shares summing to 1) and :func:`forecast_share_values`
(a share times a total, e.g. the yuan-settled value of exports).

Shares are modelled on additive log-ratio (alr) coordinates ``z_i = log(x_i / x_ref)``
(Aitchison 1986): each coordinate is an unbounded series that any model can forecast, and every
back-transformed path ``x = exp(z) / (1 + sum exp(z))`` is a composition, positive and summing
to 1. Coordinates' paths are coupled by their residual correlation (see ``_joint``), so the
shares of one path move together as they did in-sample. Short compositions (under 6 years)
are then pulled toward their recent composition (``anchor_years``, ``_anchored``), where
the log-ratio models alone lose to the last year's shares (docs/structure.md, issue 32).

References
----------
Aitchison, J. (1986). The Statistical Analysis of Compositional Data. Chapman & Hall.
Martin-Fernandez, J. A., Barcelo-Vidal, C. & Pawlowsky-Glahn, V. (2003). Dealing with zeros
and missing values in compositional data sets using nonparametric imputation. Math. Geol. 35.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.core import DEFAULT_LEVELS
from forecasting.exceptions import (
    CompositionSumError,
    IncoherentTotalError,
    InvalidParameterError,
    InvalidSeriesError,
    MisalignedPeriodsError,
    NegativeValueError,
    ShareOutOfRangeError,
)
from forecasting.executor import resolve_n_jobs
from forecasting.frames import DS, UNIQUE_ID, Y
from forecasting.paths import periods_per_year
from forecasting.sampling import check_n_paths
from forecasting.structure._frames import long_forecast, to_wide
from forecasting.structure._joint import ProgressCallback, couple_paths, draw_nodes, residual_matrix
from forecasting.structure.hierarchy import check_missing_policy, check_tolerance
from forecasting.structure.summary import path_bounds
from forecasting.validation import check_horizon, check_levels

__all__ = [
    "ANCHOR_YEARS",
    "SharePaths",
    "anchor_composition",
    "anchor_paths",
    "anchor_weight",
    "check_anchor_years",
    "closure",
    "forecast_share_values",
    "forecast_shares",
    "replace_zeros",
    "simulate_shares",
]


@dataclass(frozen=True)
class SharePaths:
    """Joint sample paths of a composition (and, optionally, of a total).

    Attributes
    ----------
    index : pd.PeriodIndex
        The forecast periods.
    components : tuple of str
        Component ids.
    shares : ndarray (horizon, n_components, n_paths)
        Every path sums to 1 at every step.
    total : ndarray (horizon, n_paths) or None
        Paths of the total, coupled with the shares.
    """

    index: pd.PeriodIndex
    components: tuple[str, ...]
    shares: np.ndarray
    total: np.ndarray | None = None


#: Years of history up to which a composition's forecast is its recent composition (weight 1),
#: and from which it is the model's alone (weight 0); linear in between. Measured in
#: docs/structure.md (issue 32): on 18-27-month member-state compositions the rule removes
#: the model's loss to the 12-month mean (4.700 -> 4.477 MAE), on 96-180-month partner
#: compositions it leaves the forecast unchanged. The choosing origins cannot place the
#: switch between 2 and 8 years, so (3, 6) is a stated prior, not a fitted value.
ANCHOR_YEARS = (3.0, 6.0)


def check_anchor_years(anchor_years: tuple[float, float] | None) -> tuple[float, float] | None:
    """``None`` (no anchoring) or two years ``0 <= full < none``; :class:`InvalidParameterError` otherwise."""
    if anchor_years is None:
        return None
    try:
        full, none = (float(v) for v in anchor_years)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"anchor_years must be None or two numbers of years (full, none), e.g. (3, 6); got {anchor_years!r}."
        ) from None
    if not (np.isfinite(full) and np.isfinite(none) and 0 <= full < none):
        raise InvalidParameterError(
            f"anchor_years=({full:g}, {none:g}) must satisfy 0 <= full < none (years of history), e.g. (3, 6)."
        )
    return full, none


def anchor_weight(n_obs: int, per_year: int | None, years: tuple[float, float] = ANCHOR_YEARS) -> float:
    """The weight of the recent composition for a history of ``n_obs`` periods, ``per_year`` a year.

    1 up to ``years[0]`` years of history, 0 from ``years[1]`` on, linear in between; 0 when the
    frequency has no calendar year (``per_year`` None).
    """
    if per_year is None:
        return 0.0
    span = n_obs / per_year
    full, none = years
    if span <= full:
        return 1.0
    if span >= none:
        return 0.0
    return float((none - span) / (none - full))


def anchor_composition(shares: pd.DataFrame, per_year: int | None) -> np.ndarray | None:
    """The recent composition: each share's median over the last year (at least 3 periods), closed.

    The median rather than the mean: month-to-month shares of small reporters jump (one large
    shipment); the choosing origins preferred it (docs/structure.md). NaN (a share not
    published, ``missing="model"``) is skipped; ``None`` when a component has no value in the
    window, so that there is no recent composition to anchor to.
    """
    window = max(per_year or 0, 3)
    recent = shares.to_numpy(dtype=float)[-window:]
    if not np.isfinite(recent).any(axis=0).all():
        return None
    median = np.nanmedian(recent, axis=0)
    if median.sum() <= 0:  # every median zero: fall back to the mean, which is positive
        median = np.nanmean(recent, axis=0)
    return np.asarray(median / median.sum())


def anchor_paths(paths: np.ndarray, anchor: np.ndarray, weight: float) -> np.ndarray:
    """Share paths (horizon, n_components, n_paths) moved toward ``anchor`` by ``weight``.

    Each path is shifted by ``weight * (anchor - mean of the paths)``, which sums to 0, so the
    band keeps its width and every path still sums to 1; a share pushed below 0 is set to 0
    and its path closed again. ``weight`` 0 returns the paths unchanged.
    """
    if weight <= 0:
        return paths
    shift = weight * (anchor[None, :] - paths.mean(axis=2))
    moved = np.clip(paths + shift[:, :, None], 0.0, None)
    return np.asarray(moved / moved.sum(axis=1, keepdims=True))


def _anchored(sim: SharePaths, shares: pd.DataFrame, anchor_years: tuple[float, float] | None) -> SharePaths:
    # Applied to the paths, before means and bounds are taken, so the means still sum to 1 and
    # the bounds (quantiles of compositions) stay nested in [0, 1].
    if anchor_years is None:
        return sim
    try:
        per_year: int | None = periods_per_year(shares.index)
    except InvalidSeriesError:  # weekly, daily: no calendar year to count history in
        per_year = None
    weight = anchor_weight(len(shares), per_year, anchor_years)
    anchor = anchor_composition(shares, per_year) if weight > 0 else None
    if anchor is None:
        return sim
    return SharePaths(sim.index, sim.components, anchor_paths(sim.shares, anchor, weight), sim.total)


def _partial_rows(wide: pd.DataFrame) -> pd.DataFrame:
    # A component absent at a period (no row, or NaN) is a zero share there; to_wide insists
    # on complete series, so the absent cells are filled before it sees them.
    return wide.fillna(0.0)


def _composition_wide(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not {UNIQUE_ID, DS, Y} <= set(frame.columns):
        return to_wide(frame)  # raises the message naming the columns
    full = frame.pivot_table(index=DS, columns=UNIQUE_ID, values=Y, aggfunc="first", dropna=False, sort=False)
    long = _partial_rows(full).stack(future_stack=True).rename(Y).reset_index()
    return to_wide(long[[UNIQUE_ID, DS, Y]])


def closure(
    wide: pd.DataFrame, *, values: bool = False, total: str | None = None, tolerance: float = 0.005
) -> pd.DataFrame:
    """Checked shares (rows summing to exactly 1) from a wide frame of shares or of values.

    Parameters
    ----------
    wide : pd.DataFrame
        One column per component (and the stated total with ``total``), one row per period.
    values : bool
        The columns are money values, not shares: shares are values over their sum (or over
        the ``total`` column).
    total : str, optional
        With ``values``: the column holding the stated total; the parts must sum to it within
        ``tolerance`` (relative).
    tolerance : float
        Shares: the largest absolute gap between a period's sum and 1. Values with ``total``:
        the largest relative gap between the parts' sum and the total.

    Raises
    ------
    CompositionSumError, IncoherentTotalError, ShareOutOfRangeError, NegativeValueError
    """
    if total is not None and not values:
        raise InvalidParameterError("total= names the column of a stated total, so it needs values=True.")
    if total is not None and total not in wide:
        raise InvalidParameterError(f"total={total!r} is not a series of the frame (it has {list(wide.columns)!r}).")
    parts = wide.drop(columns=[total]) if total is not None else wide
    if parts.shape[1] < 2:
        raise InvalidSeriesError(f"a composition needs at least two components; got {list(parts.columns)!r}.")
    arr = parts.to_numpy(dtype=float)
    if (arr < 0).any():
        row, col = np.argwhere(arr < 0)[0]
        cls = NegativeValueError if values else ShareOutOfRangeError
        raise cls(
            f"component {parts.columns[col]!r} is {arr[row, col]:.6g} at {parts.index[row]}; "
            f"{'values' if values else 'shares'} of a composition cannot be negative.",
            series_id=str(parts.columns[col]),
        )
    sums = arr.sum(axis=1)
    if values:
        _check_value_sums(wide, parts, sums, total, tolerance)
    else:
        _check_share_sums(parts, sums, tolerance)
    if (sums <= 0).any():
        raise CompositionSumError(f"every component is zero at {parts.index[int(np.argmin(sums))]}.")
    return pd.DataFrame(arr / sums[:, None], index=parts.index, columns=parts.columns)


def _check_share_sums(parts: pd.DataFrame, sums: np.ndarray, tolerance: float) -> None:
    gap = np.abs(sums - 1.0)
    worst = int(np.argmax(gap))
    if gap[worst] > tolerance:
        hint = " (percentages? divide by 100)" if sums[worst] > 1.5 else ""
        raise CompositionSumError(
            f"the components {list(parts.columns)[:6]!r} sum to {sums[worst]:.6g} at {parts.index[worst]}, not 1 "
            f"(tolerance {tolerance:g}){hint}. Add the missing component (e.g. 'other'), or give values with "
            "values=True."
        )


def _check_value_sums(
    wide: pd.DataFrame, parts: pd.DataFrame, sums: np.ndarray, total: str | None, tolerance: float
) -> None:
    if total is None:
        return
    stated = wide[total].to_numpy(dtype=float)
    gap = np.abs(stated - sums) / np.maximum(np.maximum(np.abs(stated), np.abs(sums)), 1e-300)
    worst = int(np.argmax(gap))
    if gap[worst] > tolerance:
        raise IncoherentTotalError(
            f"the components {list(parts.columns)[:6]!r} sum to {sums[worst]:.6g} at {parts.index[worst]} but the "
            f"stated total {total!r} is {stated[worst]:.6g} (relative gap {gap[worst]:.2e} > tolerance {tolerance:g}).",
            series_id=total,
        )


def replace_zeros(shares: pd.DataFrame) -> pd.DataFrame:
    """Multiplicative replacement of zero shares (Martin-Fernandez et al. 2003).

    A zero becomes ``delta`` = half the smallest positive share in the data and the other
    shares of that period shrink in proportion, so rows still sum to 1 and ratios between
    non-zero parts are kept.
    """
    arr = shares.to_numpy(dtype=float)
    zero = arr <= 0
    if not zero.any():
        return shares
    delta = 0.5 * float(arr[~zero].min())
    filled = np.where(zero, delta, arr * (1.0 - delta * zero.sum(axis=1, keepdims=True)))
    return pd.DataFrame(filled, index=shares.index, columns=shares.columns)


def _alr(shares: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    # The reference is the component with the largest smallest share: never near zero, so
    # no coordinate is dominated by its denominator's noise.
    ref = str(shares.min(axis=0).idxmax())
    coords = np.log(shares.drop(columns=[ref]).div(shares[ref], axis=0))
    return coords.add_prefix("alr_"), ref


def _from_alr(z: np.ndarray, ref_position: int) -> np.ndarray:
    """Shares (horizon, n_components, n_paths) from alr paths (horizon, n_components - 1, n_paths)."""
    expz = np.exp(np.clip(z, -700, 700))
    ones = np.ones((z.shape[0], 1, z.shape[2]))
    full = np.concatenate([expz[:, :ref_position], ones, expz[:, ref_position:]], axis=1)
    return np.asarray(full / full.sum(axis=1, keepdims=True))


def _total_series(total: pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(total, pd.DataFrame):
        wide = to_wide(total)
        if wide.shape[1] != 1:
            raise InvalidSeriesError(f"the total must be one series; the frame holds {list(wide.columns)!r}.")
        return wide.iloc[:, 0].rename(str(wide.columns[0]))
    if not isinstance(total, pd.Series):
        raise InvalidSeriesError(f"the total must be a pd.Series or a long frame; got {type(total).__name__}.")
    frame = pd.DataFrame({UNIQUE_ID: str(total.name or "total"), DS: total.index, Y: total.to_numpy()})
    return _total_series(frame)


def _share_paths(
    shares: pd.DataFrame,
    horizon: int,
    model: str | BaseForecaster,
    n_paths: int,
    seed: int | None,
    n_jobs: int,
    total: pd.Series | None = None,
    progress: ProgressCallback | None = None,
) -> SharePaths:
    coords, ref = _alr(replace_zeros(shares))
    series = {str(c): coords[c] for c in coords.columns}
    if total is not None:
        if total.index[-1] != shares.index[-1]:
            raise MisalignedPeriodsError(
                f"the total {total.name!r} ends at {total.index[-1]} and the composition at {shares.index[-1]}; "
                "both must end at the same period so that their forecasts cover the same periods."
            )
        series[str(total.name)] = total
    draws = draw_nodes(series, horizon, n_paths, model, seed, n_jobs, progress=progress)
    residuals = residual_matrix(series, draws)
    coupled = couple_paths([d.paths for d in draws.values()], residuals, seed)
    n_coords = coords.shape[1]
    z = np.stack(coupled[:n_coords], axis=1)  # (horizon, n_coords, n_paths)
    index = pd.period_range(shares.index[-1] + 1, periods=horizon, freq=shares.index.freq)
    position = list(shares.columns).index(ref)
    total_paths = coupled[n_coords] if total is not None else None
    return SharePaths(index, tuple(str(c) for c in shares.columns), _from_alr(z, position), total_paths)


def _sparse_shares(frame: pd.DataFrame, values: bool, tolerance: float) -> pd.DataFrame:
    """Observed shares on the union of the components' spans, NaN where one is not published."""
    if values:
        raise InvalidParameterError(
            "missing='model' takes a composition of shares; values need every component at every period "
            "to be turned into shares."
        )
    wide = to_wide(frame, gaps=True)
    if wide.shape[1] < 2:
        raise InvalidSeriesError(f"a composition needs at least two components; got {list(wide.columns)!r}.")
    arr = wide.to_numpy(dtype=float)
    bad = np.isfinite(arr) & ((arr < 0) | (arr > 1))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ShareOutOfRangeError(
            f"component {wide.columns[col]!r} is {arr[row, col]:.6g} at {wide.index[row]}; a share must be in "
            "[0, 1] (percentages? divide by 100).",
            series_id=str(wide.columns[col]),
        )
    complete = np.isfinite(arr).all(axis=1)
    if complete.any():  # the periods where every component is published must still sum to 1
        _check_share_sums(wide[complete], arr[complete].sum(axis=1), tolerance)
    return wide


def _sparse_share_paths(
    wide: pd.DataFrame,
    horizon: int,
    model: str | BaseForecaster,
    n_paths: int,
    seed: int | None,
    n_jobs: int,
    progress: ProgressCallback | None = None,
) -> SharePaths:
    """Each component's share on its own (logit, state-space through the gaps), then closed.

    Log-ratios need every component at the same period, which sparse publications rarely
    give; so each share is forecast where it was observed, paths are paired by the copula of
    the components' residuals, and every joint path is divided by its sum (closure).
    """
    series = {str(c): wide[c] for c in wide.columns}
    draws = draw_nodes(series, horizon, n_paths, model, seed, n_jobs, missing="model", kind="share", progress=progress)
    coupled = couple_paths([d.paths for d in draws.values()], residual_matrix(series, draws), seed)
    raw = np.clip(np.stack(coupled, axis=1), 1e-12, None)  # (horizon, n_components, n_paths)
    index = pd.period_range(wide.index[-1] + 1, periods=horizon, freq=wide.index.freq)
    return SharePaths(index, tuple(series), raw / raw.sum(axis=1, keepdims=True))


def _check_common(
    horizon: int, levels: Sequence[int], n_paths: int, tolerance: float, n_jobs: int
) -> tuple[int, tuple[int, ...], int, float]:
    out = (check_horizon(horizon), check_levels(levels), check_n_paths(n_paths), check_tolerance(tolerance))
    resolve_n_jobs(n_jobs)
    return out


def simulate_shares(
    frame: pd.DataFrame,
    horizon: int,
    model: str | BaseForecaster = "auto",
    *,
    values: bool = False,
    total: str | None = None,
    tolerance: float = 0.005,
    n_paths: int = 1000,
    seed: int | None = 0,
    n_jobs: int = 1,
    anchor_years: tuple[float, float] | None = ANCHOR_YEARS,
) -> SharePaths:
    """Joint sample paths of a composition; see :func:`forecast_shares` for the parameters.

    Returns
    -------
    SharePaths
        ``shares`` of shape (horizon, n_components, n_paths); every path sums to 1. With
        ``anchor_years`` the paths are already moved toward the recent composition.
    """
    horizon, _, n_paths, tolerance = _check_common(horizon, (), n_paths, tolerance, n_jobs)
    anchor_years = check_anchor_years(anchor_years)
    shares = closure(_composition_wide(frame), values=values, total=total, tolerance=tolerance)
    return _anchored(_share_paths(shares, horizon, model, n_paths, seed, n_jobs), shares, anchor_years)


def forecast_shares(
    frame: pd.DataFrame,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    *,
    values: bool = False,
    total: str | None = None,
    tolerance: float = 0.005,
    n_paths: int = 1000,
    seed: int | None = 0,
    n_jobs: int = 1,
    missing: str = "error",
    anchor_years: tuple[float, float] | None = ANCHOR_YEARS,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Forecast a composition: component shares whose means sum to 1, bounds inside [0, 1].

    Parameters
    ----------
    frame : pd.DataFrame
        Long observations ``unique_id``, ``ds``, ``y``, one series per component, on one
        frequency and span. Shares in [0, 1] summing to 1 at every period (within
        ``tolerance``), or money values with ``values=True``. A component with no row (or NaN)
        at a period has a zero share there.
    horizon : int
        Number of periods ahead (>= 1).
    levels : sequence of int
        Interval levels in percent.
    model : str or BaseForecaster
        Model of each log-ratio coordinate (default ``"auto"``).
    values : bool
        ``y`` holds values (e.g. settlements by currency in USD bn): the shares are each
        value over the period's sum, or over the ``total`` series.
    total : str, optional
        With ``values=True``, the id of a stated total in the frame; the components must sum
        to it within ``tolerance`` (relative) and are not forecast themselves.
    tolerance : float
        Shares: largest absolute gap between a period's sum and 1 (default 0.005, rounded
        published shares). Values with ``total``: largest relative gap to the total.
    n_paths, seed, n_jobs
        Sample paths, their seed, workers of the executor.
    missing : {"error", "model"}
        ``"model"``: shares published sparsely (components at different months, gaps) are
        forecast without filling anything in: each share on the logit scale by a state-space
        model through its gaps, joint paths paired by a copula and closed to sum to 1. The
        periods where every component is published must still sum to 1 (``tolerance``).
        Shares only (not ``values``).
    anchor_years : (float, float) or None
        Short compositions are pulled toward their recent composition (each share's median
        over the last year, closed to sum to 1): with weight 1 up to ``anchor_years[0]`` years
        of history, 0 from ``anchor_years[1]`` years on, linear in between (default (3, 6):
        compositions of 6 years or more are the model's alone). ``None`` switches it off.
        Applies to shares, values and ``missing="model"`` (the median skips unpublished
        months; no anchoring when a component has none in the last year) and to monthly,
        quarterly and annual data (other frequencies are not anchored).
    progress : callable, optional
        ``progress(n_done, n_total, item)`` as each series is fitted (see
        :func:`forecasting.forecast_hierarchy`); the items are the log-ratio coordinates (or,
        with ``missing="model"``, the components), not the components' names.

    Returns
    -------
    pd.DataFrame
        Long frame ``unique_id, ds, mean, lo_<L>, hi_<L>...`` per component. At every ``ds``
        the means sum to 1 (to rounding); every bound is in [0, 1] and
        ``lo_95 <= lo_80 <= mean <= hi_80 <= hi_95``. ``attrs["reference"]`` names the alr
        reference component.

    Raises
    ------
    CompositionSumError, IncoherentTotalError, ShareOutOfRangeError, NegativeValueError
        Shares not summing to 1, parts not summing to the stated total, negative input.
    FrequencyMismatchError, MisalignedPeriodsError, InvalidSeriesError, InvalidParameterError,
    InsufficientDataError, ModelFitError

    Notes
    -----
    Zeros are replaced multiplicatively (half the smallest positive share; the period's other
    shares shrink in proportion) before the log-ratios are taken, so a component that is
    zero in some periods is forecast small but positive. The mean is the mean of the
    back-transformed paths (not the back-transformed mean, which is biased), renormalised
    so that the sum is 1 to rounding.

    Anchoring shifts every path by ``w * (anchor - mean of the paths)`` (a shift summing to 0:
    the band keeps its width), clips shares at 0 and closes each path again, so means still
    sum to 1 and bounds stay in [0, 1]. On short histories the log-ratio models extrapolate
    month-to-month noise; the recent composition is then the better forecast (issue 32,
    docs/structure.md).
    """
    horizon, levels, n_paths, tolerance = _check_common(horizon, levels, n_paths, tolerance, n_jobs)
    anchor_years = check_anchor_years(anchor_years)
    if check_missing_policy(missing) == "model":
        shares = _sparse_shares(frame, values, tolerance)
        sim = _sparse_share_paths(shares, horizon, model, n_paths, seed, n_jobs, progress)
        reference = None
    else:
        shares = closure(_composition_wide(frame), values=values, total=total, tolerance=tolerance)
        sim = _share_paths(shares, horizon, model, n_paths, seed, n_jobs, progress=progress)
        reference = _alr(replace_zeros(shares))[1]
    sim = _anchored(sim, shares, anchor_years)
    mean = sim.shares.mean(axis=2)
    mean = mean / mean.sum(axis=1, keepdims=True)
    out = long_forecast(sim.index, sim.components, mean, path_bounds(sim.shares, mean, levels))
    out.attrs.update(model=str(model), n_paths=n_paths, reference=reference, missing=missing, anchor_years=anchor_years)
    return out


def forecast_share_values(
    frame: pd.DataFrame,
    total: pd.Series | pd.DataFrame,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    *,
    components: Sequence[str] | None = None,
    tolerance: float = 0.005,
    n_paths: int = 1000,
    seed: int | None = 0,
    n_jobs: int = 1,
    anchor_years: tuple[float, float] | None = ANCHOR_YEARS,
) -> pd.DataFrame:
    """Share times total: the value of each component (e.g. exports settled in yuan) from
    joint paths of a composition and of a total.

    Parameters
    ----------
    frame : pd.DataFrame
        The composition's long shares (as :func:`forecast_shares`).
    total : pd.Series or pd.DataFrame
        The total (e.g. the value of exports): a named series with a ``PeriodIndex`` (or a
        long frame of one id). It may start earlier than the composition but must end at the
        same period.
    horizon, levels, model, tolerance, n_paths, seed, n_jobs, anchor_years
        As :func:`forecast_shares` (the shares are anchored as there, so a component's share
        is the same in both; the total is not).
    components : sequence of str, optional
        Components to report (default all).

    Returns
    -------
    pd.DataFrame
        Long frame ``unique_id, ds, mean, lo_<L>, hi_<L>...``: each component's value
        ``share x total`` (ids as in ``frame``), then the total. Path by path the values sum
        to the total, so the means do too; bounds are quantiles of the products, not products
        of bounds.

    Raises
    ------
    As :func:`forecast_shares`; :class:`MisalignedPeriodsError` when the total and the
    composition end at different periods.
    """
    horizon, levels, n_paths, tolerance = _check_common(horizon, levels, n_paths, tolerance, n_jobs)
    anchor_years = check_anchor_years(anchor_years)
    shares = closure(_composition_wide(frame), tolerance=tolerance)
    y_total = _total_series(total)
    wanted = list(shares.columns) if components is None else [str(c) for c in components]
    unknown = [c for c in wanted if c not in shares.columns]
    if unknown:
        raise InvalidParameterError(f"components {unknown!r} are not in the composition {list(shares.columns)!r}.")
    if y_total.index.freq != shares.index.freq:
        raise MisalignedPeriodsError(
            f"the total is {y_total.index.freqstr} and the composition {shares.index.freqstr}; use one frequency."
        )
    sim = _anchored(_share_paths(shares, horizon, model, n_paths, seed, n_jobs, total=y_total), shares, anchor_years)
    assert sim.total is not None
    picks = [sim.components.index(c) for c in wanted]
    paths = np.concatenate([sim.shares[:, picks] * sim.total[:, None, :], sim.total[:, None, :]], axis=1)
    mean = paths.mean(axis=2)
    out = long_forecast(sim.index, [*wanted, str(y_total.name)], mean, path_bounds(paths, mean, levels))
    out.attrs.update(model=str(model), n_paths=n_paths)
    return out
