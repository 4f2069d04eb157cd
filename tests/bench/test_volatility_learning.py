"""Volatility buckets in the calibration lab: learning split tables and the cross-validated
choice of how many buckets a season length gets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.calibrate_intervals import choose_volatility_edges
from bench.factor_tables import learn_factor_tables, table_keys
from forecasting.intervals import WidthCalibration


def _ratios(vol_matters: bool, n_series: int = 240, steps: int = 4) -> pd.DataFrame:
    """Near-origin ratios of monthly fits whose |error| / half-width depends on volatility
    (low-volatility series need twice the width of high-volatility ones) or does not."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n_series):
        vol = float(rng.uniform(0.01, 0.5))
        scale = (2.0 if vol < 0.25 else 1.0) if vol_matters else 1.5
        for step in range(1, steps + 1):
            r = abs(rng.normal(0.0, scale / 1.28))
            rows.append(
                {"series_id": f"s{i}", "m": 12, "n": 80, "step": step, "vol": vol}
                | {f"r{lv}": r for lv in (50, 60, 70, 80, 90, 95, 99)}
            )
    return pd.DataFrame(rows)


def test_learn_factor_tables_splits_by_volatility_when_asked():
    ratios = _ratios(vol_matters=True)
    layout = WidthCalibration(levels=(80, 95), length_edges=(45,), factors={}, volatility_edges={12: (0.25,)})
    keys = table_keys(ratios, layout)
    assert set(keys) == {"m12_b1_v0", "m12_b1_v1"}
    tables = learn_factor_tables(ratios, layout)
    low, high = tables["m12_b1_v0"], tables["m12_b1_v1"]
    assert np.all(low[:, 0] > 1.6 * high[:, 0])  # the calm series need about twice the width


def test_calibration_script_splits_by_volatility_only_when_cross_validation_says_so():
    edges, scores = choose_volatility_edges(_ratios(vol_matters=True))
    assert 12 in edges and len(edges[12]) >= 1
    assert scores["m12"][1] > min(scores["m12"].values())
    edges, _ = choose_volatility_edges(_ratios(vol_matters=False))
    assert edges == {}  # no real dependence: the one-standard-error rule keeps one table
