"""Mixed reporting: monthly figures alongside year-to-date and annual totals, no month invented.

Customs offices and the press often publish a month's figure only for some months, and
otherwise a cumulative total from January (``2017-01..05``: January to May) or a calendar
year. :func:`monthly_from_reports` reads such a mix into a monthly series on which the
state-space models fit with ``missing="model"``:

- a reported month is kept as it is;
- a month is *derived* only when the reports determine it exactly: two cumulative totals
  of the same year (``C_a``, ``C_b``, with ``C_0 = 0``) give the sum of months ``a+1..b``,
  and when all but one of those months are known the remaining one is that sum minus the
  others (``Jan..Mar`` minus ``Jan..Feb`` is March; ``Jan..Dec`` minus a reported
  ``Jan..Nov`` is December). This is repeated until nothing more follows;
- every other month stays missing (NaN): it is not interpolated or spread out.

The totals that do not resolve into single months (``Jan..May`` when only April is
known, say) are returned as :attr:`MixedMonthly.aggregates`: sums over several months.
:func:`forecast_mixed` uses them: a structural model with a cumulator state
``C_t = delta_t C_{t-1} + y_t`` observed where such a total is published, so that the
forecast and the smoothed estimates of the unpublished months (returned apart from the
data, labelled ``"estimated"``) agree with every published figure.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri
from statsmodels.tsa.statespace.initialization import Initialization
from statsmodels.tsa.statespace.mlemodel import MLEModel

from forecasting.exceptions import (
    ConvergenceWarning,
    InsufficientDataError,
    InvalidParameterError,
    InvalidSeriesError,
    ModelFitError,
)
from forecasting.frames import DS, MEAN, Y, build_forecast_frame, future_index, hi_col, lo_col
from forecasting.validation import check_horizon, check_levels

__all__ = ["MixedForecast", "MixedMonthly", "forecast_mixed", "monthly_from_reports"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YTD = re.compile(r"^(\d{4})-01\.\.(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
#: Relative tolerance when a reported month disagrees with what the totals imply.
_TOLERANCE = 0.01


@dataclass(frozen=True)
class MixedMonthly:
    """A monthly series read from mixed reports.

    Attributes
    ----------
    y : pd.Series
        Monthly ``PeriodIndex`` from the first to the last month covered; NaN where no
        month is reported or exactly derived.
    derived : list of pd.Period
        The months computed from cumulative totals (the others are reported).
    aggregates : pd.DataFrame
        ``start, end, total``: published totals over ``start..end`` that leave two or more
        of those months unresolved (the total includes any known month of the span).
    notes : list of str
        Reported months that disagree with the totals by more than 1% (kept as reported).
    """

    y: pd.Series
    derived: list[pd.Period] = field(default_factory=list)
    aggregates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["start", "end", "total"]))
    notes: list[str] = field(default_factory=list)


def _read(
    periods: Iterable[str], values: Iterable[float]
) -> tuple[dict[pd.Period, float], dict[int, dict[int, float]]]:
    months: dict[pd.Period, float] = {}
    cumulative: dict[int, dict[int, float]] = {}
    seen: dict[tuple[int, int, bool], tuple[str, float]] = {}
    for label, value in zip(periods, values, strict=True):
        text = str(label).strip()
        if value is None or not np.isfinite(float(value)):
            continue
        if m := _MONTH.match(text):
            key = (int(m.group(1)), int(m.group(2)), False)
        elif m := _YTD.match(text):
            key = (int(m.group(1)), int(m.group(2)), True)
        elif m := _YEAR.match(text):
            key = (int(m.group(1)), 12, True)
        else:
            raise InvalidSeriesError(
                f"period {text!r} is not a month ('2017-05'), a year-to-date total ('2017-01..05') or a year ('2017')."
            )
        if not 1 <= key[1] <= 12:
            raise InvalidSeriesError(f"period {text!r}: the month must be 01..12.")
        _check_repeat(seen, key, text, float(value))
        if key[2]:
            cumulative.setdefault(key[0], {})[key[1]] = float(value)
        else:
            months[pd.Period(year=key[0], month=key[1], freq="M")] = float(value)
    return months, cumulative


def _check_repeat(
    seen: dict[tuple[int, int, bool], tuple[str, float]], key: tuple[int, int, bool], text: str, value: float
) -> None:
    """The same figure given twice (``"2017"`` and ``"2017-01..12"`` are one) must agree."""
    if key in seen:
        other, before = seen[key]
        if abs(before - value) > _TOLERANCE * max(abs(before), abs(value), 1e-12):
            raise InvalidSeriesError(
                f"period {text!r} is given twice with different figures: {other!r} = {before:g}, {text!r} = {value:g}."
            )
    seen[key] = (text, value)


def _resolve_year(
    year: int, known: dict[int, float], totals: dict[int, float]
) -> tuple[list[int], list[tuple[int, int, float]]]:
    """Derive the months of ``year`` that the totals determine; return them and the unresolved spans."""
    cuts = {0: 0.0, **totals}
    derived: list[int] = []
    changed = True
    while changed:
        changed = False
        points = sorted(cuts)
        for a, b in itertools.pairwise(points):
            span = range(a + 1, b + 1)
            unknown = [k for k in span if k not in known]
            if len(unknown) == 1:
                known[unknown[0]] = cuts[b] - cuts[a] - sum(known[k] for k in span if k != unknown[0])
                derived.append(unknown[0])
                changed = True
        # A cumulative total follows from the months when they are all known.
        for b in range(1, 13):
            if b not in cuts and all(k in known for k in range(1, b + 1)):
                cuts[b] = sum(known[k] for k in range(1, b + 1))
    points = sorted(cuts)
    open_spans = [
        (a + 1, b, cuts[b] - cuts[a])
        for a, b in itertools.pairwise(points)
        if sum(k not in known for k in range(a + 1, b + 1)) >= 2
    ]
    return derived, open_spans


def monthly_from_reports(periods: Iterable[str], values: Iterable[float], *, name: str = "y") -> MixedMonthly:
    """Read months, year-to-date totals and annual totals into a monthly series.

    Parameters
    ----------
    periods : iterable of str
        ``"2017-05"`` (a month), ``"2017-01..05"`` (January to May), ``"2017"`` (the year).
    values : iterable of float
        The figures; missing ones (None, NaN) are skipped.
    name : str
        Name of the series.

    Returns
    -------
    MixedMonthly
        The monthly series (NaN where nothing determines a month), the derived months,
        the unresolved totals and notes.

    Raises
    ------
    InvalidSeriesError
        A period label of another form, or nothing to read.
    """
    months, cumulative = _read(periods, values)
    derived: list[pd.Period] = []
    spans = []
    notes = []
    for year, totals in sorted(cumulative.items()):
        reported = {p.month: v for p, v in months.items() if p.year == year}
        known = dict(reported)
        found, open_spans = _resolve_year(year, known, totals)
        for k in found:
            months[pd.Period(year=year, month=k, freq="M")] = known[k]
            derived.append(pd.Period(year=year, month=k, freq="M"))
        spans += [
            (pd.Period(year=year, month=a, freq="M"), pd.Period(year=year, month=b, freq="M"), t)
            for a, b, t in open_spans
        ]
        notes += _disagreements(year, reported, totals)
    if not months:
        raise InvalidSeriesError(f"series {name!r}: no month is reported or determined by the totals.")
    index = pd.period_range(min(months), max(months), freq="M", name="ds")
    y = pd.Series([months.get(p, np.nan) for p in index], index=index, name=name, dtype=float)
    aggregates = pd.DataFrame(spans, columns=["start", "end", "total"])
    return MixedMonthly(y, sorted(derived), aggregates, notes)


def _disagreements(year: int, reported: dict[int, float], totals: dict[int, float]) -> list[str]:
    """Reported months whose sum misses a cumulative total that they cover completely."""
    out = []
    for b, total in sorted(totals.items()):
        if all(k in reported for k in range(1, b + 1)):
            implied = sum(reported[k] for k in range(1, b + 1))
            if abs(implied - total) > _TOLERANCE * max(abs(total), 1e-12):
                out.append(f"{year}-01..{b:02d}: reported months sum to {implied:.4g}, the total says {total:.4g}.")
    return out


# ---------------------------------------------------------------------------------------
# The cumulator model: the totals used as observations of a temporal-aggregation state.
# ---------------------------------------------------------------------------------------

#: Variances are floored at this fraction of the scaled series' variance (1): with exact
#: observations (no measurement noise) a variance estimated at 0 would make the
#: prediction-error variance singular once the state is known.
_VARIANCE_FLOOR = 1e-8


#: Initial variance of the level, slope and seasonal states, on the series scaled to a mean
#: absolute value of 1 (so a standard deviation 10 times the series' level: uninformative).
#: Not statsmodels' exact diffuse initialisation: measured on three simulated series with
#: sparse months and year-to-date totals, its smoothed months missed the totals by 37% to
#: 173% (they should sum to them exactly), while this gives gaps of at most 2e-7 (40
#: series). A much larger value (1e6) loses precision (gaps up to 1e-2).
_DIFFUSE_VARIANCE = 100.0


@dataclass(frozen=True)
class MixedForecast:
    """The forecast of a series read from mixed reports, and its estimated unpublished months.

    Attributes
    ----------
    forecast : pd.DataFrame
        The forecast frame (``mean, lo_<L>, hi_<L>``) over the months after the last one
        covered by a report.
    estimates : pd.DataFrame
        One row per month of the history: ``y`` (the published or exactly derived value,
        NaN otherwise), ``status`` (``"reported"``, ``"derived"`` or ``"estimated"``), and
        ``mean, lo_<L>, hi_<L>``: the smoothed estimate given every report (equal to ``y``
        with zero width where ``y`` is known). Estimates are model output, never data.
    totals_used : pd.DataFrame
        The totals observed through the cumulator (``start, end, total``); empty with
        ``use_totals=False``.
    params : dict
        The model (``trend``, ``seasonal``), its variances (in the units of the series)
        and the log-likelihood.
    notes : list of str
        Reported months that disagree with a total by more than 1% (from the reader).
    """

    forecast: pd.DataFrame
    estimates: pd.DataFrame
    totals_used: pd.DataFrame
    params: dict[str, Any]
    notes: list[str] = field(default_factory=list)


class _CumulatorModel(MLEModel):  # type: ignore[misc]
    """Structural model plus a cumulator state observed where a total is published.

    State ``[level, (slope), seasonal x (s-1), irregular, C]``. The monthly value is
    ``y_t = Z alpha_t`` (level + seasonal + irregular, no measurement noise) and the
    cumulator is ``C_t = delta_t C_{t-1} + y_t`` with ``delta_t = 0`` at the first month of
    a published span, 1 inside it. Observations: ``[y_t, C_t]``, each NaN where nothing
    is published. ``starts`` marks the months where ``delta_t = 0``.
    """

    def __init__(self, endog: np.ndarray, starts: np.ndarray, *, slope: bool, season_length: int) -> None:
        self.slope = slope
        self.season_length = season_length
        self.k_core = 1 + int(slope) + max(season_length - 1, 0)
        k_states = self.k_core + 2
        k_posdef = 2 + int(slope) + int(season_length > 1)
        super().__init__(endog, k_states=k_states, k_posdef=k_posdef)
        self._build(np.asarray(starts, dtype=bool))

    def _build(self, starts: np.ndarray) -> None:
        k, kc, n = self.k_states, self.k_core, self.nobs
        T = np.zeros((k, k))
        R = np.zeros((k, self.ssm.k_posdef))
        T[0, 0] = 1.0
        R[0, 1] = 1.0  # level disturbance
        z = np.zeros(k)
        z[0] = 1.0
        col = 2
        if self.slope:
            T[0, 1] = T[1, 1] = 1.0
            R[1, col] = 1.0
            col += 1
        s0 = 1 + int(self.slope)
        if self.season_length > 1:
            m = self.season_length
            T[s0, s0 : s0 + m - 1] = -1.0
            for j in range(1, m - 1):
                T[s0 + j, s0 + j - 1] = 1.0
            R[s0, col] = 1.0
            z[s0] = 1.0
        R[kc, 0] = 1.0  # the irregular is a state so that the cumulator adds it up
        z[kc] = 1.0
        T[kc + 1] = z @ T
        R[kc + 1] = z @ R
        transition = np.repeat(T[:, :, None], n, axis=2)
        # transition[..., t] carries the state from t to t+1: it resets C when t+1 starts a span.
        transition[kc + 1, kc + 1, :-1] = np.where(starts[1:], 0.0, 1.0)
        transition[kc + 1, kc + 1, -1] = 0.0
        self["transition"] = transition
        self["selection"] = R
        design = np.zeros((2, k))
        design[0] = z
        design[1, kc + 1] = 1.0
        self["design"] = design
        self["obs_cov"] = np.zeros((2, 2))
        # The core states start vague; the irregular and the cumulator of the period before
        # the history are 0 (neither feeds forward: the first month starts a span).
        init = Initialization(k)
        init.set((0, kc), "approximate_diffuse", approximate_diffuse_variance=_DIFFUSE_VARIANCE)
        init.set((kc, k), "known", constant=np.zeros(2), stationary_cov=np.zeros((2, 2)))
        self.ssm.initialization = init
        self.z_ = z

    @property
    def param_names(self) -> list[str]:
        names = ["sigma2.irregular", "sigma2.level"]
        if self.slope:
            names.append("sigma2.trend")
        if self.season_length > 1:
            names.append("sigma2.seasonal")
        return names

    @property
    def start_params(self) -> np.ndarray:
        return np.array([0.3, 0.1] + [0.01] * (self.ssm.k_posdef - 2))

    def transform_params(self, unconstrained: np.ndarray) -> np.ndarray:
        return np.asarray(unconstrained, dtype=float) ** 2

    def untransform_params(self, constrained: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.sqrt(np.asarray(constrained, dtype=float))
        return out

    def update(self, params: np.ndarray, **kwargs: Any) -> None:
        params = super().update(params, **kwargs)
        self["state_cov"] = np.diag(np.asarray(params, dtype=float) + _VARIANCE_FLOOR)


def forecast_mixed(
    reports: MixedMonthly | pd.Series,
    horizon: int,
    levels: Sequence[int] = (80, 95),
    *,
    trend: str = "local linear trend",
    seasonal: bool = True,
    use_totals: bool = True,
) -> MixedForecast:
    """Forecast a monthly series published as a mix of months and year-to-date/annual totals.

    A structural model (level, optional slope, monthly dummy seasonal, irregular) is extended
    with a cumulator state ``C_t = delta_t C_{t-1} + y_t`` (``delta_t = 0`` at the first month
    of a published span: January for a year-to-date total). The Kalman filter observes
    ``y_t`` where a month is reported or exactly derived, and ``C_t`` at the last month of
    every total that :func:`monthly_from_reports` could not resolve into months; nothing is
    filled in or spread out. Variances by maximum likelihood (vague initial state).

    Parameters
    ----------
    reports : MixedMonthly or pd.Series
        The output of :func:`monthly_from_reports`, or a Series of figures indexed by period
        labels (``"2017-05"``, ``"2017-01..05"``, ``"2017"``) read with it.
    horizon : int
        Months to forecast after the last month any report covers.
    levels : sequence of int
        Interval levels in percent.
    trend : {"local linear trend", "local level"}
        The trend component.
    seasonal : bool
        Include a monthly seasonal.
    use_totals : bool
        False ignores the totals (the same model on the months only), for comparison.

    Returns
    -------
    MixedForecast
        The forecast frame, the smoothed estimates of every month (labelled), the totals
        used and the fitted variances.

    Raises
    ------
    InvalidParameterError
        Bad horizon, levels or trend.
    InvalidSeriesError
        Unreadable labels; a label given twice with different figures; totals that overlap,
        contradict months they cover completely, or (for a series with no negative figure)
        leave a negative remainder for the months they do not cover.
    InsufficientDataError
        Fewer published figures than the model needs.
    ModelFitError
        The likelihood could not be maximised on this data.

    Notes
    -----
    The model is linear in the levels (totals are sums of levels), so it takes no log
    transform: for a growing series the intervals are additive. See Harvey (1989), sec. 6.3
    and Durbin & Koopman (2012), sec. 3.3 for the cumulator.
    """
    horizon = check_horizon(horizon)
    levels = check_levels(levels)
    if trend not in _TRENDS:
        raise InvalidParameterError(f"forecast_mixed(trend={trend!r}): choose one of {_TRENDS}.")
    mixed = reports if isinstance(reports, MixedMonthly) else _read_series(reports)
    y, spans = _history(mixed, use_totals)
    layout = _Layout.build(y, spans, horizon)
    model_name = f"{trend}" + (" + seasonal[12]" if seasonal else "") + (" + cumulator" if len(spans) else "")
    n_params = 2 + int(trend == "local linear trend") + int(seasonal)
    n_data = int(y.notna().sum()) + len(spans)
    needed = n_params + 2 + (11 if seasonal else 0)
    if n_data < needed:
        raise InsufficientDataError(
            f"forecast_mixed ({model_name}) needs at least {needed} published figures (months and totals); "
            f"got {n_data}."
        )
    model = _CumulatorModel(
        layout.endog, layout.starts, slope=trend == "local linear trend", season_length=12 if seasonal else 1
    )
    result = _fit(model)
    mean, sd = _smoothed_y(model, result, layout.scale)
    hist = slice(1, 1 + len(y))
    fut = slice(1 + len(y), None)
    known = y.notna().to_numpy()
    mean_h = np.where(known, y.to_numpy(dtype=float), mean[hist])
    sd_h = np.where(known, 0.0, sd[hist])
    variances = dict(zip(model.param_names, np.asarray(result.params, dtype=float) * layout.scale**2, strict=True))
    return MixedForecast(
        forecast=build_forecast_frame(
            future_index(y.index, horizon), mean[fut], _bands(mean[fut], sd[fut], levels), model_name="forecast_mixed"
        ),
        estimates=_estimates(y, mixed.derived, mean_h, sd_h, levels),
        totals_used=pd.DataFrame(spans, columns=["start", "end", "total"]),
        params={"model": model_name, **variances, "loglike": float(result.llf), "n_months": int(known.sum())},
        notes=list(mixed.notes),
    )


_TRENDS = ("local linear trend", "local level")


def _read_series(reports: pd.Series) -> MixedMonthly:
    if not isinstance(reports, pd.Series):
        raise InvalidSeriesError(
            f"forecast_mixed: give a MixedMonthly or a Series of figures indexed by period labels; "
            f"got {type(reports).__name__}."
        )
    name = str(reports.name) if reports.name is not None else "y"
    return monthly_from_reports([str(p) for p in reports.index], reports.to_numpy(dtype=float), name=name)


def _history(mixed: MixedMonthly, use_totals: bool) -> tuple[pd.Series, list[tuple[pd.Period, pd.Period, float]]]:
    """The monthly series over every month a report covers, and the checked totals over it."""
    y = mixed.y
    if not isinstance(y.index, pd.PeriodIndex) or y.index.freqstr not in ("M", "ME"):
        raise InvalidSeriesError("forecast_mixed: MixedMonthly.y must have a monthly PeriodIndex.")
    spans = _checked_spans(mixed.aggregates) if use_totals else []
    first = min([y.index[0], *(s for s, _, _ in spans)])
    last = max([y.index[-1], *(e for _, e, _ in spans)])
    full = pd.period_range(first, last, freq="M", name="ds")
    if not y.index.is_unique or not y.index.is_monotonic_increasing:
        raise InvalidSeriesError("forecast_mixed: MixedMonthly.y has repeated or unsorted months.")
    y = y.reindex(full).astype(float)
    kept = []
    for start, end, total in spans:
        months = y[start:end]
        if months.notna().all():
            implied = float(months.sum())
            if abs(implied - total) > _TOLERANCE * max(abs(total), 1e-12):
                raise InvalidSeriesError(
                    f"forecast_mixed: the total {total:.6g} over {start}..{end} contradicts its months, "
                    f"which are all known and sum to {implied:.6g}."
                )
            continue  # redundant: every month of the span is known
        kept.append((start, end, total))
    _check_remainders(y, mixed.derived, kept)
    return y, kept


def _checked_spans(aggregates: pd.DataFrame) -> list[tuple[pd.Period, pd.Period, float]]:
    missing = {"start", "end", "total"} - set(aggregates.columns)
    if missing:
        raise InvalidSeriesError(f"forecast_mixed: MixedMonthly.aggregates lacks the column(s) {sorted(missing)}.")
    spans = []
    for row in aggregates.itertuples(index=False):
        start, end, total = pd.Period(row.start, freq="M"), pd.Period(row.end, freq="M"), float(row.total)
        if end < start or not np.isfinite(total):
            raise InvalidSeriesError(f"forecast_mixed: the total {start}..{end} = {total} is not a valid span.")
        spans.append((start, end, total))
    spans.sort()
    for (s0, e0, _), (s1, e1, _) in itertools.pairwise(spans):
        if s1 <= e0:
            raise InvalidSeriesError(f"forecast_mixed: the totals {s0}..{e0} and {s1}..{e1} overlap.")
    return spans


def _check_remainders(y: pd.Series, derived: list[pd.Period], spans: list[tuple[pd.Period, pd.Period, float]]) -> None:
    """For a flow with no negative figure, a total below its known months is a contradiction."""
    reported = y.drop(index=[p for p in derived if p in y.index]).dropna()
    if (reported < 0).any() or any(t < 0 for _, _, t in spans):
        return  # a series that can go negative (a balance): nothing to check
    for p in derived:
        if p in y.index and y[p] < -_TOLERANCE * max(abs(reported).max() if len(reported) else 1.0, 1e-12):
            raise InvalidSeriesError(
                f"forecast_mixed: month {p} follows from the totals as {y[p]:.6g}, negative although every "
                "published figure is >= 0; check the totals of that year."
            )
    for start, end, total in spans:
        rest = total - float(y[start:end].sum())
        if rest < -_TOLERANCE * max(abs(total), 1e-12):
            raise InvalidSeriesError(
                f"forecast_mixed: the total {total:.6g} over {start}..{end} is less than the months of it that "
                f"are known ({total - rest:.6g}), although every published figure is >= 0."
            )


@dataclass(frozen=True)
class _Layout:
    """Arrays for the state-space model: one period before the history, the history, the horizon."""

    endog: np.ndarray
    starts: np.ndarray
    scale: float

    @classmethod
    def build(cls, y: pd.Series, spans: list[tuple[pd.Period, pd.Period, float]], horizon: int) -> _Layout:
        values = [abs(float(v)) for v in y.dropna()] + [abs(t) / ((e - s).n + 1) for s, e, t in spans]
        scale = float(np.mean(values)) if values and np.mean(values) > 0 else 1.0
        n_hist = len(y)
        endog = np.full((1 + n_hist + horizon, 2), np.nan)
        endog[1 : 1 + n_hist, 0] = y.to_numpy(dtype=float) / scale
        starts = np.zeros(len(endog), dtype=bool)
        starts[1] = True
        starts[1 + n_hist :] = True
        for start, end, total in spans:
            starts[1 + y.index.get_loc(start)] = True
            endog[1 + y.index.get_loc(end), 1] = total / scale
        return cls(endog, starts, scale)


def _fit(model: _CumulatorModel) -> Any:
    """Maximum likelihood by L-BFGS; when it reports no convergence (typically a variance at
    its bound of 0), Nelder-Mead from where it stopped, keeping the higher likelihood."""
    try:
        with warnings.catch_warnings():
            # statsmodels warns when L-BFGS stops early; convergence is checked below instead.
            warnings.simplefilter("ignore")
            result = model.fit(disp=False, maxiter=500)
            converged = bool(result.mle_retvals.get("converged", True))
            if not converged:
                retry = model.fit(result.params, disp=False, method="nm", maxiter=3000)
                converged = bool(retry.mle_retvals.get("converged", True))
                result = retry if retry.llf >= result.llf else result
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ModelFitError(f"forecast_mixed could not fit the cumulator model: {exc}") from exc
    if not converged:
        warnings.warn(
            "forecast_mixed: the likelihood optimiser did not converge; the variances may be poor.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


def _smoothed_y(model: _CumulatorModel, result: Any, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed mean and standard deviation of ``y_t`` at every period, in the series' units."""
    z = model.z_
    state = np.asarray(result.smoothed_state, dtype=float)
    cov = np.asarray(result.smoothed_state_cov, dtype=float)
    mean = z @ state
    var = np.einsum("i,ijt,j->t", z, cov, z)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ModelFitError("forecast_mixed produced non-finite estimates on this data.")
    return mean * scale, np.sqrt(np.clip(var, 0.0, None)) * scale


def _bands(mean: np.ndarray, sd: np.ndarray, levels: tuple[int, ...]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for level in levels:
        z = float(ndtri(0.5 + level / 200.0))
        out[level] = (mean - z * sd, mean + z * sd)
    return out


def _estimates(
    y: pd.Series, derived: list[pd.Period], mean: np.ndarray, sd: np.ndarray, levels: tuple[int, ...]
) -> pd.DataFrame:
    status = np.where(y.notna(), "reported", "estimated").astype(object)
    status[[i for i, p in enumerate(y.index) if p in set(derived)]] = "derived"
    frame = pd.DataFrame({Y: y.to_numpy(dtype=float), "status": status, MEAN: mean}, index=y.index)
    for level, (lo, hi) in _bands(mean, sd, levels).items():
        frame[lo_col(level)] = lo
        frame[hi_col(level)] = hi
    frame.index.name = DS
    return frame
