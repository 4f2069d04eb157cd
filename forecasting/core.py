"""Public entry points: :func:`forecast`, :func:`forecast_many` and :func:`backtest`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.base import BaseForecaster
from forecasting.evidence import warn_backtest_coverage, warn_evidence
from forecasting.exceptions import (
    InsufficientDataError,
    InvalidParameterError,
    MissingNotSupportedError,
    MissingValuesError,
)
from forecasting.frames import CUTOFF, MEAN, MODEL, H, Y, hi_col, levels_in, lo_col
from forecasting.registry import get_model
from forecasting.transforms import NonNegative, Transformed
from forecasting.validation import (
    check_horizon,
    check_kind,
    check_levels,
    check_nonnegative,
    check_series,
    check_values_for_kind,
)

__all__ = [
    "backtest",
    "build_gap_model",
    "build_model",
    "check_missing",
    "check_takes_missing",
    "describe_output",
    "fit_model",
    "forecast",
    "latest_complete_stretch",
    "resolve_auto",
    "best_models",
    "score_backtest",
    "to_period_series",
    "with_events",
]

DEFAULT_LEVELS = (80, 95)

#: How :func:`forecast` treats missing values: refuse them, or let the model's likelihood
#: skip them (state-space models).
MISSING_POLICIES = ("error", "model")


def build_model(
    model: str | BaseForecaster = "auto", kind: str = "level", *, nonnegative: bool = False
) -> BaseForecaster:
    """The model that :func:`forecast` fits: a registered name or an instance, plus kind.

    ``kind="share"`` wraps the model in a logit :class:`~forecasting.transforms.Transformed`,
    so the mean and every bound stay inside (0, 1). ``nonnegative=True`` (a resolved flag,
    see :func:`~forecasting.validation.check_nonnegative`) wraps a level model in
    :class:`~forecasting.transforms.NonNegative`, its distribution censored at zero; a model
    already on the log scale is positive and is left as it is.
    """
    kind = check_kind(kind)
    inner: BaseForecaster
    if isinstance(model, BaseForecaster):
        inner = clone(model)
    elif isinstance(model, str):
        inner = get_model(model)
    else:
        raise InvalidParameterError(f"model must be a registered name or a model instance; got {model!r}.")
    if kind == "share":
        return Transformed(model=inner, transform="logit")
    if nonnegative and not (isinstance(inner, Transformed) and inner.transform == "log"):
        return NonNegative(model=inner)
    return inner


def forecast(
    y: pd.Series,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    X: pd.DataFrame | None = None,
    X_future: pd.DataFrame | None = None,
    missing: str = "error",
    nonnegative: bool | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
    check_breaks: bool = False,
) -> pd.DataFrame:
    """Fit ``model`` to ``y`` and forecast ``horizon`` periods with intervals.

    Parameters
    ----------
    y : pd.Series
        Float series with a regular ``PeriodIndex`` (or ``DatetimeIndex``) with ``freq``.
    horizon : int
        Number of periods ahead (>= 1).
    levels : sequence of int
        Interval levels in percent (1..99); ``()`` for point forecasts only.
    model : str or BaseForecaster
        A registered name (see :func:`list_models`) or a model instance. Default ``"auto"``.
    kind : {"level", "share"}
        ``"share"`` for proportions in [0, 1], modelled on the logit scale.
    X : pd.DataFrame or None
        Drivers on ``y``'s index (one numeric column each, no gaps), for models that take
        them (``regression_arima``, ``structural``); ``"auto"`` then chooses between those
        two by a holdout at the end of the series. See :mod:`forecasting.drivers`.
    X_future : pd.DataFrame or None
        The drivers over the ``horizon`` periods after ``y``; required with ``X``.
    missing : {"error", "model"}
        ``"error"`` refuses missing values; ``"model"`` forecasts through them: a named
        state-space model skips them in its likelihood (nothing filled in); ``"auto"`` fills
        them with the structural model's smoothed estimates and combines as usual (a series
        with fewer than half its periods observed goes to the state-space choice instead).
    nonnegative : bool or None
        Keep the mean and every bound >= 0 by censoring the predictive distribution at zero
        (:class:`~forecasting.transforms.NonNegative`). None (default) decides from the data:
        on for a ``level`` series with no negative value (trade values, turnover); False
        turns it off for series that may go negative (balances); True requires data >= 0.
    events : sequence of mapping or None
        Known events (``{"ds": "2022-03", "type": "level_shift"}``; types ``level_shift``,
        ``pulse``, ``ramp``, ``seasonal_change``), turned into drivers by
        :func:`~forecasting.events.event_regressors` and appended to ``X``/``X_future``;
        so they need a model that takes drivers (``"auto"`` becomes the state-space choice).
    check_breaks : bool
        Run :func:`~forecasting.breaks.detect_breaks` on ``y`` and emit a
        :class:`~forecasting.exceptions.StructuralBreakWarning` for each strong break not
        already marked by an event. Off by default: the scan costs a few regressions per
        candidate date, and existing callers' warnings stay as they were.

    Returns
    -------
    pd.DataFrame
        Indexed ``ds`` with ``mean``, ``lo_<L>``, ``hi_<L>``. ``frame.attrs`` holds
        ``model`` (the name asked for), ``interval_method`` and ``nonnegative`` (whether the
        censoring applied).

    Raises
    ------
    InvalidSeriesError, InsufficientDataError, InvalidParameterError, NotFoundError,
    ModelFitError, DriversNotSupportedError, InvalidDriversError, FutureDriversError,
    MissingNotSupportedError, InvalidEventError (and its subclasses UnknownEventTypeError,
    EventOutOfRangeError)
    """
    horizon = check_horizon(horizon)
    levels = check_levels(levels)
    kind = check_kind(kind)
    y = check_missing(check_series(y, allow_missing=True), missing)
    check_values_for_kind(y, kind)
    censor = check_nonnegative(y, kind, nonnegative)
    X, X_future = with_events(y, horizon, X, X_future, events)
    if check_breaks:
        from forecasting.breaks import warn_breaks

        warn_breaks(y, events)
    template = build_model(resolve_auto(model, X, missing), kind, nonnegative=censor)
    if missing == "model":
        check_takes_missing(template, model)
    fitted = template.fit(y, X)
    return describe_output(fitted.predict(horizon, levels=levels, X_future=X_future), fitted, model, y)


def fit_model(
    y: pd.Series, model: str | BaseForecaster = "auto", kind: str = "level", *, nonnegative: bool | None = None
) -> BaseForecaster:
    """The fitted model behind :func:`forecast` for a complete series without drivers.

    One fit serves both the forecast frame (``predict``) and its sample paths
    (``sample_paths``), as :func:`~forecasting.simulate` and
    :func:`~forecasting.forecast_outlook` use it.

    Parameters
    ----------
    y, model, kind, nonnegative
        As for :func:`forecast`.

    Returns
    -------
    BaseForecaster
        The fitted model: the share transform and the censoring at zero included.

    Raises
    ------
    InvalidSeriesError, InsufficientDataError, InvalidParameterError, NotFoundError,
    ModelFitError
    """
    kind = check_kind(kind)
    y = check_series(y)
    check_values_for_kind(y, kind)
    censor = check_nonnegative(y, kind, nonnegative)
    return build_model(model, kind, nonnegative=censor).fit(y)


def describe_output(
    frame: pd.DataFrame, fitted: BaseForecaster, model: str | BaseForecaster, y: pd.Series | None = None
) -> pd.DataFrame:
    """Record on ``frame.attrs`` the model asked for, how the intervals were made and the censoring.

    With the series ``y`` the forecast was made from, also emit its thin-evidence warnings
    (:func:`forecasting.evidence.warn_evidence`): every entry point passes through here once
    its fit succeeded.
    """
    if y is not None:
        warn_evidence(y)
    frame.attrs["model"] = model if isinstance(model, str) else type(model).__name__
    frame.attrs["interval_method"] = interval_method(fitted)
    frame.attrs["nonnegative"] = isinstance(fitted, NonNegative)
    return frame


def with_events(
    y: pd.Series,
    horizon: int,
    X: pd.DataFrame | None,
    X_future: pd.DataFrame | None,
    events: Sequence[Mapping[str, Any]] | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Append the events' columns to the user's drivers (a name clash is an invalid_drivers error)."""
    if events is None:
        return X, X_future
    from forecasting.events import event_regressors

    made = event_regressors(y.index, events, horizon)
    if X is None:
        return made.X, made.X_future
    from forecasting.drivers import check_drivers

    X = check_drivers(X, y.index)
    if isinstance(X_future, pd.Series):
        X_future = X_future.to_frame()
    # Future rows are joined on the forecast index: a misaligned X_future leaves NaN, which
    # check_future_drivers then reports with the period and column.
    future = None if X_future is None else X_future.join(made.X_future, how="outer")
    return pd.concat([X, made.X], axis=1), future


