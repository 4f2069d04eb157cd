"""Growth from sample paths: year-on-year, against a base year, index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import annual_change, annual_totals, base_change, growth_index, simulate, summarize_paths, yoy_change
from forecasting.exceptions import InvalidParameterError, InvalidSeriesError


def _monthly(n: int = 63, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.period_range("2000-01", periods=n, freq="M")
    return pd.Series(100.0 + np.cumsum(rng.normal(0.5, 2.0, n)), index=index, name="trade")


def _paths(y: pd.Series, values: np.ndarray) -> pd.DataFrame:
    index = pd.period_range(y.index[-1] + 1, periods=values.shape[0], freq=y.index.freq, name="ds")
    return pd.DataFrame(values, index=index)


def test_yoy_change_exact_on_known_paths() -> None:
    y = pd.Series([100.0, 110.0], index=pd.period_range("2021", periods=2, freq="Y"), name="y")
    paths = _paths(y, np.array([[121.0, 99.0], [133.1, 99.0]]))
    out = yoy_change(y, paths, levels=(50,))
    # Path 1 grows 10% a year; path 2 falls 10% then stays flat.
    assert out["mean"].tolist() == pytest.approx([0.0, 5.0])
    assert list(out.columns) == ["mean", "median", "lo_50", "hi_50"]
    assert out.attrs["headline"] == "median"


def test_yoy_change_monthly_compares_same_month_a_year_earlier() -> None:
    y = _monthly()
    paths = _paths(y, np.repeat(y.iloc[-12:].to_numpy()[:, None] * 1.2, 3, axis=1))
    out = yoy_change(y, paths)
    assert np.allclose(out["mean"], 20.0) and np.allclose(out["lo_95"], 20.0)


def test_annual_totals_mix_observed_and_simulated_months() -> None:
    y = _monthly(63)  # ends 2005-03
    paths = _paths(y, np.ones((21, 2)))
    years, totals, first = annual_totals(y, paths)
    assert [str(p) for p in years] == ["2000", "2001", "2002", "2003", "2004", "2005", "2006"]
    assert first == 5
    assert totals[5] == pytest.approx(np.full(2, y.loc["2005"].sum() + 9.0))
    assert totals[6] == pytest.approx([12.0, 12.0])


def test_base_change_defaults_to_last_complete_year_and_index_agrees() -> None:
    y = _monthly(63)
    paths = simulate(y, 21, n_paths=300, model="naive", seed=0)
    change = base_change(y, paths)
    index = growth_index(y, paths)
    assert change.attrs["base"] == pd.Period("2004", freq="Y")
    assert list(change.index.astype(str)) == ["2005", "2006"]
    assert np.allclose(index.to_numpy() - 100.0, change.to_numpy())
    explicit = base_change(y, paths, base=2002)
    assert explicit.attrs["base"] == pd.Period("2002", freq="Y")


def test_growth_intervals_come_from_paths_not_bounds() -> None:
    y = _monthly(60)  # ends 2004-12
    paths = simulate(y, 12, n_paths=4000, model="naive", seed=1)
    out = annual_change(y, paths, levels=(95,))
    totals = paths.to_numpy().sum(axis=0)
    expected = np.quantile(100 * (totals / y.loc["2004"].sum() - 1), [0.025, 0.975])
    assert out[["lo_95", "hi_95"]].iloc[0].to_numpy() == pytest.approx(expected)


def test_annual_change_equals_yoy_for_annual_data() -> None:
    y = pd.Series(np.linspace(100, 140, 20), index=pd.period_range("2000", periods=20, freq="Y"), name="y")
    paths = simulate(y, 4, n_paths=200, model="drift", seed=0)
    pd.testing.assert_frame_equal(annual_change(y, paths), yoy_change(y, paths))


def test_base_change_rejects_unobserved_or_bad_base() -> None:
    y = _monthly(63)
    paths = simulate(y, 21, n_paths=50, model="naive", seed=0)
    with pytest.raises(InvalidParameterError, match="completely observed"):
        base_change(y, paths, base=2005)
    with pytest.raises(InvalidParameterError, match="calendar year"):
        base_change(y, paths, base="soon")


def test_annual_growth_needs_paths_to_complete_a_year() -> None:
    y = _monthly(63)
    paths = simulate(y, 5, n_paths=20, model="naive", seed=0)
    with pytest.raises(InvalidParameterError, match="at least 9 periods"):
        annual_change(y, paths)


def test_paths_must_continue_the_series() -> None:
    y = _monthly(63)
    paths = simulate(y.iloc[:-1], 12, n_paths=20, model="naive", seed=0)
    with pytest.raises(InvalidParameterError, match="continue"):
        yoy_change(y, paths)


def test_growth_against_non_positive_observed_value_is_an_error() -> None:
    y = pd.Series([100.0, 0.0], index=pd.period_range("2021", periods=2, freq="Y"), name="y")
    with pytest.raises(InvalidSeriesError, match="positive"):
        yoy_change(y, _paths(y, np.ones((2, 3))))
    with pytest.raises(InvalidSeriesError, match="positive base"):
        base_change(y, _paths(y, np.ones((2, 3))))


def test_summarize_paths_skips_nan_paths() -> None:
    values = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    out = summarize_paths(values, pd.Index(["a", "b"]), levels=(50,))
    assert out["mean"].iloc[0] == pytest.approx(2.0)
    assert out.iloc[1].isna().all()


def test_growth_headline_is_the_median_not_pulled_by_paths_censored_at_zero() -> None:
    # 1,000 paths: 800 grow 10% from the observed 100, 200 are censored at zero (-100%).
    y = pd.Series([90.0, 100.0], index=pd.period_range("2022", periods=2, freq="Y"), name="trade")
    values = np.r_[np.full(800, 110.0), np.zeros(200)][None, :]
    out = annual_change(y, _paths(y, values), levels=(80, 95))
    row = out.iloc[0]
    assert out.attrs["headline"] == "median"
    assert row["median"] == pytest.approx(10.0)
    # The mean is pulled to 0.8 * 10 + 0.2 * (-100) = -12: kept alongside, not the headline.
    assert row["mean"] == pytest.approx(-12.0)
    assert row["lo_95"] <= row["lo_80"] <= row["median"] <= row["hi_80"] <= row["hi_95"]


def test_full_year_headline_is_the_median_of_the_totals() -> None:
    from forecasting.paths import full_year_from_paths

    index = pd.period_range("2023-01", periods=10, freq="M")
    y = pd.Series(np.full(10, 10.0), index=index, name="trade")
    # Two months left: 90% of paths add 2 x 10, 10% are censored at zero.
    values = np.repeat(np.r_[np.full(900, 10.0), np.zeros(100)][None, :], 2, axis=0)
    out = full_year_from_paths(y, _paths(y, values), levels=(80,))
    row = out.iloc[0]
    assert out.attrs["headline"] == "median"
    assert row["median"] == pytest.approx(120.0)
    assert row["mean"] == pytest.approx(118.0)
