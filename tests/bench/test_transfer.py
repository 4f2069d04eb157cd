"""The interval-transfer harness: cached moments give the bands ``auto`` gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.transfer import (
    Case,
    calibrated_bands,
    competition_cases,
    fit_moments,
    holdout_ratios,
    score_records,
    summarise,
)
from bench.transfer_sim import PROCESSES, simulated_cases
from forecasting.auto import Auto
from forecasting.frames import hi_col, lo_col
from forecasting.intervals import load_calibration


def _case(n: int = 20, seed: int = 0, nonneg: bool = True) -> Case:
    rng = np.random.default_rng(seed)
    values = 100 * np.exp(np.cumsum(rng.normal(0.04, 0.12, n + 6)))
    if not nonneg:
        values = values - values.mean()
    y = pd.Series(values[:n], index=pd.period_range("1990", periods=n, freq="Y"), name="s")
    return Case("t", "s", "test", "end", y, values[n:], 6, 1, 6)


@pytest.mark.parametrize("n", [10, 20, 50])
def test_calibrated_bands_match_auto_predict_for_each_length_bucket(n):
    case = _case(n, nonneg=False)
    record = fit_moments(case)
    assert record is not None
    frame = Auto().fit(case.train).predict(6, levels=(80, 95))
    bands = calibrated_bands(record, load_calibration("auto"), censor=False)
    for level in (80, 95):
        np.testing.assert_allclose(bands[level][0], frame[lo_col(level)], rtol=1e-9)
        np.testing.assert_allclose(bands[level][1], frame[hi_col(level)], rtol=1e-9)


def test_calibrated_bands_censor_nonnegative_series_at_zero():
    record = fit_moments(_case(12, seed=5))
    assert record is not None and record["nonneg"]
    record = {**record, "point": record["point"] * 0.0, "shifted": record["shifted"] - record["point"]}
    bands = calibrated_bands(record, None)
    assert all(np.all(lo >= 0) for lo, _ in bands.values())
    assert np.any(calibrated_bands(record, None, censor=False)[95][0] < 0)


def test_score_records_counts_coverage_and_skips_short_actuals():
    record = fit_moments(_case(20))
    assert record is not None
    wide = {**record, "actual": record["point"].copy()}
    far = {**record, "series_id": "far", "actual": record["point"] + 1e9}
    short = {**record, "series_id": "short", "actual": record["actual"][:3]}
    scores = score_records([wide, far, short], load_calibration("auto"), steps=6)
    assert list(scores["series_id"]) == ["s", "far"]
    assert list(scores["cov80"]) == [100.0, 0.0]
    summary = summarise(scores)
    assert summary["cov95"] == 50.0 and summary["series"] == 2


def test_competition_cases_roll_nonseasonal_holdouts(m3_files):
    cases = competition_cases("m3", m3_files / "m3.csv.gz", None, ("test", "near", "deep"))
    one = [c for c in cases if c.series_id == "N0001"]
    # test + 6 rolling near origins + 6 deep origins; near origin n-j holds j values.
    assert [c.split for c in one].count("near") == 6 and [c.split for c in one].count("deep") == 6
    near = {c.origin: c for c in one if c.split == "near"}
    assert len(near["n-2"].actual) == 2 and len(near["n-2"].train) == 22


def test_holdout_ratios_have_the_columns_learn_reads():
    record = fit_moments(_case(20))
    assert record is not None
    ratios = holdout_ratios([{**record, "split": "near"}])
    for col in ("series_id", "m", "n", "step", "origin", "vol", "weight", "err_s", "r80", "r80_pooled", "up_mixture95"):
        assert col in ratios
    assert (ratios["origin"] == "near").all() and len(ratios) == 6


def test_simulated_cases_are_short_positive_and_reproducible():
    a, b = simulated_cases(9, seed=3), simulated_cases(9, seed=3)
    assert [c.series_id.split("_")[0] for c in a[:3]] == [p.split("_")[0] for p in PROCESSES]
    for x, y in zip(a, b, strict=True):
        assert 8 <= len(x.train) <= 15 and len(x.actual) == 6
        assert (x.train > 0).all()
        np.testing.assert_array_equal(x.actual, y.actual)


def test_with_short_bucket_scales_only_fits_of_13_to_15_points():
    from bench.transfer import with_short_bucket

    shipped = load_calibration("auto")
    assert shipped is not None
    varied = with_short_bucket(shipped, 1.3)
    np.testing.assert_allclose(varied.table(1, 14), 1.3 * shipped.table(1, 14))
    for n in (8, 16, 30, 60):
        np.testing.assert_allclose(varied.table(1, n), shipped.table(1, n))
        assert varied.band(1, n) == shipped.band(1, n)
    np.testing.assert_allclose(varied.table(12, 100, 0.1), shipped.table(12, 100, 0.1))
    assert with_short_bucket(shipped, None) is shipped


def test_with_trend_term_widens_only_the_bands_of_fits_under_16_points():
    from dataclasses import replace

    from bench.transfer import with_trend_term

    shipped = load_calibration("auto")
    assert shipped is not None
    plain = replace(shipped, trend_term=None)
    for n, widened in ((10, True), (15, True), (16, False), (30, False)):
        record = fit_moments(_case(n, nonneg=False))
        assert record is not None
        a = calibrated_bands(record, with_trend_term(plain, 1.0), censor=False)
        b = calibrated_bands(record, plain, censor=False)
        width_a, width_b = a[95][1] - a[95][0], b[95][1] - b[95][0]
        if widened:
            assert np.all(width_a > width_b)
        else:
            np.testing.assert_allclose(width_a, width_b, rtol=1e-12)
    assert with_trend_term(plain, None).trend_term is None
