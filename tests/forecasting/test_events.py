"""Known events as drivers, and structural-break detection (issue 20, point 2)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.breaks import break_warnings, detect_breaks
from forecasting.events import event_regressors
from forecasting.exceptions import (
    DriversNotSupportedError,
    EventOutOfRangeError,
    InsufficientDataError,
    InvalidEventError,
    InvalidParameterError,
    StructuralBreakWarning,
    UnknownEventTypeError,
)

IDX = pd.period_range("2020-01", periods=36, freq="M")


def _shifted(n: int = 60, at: int = 40, shift: float = -30.0, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n) + shift * (t >= at)
    return pd.Series(values, index=pd.period_range("2018-01", periods=n, freq="M"), name="y")


def test_event_regressors_builds_each_type_on_history_and_horizon() -> None:
    events = [
        {"ds": "2022-03", "type": "level_shift"},
        {"ds": "2020-04", "type": "pulse"},
        {"ds": "2021-03", "type": "ramp", "end": "2021-09"},
        {"ds": "2021-01", "type": "seasonal_change"},
    ]
    made = event_regressors(IDX, events, horizon=3)
    assert made.X.index.equals(IDX)
    assert made.X_future.index.equals(pd.period_range("2023-01", periods=3, freq="M"))
    assert list(made.X.columns[:3]) == ["level_shift_2022-03", "pulse_2020-04", "ramp_2021-03"]
    assert made.X.shape[1] == 3 + 11
    shift = made.X["level_shift_2022-03"]
    assert shift.loc[:"2022-02"].eq(0).all() and shift.loc["2022-03":].eq(1).all()
    assert made.X["pulse_2020-04"].sum() == 1.0 and made.X.loc[pd.Period("2020-04", "M"), "pulse_2020-04"] == 1.0
    ramp = made.X["ramp_2021-03"]
    assert ramp.loc[pd.Period("2021-06", "M")] == pytest.approx(0.5)
    assert ramp.loc["2021-09":].eq(1).all() and made.X_future["ramp_2021-03"].eq(1).all()
    seasonal = made.X.filter(like="seasonal_change")
    # effect coding: a full year after the change sums to zero in every column
    assert seasonal.loc["2021-01":"2021-12"].sum().abs().max() == 0.0
    assert seasonal.loc[:"2020-12"].eq(0).all().all()


def test_event_regressors_ramp_without_end_counts_periods() -> None:
    made = event_regressors(IDX, [{"ds": "2022-10", "type": "ramp", "name": "slope"}], horizon=2)
    assert made.X["slope"].iloc[-3:].tolist() == [0.0, 1.0, 2.0]
    assert made.X_future["slope"].tolist() == [3.0, 4.0]


def test_event_regressors_accepts_datetime_index() -> None:
    index = pd.date_range("2020-01-31", periods=36, freq="ME")
    made = event_regressors(index, [{"ds": "2021-03-15", "type": "level_shift"}], horizon=2)
    assert made.X.index.equals(index)
    assert made.X_future.index[0] == pd.Timestamp("2023-01-31")
    assert made.X_future.iloc[:, 0].eq(1).all()


@pytest.mark.parametrize(
    ("events", "error", "fragment"),
    [
        ([{"ds": "2021-03", "type": "step"}], UnknownEventTypeError, "known event types"),
        ([{"type": "pulse"}], InvalidEventError, "has no 'ds'"),
        ([{"ds": "not a date", "type": "pulse"}], InvalidEventError, "not a period"),
        (["2021-03"], InvalidEventError, "must be a mapping"),
        ({"ds": "2021-03", "type": "pulse"}, InvalidEventError, "list of mappings"),
        ([{"ds": "2021-03", "type": "pulse", "when": 1}], InvalidEventError, "unknown key"),
        ([{"ds": "2021-03", "type": "pulse", "end": "2021-05"}], InvalidEventError, "only a ramp"),
        ([{"ds": "2021-03", "type": "ramp", "end": "2021-01"}], InvalidEventError, "must come after"),
        ([{"ds": "2021-03", "type": "pulse"}] * 2, InvalidEventError, "twice"),
        ([{"ds": "2019-06", "type": "pulse"}], EventOutOfRangeError, "outside"),
        ([{"ds": "2023-06", "type": "pulse"}], EventOutOfRangeError, "outside"),
        ([{"ds": "2020-01", "type": "level_shift"}], EventOutOfRangeError, "constant over the history"),
        ([{"ds": "2023-01", "type": "level_shift"}], EventOutOfRangeError, "constant over the history"),
        ([{"ds": "2022-06", "type": "seasonal_change"}], EventOutOfRangeError, "full season"),
    ],
)
def test_event_regressors_refuses_bad_events_with_codes(events: object, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment) as info:
        event_regressors(IDX, events, horizon=2)  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidParameterError)
    assert info.value.code in {"invalid_event", "unknown_event_type", "event_out_of_range"}


def test_event_regressors_refuses_seasonal_change_on_annual_data() -> None:
    index = pd.period_range("2000", periods=20, freq="Y")
    with pytest.raises(InvalidEventError, match="has no season"):
        event_regressors(index, [{"ds": "2010", "type": "seasonal_change"}])


def test_forecast_with_level_shift_event_follows_the_new_level() -> None:
    y = _shifted()
    plain = forecasting.forecast(y, 6, levels=(80,), model="regression_arima", nonnegative=False)
    fc = forecasting.forecast(
        y,
        6,
        levels=(80,),
        model="regression_arima",
        events=[{"ds": str(y.index[40]), "type": "level_shift"}],
        nonnegative=False,
    )
    assert fc.index.equals(plain.index) and list(fc.columns) == ["mean", "lo_80", "hi_80"]
    truth = 100 + 0.2 * np.arange(60, 66) + 5 * np.sin(2 * np.pi * np.arange(60, 66) / 12) - 30
    # the pre-break level would be 30 off; the shift's coefficient carries the new level
    assert np.abs(fc["mean"].to_numpy() - truth).mean() < 6.0


def test_forecast_combines_events_with_user_drivers() -> None:
    y = _shifted()
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"x": rng.normal(size=66)}, index=pd.period_range(y.index[0], periods=66, freq="M"))
    fc = forecasting.forecast(
        y + 2 * x["x"].iloc[:60].to_numpy(),
        6,
        levels=(),
        model="structural",
        X=x.iloc[:60],
        X_future=x.iloc[60:],
        events=[{"ds": str(y.index[40]), "type": "level_shift"}],
        nonnegative=False,
    )
    assert len(fc) == 6 and np.isfinite(fc["mean"]).all()


def test_forecast_events_need_a_model_that_takes_drivers() -> None:
    with pytest.raises(DriversNotSupportedError):
        forecasting.forecast(_shifted(), 3, model="naive", events=[{"ds": "2021-05", "type": "pulse"}])


def test_forecast_bad_event_raises_before_fitting() -> None:
    with pytest.raises(UnknownEventTypeError):
        forecasting.forecast(_shifted(), 3, events=[{"ds": "2021-05", "type": "spike"}])


def test_detect_breaks_finds_a_level_shift_near_its_date() -> None:
    found = detect_breaks(_shifted(), max_breaks=1)
    assert len(found) == 1
    assert abs((found[0].ds - pd.Period("2021-05", "M")).n) <= 1
    assert found[0].level_change == pytest.approx(-30, abs=5)
    assert found[0].score > 16


def test_detect_breaks_is_quiet_on_a_series_without_break() -> None:
    assert detect_breaks(_shifted(n=96, shift=0.0, seed=3)) == []


def test_detect_breaks_validates_its_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="max_breaks"):
        detect_breaks(_shifted(), max_breaks=0)
    with pytest.raises(InvalidParameterError, match="min_size"):
        detect_breaks(_shifted(), min_size=1)
    with pytest.raises(InsufficientDataError, match="detect_breaks needs"):
        detect_breaks(_shifted().iloc[:8])


def test_forecast_check_breaks_warns_with_code_unless_an_event_marks_it() -> None:
    y = _shifted()
    with pytest.warns(StructuralBreakWarning, match="a break near 2021-0") as record:
        forecasting.forecast(y, 3, model="naive", check_breaks=True)
    assert record[0].category.code == "structural_break"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forecasting.forecast(
            y, 3, model="regression_arima", events=[{"ds": "2021-05", "type": "level_shift"}], check_breaks=True
        )
    assert break_warnings(y, [{"ds": "2021-05", "type": "level_shift"}]) == []


def test_break_warnings_is_empty_for_a_short_series() -> None:
    assert break_warnings(_shifted().iloc[:8]) == []
