"""Contract checks over registered models and synthetic series factories.

Plain functions (no pytest import), so users can run the checks on their own models::

    from forecasting.testing import CHECKS
    for check in CHECKS.values():
        check(MyModel, {})
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.base import BaseForecaster
from forecasting.exceptions import (
    ForecastingWarning,
    InsufficientDataError,
    IntervalsNotSupportedError,
    InvalidParameterError,
    InvalidSeriesError,
    ModelFitError,
    NotFittedError,
)
from forecasting.frames import MEAN, hi_col, interval_columns, lo_col

__all__ = ["CHECKS", "check_forecast_frame", "degenerate_series", "make_series"]

_FREQ_SEASON = {"M": 12, "Q": 4, "Y": 1}


def make_series(
    freq: str = "M",
    n: int = 60,
    *,
    seasonal: bool = True,
    index_kind: str = "period",
    seed: int = 0,
    level: float = 100.0,
    trend: float = 0.5,
    noise: float = 2.0,
    name: str = "y",
) -> pd.Series:
    """A positive synthetic series: level + trend + seasonality + Gaussian noise.

    Parameters
    ----------
    freq : {"M", "Q", "Y"}
        Monthly, quarterly or annual.
    n : int
        Number of observations.
    seasonal : bool
        Add a sine wave of one year's period (ignored for annual data).
    index_kind : {"period", "datetime"}
        ``PeriodIndex`` or ``DatetimeIndex`` (month/quarter/year starts).
    seed : int
        Random seed.
    """
    rng = np.random.default_rng(seed)
    m = _FREQ_SEASON[freq]
    t = np.arange(n, dtype=float)
    values = level + trend * t + noise * rng.standard_normal(n)
    if seasonal and m > 1:
        values += 10.0 * np.sin(2 * np.pi * t / m)
    if index_kind == "period":
        index: pd.Index = pd.period_range("2000-01", periods=n, freq=freq)
    else:
        index = pd.date_range("2000-01-01", periods=n, freq={"M": "MS", "Q": "QS", "Y": "YS"}[freq])
    return pd.Series(values, index=index, name=name)


Check = Callable[[type[BaseForecaster], dict[str, Any]], None]


def _series_for(cls: type[BaseForecaster], params: dict[str, Any], **kw: Any) -> pd.Series:
    return make_series(**{"freq": "M", "n": 60, **kw})


def _levels_for(cls: type[BaseForecaster]) -> tuple[int, ...]:
    return (80, 95) if cls.tags.supports_intervals else ()


def check_constructor(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Builds with no arguments; get_params round-trips; clone is equal and unfitted."""
    cls()
    model = cls(**params)
    got = model.get_params(deep=False)
    for key, value in params.items():
        if got[key] is not value and got[key] != value:
            raise AssertionError(f"get_params()[{key!r}] = {got[key]!r}; expected {value!r}")
    twin = clone(model)
    if twin.get_params(deep=False).keys() != got.keys() or twin.is_fitted:
        raise AssertionError("clone() must give an equal, unfitted model")