def check_missing(y: pd.Series, missing: str) -> pd.Series:
    """Validate the missing-value policy; under ``"error"`` refuse NaN naming ``missing="model"``."""
    if missing not in MISSING_POLICIES:
        raise InvalidParameterError(f"missing must be one of {MISSING_POLICIES}; got {missing!r}.")
    gaps = np.isnan(y.to_numpy(dtype=float))
    if missing == "error" and gaps.any():
        raise MissingValuesError(
            f"y has {int(gaps.sum())} missing value(s), the first at {y.index[int(np.flatnonzero(gaps)[0])]}. "
            "Pass missing='model' to fit a state-space model through the gaps (nothing is filled in), "
            "or fill or drop them."
        )
    return y


def check_takes_missing(template: BaseForecaster, model: object) -> None:
    """Refuse, naming ``missing='model'``'s models, a model whose likelihood cannot skip gaps."""
    if not template._takes_missing():
        raise MissingNotSupportedError(
            f"model {model!r} cannot fit a series with gaps; missing='model' needs a model whose likelihood "
            "skips missing observations: 'regression_arima', 'structural' or 'auto'."
        )


def build_gap_model(model: str | BaseForecaster = "auto", kind: str = "level") -> BaseForecaster:
    """The model :func:`forecast` fits under ``missing="model"``: ``auto`` is the state-space choice.

    Raises
    ------
    MissingNotSupportedError
        ``model`` cannot fit a series with gaps.
    """
    template = build_model(resolve_auto(model, None, "model"), kind)
    check_takes_missing(template, model)
    return template


