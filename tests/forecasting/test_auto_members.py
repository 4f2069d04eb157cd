"""``auto`` and ``ensemble`` drop a failing member instead of failing (issue 31, point 4)."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecasting
from forecasting.auto import Auto
from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.ensemble import Ensemble
from forecasting.exceptions import ForecastingWarning, MemberDroppedWarning, ModelFitError
from forecasting.frames import MEAN
from forecasting.models.naive import Drift, Naive
from forecasting.testing import check_forecast_frame, degenerate_series, make_series


class _FailsToFit(BaseForecaster):
    """A member whose engine breaks like statsforecast's AutoCES on flat data."""

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True)

    def _fit(self, y: pd.Series) -> None:
        raise AttributeError("'Engine' object has no attribute 'model_'")


class _NaNForecast(BaseForecaster):
    """A member that fits but forecasts NaN: the base output checks refuse its frame."""

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True)

    def _fit(self, y: pd.Series) -> None:
        self.last_ = float(y.iloc[-1])

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        nan = np.full(horizon, np.nan)
        return nan, {lv: (nan, nan) for lv in levels}


def _annual(values: Any, name: str = "y") -> pd.Series:
    return pd.Series(
        np.asarray(values, dtype=float), index=pd.period_range("2000", periods=len(values), freq="Y"), name=name
    )


@pytest.mark.parametrize("values", [np.arange(1, 9), np.arange(10, 29, 2)], ids=["1_to_8", "10_to_28"])
def test_auto_answers_linear_annual_series_dropping_optimized_theta(values):
    with pytest.warns(MemberDroppedWarning, match=r"member 'optimized_theta' could not forecast.*interval"):
        fc = forecasting.forecast(_annual(values), 3)
    check_forecast_frame(fc, 3, (80, 95))
    # The line continues: ETS and ARIMA both extrapolate the exact trend.
    step = values[1] - values[0]
    np.testing.assert_allclose(fc[MEAN].to_numpy(), values[-1] + step * np.arange(1, 4), rtol=1e-6)


@pytest.mark.parametrize("name", ["constant_monthly", "zero_monthly"])
def test_auto_answers_flat_monthly_series_dropping_ces(name):
    y, kind = degenerate_series()[name]
    with pytest.warns(MemberDroppedWarning, match=r"ces.*AttributeError|ces.*no attribute 'model_'"):
        fc = forecasting.forecast(y, 6, kind=kind)
    check_forecast_frame(fc, 6, (80, 95))
    np.testing.assert_allclose(fc[MEAN].to_numpy(), y.iloc[-1], atol=1e-9)


@pytest.mark.parametrize("name", ["share_all_0", "share_all_1"])
def test_auto_answers_constant_share_series(name):
    y, kind = degenerate_series()[name]
    with pytest.warns(MemberDroppedWarning):
        fc = forecasting.forecast(y, 3, kind=kind)
    check_forecast_frame(fc, 3, (80, 95))
    assert ((fc >= 0.0) & (fc <= 1.0)).all().all()


def test_member_failing_to_fit_with_untyped_error_is_dropped_and_named():
    y = make_series("Y", 20, seed=2)
    model = Ensemble(members=(_FailsToFit(), "naive"))
    with pytest.warns(MemberDroppedWarning, match=r"'_FailsToFit' could not be fitted.*AttributeError"):
        fc = model.fit(y).predict(4, levels=(80,))
    pd.testing.assert_series_equal(fc[MEAN], Naive().fit(y).predict(4)[MEAN], check_names=False)
    assert "_FailsToFit" in model.params_["skipped"]


def test_member_failing_output_checks_is_dropped_and_the_rest_reweighted():
    y = make_series("Y", 20, seed=2)
    model = Ensemble(members=(_NaNForecast(), "naive", "drift"))
    with pytest.warns(MemberDroppedWarning, match=r"could not forecast.*non-finite"):
        fc = model.fit(y).predict(4, levels=(80, 95))
    expected = (Naive().fit(y).predict(4)[MEAN] + Drift().fit(y).predict(4)[MEAN]) / 2
    np.testing.assert_allclose(fc[MEAN].to_numpy(), expected.to_numpy(), rtol=1e-12)
    check_forecast_frame(fc, 4, (80, 95))


def test_sample_paths_use_only_the_members_left():
    y = make_series("Y", 20, seed=2)
    model = Ensemble(members=(_NaNForecast(), "naive", "drift")).fit(y)
    with pytest.warns(MemberDroppedWarning):
        paths = model.sample_paths(4, 200, random_state=1)
    assert paths.shape == (4, 200) and np.isfinite(paths.to_numpy()).all()


def test_all_members_failing_raises_model_fit_error_naming_each():
    y = make_series("Y", 20, seed=2)
    with pytest.warns(MemberDroppedWarning), pytest.raises(ModelFitError, match=r"_FailsToFit.*AttributeError"):
        Ensemble(members=(_FailsToFit(), _FailsToFit())).fit(y)
    model = Ensemble(members=(_NaNForecast(),)).fit(y)
    with pytest.warns(MemberDroppedWarning), pytest.raises(ModelFitError, match="no member could forecast"):
        model.predict(3)


def test_auto_point_forecast_is_the_members_mean_when_none_fails():
    y = make_series("Q", 40, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemberDroppedWarning)
        model = Auto().fit(y)
        point = model.predict(8)[MEAN].to_numpy()
    means = np.vstack([m.predict(8)[MEAN].to_numpy() for _, m in model.members_])
    assert len(model.members_) == 4
    np.testing.assert_array_equal(point, means.mean(axis=0))


# --------------------------------------------------------------------- property over families
_FREQS = {"Y": 1, "Q": 4, "M": 12}


@st.composite
def _degenerate(draw: st.DrawFn) -> tuple[pd.Series, str]:
    freq = draw(st.sampled_from(sorted(_FREQS)))
    family = draw(st.sampled_from(["linear", "constant", "zero", "step", "near_constant", "short_linear"]))
    m = _FREQS[freq]
    shortest = Auto(season_length=None)
    shortest.season_length_ = m
    n = shortest.min_obs() if family == "short_linear" else draw(st.integers(2 * m + 2, 2 * m + 14))
    t = np.arange(n, dtype=float)
    level = draw(st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 3)))
    slope = draw(st.floats(-50.0, 50.0, allow_nan=False).map(lambda v: round(v, 3)))
    if family in ("linear", "short_linear"):
        values = level + slope * t
    elif family == "constant":
        values = np.full(n, level)
    elif family == "zero":
        values = np.zeros(n)
    elif family == "step":
        values = np.where(t < draw(st.integers(1, n - 1)), level, level + slope + 1.0)
    else:
        seed = draw(st.integers(0, 2**16))
        values = level + 1e-6 * (1.0 + abs(level)) * np.random.default_rng(seed).standard_normal(n)
    y = pd.Series(values, index=pd.period_range("2001-01", periods=n, freq=freq), name=family)
    return y, family


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=_degenerate())
def test_auto_always_answers_on_degenerate_families(case):
    y, _family = case
    with warnings.catch_warnings():
        # Dropped members, thin evidence: warnings belong to the answer, not failures.
        warnings.simplefilter("ignore", ForecastingWarning)
        fc = forecasting.forecast(y, 4, levels=(80, 95))
    check_forecast_frame(fc, 4, (80, 95))


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_degenerate())
def test_auto_always_answers_on_degenerate_families_many(case):
    y, _family = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastingWarning)
        fc = forecasting.forecast(y, 4, levels=(80, 95))
    check_forecast_frame(fc, 4, (80, 95))
