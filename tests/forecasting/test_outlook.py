"""forecast_outlook: the forecast with growth and full-year blocks from one set of paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import FullYearOptions, GrowthOptions, forecast_outlook
from forecasting.exceptions import InvalidParameterError, InvalidSeriesError
from forecasting.testing import make_series


@pytest.fixture(scope="module")
def monthly() -> pd.Series:
    return make_series("M", 75, seed=1)  # Jan 2000 - Mar 2006


def test_outlook_without_options_is_the_forecast(monthly: pd.Series) -> None:
    out = forecast_outlook(monthly, 4, model="naive")
    expected = forecasting.forecast(monthly, 4, model="naive")
    pd.testing.assert_frame_equal(out.forecast, expected)
    assert out.growth is None and out.full_year is None


def test_outlook_blocks_match_the_library_functions(monthly: pd.Series) -> None:
    out = forecast_outlook(
        monthly, 6, (80,), model="naive", growth=GrowthOptions(base=2004), full_year=FullYearOptions()
    )
    assert out.growth is not None and out.full_year is not None
    # Paths run to December 2006 (the end of the last forecast period's year).
    paths = forecasting.simulate(monthly, 9, n_paths=2000, model="naive", seed=0)
    pd.testing.assert_frame_equal(out.growth.vs_base, forecasting.base_change(monthly, paths, (80,), base=2004))
    pd.testing.assert_frame_equal(out.full_year, forecasting.full_year(monthly, (80,), model="naive"))
    assert out.growth.yoy is not None and list(out.growth.yoy.index.astype(str)) == [
        "2006-04",
        "2006-05",
        "2006-06",
        "2006-07",
        "2006-08",
        "2006-09",
    ]
    assert str(out.growth.base) == "2004"
    np.testing.assert_allclose(out.growth.index["mean"], 100 + out.growth.vs_base["mean"])


def test_outlook_default_base_is_last_complete_year(monthly: pd.Series) -> None:
    out = forecast_outlook(monthly, 2, model="naive", growth=GrowthOptions(yoy=False))
    assert out.growth is not None
    assert str(out.growth.base) == "2005" and out.growth.yoy is None
    assert list(out.growth.annual.index.astype(str)) == ["2006"]


def test_outlook_is_reproducible(monthly: pd.Series) -> None:
    a = forecast_outlook(monthly, 3, model="naive", full_year=FullYearOptions())
    b = forecast_outlook(monthly, 3, model="naive", full_year=FullYearOptions())
    pd.testing.assert_frame_equal(a.full_year, b.full_year)


@pytest.mark.parametrize("base", [1990, "2006", "twenty"])
def test_outlook_base_outside_history_raises(monthly: pd.Series, base: object) -> None:
    with pytest.raises(InvalidParameterError, match="base"):
        forecast_outlook(monthly, 3, model="naive", growth=GrowthOptions(base=base))  # type: ignore[arg-type]


def test_outlook_full_year_on_annual_data_raises() -> None:
    y = make_series("Y", 20, seed=2)
    with pytest.raises(InvalidSeriesError, match="annual"):
        forecast_outlook(y, 3, model="naive", full_year=FullYearOptions())


def test_outlook_unknown_how_raises(monthly: pd.Series) -> None:
    with pytest.raises(InvalidParameterError, match="how"):
        forecast_outlook(monthly, 3, model="naive", full_year=FullYearOptions(how="median"))


def test_outlook_share_defaults_to_mean() -> None:
    y = pd.Series(np.linspace(0.2, 0.4, 30), index=pd.period_range("2020-01", periods=30, freq="M"), name="s")
    out = forecast_outlook(y, 3, model="naive", kind="share", growth=GrowthOptions(), full_year=FullYearOptions())
    assert out.growth is not None and out.growth.how == "mean"
    assert out.full_year is not None and 0 < out.full_year["mean"].iloc[0] < 1
