"""Volatility buckets of the interval calibration: the feature, the keys and their use by
``auto`` (the learning of the tables is tested in ``tests/bench``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.auto import Auto
from forecasting.ensemble import mixture_intervals, pooled_intervals
from forecasting.intervals import POOLED, WidthCalibration, load_calibration, volatility
from forecasting.testing import make_series


def test_volatility_is_the_spread_of_log_changes_and_undefined_without_a_scale():
    y = np.array([100.0, 110.0, 99.0, 108.9])
    expected = np.std(np.diff(np.log(y)), ddof=1)
    assert volatility(y) == pytest.approx(expected)
    assert volatility(pd.Series(y * 1000)) == pytest.approx(expected)  # scale-free
    assert volatility(np.array([1.0, 2.0])) is None  # too short
    assert volatility(np.array([1.0, 0.0, 2.0, 3.0])) is None  # not strictly positive
    assert volatility(np.array([-0.4, 0.1, 0.3, 0.2])) is None  # e.g. a share on the logit scale


def _vol_calibration() -> WidthCalibration:
    return WidthCalibration(
        levels=(80, 95),
        length_edges=(45,),
        volatility_edges={12: (0.05, 0.2)},
        factors={
            "m12_b1_v0": np.full((2, 2), 1.5),
            "m12_b1_v1": np.full((2, 2), 1.0),
            "m12_b1_v2": np.full((2, 2), 0.8),
            "m1_b0": np.full((2, 2), 2.0),
        },
    )


def test_width_calibration_picks_the_volatility_bucket_and_round_trips():
    cal = _vol_calibration()
    assert cal.key(12, 60, 0.01) == "m12_b1_v0"
    assert cal.key(12, 60, 0.05) == "m12_b1_v1"  # edges are inclusive on the left
    assert cal.key(12, 60, 0.5) == "m12_b1_v2"
    assert cal.key(12, 60, None) == "m12_b1_v1"  # no scale-free volatility: middle bucket
    assert cal.key(1, 20, 0.5) == "m1_b0"  # season lengths without volatility edges ignore it
    np.testing.assert_allclose(cal.factor(12, 60, 3, 80, 0.01), [1.5, 1.5, 1.5])
    np.testing.assert_allclose(cal.factor(12, 60, 1, 95, 0.3), [0.8])
    # A missing cell borrows the nearest learned one: the short bucket falls back to b1 with
    # its own volatility bucket.
    np.testing.assert_allclose(cal.factor(12, 30, 1, 80, 0.3), [0.8])
    again = WidthCalibration.from_json(cal.to_json())
    assert again.volatility_edges == {12: (0.05, 0.2)}
    np.testing.assert_allclose(again.factor(12, 60, 1, 80, 0.01), [1.5])


def test_auto_applies_the_table_of_its_volatility_bucket():
    cal = load_calibration("auto")
    assert cal is not None and 12 in cal.volatility_edges
    y = make_series("M", 96, seed=4)
    raw = Auto(calibrate=False).fit(y)
    point, shifted, sds = raw.member_moments(6)
    model = Auto().fit(y)
    fc = model.predict(6, levels=(80,))
    assert model.volatility_ == pytest.approx(volatility(y.to_numpy()))
    k = cal.factor(12, len(y), 6, 80, model.volatility_)
    band = cal.band(12, len(y), model.volatility_)
    base = (pooled_intervals if band == POOLED else lambda p, s, lv: mixture_intervals(shifted, s, lv))(
        point, sds, (80,)
    )
    np.testing.assert_allclose(fc["hi_80"] - fc["mean"], k * (base[80][1] - point))
    np.testing.assert_allclose(fc["mean"], point)
