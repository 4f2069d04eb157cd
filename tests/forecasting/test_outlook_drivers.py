"""forecast_outlook with drivers, events and gaps: growth and full year from the same fitted model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import FullYearOptions, GrowthOptions, forecast_outlook
from forecasting.exceptions import FutureDriversError, InvalidParameterError, MissingNotSupportedError

N, H = 60, 8  # Jan 2019 - Dec 2023, forecast Jan-Aug 2024: the paths run to Dec 2024 (12 periods)


@pytest.fixture(scope="module")
def driven() -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    idx = pd.period_range("2019-01", periods=N + 12, freq="M")
    x = pd.Series(np.cumsum(rng.normal(0.0, 1.0, N + 12)) + 10.0, index=idx)
    y = pd.Series(50.0 + 3.0 * x.to_numpy()[:N] + rng.normal(0.0, 0.5, N), index=idx[:N], name="y")
    return y, x.iloc[:N].to_frame("x"), x.iloc[N:].to_frame("x")


def test_frame_is_the_forecast_with_drivers(driven) -> None:
    y, X, X_future = driven
    out = forecast_outlook(y, H, (80, 95), "structural", X=X, X_future=X_future, full_year=FullYearOptions())
    expected = forecasting.forecast(y, H, (80, 95), "structural", X=X, X_future=X_future.iloc[:H])
    pd.testing.assert_frame_equal(out.forecast, expected)
    assert out.full_year is not None and list(out.full_year.index.astype(str)) == ["2024"]


def test_full_year_follows_the_drivers_path(driven) -> None:
    y, X, X_future = driven
    low = forecast_outlook(y, H, (80,), "structural", X=X, X_future=X_future - 5.0, full_year=FullYearOptions())
    high = forecast_outlook(y, H, (80,), "structural", X=X, X_future=X_future + 5.0, full_year=FullYearOptions())
    assert low.full_year is not None and high.full_year is not None
    # y = 50 + 3 x: 10 more units of x over 12 months is about 360 more in the year's total.
    gap = float(high.full_year["mean"].iloc[0] - low.full_year["mean"].iloc[0])
    assert 300.0 < gap < 420.0


def test_blocks_need_drivers_to_the_end_of_the_year(driven) -> None:
    y, X, X_future = driven
    with pytest.raises(FutureDriversError, match="2024-12"):
        forecast_outlook(y, H, (80,), "structural", X=X, X_future=X_future.iloc[:H], growth=GrowthOptions())
    # Without blocks the horizon's rows are enough.
    out = forecast_outlook(y, H, (80,), "structural", X=X, X_future=X_future.iloc[:H])
    assert len(out.forecast) == H


def test_gaps_and_events_compare_with_the_latest_unbroken_stretch(driven) -> None:
    y, _, _ = driven
    gappy = y.copy()
    gappy.iloc[[5, 17, 30]] = np.nan  # the last gap is in July 2021: 2022 and 2023 are complete
    events = [{"ds": "2021-03", "type": "level_shift"}]
    out = forecast_outlook(
        gappy,
        H,
        (80,),
        "structural",
        missing="model",
        events=events,
        growth=GrowthOptions(),
        full_year=FullYearOptions(),
    )
    assert out.growth is not None and str(out.growth.base) == "2023"
    expected = forecasting.forecast(gappy, H, (80,), "structural", missing="model", events=events)
    pd.testing.assert_frame_equal(out.forecast, expected)
    with pytest.raises(InvalidParameterError, match="2020"):
        forecast_outlook(gappy, H, (80,), "structural", missing="model", growth=GrowthOptions(base=2020))


def test_gap_at_the_end_refuses_blocks_and_missing_needs_a_state_space_model(driven) -> None:
    y, _, _ = driven
    gappy = y.copy()
    gappy.iloc[-1] = np.nan
    with pytest.raises(InvalidParameterError, match="ends with a missing value"):
        forecast_outlook(gappy, H, (80,), "structural", missing="model", full_year=FullYearOptions())
    with pytest.raises(MissingNotSupportedError):
        forecast_outlook(y, H, (80,), "naive", missing="model", full_year=FullYearOptions())