def check_fit_returns_self(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """fit returns self, sets attributes ending in _, and leaves its input unchanged."""
    y = _series_for(cls, params)
    before = y.copy()
    model = cls(**params)
    if model.fit(y) is not model:
        raise AssertionError("fit must return self")
    learned = [a for a in vars(model) if a.endswith("_") and not a.startswith("_")]
    if not learned or not model.is_fitted:
        raise AssertionError("fit must set fitted attributes ending in '_'")
    pd.testing.assert_series_equal(y, before)


def check_predict_before_fit(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """predict before fit raises NotFittedError."""
    try:
        cls(**params).predict(3)
    except NotFittedError:
        return
    raise AssertionError("predict before fit must raise NotFittedError")


def check_output_frame(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Output has horizon rows, a continuing index named ds, and the exact columns."""
    y = _series_for(cls, params)
    levels = _levels_for(cls)
    fc = cls(**params).fit(y).predict(7, levels=levels)
    expected_cols = [MEAN, *interval_columns(levels)]
    if list(fc.columns) != expected_cols:
        raise AssertionError(f"columns {list(fc.columns)}; expected {expected_cols}")
    if len(fc) != 7 or fc.index.name != "ds":
        raise AssertionError("forecast must have horizon rows and an index named 'ds'")
    if not isinstance(fc.index, pd.PeriodIndex) or fc.index.freq != y.index.freq:
        raise AssertionError("forecast index must continue the training index type and freq")
    if fc.index[0] != y.index[-1] + 1:
        raise AssertionError("forecast index must start right after the training index")
    if not all(dtype == np.float64 for dtype in fc.dtypes):
        raise AssertionError("all forecast columns must be float64")


def check_intervals_nest(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """lo <= mean <= hi; wider levels contain narrower ones; no NaN on clean input."""
    y = _series_for(cls, params)
    levels = (50, 80, 95) if cls.tags.supports_intervals else ()
    fc = cls(**params).fit(y).predict(12, levels=levels)
    if fc.isna().any().any():
        raise AssertionError("forecast has NaN on clean input")
    prev_lo, prev_hi = fc[MEAN], fc[MEAN]
    for level in levels:
        lo, hi = fc[lo_col(level)], fc[hi_col(level)]
        if (lo > prev_lo + 1e-9).any() or (hi < prev_hi - 1e-9).any():
            raise AssertionError(f"the {level}% interval does not contain narrower ones")
        prev_lo, prev_hi = lo, hi


def check_frequencies_and_index_kinds(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Works on monthly and quarterly data, with PeriodIndex and DatetimeIndex."""
    for freq, n in (("M", 60), ("Q", 40)):
        for kind in ("period", "datetime"):
            y = make_series(freq, n, index_kind=kind, seed=1)
            fc = cls(**params).fit(y).predict(5, levels=_levels_for(cls))
            if type(fc.index) is not type(y.index) or fc.index.freq != y.index.freq:
                raise AssertionError(f"index type/freq not kept for {freq}/{kind}")
            if kind == "datetime" and fc.index[0] != y.index[-1] + y.index.freq:
                raise AssertionError("DatetimeIndex forecast does not continue the training index")


def check_invalid_input(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Bad horizon/levels raise InvalidParameterError; bad series raise InvalidSeriesError."""
    y = _series_for(cls, params)
    model = cls(**params).fit(y)
    for bad in (0, -1, 2.5, "3"):
        try:
            model.predict(bad)  # type: ignore[arg-type]
        except InvalidParameterError:
            continue
        raise AssertionError(f"predict(horizon={bad!r}) must raise InvalidParameterError")
    bad_levels: list[Any] = [[0], [100], [80.5], ["x"]]
    for levels in bad_levels:
        try:
            model.predict(3, levels=levels)
        except (InvalidParameterError, IntervalsNotSupportedError):
            continue
        raise AssertionError(f"predict(levels={levels!r}) must raise InvalidParameterError")
    irregular = y.drop(y.index[[5, 9]])
    gaps = pd.Series(irregular.to_numpy(), index=irregular.index.to_timestamp())
    for bad_y in (gaps, y.to_numpy(), y.iloc[:1]):
        try:
            cls(**params).fit(bad_y)  # type: ignore[arg-type]
        except InvalidSeriesError:
            continue
        raise AssertionError("irregular, non-Series or too-short input must raise InvalidSeriesError")
    if not cls.tags.handles_missing:
        with_nan = y.copy()
        with_nan.iloc[10] = np.nan
        try:
            cls(**params).fit(with_nan)
        except InvalidSeriesError:
            pass
        else:
            raise AssertionError("NaN input must raise InvalidSeriesError for this model")


def check_refit_and_determinism(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Fit on A then B equals fit on B; repeated predictions are identical."""
    a = make_series("M", 60, seed=3)
    b = make_series("M", 72, seed=4, level=300.0)
    levels = _levels_for(cls)
    refit = cls(**params).fit(a).fit(b).predict(6, levels=levels)
    fresh = cls(**params).fit(b).predict(6, levels=levels)
    pd.testing.assert_frame_equal(refit, fresh)
    pd.testing.assert_frame_equal(fresh, cls(**params).fit(b).predict(6, levels=levels))


def check_pickle(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """A pickle round trip gives identical predictions."""
    model = cls(**params).fit(_series_for(cls, params))
    levels = _levels_for(cls)
    twin = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(model.predict(5, levels=levels), twin.predict(5, levels=levels))


def check_tags_match_behaviour(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Interval support is real and min_obs() is enforced."""
    y = _series_for(cls, params)
    model = cls(**params).fit(y)
    if cls.tags.supports_intervals:
        fc = model.predict(4, levels=(90,))
        if not (fc[hi_col(90)] - fc[lo_col(90)] > 0).all():
            raise AssertionError("supports_intervals=True but intervals have zero width")
    else:
        try:
            model.predict(4, levels=(90,))
        except IntervalsNotSupportedError:
            pass
        else:
            raise AssertionError("levels on a point-only model must raise IntervalsNotSupportedError")
    needed = model.min_obs()
    try:
        cls(**params).fit(y.iloc[: needed - 1])
    except InsufficientDataError:
        pass
    else:
        raise AssertionError(f"fit on {needed - 1} < min_obs()={needed} points must raise")
    cls(**params).fit(y.iloc[-needed:])


def check_sample_paths(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Sample paths agree with predict's bounds at every step, within Monte Carlo error,
    and are reproducible with a seed (point-only models refuse to sample)."""
    y = _series_for(cls, params)
    model = cls(**params).fit(y)
    if not cls.tags.supports_intervals:
        try:
            model.sample_paths(3, 10)
        except IntervalsNotSupportedError:
            return
        raise AssertionError("sample_paths on a point-only model must raise IntervalsNotSupportedError")
    horizon, n_paths = 6, 400
    paths = model.sample_paths(horizon, n_paths, random_state=11)
    fc = model.predict(horizon, levels=(50, 80, 95))
    if paths.shape != (horizon, n_paths) or not paths.index.equals(fc.index):
        raise AssertionError("sample paths must have horizon rows indexed like predict's frame")
    values = paths.to_numpy()
    for level in (50, 80, 95):
        tail = (1.0 - level / 100.0) / 2.0
        # Four binomial standard errors of a tail fraction estimated from n_paths draws.
        tol = 4.0 * np.sqrt(tail * (1.0 - tail) / n_paths) + 1.0 / n_paths
        below = (values < fc[lo_col(level)].to_numpy()[:, None]).mean(axis=1)
        above = (values > fc[hi_col(level)].to_numpy()[:, None]).mean(axis=1)
        if np.abs(below - tail).max() > tol or np.abs(above - tail).max() > tol:
            raise AssertionError(
                f"paths outside the {level}% bounds: below {below.round(3)}, above {above.round(3)}; "
                f"expected {tail:.3f} +- {tol:.3f} per step"
            )
    pd.testing.assert_frame_equal(paths, model.sample_paths(horizon, n_paths, random_state=11))
    if np.array_equal(values, model.sample_paths(horizon, n_paths, random_state=12).to_numpy()):
        raise AssertionError("different seeds must give different paths")


def degenerate_series(min_obs: int = 4) -> dict[str, tuple[pd.Series, str]]:
    """Series that break naive estimators: name -> (series, kind).

    Perfectly linear annual series (``1..8``, ``10, 12, ..., 28``), constant and all-zero
    monthly series, share series of all 0s and all 1s, and a linear and a constant series
    of exactly ``min_obs`` annual observations (the shortest a model accepts).
    """

    def annual(values: Any) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=pd.period_range("2000", periods=len(values), freq="Y"))

    def monthly(values: Any) -> pd.Series:
        return pd.Series(
            np.asarray(values, dtype=float), index=pd.period_range("2020-01", periods=len(values), freq="M")
        )

    out = {
        "linear_1_to_8": (annual(np.arange(1, 9)), "level"),
        "linear_10_to_28": (annual(np.arange(10, 29, 2)), "level"),
        "constant_monthly": (monthly(np.full(36, 5.0)), "level"),
        "zero_monthly": (monthly(np.zeros(36)), "level"),
        "share_all_0": (monthly(np.zeros(24)), "share"),
        "share_all_1": (monthly(np.ones(24)), "share"),
        "linear_min_obs": (annual(3.0 + 2.0 * np.arange(min_obs)), "level"),
        "constant_min_obs": (annual(np.full(min_obs, 7.0)), "level"),
    }
    for name, (y, _) in out.items():
        y.name = name
    return out


def check_forecast_frame(fc: pd.DataFrame, horizon: int, levels: tuple[int, ...], what: str = "forecast") -> None:
    """A forecast frame is finite, has ``horizon`` rows and the columns of ``levels``, and its
    intervals contain the mean and nest."""
    expected = [MEAN, *interval_columns(levels)]
    if list(fc.columns) != expected or len(fc) != horizon:
        raise AssertionError(f"{what}: columns {list(fc.columns)} x {len(fc)} rows; expected {expected} x {horizon}")
    if not np.all(np.isfinite(fc.to_numpy(dtype=float))):
        raise AssertionError(f"{what}: non-finite values\n{fc}")
    prev_lo, prev_hi = fc[MEAN], fc[MEAN]
    for level in sorted(levels):
        lo, hi = fc[lo_col(level)], fc[hi_col(level)]
        if (lo > prev_lo + 1e-9 * (1 + prev_lo.abs())).any() or (hi < prev_hi - 1e-9 * (1 + prev_hi.abs())).any():
            raise AssertionError(f"{what}: the {level}% interval does not contain the mean or narrower ones\n{fc}")
        prev_lo, prev_hi = lo, hi


def check_degenerate_series(cls: type[BaseForecaster], params: dict[str, Any]) -> None:
    """Linear, constant, all-zero, all-0/all-1 share series and series at ``min_obs``: the
    model answers with a finite, coherent frame or refuses with a typed error
    (InvalidSeriesError, ModelFitError); a combination must answer (it drops the members
    that fail)."""
    from forecasting.core import build_model
    from forecasting.ensemble import Ensemble

    must_answer = issubclass(cls, Ensemble)
    levels = _levels_for(cls)
    probe = cls(**params)
    probe.season_length_ = 1
    min_obs = max(int(probe.min_obs()), 3)
    for name, (y, kind) in degenerate_series(min_obs).items():
        model = build_model(cls(**params), kind)
        try:
            with warnings.catch_warnings():
                # Warnings are part of the answer here (a member dropped, a fallback).
                warnings.simplefilter("ignore", ForecastingWarning)
                fc = model.fit(y).predict(3, levels=levels)
        except (InvalidSeriesError, ModelFitError) as exc:
            if must_answer:
                raise AssertionError(f"{cls.__name__} must answer on {name}; it raised {exc!r}") from exc
            if not str(exc).strip():
                raise AssertionError(f"{cls.__name__} refused {name} without a message") from exc
            continue
        check_forecast_frame(fc, 3, levels, what=f"{cls.__name__} on {name}")
        if kind == "share" and ((fc < 0.0).any().any() or (fc > 1.0).any().any()):
            raise AssertionError(f"{cls.__name__} on {name}: a share forecast outside [0, 1]\n{fc}")


CHECKS: dict[str, Check] = {
    f.__name__: f
    for f in (
        check_constructor,
        check_fit_returns_self,
        check_predict_before_fit,
        check_output_frame,
        check_intervals_nest,
        check_frequencies_and_index_kinds,
        check_invalid_input,
        check_refit_and_determinism,
        check_pickle,
        check_tags_match_behaviour,
        check_sample_paths,
        check_degenerate_series,
    )
}
