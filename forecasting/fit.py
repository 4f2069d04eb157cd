"""The fitted forecast: one call checks the request, fits once, and answers everything from that fit.

In the spirit of statsmodels' results objects, :func:`fit_forecast` takes a series and every
option of a forecast (model, kind, transform, drivers, events, missing values, break check,
growth, full year, scenarios) and returns a :class:`FittedForecast`, from which come the
forecast frame, sample paths, growth, full year, scenarios, a backtest of the same setup
and the drivers' coefficients. The REST service, the command line and the reports call it
and nothing else, so the same input gives the same answer (or the same error) everywhere.

The call runs in two steps, which a service may run in two places:

1. :func:`plan_forecast` runs every check that needs no fit (horizon, levels, kind,
   transform, the series, missing values, the growth and full-year options, the drivers
   over the horizon, the events, the scenarios, the model's fitness for drivers and gaps)
   and returns a picklable :class:`ForecastPlan`. Its errors name the option in
   ``details["field"]`` where it is one (``growth.base``, ``full_year``, ``transform``).
2. :meth:`ForecastPlan.fit` fits the model once (after forecasting the drivers marked to be
   extended by their own model, and warning of structural breaks when asked) and builds
   the blocks; it repeats none of the checks.

Examples
--------
>>> fitted = fit_forecast(y, 12, model="auto", growth=GrowthOptions())  # doctest: +SKIP
>>> fitted.forecast          # mean, lo_<L>, hi_<L> on the forecast periods  # doctest: +SKIP
>>> fitted.growth.annual     # from the same fit's sample paths  # doctest: +SKIP
>>> fitted.backtest(3)       # the same model, kind, drivers and events at 3 origins  # doctest: +SKIP
>>> backtest_models(y, 12, 3, ["ets", "theta"], transform="log")  # several models, one setup  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.blocks import (
    FullYearOptions,
    GrowthBlocks,
    GrowthOptions,
    Outlook,
    check_base,
    default_how,
    outlook_history,
    outlook_horizon,
)
from forecasting.breaks import warn_breaks
from forecasting.core import (
    DEFAULT_LEVELS,
    backtest,
    build_model,
    check_missing,
    check_takes_missing,
    describe_output,
    resolve_auto,
    with_events,
)
from forecasting.drivers import split_drivers
from forecasting.exceptions import ForecastingError, FutureDriversError, InvalidParameterError
from forecasting.frames import future_index
from forecasting.growth import annual_change, base_change, growth_index, yoy_change
from forecasting.paths import full_year_from_paths, full_year_target
from forecasting.registry import get_model
from forecasting.sampling import check_n_paths
from forecasting.scenarios import check_scenario_options, extend_drivers, scenario_frames, scenario_paths
from forecasting.transforms import Transformed
from forecasting.validation import (
    check_horizon,
    check_kind,
    check_levels,
    check_nonnegative,
    check_series,
    check_values_for_kind,
)

__all__ = [
    "TRANSFORMS",
    "DriverCoefficient",
    "FittedForecast",
    "ForecastPlan",
    "backtest_models",
    "build_estimator",
    "driver_coefficients",
    "fit_forecast",
    "plan_forecast",
]

T = TypeVar("T")

#: The transforms of a level series a forecast may ask for.
TRANSFORMS = ("none", "log")

#: The key of the baseline among the scenario paths forecast together from the one fit.
_BASELINE = "\x00baseline"


@dataclass(frozen=True)
class DriverCoefficient:
    """One driver's fitted coefficient.

    Attributes
    ----------
    name : str
        The driver (or event column).
    estimate : float
        The coefficient, on the model's scale (logit for shares, log with ``transform="log"``).
    std_error : float or None
        Its standard error (None when the model gives none).
    elasticity_at_mean : float or None
        Percent change of the series for a 1 % change of the driver, at the sample means:
        ``b * mean(x) / mean(y)`` on the level scale, ``b * mean(x)`` on the log scale and
        ``b * mean(x) * (1 - mean(y))`` on the logit scale; None when the mean of ``y`` is 0.
    """

    name: str
    estimate: float
    std_error: float | None
    elasticity_at_mean: float | None


def _with_field(check: Callable[[], T], name: str, value: Any) -> T:
    """Run ``check``; its library error names the option ``name`` in ``details``."""
    try:
        return check()
    except ForecastingError as exc:
        exc.details = {"field": name, "value": value}  # type: ignore[attr-defined]
        raise


def build_estimator(model: str | BaseForecaster, transform: str, kind: str) -> str | BaseForecaster:
    """``model``, fitted on the log scale with ``transform="log"`` (level series only).

    Raises
    ------
    InvalidParameterError
        An unknown transform, or ``"log"`` for a share series (``details["field"]`` is
        ``"transform"``).
    """
    if transform not in TRANSFORMS:
        _refuse(InvalidParameterError(f"transform must be one of {TRANSFORMS}; got {transform!r}."), transform)
    if transform == "none":
        return model
    if check_kind(kind) == "share":
        error = InvalidParameterError(
            "transform='log' applies to level series; share series are already modelled on the "
            "logit scale. Drop 'transform' or use kind='level'."
        )
        _refuse(error, transform)
    inner = get_model(model) if isinstance(model, str) else model
    return Transformed(model=inner, transform="log")


def _refuse(error: ForecastingError, transform: str) -> NoReturn:
    error.details = {"field": "transform", "value": transform}  # type: ignore[attr-defined]
    raise error


@dataclass(frozen=True)
class ForecastPlan:
    """A checked forecast: everything :meth:`fit` needs, nothing fitted yet (picklable).

    Made by :func:`plan_forecast`; attributes as its parameters, checked. ``template`` is
    the unfitted model (share transform, censoring, the state-space choice of ``auto``
    with drivers or gaps); ``path_horizon`` the paths' horizon of the blocks; ``X`` and
    ``X_path`` the drivers (events included) over the history and the paths' horizon,
    with zeros where :attr:`extend` drivers wait for their own forecast; ``scenarios`` the
    drivers of each scenario over the horizon, ``skipped`` the notes of those left out.
    """

    y: pd.Series
    horizon: int
    levels: tuple[int, ...]
    model: str | BaseForecaster
    kind: str
    transform: str
    template: BaseForecaster
    path_horizon: int
    observed: pd.Series
    growth: GrowthOptions | None = None
    full_year: FullYearOptions | None = None
    drivers: pd.DataFrame | None = None
    X: pd.DataFrame | None = None
    X_path: pd.DataFrame | None = None
    extend: tuple[str, ...] = ()
    events: tuple[Mapping[str, Any], ...] | None = None
    missing: str = "error"
    check_breaks: bool = False
    scenarios: dict[str, pd.DataFrame] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    driver_uncertainty: bool = False
    n_paths: int = 2000
    seed: int | None = 0
    scenario_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def model_name(self) -> str:
        """The model asked for, by its registry name (a class name for an instance)."""
        return self.model if isinstance(self.model, str) else type(self.model).__name__

    @property
    def blocks_asked(self) -> bool:
        return self.growth is not None or self.full_year is not None

    def fit(self) -> FittedForecast:
        """Fit the model once and build the frame, the blocks and the scenarios.

        Raises
        ------
        InsufficientDataError, ModelFitError, DriversNotSupportedError
            From the model.
        """
        X, X_path = self._drivers()
        if self.check_breaks:
            warn_breaks(self.y, self.events)
        fitted = self.template.fit(self.y, X)
        X_future = None if X_path is None else X_path.iloc[: self.horizon]
        scenarios: dict[str, pd.DataFrame] = {}
        if self.scenarios:
            assert X is not None and X_future is not None and self.drivers is not None  # checked by the plan
            columns = list(self.drivers.columns)  # the events' columns are added per scenario
            plain_X, plain_future = X.loc[:, columns], X_future.loc[:, columns]
            # Drivers extended by their own forecast were zeros in the plan's paths.
            paths = scenario_paths(plain_future, self.scenario_tables) if self.extend else self.scenarios
            scenarios = scenario_frames(
                fitted,
                self.y,
                self.horizon,
                plain_X,
                {_BASELINE: plain_future, **paths},
                self.levels,
                self.model_name,
                events=self.events,
                driver_uncertainty=self.driver_uncertainty,
                n_paths=self.n_paths,
                random_state=self.seed,
            )
            frame = scenarios.pop(_BASELINE)
        else:
            predicted = fitted.predict(self.horizon, levels=self.levels, X_future=X_future)
            frame = describe_output(predicted, fitted, self.model_name, self.y)
        growth, year = self._blocks(fitted, X_path)
        return FittedForecast(self, fitted, frame, X, X_path, growth, year, scenarios)

    def _drivers(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """The drivers over the history and the paths' horizon, the ``extend`` drivers forecast."""
        if not self.extend or self.drivers is None:
            return self.X, self.X_path
        table = extend_drivers(self.drivers, self.y.index, self.path_horizon, self.extend)
        X, X_path = split_drivers(table, self.y.index, self.path_horizon)
        return with_events(self.y, self.path_horizon, X, X_path, self.events)

    def _blocks(
        self, fitted: BaseForecaster, X_path: pd.DataFrame | None
    ) -> tuple[GrowthBlocks | None, pd.DataFrame | None]:
        """Growth and full year from one set of sample paths of the fitted model (None when not asked)."""
        if not self.blocks_asked:
            return None, None
        paths = fitted.sample_paths(self.path_horizon, self.n_paths, random_state=self.seed, X_future=X_path)
        y, levels = self.observed, self.levels
        growth = None
        if self.growth is not None:
            how, base = default_how(self.growth.how, self.kind), check_base(y, self.growth.base)
            growth = GrowthBlocks(
                base=base,
                how=how,
                yoy=yoy_change(y, paths.iloc[: self.horizon], levels) if self.growth.yoy else None,
                annual=annual_change(y, paths, levels, how=how),
                vs_base=base_change(y, paths, levels, base=base, how=how),
                index=growth_index(y, paths, levels, base=base, how=how),
            )
        year = None
        if self.full_year is not None:
            how = default_how(self.full_year.how, self.kind)
            year = full_year_from_paths(y, paths, levels, how)
            year.attrs["how"] = how
        return growth, year


