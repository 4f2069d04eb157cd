"""Non-negative quantities (issue 18, point 4): forecasts censored at zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import forecasting
from forecasting.base import BaseForecaster
from forecasting.core import build_model, latest_complete_stretch
from forecasting.exceptions import IntervalsNotSupportedError, InvalidParameterError, NegativeValueError
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.models.naive import Naive, SeasonalNaive
from forecasting.testing import make_series
from forecasting.transforms import NonNegative, Transformed
from forecasting.validation import check_nonnegative

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "cn_ru_trade_annual.csv"


def _cn_ru_total() -> pd.Series:
    raw = pd.read_csv(SAMPLE)
    raw = raw[raw["unique_id"] == "cn_ru_trade_total_annual"]
    years = pd.PeriodIndex(raw["ds"].astype(str), freq="Y")
    y = pd.Series(raw["y"].to_numpy(dtype=float), index=years, name="trade")
    y = y.reindex(pd.period_range(years.min(), years.max(), freq="Y"))
    return latest_complete_stretch(y)[0]


def _walk_near_zero(n: int = 30, seed: int = 3) -> pd.Series:
    """A positive random walk that ends close to zero, so naive bounds cross it soon."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 1.0, n)
    values = np.abs(np.cumsum(steps)) + 0.5
    values[-1] = 1.0
    return pd.Series(values, index=pd.period_range("1990", periods=n, freq="Y"), name="walk")


def test_forecast_bundled_annual_trade_has_no_negative_bound() -> None:
    y = _cn_ru_total()
    censored = forecasting.forecast(y, 8)
    raw = forecasting.forecast(y, 8, nonnegative=False)
    # The complaint: auto's 95% lower bounds of this series go negative after 3 years.
    assert (raw[lo_col(95)] < 0).any()
    assert (censored.to_numpy() >= 0).all()
    assert censored.attrs["nonnegative"] is True and raw.attrs["nonnegative"] is False
    assert "censored at zero" in censored.attrs["interval_method"]
    # Upper bounds are the model's own (no log-scale blow-up) ...
    for lv in (80, 95):
        np.testing.assert_allclose(censored[hi_col(lv)], raw[hi_col(lv)])
        np.testing.assert_allclose(censored[lo_col(lv)], np.maximum(raw[lo_col(lv)], 0.0))
    # ... and stay within a few times the last observation (2025: 228 USD bn). The stretch
    # has 13 points, so the band carries the trend-estimation term of short fits (about +15%
    # of the upper half-width 8 years ahead: 627 -> 724 USD bn; docs/intervals.md).
    assert censored[hi_col(95)].max() < 3.5 * y.iloc[-1]
    # The point forecast is the model's (it is positive here).
    np.testing.assert_allclose(censored[MEAN], raw[MEAN])


def test_point_forecast_is_kept_and_paths_carry_the_censored_mean() -> None:
    y = _walk_near_zero()
    horizon = 10
    fc = forecasting.forecast(y, horizon, levels=(80, 95), model="naive")
    raw = Naive().fit(y).predict(horizon, levels=(80, 95))
    np.testing.assert_allclose(fc[MEAN], np.maximum(raw[MEAN], 0.0))
    assert (raw[lo_col(80)] < 0).any()
    # The paths' mean is E[max(0, X)]: for the naive model's normal X, the closed form
    # mu Phi(mu/s) + s phi(mu/s) (what growth and full-year figures summarise).
    point = raw[MEAN].to_numpy()
    sd = (raw[hi_col(95)].to_numpy() - point) / norm.ppf(0.975)
    expected = point * norm.cdf(point / sd) + sd * norm.pdf(point / sd)
    paths = forecasting.simulate(y, horizon, n_paths=20000, model="naive", seed=1)
    np.testing.assert_allclose(paths.to_numpy().mean(axis=1), expected, rtol=0.03)
    assert (expected > point + 0.1).any()


def test_forecast_negative_series_is_not_censored() -> None:
    y = make_series("Y", 20, seed=2, level=1.0, trend=-0.5, noise=1.0)
    assert (y < 0).any()
    fc = forecasting.forecast(y, 10, model="drift")
    assert fc.attrs["nonnegative"] is False
    assert (fc[lo_col(95)] < 0).all()


def test_nonnegative_true_rejects_negative_values() -> None:
    y = make_series("Y", 20, seed=2, level=1.0, trend=-0.5, noise=1.0)
    with pytest.raises(NegativeValueError, match="nonnegative=False") as info:
        forecasting.forecast(y, 3, nonnegative=True)
    assert info.value.code == "negative_value"


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_nonnegative_rejects_non_boolean_option(value: object) -> None:
    with pytest.raises(InvalidParameterError, match="nonnegative must be None"):
        forecasting.forecast(make_series("Y", 12), 3, nonnegative=value)  # type: ignore[arg-type]


def test_check_nonnegative_decides_from_data_and_kind() -> None:
    positive = make_series("Q", 16)
    with_zero = positive.copy()
    with_zero.iloc[3] = 0.0
    negative = positive - 200.0
    assert check_nonnegative(positive, "level") is True
    assert check_nonnegative(with_zero, "level") is True
    assert check_nonnegative(negative, "level") is False
    assert check_nonnegative(positive, "level", False) is False
    assert check_nonnegative(positive, "level", np.False_) is False
    assert check_nonnegative(positive, "level", np.True_) is True
    # Shares are on the logit scale, inside (0, 1) already.
    assert check_nonnegative(positive / 1000.0, "share") is False


