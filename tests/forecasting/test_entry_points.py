"""forecast / forecast_many / backtest / list_models and their errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.exceptions import (
    FallbackWarning,
    InsufficientDataError,
    InvalidParameterError,
    InvalidSeriesError,
    NotFoundError,
)
from forecasting.frames import hi_col, lo_col
from forecasting.testing import make_series


def test_list_models_names_every_required_model():
    names = forecasting.list_models()
    for required in ("naive", "seasonal_naive", "drift", "naive2", "ets", "arima", "theta", "ensemble", "auto"):
        assert required in names


def test_forecast_default_columns_and_index():
    y = make_series("Y", 30, seasonal=False)
    fc = forecasting.forecast(y, 4, model="drift")
    assert list(fc.columns) == ["mean", lo_col(80), hi_col(80), lo_col(95), hi_col(95)]
    assert list(fc.index.astype(str)) == ["2030", "2031", "2032", "2033"]
    assert fc.attrs["model"] == "drift"


def test_forecast_auto_is_deterministic_and_nested():
    y = make_series("Q", 40, seed=7)
    a = forecasting.forecast(y, 8, levels=(50, 80, 95, 99))
    b = forecasting.forecast(y, 8, levels=(99, 95, 80, 50, 80))
    pd.testing.assert_frame_equal(a, b)
    for narrow, wide in ((50, 80), (80, 95), (95, 99)):
        assert (a[lo_col(wide)] <= a[lo_col(narrow)] + 1e-12).all()
        assert (a[hi_col(wide)] >= a[hi_col(narrow)] - 1e-12).all()
    assert "interval_method" in a.attrs


@pytest.mark.parametrize("model", ["auto", "ets", "naive", "theta"])
def test_share_forecasts_stay_inside_unit_interval(model):
    rng = np.random.default_rng(1)
    # A share rising fast towards 1 (like the yuan's share of settlements): naive bounds would cross 1.
    z = np.linspace(-2.0, 2.5, 24) + 0.2 * rng.standard_normal(24)
    share = pd.Series(1 / (1 + np.exp(-z)), index=pd.period_range("2020-01", periods=24, freq="M"))
    fc = forecasting.forecast(share, 24, levels=(80, 95, 99), model=model, kind="share")
    assert ((fc > 0) & (fc < 1)).all().all()


def test_share_with_exact_zero_and_one_is_accepted():
    values = [0.0, 0.1, 0.3, 0.5, 0.8, 1.0, 0.9, 0.95, 1.0, 0.97]
    share = pd.Series(values, index=pd.period_range("2010", periods=10, freq="Y"))
    fc = forecasting.forecast(share, 3, model="naive", kind="share")
    assert ((fc > 0) & (fc < 1)).all().all()


def test_share_outside_unit_interval_is_rejected_with_value_and_date():
    share = pd.Series([0.2, 0.4, 40.0, 0.5], index=pd.period_range("2020", periods=4, freq="Y"))
    with pytest.raises(InvalidSeriesError, match=r"\[0, 1\].*40.*2022"):
        forecasting.forecast(share, 2, model="naive", kind="share")


def test_log_transform_rejects_non_positive_values():
    y = pd.Series([3.0, 2.0, 0.0, 4.0, 5.0], index=pd.period_range("2000", periods=5, freq="Y"))
    model = forecasting.transforms.Transformed(transform="log")
    with pytest.raises(InvalidSeriesError, match="positive values; got 0 at 2002"):
        model.fit(y)


def test_log_transform_back_transforms_quantiles():
    y = make_series("Y", 20, seasonal=False)
    fc = forecasting.transforms.Transformed(transform="log").fit(y).predict(3, levels=(80,))
    inner = forecasting.get_model("naive").fit(np.log(y)).predict(3, levels=(80,))
    np.testing.assert_allclose(fc[lo_col(80)], np.exp(inner[lo_col(80)]))
    np.testing.assert_allclose(fc[hi_col(80)], np.exp(inner[hi_col(80)]))
    assert (fc["mean"] > np.exp(inner["mean"])).all()  # bias-adjusted mean exceeds the median


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (pd.Series([1.0, np.nan, 3.0, 4.0], index=pd.period_range("2000", periods=4, freq="Y")), "missing value"),
        (pd.Series([1.0, 2.0, 3.0], index=pd.PeriodIndex(["2000", "2000", "2001"], freq="Y")), "duplicate periods"),
        (pd.Series([1.0, 2.0, 3.0], index=pd.PeriodIndex(["2000", "2001", "2005"], freq="Y")), "gaps"),
        (pd.Series([1.0, 2.0, 3.0], index=[0, 1, 2]), "PeriodIndex or DatetimeIndex"),
        (pd.Series(["a", "b", "c"], index=pd.period_range("2000", periods=3, freq="Y")), "numbers"),
        ([1.0, 2.0, 3.0], "pandas Series"),
    ],
)
def test_forecast_rejects_bad_series_with_named_problem(y, match):
    with pytest.raises(InvalidSeriesError, match=match):
        forecasting.forecast(y, 2, model="naive")


def test_forecast_too_short_series_says_how_many_needed():
    y = make_series("Y", 2, seasonal=False)
    with pytest.raises(InsufficientDataError, match="2 observation.*at least 3"):
        forecasting.forecast(y, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 10**6}, "horizon"),
        ({"horizon": 2, "levels": (0,)}, "levels"),
        ({"horizon": 2, "levels": (100,)}, "levels"),
        ({"horizon": 2, "kind": "ratio"}, "kind"),
    ],
)
def test_forecast_rejects_bad_arguments(kwargs, match):
    y = make_series("Y", 20, seasonal=False)
    with pytest.raises(InvalidParameterError, match=match):
        forecasting.forecast(y, model="naive", **kwargs)


def test_unknown_model_lists_the_choices():
    with pytest.raises(NotFoundError, match="unknown model 'prophet'.*auto"):
        forecasting.forecast(make_series("Y", 20), 2, model="prophet")


def test_backtest_frame_layout_and_cutoffs():
    y = make_series("Y", 30, seasonal=False)
    bt = forecasting.backtest(y, horizon=3, windows=4, models=("naive", "drift"), step=2)
    assert list(bt.columns[:5]) == ["model", "cutoff", "ds", "h", "mean"]
    assert "y" in bt.columns and len(bt) == 2 * 4 * 3
    cutoffs = sorted(bt["cutoff"].astype(str).unique())
    assert cutoffs == ["2020", "2022", "2024", "2026"]
    last = bt[(bt["model"] == "naive") & (bt["cutoff"].astype(str) == "2026")]
    np.testing.assert_allclose(last["y"], y.iloc[-3:].to_numpy())
    np.testing.assert_allclose(last["mean"], y.iloc[-4])


def test_backtest_too_many_windows_names_the_numbers():
    y = make_series("Y", 12, seasonal=False)
    with pytest.raises(InsufficientDataError, match="windows=9.*leaves 1 training"):
        forecasting.backtest(y, horizon=3, windows=9, models=("naive",))


def _long(n_series=3, n=40):
    frames = []
    for i in range(n_series):
        y = make_series("Q", n, seed=i)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": y.index, "y": y.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def test_forecast_many_matches_single_forecasts():
    frame = _long()
    out = forecasting.forecast_many(frame, 4, model="theta", n_jobs=1)
    assert list(out.columns) == ["unique_id", "ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95", "model"]
    single = forecasting.forecast(make_series("Q", 40, seed=1), 4, model="theta")
    got = out[out["unique_id"] == "s1"]
    np.testing.assert_allclose(got["mean"], single["mean"])


def test_forecast_many_process_pool_equals_serial():
    frame = _long(4)
    serial = forecasting.forecast_many(frame, 3, model="naive2", n_jobs=1)
    pooled = forecasting.forecast_many(frame, 3, model="naive2", n_jobs=2, chunk_size=1)
    pd.testing.assert_frame_equal(serial, pooled)


def test_forecast_many_falls_back_and_warns_instead_of_stopping():
    frame = _long(2)
    short = pd.DataFrame({"unique_id": "short", "ds": pd.period_range("2000Q1", periods=5, freq="Q"), "y": 1.0})
    short["y"] = [1.0, 2.0, 3.0, 2.5, 3.5]
    frame = pd.concat([frame, short], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = forecasting.forecast_many(frame, 2, model="ets", n_jobs=1)
    assert set(out["unique_id"]) == {"s0", "s1", "short"}
    assert out.loc[out["unique_id"] == "short", "model"].iloc[0] == "naive2"
    assert any(issubclass(w.category, FallbackWarning) and "short" in str(w.message) for w in caught)


def test_forecast_many_groups_rows_by_series_whatever_their_order():
    frame = _long(3)
    shuffled = frame.sample(frac=1.0, random_state=0)
    stray = pd.DataFrame({"unique_id": [None], "ds": [frame["ds"].iloc[0]], "y": [1e6]})  # belongs to no series
    out = forecasting.forecast_many(pd.concat([shuffled, stray]), 3, model="theta", n_jobs=1)
    assert list(dict.fromkeys(out["unique_id"])) == list(dict.fromkeys(shuffled["unique_id"]))
    for uid, part in out.groupby("unique_id"):
        single = forecasting.forecast(make_series("Q", 40, seed=int(str(uid)[1:])), 3, model="theta")
        np.testing.assert_allclose(part["mean"], single["mean"])


def test_forecast_many_leaves_out_a_series_whose_dates_cannot_be_read():
    good = pd.DataFrame({"unique_id": "good", "ds": pd.date_range("2015-01-31", periods=36, freq="ME").astype(str)})
    good["y"] = np.linspace(10.0, 20.0, 36)
    bad = pd.DataFrame({"unique_id": "bad", "ds": ["2015-01-31", "not a date", "2015-03-31", "2015-04-30"]})
    bad["y"] = [1.0, 2.0, 3.0, 4.0]
    with pytest.warns(FallbackWarning, match=r"bad: InvalidSeriesError: cannot read the dates of series 'bad'"):
        out = forecasting.forecast_many(pd.concat([bad, good]), 2, model="naive", n_jobs=2, chunk_size=2)
    assert set(out["unique_id"]) == {"good"}


def test_forecast_many_requires_long_columns():
    with pytest.raises(InvalidParameterError, match="unique_id, ds, y"):
        forecasting.forecast_many(pd.DataFrame({"a": [1]}), 2)


def test_latest_complete_stretch_keeps_the_last_unbroken_run():
    from forecasting.core import latest_complete_stretch

    y = pd.Series([1.0, np.nan, 3.0, 4.0, np.nan, 6.0, 7.0, 8.0], index=pd.period_range("2000", periods=8, freq="Y"))
    stretch, note = latest_complete_stretch(y)
    assert list(stretch.index.astype(str)) == ["2005", "2006", "2007"]
    assert "2 missing value(s)" in note and "2005 to 2007" in note
    same, none = latest_complete_stretch(y.dropna().iloc[-3:])
    assert none is None and len(same) == 3


def test_forecast_many_leaves_out_unforecastable_series_with_a_warning():
    frame = _long(2)
    tiny = pd.DataFrame({"unique_id": "tiny", "ds": pd.period_range("2000Q1", periods=1, freq="Q"), "y": [1.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = forecasting.forecast_many(pd.concat([frame, tiny], ignore_index=True), 2, model="naive", n_jobs=1)
    assert set(out["unique_id"]) == {"s0", "s1"}
    assert any("tiny" in str(w.message) and "left out" in str(w.message) for w in caught)


def test_score_backtest_matches_metrics_by_hand():
    from forecasting import metrics
    from forecasting.core import score_backtest

    y = make_series("Y", 24, seasonal=False)
    bt = forecasting.backtest(y, horizon=3, windows=2, models=("naive", "drift"), levels=(80,))
    windows, models = score_backtest(bt, y)
    assert len(windows) == 4 and list(models["model"]) == ["naive", "drift"]
    for (model, cutoff), part in bt.groupby(["model", "cutoff"]):
        row = windows[(windows["model"] == model) & (windows["cutoff"] == cutoff)].iloc[0]
        insample = y.loc[:cutoff].to_numpy()
        assert row["mase"] == pytest.approx(metrics.mase(part["y"], part["mean"], insample))
        assert row["rmsse"] == pytest.approx(metrics.rmsse(part["y"], part["mean"], insample))
        assert row["msis_80"] == pytest.approx(metrics.msis(part["y"], part["lo_80"], part["hi_80"], insample, 80))
    naive = models[models["model"] == "naive"].iloc[0]
    assert naive["smape"] == pytest.approx(windows[windows["model"] == "naive"]["smape"].mean())
    assert naive["coverage_80"] == pytest.approx(
        metrics.coverage(
            bt.loc[bt["model"] == "naive", "y"],
            bt.loc[bt["model"] == "naive", "lo_80"],
            bt.loc[bt["model"] == "naive", "hi_80"],
        )
    )


def test_score_backtest_gives_nan_for_a_constant_training_window():
    from forecasting.core import score_backtest

    y = pd.Series([5.0] * 10 + [6.0, 7.0], index=pd.period_range("2000", periods=12, freq="Y"))
    bt = forecasting.backtest(y, horizon=2, windows=1, models=("naive",), levels=(80,))
    windows, models = score_backtest(bt, y)
    assert np.isnan(windows["mase"].iloc[0]) and np.isnan(models["msis_80"].iloc[0])
    assert windows["smape"].iloc[0] > 0