#: Simulated completions behind ``auto``'s intervals under ``missing="model"`` (docs/drivers.md,
#: "Gaps: the imputed auto"): chosen on the M3 monthly training parts.
GAP_IMPUTATIONS = 3


def resolve_auto(model: str | BaseForecaster, X: object, missing: str) -> str | BaseForecaster:
    """``"auto"`` with drivers is the choice between the two state-space models; ``"auto"``
    with gaps (no drivers) is ``auto`` on the series completed by the structural smoother,
    which leaves sparse series to the state-space choice (:class:`~forecasting.models.imputed.ImputedAuto`)."""
    if model == "auto" and X is not None:
        from forecasting.models.statespace import AutoStateSpace

        return AutoStateSpace()
    if model == "auto" and missing == "model":
        from forecasting.models.imputed import ImputedAuto

        return ImputedAuto(n_imputations=GAP_IMPUTATIONS)
    return model


def interval_method(model: BaseForecaster) -> str:
    """A short description of how ``model`` makes its intervals."""
    described = getattr(model, "interval_method_", None) or getattr(type(model), "interval_method", None)
    if isinstance(model, Transformed):
        inner = interval_method(model.inner_) if model.is_fitted else "model distribution"
        return f"{inner}, on the {model.transform} scale (bounds back-transformed by quantile)"
    if isinstance(model, NonNegative):
        inner = interval_method(model.inner_) if model.is_fitted else "model distribution"
        return f"{inner}, censored at zero (non-negative: bounds and point forecast max(0, .))"
    return str(described or "model distribution (normal errors)")