@dataclass(frozen=True)
class FittedForecast:
    """One fitted forecast and everything that comes from its fit.

    Attributes
    ----------
    plan : ForecastPlan
        The checked request.
    model : BaseForecaster
        The fitted model.
    forecast : pd.DataFrame
        The forecast frame (``mean``, ``lo_<L>``, ``hi_<L>``); ``attrs`` as for
        :func:`~forecasting.forecast`. With scenarios and ``driver_uncertainty`` its
        intervals carry the drivers' errors too, as the scenarios' do.
    X, X_path : pd.DataFrame or None
        The drivers (events included) the model was fitted on and forecast with.
    growth : GrowthBlocks or None
        When asked (see :class:`~forecasting.outlook.GrowthBlocks`).
    full_year : pd.DataFrame or None
        When asked (see :func:`~forecasting.full_year`).
    scenarios : dict of str to pd.DataFrame
        One forecast frame per scenario that covers the horizon.
    """

    plan: ForecastPlan
    model: BaseForecaster
    forecast: pd.DataFrame
    X: pd.DataFrame | None = None
    X_path: pd.DataFrame | None = None
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None
    scenarios: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def interval_method(self) -> str:
        """How the forecast's intervals were made."""
        return str(self.forecast.attrs.get("interval_method", ""))

    @property
    def model_name(self) -> str:
        """The model fitted, by the name asked for (``auto`` stays ``auto``)."""
        return self.plan.model_name

    @property
    def skipped_scenarios(self) -> dict[str, str]:
        """The scenarios left out (``skip_incomplete_scenarios``): name → why."""
        return dict(self.plan.skipped)

    @property
    def outlook(self) -> Outlook:
        """The frame and the blocks as :func:`~forecasting.forecast_outlook` returns them."""
        return Outlook(self.forecast, self.growth, self.full_year)

    @property
    def coefficients(self) -> list[DriverCoefficient]:
        """The drivers' coefficients (empty for a model without drivers)."""
        if self.X is None:
            return []
        return driver_coefficients(self.model, self.X, self.plan.y)

    def paths(self, n_paths: int | None = None, seed: int | None = None) -> pd.DataFrame:
        """Sample paths over the paths' horizon (``n_paths`` and ``seed`` default to the plan's)."""
        n = check_n_paths(self.plan.n_paths if n_paths is None else n_paths)
        return self.model.sample_paths(
            self.plan.path_horizon, n, random_state=self.plan.seed if seed is None else seed, X_future=self.X_path
        )

    def backtest(self, windows: int, step: int = 1) -> pd.DataFrame:
        """Rolling-origin evaluation of the same model, kind, transform, drivers, events and gaps.

        The drivers are taken as known at each origin (their values on the history); the
        frame is :func:`backtest_models`' for the one model.
        """
        plan = self.plan
        return backtest_models(
            plan.y,
            plan.horizon,
            windows,
            [plan.model],
            plan.levels,
            step,
            plan.kind,
            transform=plan.transform,
            drivers=plan.drivers,
            events=plan.events,
            missing=plan.missing,
        )


