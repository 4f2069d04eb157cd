"""The member-sd cap of ``auto``'s calibrated intervals (``WidthCalibration.sd_cap``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import forecasting.auto as auto_module
from forecasting import simulate
from forecasting.auto import Auto
from forecasting.ensemble import mixture_intervals
from forecasting.intervals import WidthCalibration, cap_member_sds, load_calibration
from forecasting.testing import make_series


def test_cap_member_sds_limits_each_step_to_a_multiple_of_the_median():
    sds = np.array([[1.0, 2.0], [1.2, 2.0], [9.0, 3.0]])
    out = cap_member_sds(sds, 2.0)
    np.testing.assert_allclose(out, [[1.0, 2.0], [1.2, 2.0], [2.4, 3.0]])
    np.testing.assert_allclose(cap_member_sds(out, 2.0), out)  # idempotent: the median does not move
    assert cap_member_sds(sds, None) is sds


def test_width_calibration_round_trips_its_sd_cap():
    cal = WidthCalibration(levels=(80,), length_edges=(45,), factors={}, sd_cap=3.0)
    assert WidthCalibration.from_json(cal.to_json()).sd_cap == 3.0
    assert WidthCalibration.from_json(replace(cal, sd_cap=None).to_json()).sd_cap is None


def _with_cap(cap: float | None) -> WidthCalibration:
    return WidthCalibration(
        levels=(80, 95), length_edges=(45,), factors={"m1_b0": np.ones((1, 2))}, source="test", sd_cap=cap
    )


@pytest.mark.parametrize("cap", [1.0, 1.1])
def test_auto_builds_its_band_from_the_capped_member_sds(monkeypatch, cap):
    y = make_series("Y", 30, seed=4)
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_cap(cap))
    model = Auto().fit(y)
    fc = model.predict(4, levels=(80, 95))
    point, shifted, sds = Auto(calibrate=False).fit(y).member_moments(4)
    assert np.any(cap_member_sds(sds, cap) < sds)  # the cap binds on this series
    expected = mixture_intervals(shifted, cap_member_sds(sds, cap), (80, 95))
    for level in (80, 95):
        np.testing.assert_allclose(fc[f"lo_{level}"], expected[level][0], rtol=1e-9)
        np.testing.assert_allclose(fc[f"hi_{level}"], expected[level][1], rtol=1e-9)
    np.testing.assert_allclose(fc["mean"], point)  # point forecasts untouched
    assert f"capped at {cap:g}" in model.interval_method_


def test_auto_paths_follow_the_capped_band(monkeypatch):
    y = make_series("Y", 30, seed=4)
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _with_cap(1.0))
    fc = Auto().fit(y).predict(4, levels=(80,))
    paths = simulate(y, horizon=4, n_paths=4000, seed=0, model="auto", nonnegative=False)
    q = np.quantile(paths.to_numpy(), [0.1, 0.9], axis=1)
    width = (fc["hi_80"] - fc["lo_80"]).to_numpy()
    np.testing.assert_allclose(q[0], fc["lo_80"], atol=0.05 * width.max())
    np.testing.assert_allclose(q[1], fc["hi_80"], atol=0.05 * width.max())


def test_shipped_calibration_sd_cap_is_none_or_at_least_one():
    cal = load_calibration("auto")
    assert cal is not None
    assert cal.sd_cap is None or cal.sd_cap >= 1.0