def backtest(
    y: pd.Series,
    horizon: int,
    windows: int,
    models: Sequence[str | BaseForecaster] = ("auto",),
    levels: Sequence[int] = DEFAULT_LEVELS,
    step: int = 1,
    kind: str = "level",
    nonnegative: bool | None = None,
    X: pd.DataFrame | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
    missing: str = "error",
    *,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rolling-origin evaluation of ``models`` on ``y``.

    The last window's cutoff leaves exactly ``horizon`` actuals; each earlier cutoff is
    ``step`` periods before the next. ``kind`` and ``nonnegative`` are as in :func:`forecast`
    (``nonnegative=None`` decides from the whole of ``y``).

    With drivers ``X`` (on ``y``'s whole index) each origin fits on ``X`` up to its cutoff
    and forecasts with the drivers' actual values over the horizon as ``X_future``: the
    drivers are taken as known, so the scores measure the model given the drivers, not the
    drivers' own forecasts. ``events`` become drivers the same way (see :func:`forecast`);
    ``"auto"`` is then the choice between the state-space models at each origin.

    ``missing="model"`` backtests a sparse series (gaps stay NaN) with the models whose
    likelihood skips gaps ('auto', 'structural', 'regression_arima'; others raise
    :class:`~forecasting.exceptions.MissingNotSupportedError`); windows whose actuals are
    missing keep ``y`` NaN and are not scored. Under ``"error"`` a gap is refused, naming
    ``missing="model"``.

    Returns
    -------
    pd.DataFrame
        Long frame ``model, cutoff, ds, h, mean, lo_<L>, hi_<L>, y`` with one row per
        model × window × step ahead.

    Raises
    ------
    InvalidParameterError
        For a bad ``horizon``, ``windows``, ``step`` or ``levels``, or ``labels`` not one per model.
    InsufficientDataError
        When the first window would leave fewer training observations than a model needs.
    """
    horizon = check_horizon(horizon)
    levels = check_levels(levels)
    kind = check_kind(kind)
    for name, value in (("windows", windows), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidParameterError(f"{name} must be an integer >= 1; got {value!r}.")
    if not models:
        raise InvalidParameterError("models must name at least one model.")
    if labels is None:
        labels = [m if isinstance(m, str) else type(m).__name__ for m in models]
    elif len(labels) != len(models):
        raise InvalidParameterError(f"labels must name each of the {len(models)} model(s); got {len(labels)}.")
    y = check_missing(check_series(y, allow_missing=True), missing)
    check_values_for_kind(y, kind)
    censor = check_nonnegative(y, kind, nonnegative)
    X = _backtest_drivers(y, X, events)
    first_train = len(y) - horizon - (windows - 1) * step
    built = [
        (label, build_model(resolve_auto(m, X, missing), kind, nonnegative=censor))
        for label, m in zip(labels, models, strict=True)
    ]
    for label, template in built:
        _check_backtest_model(
            label, template, y, first_train, missing, f"horizon={horizon}, windows={windows}, step={step}"
        )
    rows = []
    for w in range(windows):
        end = first_train + w * step
        train, test = y.iloc[:end], y.iloc[end : end + horizon]
        X_train = None if X is None else X.iloc[:end]
        X_future = None if X is None else X.iloc[end : end + horizon]
        for label, template in built:
            fc = clone(template).fit(train, X_train).predict(horizon, levels=levels, X_future=X_future)
            fc = fc.reset_index()
            fc.insert(0, MODEL, label)
            fc.insert(1, CUTOFF, train.index[-1])
            fc.insert(3, H, np.arange(1, horizon + 1))
            fc[Y] = test.to_numpy()
            rows.append(fc)
    frame = pd.concat(rows, ignore_index=True)
    warn_backtest_coverage(frame)
    return frame


def _check_backtest_model(
    label: str, template: BaseForecaster, y: pd.Series, first_train: int, missing: str, design: str
) -> None:
    """Refuse a model that cannot take the gaps, or whose first window is too short."""
    if missing == "model":
        check_takes_missing(template, label)
    needed = _min_obs_for(template, y)
    if first_train < needed:
        raise InsufficientDataError(
            f"backtest of {label!r} with {design} leaves {max(first_train, 0)} training observations in the "
            f"first window; {needed} are needed (the series has {len(y)}). Use fewer windows or a shorter horizon."
        )


def _backtest_drivers(
    y: pd.Series, X: pd.DataFrame | None, events: Sequence[Mapping[str, Any]] | None
) -> pd.DataFrame | None:
    """The drivers of a backtest on ``y``'s whole index: ``X`` validated, events appended."""
    from forecasting.drivers import check_drivers

    if X is not None:
        X = check_drivers(X, y.index)
    if events is None:
        return X
    from forecasting.events import event_regressors

    made = event_regressors(y.index, events, 0).X
    return made if X is None else pd.concat([X, made], axis=1)


def _min_obs_for(template: BaseForecaster, y: pd.Series) -> int:
    probe = clone(template)
    probe.season_length_ = probe._resolve_season_length(y.index)
    return int(probe.min_obs())


def to_period_series(ds: Any, values: Any, *, name: str = "y", freq: str | None = None) -> pd.Series:
    """Build a regular ``PeriodIndex`` series from dates/periods and values.

    Missing periods inside the range become NaN (nothing is invented); duplicate periods
    raise :class:`~forecasting.exceptions.InvalidSeriesError` in :func:`check_series`.
    """
    ds = pd.Series(ds).reset_index(drop=True)
    vals = pd.to_numeric(pd.Series(values).reset_index(drop=True), errors="coerce").astype(float)
    if isinstance(ds.dtype, pd.PeriodDtype):
        idx = pd.PeriodIndex(ds)
        if freq is not None:
            idx = idx.asfreq(freq)
    else:
        stamps = pd.DatetimeIndex(pd.to_datetime(ds))
        use = freq or (pd.infer_freq(stamps.sort_values()) if len(stamps) >= 3 else None)
        if use is None:
            from forecasting.exceptions import InvalidSeriesError

            raise InvalidSeriesError(f"cannot infer the frequency of series {name!r}; give freq ('M', 'Q' or 'Y').")
        idx = stamps.to_period(_period_alias(use))
    s = pd.Series(vals.to_numpy(), index=idx, name=name).sort_index()
    if s.index.has_duplicates:
        return s
    full = pd.period_range(s.index[0], s.index[-1], freq=s.index.freq)
    return s.reindex(full)


def _period_alias(freq: str) -> str:
    base = freq.upper().lstrip("0123456789")
    for key, alias in (("Q", "Q"), ("A", "Y"), ("Y", "Y"), ("M", "M"), ("W", "W"), ("D", "D")):
        if base.startswith(key) or base.startswith("B" + key):
            return alias
    return freq


def latest_complete_stretch(y: pd.Series) -> tuple[pd.Series, str | None]:
    """The last run of ``y`` without missing values, and a note saying what was dropped.

    Models need complete series and filling gaps would invent data, so a series with gaps
    (for example annual figures only published for some years) can be forecast honestly
    from its latest unbroken stretch. Returns ``(y, None)`` when ``y`` has no NaN, and an
    empty series (with a note) when every value is missing.
    """
    missing = np.isnan(y.to_numpy(dtype=float))
    if not missing.any():
        return y, None
    if missing.all():
        return y.iloc[:0], f"series {y.name!r} has no values."
    end = int(np.flatnonzero(~missing)[-1]) + 1
    before = np.flatnonzero(missing[:end])
    start = int(before[-1]) + 1 if before.size else 0
    stretch = y.iloc[start:end]
    note = (
        f"series {y.name!r} has {int(missing.sum())} missing value(s); fitted on its latest unbroken stretch, "
        f"{len(stretch)} observation(s) from {stretch.index[0]} to {stretch.index[-1]}."
    )
    return stretch, note


def _scaled(value: float, scale: float, *, root: bool = False) -> float:
    """``value / scale`` (its square root with ``root``); NaN when the scale is zero or undefined."""
    if not np.isfinite(scale) or scale <= 0.0:
        return float("nan")
    return float(np.sqrt(value / scale)) if root else float(value / scale)


def score_backtest(
    frame: pd.DataFrame, y: pd.Series, season_length: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score a :func:`backtest` frame per window and per model.

    Parameters
    ----------
    frame : pd.DataFrame
        Output of :func:`backtest` (``model, cutoff, ds, h, mean, lo_<L>, hi_<L>…, y``).
        Rows whose actual ``y`` is missing (a sparse series backtested with
        ``missing="model"``) are not scored.
    y : pd.Series
        The series the backtest ran on: each window's MASE/RMSSE/MSIS scale is the seasonal
        naive error of its training part (the latest unbroken stretch up to the cutoff).
    season_length : int, optional
        For the scale; None infers it from the index.

    Returns
    -------
    windows : pd.DataFrame
        One row per model and cutoff: ``model, cutoff, mae, rmse, smape, mase, rmsse`` and
        ``coverage_<L>``, ``msis_<L>`` for each level in the frame. NaN where a scale is
        zero or undefined (a constant training window) or no actual is known.
    models : pd.DataFrame
        One row per model: MAE and RMSE over every scored point (in the series' units), the
        window means of sMAPE, MASE, RMSSE and MSIS (ignoring NaN), and coverage over every
        point.
    """
    from forecasting import metrics
    from forecasting.validation import infer_season_length

    m = season_length if season_length is not None else infer_season_length(y.index)
    levels = levels_in(list(frame.columns))
    window_rows = []
    model_rows = []
    for model, by_model in frame.groupby(MODEL, sort=False):
        scored = [
            {MODEL: model, CUTOFF: cutoff, **_score_window(part, y.loc[:cutoff], m, levels)}
            for cutoff, part in by_model.groupby(CUTOFF, sort=True)
        ]
        windows = pd.DataFrame(scored)
        known = by_model[by_model[Y].notna()]
        errors = known[Y].to_numpy(dtype=float) - known[MEAN].to_numpy(dtype=float)
        summary: dict[str, Any] = {
            MODEL: model,
            "mae": float(np.mean(np.abs(errors))) if errors.size else float("nan"),
            "rmse": float(np.sqrt(np.mean(errors**2))) if errors.size else float("nan"),
        }
        for col in ("smape", "mase", "rmsse", *(f"msis_{lv}" for lv in levels)):
            summary[col] = float(windows[col].mean())  # pandas skips NaN
        for lv in levels:
            summary[f"coverage_{lv}"] = (
                metrics.coverage(known[Y], known[lo_col(lv)], known[hi_col(lv)]) if len(known) else float("nan")
            )
        window_rows.append(windows)
        model_rows.append(summary)
    return pd.concat(window_rows, ignore_index=True), pd.DataFrame(model_rows)


def _score_window(part: pd.DataFrame, history: pd.Series, m: int, levels: Sequence[int]) -> dict[str, float]:
    """The errors of one model at one origin, over the steps whose actual is known."""
    from forecasting import metrics

    known = part[part[Y].notna()]
    names = ["mae", "rmse", "smape", "mase", "rmsse"]
    names += [f"{what}_{lv}" for lv in levels for what in ("coverage", "msis")]
    if known.empty:
        return dict.fromkeys(names, float("nan"))
    actual, mean = known[Y].to_numpy(dtype=float), known[MEAN].to_numpy(dtype=float)
    insample = latest_complete_stretch(history)[0].to_numpy(dtype=float)
    scale_abs, scale_sq = metrics.scale_mae(insample, m), metrics.scale_mse(insample, m)
    row = {
        "mae": metrics.mae(actual, mean),
        "rmse": metrics.rmse(actual, mean),
        "smape": metrics.smape(actual, mean),
        "mase": _scaled(metrics.mae(actual, mean), scale_abs),
        "rmsse": _scaled(float(np.mean((actual - mean) ** 2)), scale_sq, root=True),
    }
    for lv in levels:
        lo, hi = known[lo_col(lv)].to_numpy(dtype=float), known[hi_col(lv)].to_numpy(dtype=float)
        row[f"coverage_{lv}"] = metrics.coverage(actual, lo, hi)
        row[f"msis_{lv}"] = _scaled(metrics.interval_score(actual, lo, hi, lv), scale_abs)
    return row


#: The metrics :func:`best_models` ranks, lower is better (coverage: closest to nominal).
RANKED_METRICS = ("mae", "rmse", "smape", "mase", "rmsse")


def best_models(models: pd.DataFrame) -> dict[str, str]:
    """The best model by each metric of a :func:`score_backtest` summary.

    Lower is better for MAE, RMSE, sMAPE, MASE, RMSSE and MSIS; for ``coverage_<L>`` the
    best is the closest to ``L``%. Ties go to the model listed first; a metric that is NaN
    for every model is left out, and so is everything when fewer than two models were run.

    Parameters
    ----------
    models : pd.DataFrame
        The ``models`` frame of :func:`score_backtest`.

    Returns
    -------
    dict of str to str
        Metric name (``mae``, ``coverage_80``...) → model name.
    """
    if len(models) < 2:
        return {}
    best: dict[str, str] = {}
    metric_cols = [c for c in models.columns if c in RANKED_METRICS or c.startswith(("msis_", "coverage_"))]
    for col in metric_cols:
        values = models[col].to_numpy(dtype=float)
        if col.startswith("coverage_"):
            values = np.abs(values - int(col.rsplit("_", 1)[1]) / 100.0)
        if np.isnan(values).all():
            continue
        best[col] = str(models[MODEL].iloc[int(np.nanargmin(values))])
    return best