def backtest_models(
    y: pd.Series,
    horizon: int,
    windows: int,
    models: Sequence[str | BaseForecaster] = ("auto",),
    levels: Sequence[int] = DEFAULT_LEVELS,
    step: int = 1,
    kind: str = "level",
    *,
    transform: str = "none",
    drivers: pd.DataFrame | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
    missing: str = "error",
) -> pd.DataFrame:
    """Rolling-origin evaluation of several models with one forecast setup, labelled by the names asked for.

    The backtest of a forecast's options: each model is built as :func:`fit_forecast` builds
    it (``transform``, ``kind``), and the frame's ``model`` column names it as asked (a
    registered name, with ``transform="log"`` too; an instance by its class name).
    :meth:`FittedForecast.backtest` and the REST and command-line backtests call it.

    Parameters
    ----------
    y, horizon, windows, levels, step, kind, events, missing
        As for :func:`~forecasting.backtest`.
    models : sequence of str or BaseForecaster
        The models to compare (registered names or instances).
    transform : {"none", "log"}
        As for :func:`fit_forecast`, for every model.
    drivers : pd.DataFrame or None
        The drivers by period, one column each; taken on ``y``'s periods (known at each
        origin), so they need not reach past the history.

    Returns
    -------
    pd.DataFrame
        As :func:`~forecasting.backtest` returns it.

    Raises
    ------
    InvalidParameterError
        A bad transform (``details["field"]`` is ``"transform"``), or as for
        :func:`~forecasting.backtest`.
    InvalidSeriesError, MissingValuesError, InvalidDriversError, InvalidEventError,
    InsufficientDataError, MissingNotSupportedError, ModelFitError
        As for :func:`~forecasting.backtest`.
    """
    estimators = [build_estimator(m, transform, kind) for m in models]
    X = None if drivers is None else _table(drivers).reindex(y.index)
    return backtest(
        y,
        horizon,
        windows,
        models=estimators,
        levels=levels,
        step=step,
        kind=kind,
        X=X,
        events=events,
        missing=missing,
        labels=[m if isinstance(m, str) else type(m).__name__ for m in models],
    )


