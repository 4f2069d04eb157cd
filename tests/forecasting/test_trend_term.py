"""The trend-estimation term of ``auto``'s calibrated intervals on short fits
(``WidthCalibration.trend_term``, issue 31 point 1)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import forecasting.auto as auto_module
from forecasting import simulate
from forecasting.auto import Auto
from forecasting.ensemble import pooled_intervals
from forecasting.intervals import WidthCalibration, add_trend_uncertainty, load_calibration
from forecasting.testing import make_series


def test_add_trend_uncertainty_adds_the_drift_error_variance_on_short_fits():
    sds = np.array([[1.0, 1.5, 2.0], [2.0, 2.0, 2.0]])
    out = add_trend_uncertainty(sds, n_obs=10, multiple=1.0, below=16)
    # step h gets (h * sd_1)^2 / (n - 1) more variance, sd_1 each member's own one-step sd
    steps = np.array([1.0, 2.0, 3.0])
    expected = np.sqrt(sds**2 + (steps[None, :] * sds[:, :1]) ** 2 / 9.0)
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(
        add_trend_uncertainty(sds, n_obs=10, multiple=2.0, below=16),
        np.sqrt(sds**2 + 4 * (steps[None, :] * sds[:, :1]) ** 2 / 9.0),
    )


def test_add_trend_uncertainty_leaves_long_fits_and_no_term_alone():
    sds = np.array([[1.0, 1.5], [2.0, 2.0]])
    assert add_trend_uncertainty(sds, n_obs=16, multiple=1.0, below=16) is sds
    assert add_trend_uncertainty(sds, n_obs=8, multiple=None, below=16) is sds


def test_width_calibration_round_trips_its_trend_term():
    cal = WidthCalibration(levels=(80,), length_edges=(45,), factors={}, trend_term=1.5, trend_term_below=14)
    back = WidthCalibration.from_json(cal.to_json())
    assert (back.trend_term, back.trend_term_below) == (1.5, 14)
    assert WidthCalibration.from_json(replace(cal, trend_term=None).to_json()).trend_term is None


def _with_term(term: float | None) -> WidthCalibration:
    return WidthCalibration(
        levels=(80, 95),
        length_edges=(45,),
        factors={"m1_b0": np.ones((1, 2))},
        bands={"m1_b0": "pooled"},
        source="test",
        trend_term=term,
    )


@pytest.mark.parametrize("n", [9, 15])
def test_auto_widens_the_band_of_short_fits_by_the_trend_term(monkeypatch, n):
    y = make_series("Y", n, seed=3)
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_term(1.0))
    model = Auto().fit(y)
    fc = model.predict(5, levels=(80, 95))
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_term(None))
    plain = Auto().fit(y).predict(5, levels=(80, 95))
    point, _, sds = Auto(calibrate=False).fit(y).member_moments(5)
    expected = pooled_intervals(point, add_trend_uncertainty(sds, n, 1.0, 16), (80, 95))
    for level in (80, 95):
        np.testing.assert_allclose(fc[f"lo_{level}"], expected[level][0], rtol=1e-9)
        np.testing.assert_allclose(fc[f"hi_{level}"], expected[level][1], rtol=1e-9)
        # wider than without the term at every step, more so further ahead
        extra = (fc[f"hi_{level}"] - fc[f"lo_{level}"]) / (plain[f"hi_{level}"] - plain[f"lo_{level}"])
        assert np.all(extra.to_numpy() > 1.0) and extra.iloc[-1] > extra.iloc[0]
    np.testing.assert_allclose(fc["mean"], plain["mean"], rtol=0, atol=1e-9)  # point forecasts untouched
    assert "sampling error of the trend" in model.interval_method_


def test_auto_leaves_fits_of_sixteen_points_or_more_unchanged(monkeypatch):
    y = make_series("Y", 16, seed=3)
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_term(1.0))
    model = Auto().fit(y)
    fc = model.predict(5, levels=(80, 95))
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_term(None))
    plain = Auto().fit(y).predict(5, levels=(80, 95))
    np.testing.assert_allclose(fc.to_numpy(), plain.to_numpy(), rtol=1e-12)
    assert "sampling error of the trend" not in model.interval_method_


def test_auto_paths_follow_the_widened_band(monkeypatch):
    y = make_series("Y", 10, seed=3)
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_term(2.0))
    fc = Auto().fit(y).predict(5, levels=(80,))
    paths = simulate(y, horizon=5, n_paths=4000, seed=0, model="auto", nonnegative=False)
    q = np.quantile(paths.to_numpy(), [0.1, 0.9], axis=1)
    width = (fc["hi_80"] - fc["lo_80"]).to_numpy()
    np.testing.assert_allclose(q[0], fc["lo_80"], atol=0.05 * width.max())
    np.testing.assert_allclose(q[1], fc["hi_80"], atol=0.05 * width.max())


def test_shipped_calibration_trend_term_is_none_or_positive():
    cal = load_calibration("auto")
    assert cal is not None
    assert cal.trend_term is None or (cal.trend_term > 0 and cal.trend_term_below > 3)