def test_nonnegative_false_is_the_plain_model() -> None:
    y = _walk_near_zero()
    fc = forecasting.forecast(y, 6, model="naive", nonnegative=False)
    plain = Naive().fit(y).predict(6, levels=(80, 95))
    pd.testing.assert_frame_equal(fc, plain, check_like=False)


def test_simulate_paths_are_censored_like_the_bounds() -> None:
    y = _walk_near_zero()
    paths = forecasting.simulate(y, 12, n_paths=4000, model="naive", seed=4)
    fc = forecasting.forecast(y, 12, levels=(80,), model="naive")
    values = paths.to_numpy()
    assert paths.attrs["nonnegative"] is True
    assert values.min() >= 0.0 and (values == 0.0).mean() > 0.05
    np.testing.assert_allclose(np.quantile(values, 0.9, axis=1), fc[hi_col(80)], rtol=0.05)
    np.testing.assert_allclose(np.quantile(values, 0.1, axis=1), fc[lo_col(80)], atol=0.05 * fc[hi_col(80)].max())
    # The censored paths' mean is above the point forecast where mass lies below zero.
    assert (values.mean(axis=1) >= fc[MEAN].to_numpy() - 0.05).all()


def test_simulate_nonnegative_false_keeps_negative_paths() -> None:
    paths = forecasting.simulate(_walk_near_zero(), 12, n_paths=500, model="naive", seed=4, nonnegative=False)
    assert paths.attrs["nonnegative"] is False
    assert paths.to_numpy().min() < 0.0


def test_full_year_of_a_series_near_zero_is_nonnegative() -> None:
    rng = np.random.default_rng(7)
    values = np.abs(np.cumsum(rng.normal(0.0, 1.0, 40))) + 0.1
    y = pd.Series(values, index=pd.period_range("2020-01", periods=40, freq="M"), name="m")
    fy = forecasting.full_year(y, model="naive")
    assert (fy.drop(columns="periods_observed").to_numpy() >= 0).all()
    assert fy[lo_col(95)].iloc[0] >= fy["observed"].iloc[0]


def test_backtest_bounds_nonnegative() -> None:
    frame = forecasting.backtest(_walk_near_zero(), horizon=5, windows=3, models=("naive",))
    assert (frame[[MEAN, lo_col(80), lo_col(95)]].to_numpy() >= 0).all()


def test_build_model_leaves_log_models_alone() -> None:
    log_model = Transformed(model=Naive(), transform="log")
    assert isinstance(build_model(log_model, nonnegative=True), Transformed)
    assert isinstance(build_model("naive", nonnegative=True), NonNegative)
    assert isinstance(build_model("naive", "share", nonnegative=True), Transformed)


def test_nonnegative_min_obs_follows_the_inner_model() -> None:
    y = make_series("Q", 4)
    probe = NonNegative(model=SeasonalNaive())
    probe.season_length_ = probe._resolve_season_length(y.index)
    assert probe.min_obs() == SeasonalNaive(season_length=4).fit(make_series("Q", 8)).min_obs() == 5


class _Falling(BaseForecaster):
    """A point-only model heading below zero (no distribution to censor)."""

    def _fit(self, y: pd.Series) -> None:
        self.last_ = float(y.iloc[-1])

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, dict]:
        return self.last_ - np.arange(1.0, horizon + 1.0), {}


def test_nonnegative_point_only_model_mean_floored_at_zero() -> None:
    y = _walk_near_zero()  # ends at 1.0
    fitted = NonNegative(model=_Falling()).fit(y)
    np.testing.assert_allclose(fitted.predict(3)[MEAN], [0.0, 0.0, 0.0])
    with pytest.raises(IntervalsNotSupportedError):
        fitted.predict(3, levels=(80,))


def test_nonnegative_point_forecasts_of_an_interval_model() -> None:
    fitted = NonNegative(model=Naive()).fit(_walk_near_zero())
    fc = fitted.predict(4)
    np.testing.assert_allclose(fc[MEAN], 1.0)  # the naive point forecast: the last value


def test_censoring_passes_gaps_and_drivers_to_a_state_space_model():
    import numpy as np
    import pandas as pd

    import forecasting

    rng = np.random.default_rng(3)
    index = pd.period_range("2015-01", periods=60, freq="M")
    x = pd.DataFrame({"x": rng.normal(size=60 + 6)}, index=pd.period_range("2015-01", periods=66, freq="M"))
    y = pd.Series(5.0 + 2.0 * x["x"].iloc[:60].to_numpy() + rng.normal(0, 0.5, 60), index=index, name="y")
    y = y.clip(lower=0.0)
    y.iloc[[5, 17, 30]] = np.nan
    fc = forecasting.forecast(
        y, 6, model="structural", missing="model", X=x.iloc[:60], X_future=x.iloc[60:], levels=(95,)
    )
    assert fc.attrs["nonnegative"] is True
    assert (fc.to_numpy() >= 0).all()
    assert "censored at zero" in fc.attrs["interval_method"]