def _fitted_result(model: BaseForecaster) -> tuple[Any, str]:
    """The statsmodels results behind ``model`` and the scale of its coefficients."""
    scale = "level"
    current: Any = model
    while current is not None and getattr(current, "result_", None) is None:
        if isinstance(current, Transformed):
            scale = current.transform
        current = getattr(current, "inner_", None) or getattr(current, "model_", None)
    return (None if current is None else current.result_), scale


def driver_coefficients(model: BaseForecaster, X: pd.DataFrame, y: pd.Series) -> list[DriverCoefficient]:
    """Each driver's coefficient, standard error and elasticity at the means, from a fitted model.

    Parameters
    ----------
    model : BaseForecaster
        Fitted with drivers ``X`` (a state-space model, possibly inside the share or log
        transform, the censoring at zero or ``auto``'s choice).
    X : pd.DataFrame
        The drivers it was fitted on.
    y : pd.Series
        The series it was fitted on.

    Returns
    -------
    list of DriverCoefficient
        In ``X``'s column order; empty when the model keeps no regression coefficients.
    """
    result, scale = _fitted_result(model)
    if result is None:
        return []
    names = list(result.model.param_names)
    params = np.asarray(result.params, dtype=float)
    bse = np.asarray(getattr(result, "bse", np.full(len(params), np.nan)), dtype=float)
    y_mean = float(np.nanmean(y.to_numpy(dtype=float)))
    out = []
    for i, column in enumerate(X.columns, start=1):
        label = next((n for n in (f"x{i}", f"beta.x{i}") if n in names), None)
        if label is None:
            continue
        b, se = float(params[names.index(label)]), float(bse[names.index(label)])
        x_mean = float(np.nanmean(X[column].to_numpy(dtype=float)))
        factor = {"log": 1.0, "logit": 1.0 - y_mean}.get(scale, 1.0 / y_mean if y_mean else np.nan)
        elasticity = b * x_mean * factor
        out.append(
            DriverCoefficient(
                str(column), b, se if np.isfinite(se) else None, elasticity if np.isfinite(elasticity) else None
            )
        )
    return out


