"""extend_drivers: a driver's missing horizon periods filled by its own forecast, with a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.exceptions import DriverForecastWarning, InvalidDriversError
from forecasting.scenarios import extend_drivers

IDX = pd.period_range("2018-01", periods=48, freq="M")


def _drivers() -> pd.DataFrame:
    full = pd.period_range("2018-01", periods=54, freq="M")
    rng = np.random.default_rng(2)
    return pd.DataFrame({"oil": np.cumsum(rng.normal(0, 1, 54)) + 50.0, "fx": np.arange(54.0)}, index=full)


def test_short_driver_is_filled_with_its_own_forecast_and_warned() -> None:
    table = _drivers().iloc[:50]  # both stop two periods into a horizon of 6
    with pytest.warns(DriverForecastWarning, match=r"'oil' has no values from 2022-03 on.*naive"):
        out = extend_drivers(table, IDX, 6, ["oil"], model="naive")
    future = pd.period_range("2022-01", periods=6, freq="M")
    assert out.loc[future[:2], "oil"].tolist() == table.loc[future[:2], "oil"].tolist()  # given values kept
    expected = forecasting.forecast(table["oil"].rename("oil"), 4, (), "naive")["mean"]
    np.testing.assert_allclose(out.loc[future[2:], "oil"].to_numpy(), expected.to_numpy())
    assert out.loc[future[2:], "fx"].isna().all()  # not asked: left as it is


def test_covered_driver_is_left_alone_without_warning() -> None:
    table = _drivers()
    out = extend_drivers(table, IDX, 6, ["oil", "fx"], model="naive")
    pd.testing.assert_frame_equal(out, table)


def test_driver_without_values_before_the_gap_is_an_error() -> None:
    table = _drivers().astype(float)
    table["oil"] = np.nan
    with pytest.raises(InvalidDriversError, match="'oil' has no values before"):
        extend_drivers(table, IDX, 6, ["oil"], model="naive")
