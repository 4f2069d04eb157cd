"""Base bands of ``auto``'s calibrated intervals: the pooled band, the calibration's choice of
band per table and its use by ``auto`` (the lab's cross-validated choice is tested in
``tests/bench``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

import forecasting.auto as auto_module
from forecasting.auto import Auto
from forecasting.ensemble import mixture_intervals, pooled_intervals
from forecasting.exceptions import InvalidParameterError, NotFittedError
from forecasting.intervals import MIXTURE, POOLED, WidthCalibration, load_calibration
from forecasting.testing import make_series


def test_pooled_band_is_normal_with_the_root_mean_square_sd():
    point = np.array([10.0, 20.0])
    sds = np.array([[1.0, 2.0], [3.0, 2.0]])
    out = pooled_intervals(point, sds, (80, 95))
    sd = np.sqrt([(1 + 9) / 2, 4.0])
    for level in (80, 95):
        z = norm.ppf(0.5 + level / 200)
        np.testing.assert_allclose(out[level][0], point - z * sd)
        np.testing.assert_allclose(out[level][1], point + z * sd)


def test_mixture_band_equals_pooled_when_members_agree_and_is_wider_when_they_do_not():
    point = np.array([5.0])
    sds = np.array([[1.0], [1.0], [1.0]])
    agree = mixture_intervals(np.full((3, 1), 5.0), sds, (80,))
    np.testing.assert_allclose(agree[80][1], pooled_intervals(point, sds, (80,))[80][1], rtol=1e-6)
    disagree = mixture_intervals(np.array([[3.0], [5.0], [7.0]]), sds, (80,))
    assert disagree[80][1][0] - 5.0 > 1.5 * (pooled_intervals(point, sds, (80,))[80][1][0] - 5.0)


def test_width_calibration_band_follows_the_table_a_series_uses_and_round_trips():
    cal = WidthCalibration(
        levels=(80, 95),
        length_edges=(45,),
        edges_by_season={1: (13, 45)},
        factors={"m1_b1": np.ones((2, 2)), "m1_b2": np.ones((2, 2)), "m12_b1": np.ones((2, 2))},
        bands={"m1_b2": POOLED},
    )
    assert cal.band(1, 60) == POOLED
    assert cal.band(1, 20) == MIXTURE  # tables without an entry keep the mixture
    assert cal.band(1, 8) == MIXTURE  # no short table: borrows m1_b1, and its band
    assert cal.table_key(1, 8) == "m1_b1"
    assert cal.band(4, 20) == MIXTURE and cal.table_key(4, 20) is None  # nothing learned
    again = WidthCalibration.from_json(cal.to_json())
    assert again.bands == {"m1_b2": POOLED}
    assert (
        WidthCalibration.from_json(WidthCalibration(levels=(80,), length_edges=(45,), factors={}).to_json()).bands == {}
    )


def _calibration(band: str) -> WidthCalibration:
    return WidthCalibration(
        levels=(80, 95),
        length_edges=(45,),
        factors={"m1_b0": np.array([[0.7, 0.8], [0.9, 1.0]])},
        bands={"m1_b0": band} if band != MIXTURE else {},
        source="test",
    )


@pytest.mark.parametrize("band", [MIXTURE, POOLED])
def test_auto_scales_the_band_its_table_names(monkeypatch, band):
    y = make_series("Y", 30, seed=2)
    monkeypatch.setattr(auto_module, "load_calibration", lambda name="auto": _calibration(band))
    model = Auto().fit(y)
    fc = model.predict(2, levels=(80, 95))
    raw = Auto(calibrate=False).fit(y)
    point, shifted, sds = raw.member_moments(2)
    base = pooled_intervals(point, sds, (80, 95)) if band == POOLED else mixture_intervals(shifted, sds, (80, 95))
    np.testing.assert_allclose(fc["mean"], point)
    for level in (80, 95):
        k = np.array([0.7, 0.9]) if level == 80 else np.array([0.8, 1.0])
        np.testing.assert_allclose(fc[f"hi_{level}"] - point, k * (base[level][1] - point), rtol=1e-9)
        np.testing.assert_allclose(point - fc[f"lo_{level}"], k * (point - base[level][0]), rtol=1e-9)
    assert model.band_ == band
    assert ("pooled sd" in model.interval_method_) == (band == POOLED)
    assert "calibrated" in model.interval_method_


def test_shipped_calibration_names_only_known_bands_of_learned_tables():
    cal = load_calibration("auto")
    assert cal is not None
    assert set(cal.bands.values()) <= {POOLED}
    assert set(cal.bands) <= set(cal.factors)
    assert set(cal.meta["band_cv_score"]) == set(cal.factors)


def test_member_moments_needs_a_fit_and_a_valid_horizon():
    with pytest.raises(NotFittedError):
        Auto().member_moments(2)
    model = Auto(calibrate=False).fit(make_series("Y", 20, seed=1))
    with pytest.raises(InvalidParameterError, match="horizon"):
        model.member_moments(0)
    point, shifted, sds = model.member_moments(3)
    assert point.shape == (3,) and shifted.shape == sds.shape == (3, 3)  # three non-seasonal members
    np.testing.assert_allclose(shifted.mean(axis=0), point)
    assert np.all(sds > 0)