def plan_forecast(
    y: pd.Series,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    *,
    transform: str = "none",
    drivers: pd.DataFrame | None = None,
    extend: Sequence[str] = (),
    events: Sequence[Mapping[str, Any]] | None = None,
    missing: str = "error",
    check_breaks: bool = False,
    growth: GrowthOptions | None = None,
    full_year: FullYearOptions | None = None,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    driver_uncertainty: bool = False,
    skip_incomplete_scenarios: bool = False,
    n_paths: int = 2000,
    seed: int | None = 0,
) -> ForecastPlan:
    """Every check of :func:`fit_forecast`, without fitting; parameters as there.

    Raises
    ------
    InvalidParameterError, InvalidSeriesError, MissingValuesError, InvalidDriversError,
    FutureDriversError, InvalidEventError, MissingNotSupportedError
        As for :func:`fit_forecast`.
    """
    horizon, levels, kind = check_horizon(horizon), check_levels(levels), check_kind(kind)
    estimator = build_estimator(model, transform, kind)
    y = check_missing(check_series(y, allow_missing=True), missing)
    check_values_for_kind(y, kind)
    censor = check_nonnegative(y, kind, None)
    observed, path_horizon = _check_blocks(y, horizon, kind, growth, full_year)
    events_ = tuple(dict(e) for e in events) if events is not None else None
    X, X_path, table = _check_drivers(y, path_horizon, drivers, tuple(extend), events_)
    paths, skipped = _check_scenarios(
        X_path, horizon, table, scenarios, driver_uncertainty, n_paths, skip_incomplete_scenarios
    )
    return ForecastPlan(
        y=y,
        horizon=horizon,
        levels=levels,
        model=model,
        kind=kind,
        transform=transform,
        template=_template(model, estimator, X, missing, kind, censor),
        path_horizon=path_horizon,
        observed=observed,
        growth=growth,
        full_year=full_year,
        drivers=table,
        X=X,
        X_path=X_path,
        extend=tuple(extend),
        events=events_,
        missing=missing,
        check_breaks=check_breaks,
        scenarios=paths,
        skipped=skipped,
        scenario_tables={name: _table(scenarios[name]) for name in paths} if scenarios else {},
        driver_uncertainty=driver_uncertainty,
        n_paths=check_n_paths(n_paths),
        seed=seed,
    )


def _template(
    model: str | BaseForecaster, estimator: str | BaseForecaster, X: object, missing: str, kind: str, censor: bool
) -> BaseForecaster:
    """The unfitted model: ``auto``'s state-space choice with drivers or gaps, the share
    transform, the censoring at zero; refused when it cannot take the gaps."""
    template = build_model(resolve_auto(estimator, X, missing), kind, nonnegative=censor)
    if missing == "model":
        check_takes_missing(template, model)
    return template


def _check_blocks(
    y: pd.Series, horizon: int, kind: str, growth: GrowthOptions | None, full_year: FullYearOptions | None
) -> tuple[pd.Series, int]:
    """The history the blocks compare with and the paths' horizon; the options checked (errors name them)."""
    if growth is None and full_year is None:
        return y, horizon
    observed = outlook_history(y)  # with gaps: the latest unbroken stretch
    if growth is not None:
        _with_field(lambda: default_how(growth.how, kind), "growth.how", growth.how)
        _with_field(lambda: check_base(observed, growth.base), "growth.base", growth.base)
    if full_year is not None:
        how = _with_field(lambda: default_how(full_year.how, kind), "full_year.how", full_year.how)
        _with_field(lambda: full_year_target(observed, how), "full_year", None)
    return observed, outlook_horizon(y.index, horizon)


def _check_drivers(
    y: pd.Series,
    path_horizon: int,
    drivers: pd.DataFrame | None,
    extend: tuple[str, ...],
    events: tuple[Mapping[str, Any], ...] | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """``X`` and ``X_path`` (events appended) and the drivers' table; the ``extend`` drivers' missing
    horizon values are zeros here (their own forecast comes in the fit)."""
    table = None
    X = X_path = None
    if drivers is not None:
        table = drivers.to_frame() if isinstance(drivers, pd.Series) else drivers
        checked = table
        if extend:
            future = future_index(y.index, path_horizon)
            checked = table.reindex(table.index.union(future))
            for col in extend:
                checked.loc[future, col] = checked.loc[future, col].fillna(0.0)
        X, X_path = split_drivers(checked, y.index, path_horizon)
    X, X_path = with_events(y, path_horizon, X, X_path, events)
    return X, X_path, table


def _check_scenarios(
    X_path: pd.DataFrame | None,
    horizon: int,
    table: pd.DataFrame | None,
    scenarios: Mapping[str, pd.DataFrame] | None,
    driver_uncertainty: bool,
    n_paths: int,
    skip: bool,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Each scenario's drivers over the horizon; with ``skip``, the incomplete ones left out (notes)."""
    if not scenarios:
        return {}, {}
    check_scenario_options(scenarios, driver_uncertainty, n_paths)
    scenarios = {name: _table(path) for name, path in scenarios.items()}
    columns = [] if table is None else list(table.columns)
    baseline = None if X_path is None or table is None else X_path.iloc[:horizon].loc[:, columns]
    if not skip:
        return scenario_paths(baseline, scenarios), {}
    paths, skipped = {}, {}
    for name, path in scenarios.items():
        try:
            paths.update(scenario_paths(baseline, {name: path}))
        except FutureDriversError as exc:
            skipped[name] = f"scenario {name!r} left out: " + str(exc).removeprefix(f"scenario {name!r}: ")
    return paths, skipped


def _table(path: pd.DataFrame | pd.Series) -> pd.DataFrame:
    return path.to_frame() if isinstance(path, pd.Series) else path


def fit_forecast(
    y: pd.Series,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str | BaseForecaster = "auto",
    kind: str = "level",
    *,
    transform: str = "none",
    drivers: pd.DataFrame | None = None,
    extend: Sequence[str] = (),
    events: Sequence[Mapping[str, Any]] | None = None,
    missing: str = "error",
    check_breaks: bool = False,
    growth: GrowthOptions | None = None,
    full_year: FullYearOptions | None = None,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    driver_uncertainty: bool = False,
    skip_incomplete_scenarios: bool = False,
    n_paths: int = 2000,
    seed: int | None = 0,
) -> FittedForecast:
    """Check, fit once and return the fitted forecast with everything asked of it.

    Parameters
    ----------
    y : pd.Series
        Float series with a regular ``PeriodIndex`` (or ``DatetimeIndex``) with ``freq``;
        gaps (NaN) only with ``missing="model"``.
    horizon : int
        Periods ahead (>= 1).
    levels : sequence of int
        Interval levels in percent, for the frame, the blocks and the scenarios.
    model : str or BaseForecaster
        A registered name or a model instance. Default ``"auto"``.
    kind : {"level", "share"}
        As for :func:`~forecasting.forecast`.
    transform : {"none", "log"}
        ``"log"`` fits a level series' model on the log scale.
    drivers : pd.DataFrame or None
        The drivers by period, one column each, over the history and at least the horizon
        (to the end of the last forecast year with ``growth`` or ``full_year``); split by
        :func:`~forecasting.drivers.split_drivers`, whose errors name driver and period.
    extend : sequence of str
        Drivers whose missing horizon values are filled by their own forecast
        (:func:`~forecasting.scenarios.extend_drivers`, which warns).
    events, missing, check_breaks
        As for :func:`~forecasting.forecast` (``check_breaks`` warns once per break).
    growth, full_year
        The blocks to compute from the fit's sample paths, as for
        :func:`~forecasting.forecast_outlook`.
    scenarios : mapping of str to pd.DataFrame or None
        Scenario name → the drivers it sets, by period; each is forecast from the same fit
        (:func:`~forecasting.forecast_scenarios`).
    driver_uncertainty : bool
        The drivers' own forecast errors widen the scenarios' and the forecast's intervals.
    skip_incomplete_scenarios : bool
        Leave out a scenario whose drivers do not cover the horizon (the note is in
        :attr:`FittedForecast.skipped_scenarios`) instead of raising.
    n_paths, seed
        Sample paths of the blocks and of ``driver_uncertainty``, and their seed.

    Returns
    -------
    FittedForecast

    Raises
    ------
    InvalidParameterError
        Bad options (naming the option in ``details["field"]`` where it is one), scenarios
        without drivers.
    InvalidSeriesError, MissingValuesError
        The series (gaps without ``missing="model"``).
    InvalidDriversError, FutureDriversError, InvalidEventError
        Drivers, scenarios or events that do not fit the series and the horizon.
    InsufficientDataError, NotFoundError, ModelFitError, MissingNotSupportedError
        From the model.
    """
    return plan_forecast(
        y,
        horizon,
        levels,
        model,
        kind,
        transform=transform,
        drivers=drivers,
        extend=extend,
        events=events,
        missing=missing,
        check_breaks=check_breaks,
        growth=growth,
        full_year=full_year,
        scenarios=scenarios,
        driver_uncertainty=driver_uncertainty,
        skip_incomplete_scenarios=skip_incomplete_scenarios,
        n_paths=n_paths,
        seed=seed,
    ).fit()
