"""Learning factor tables from calibration ratios, and measuring their drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.factor_tables import drift_corrections, learn_factor_tables, table_keys
from forecasting.intervals import WidthCalibration


def _ratio_frame(n_series: int, steps: int, n_obs: int, scale: float) -> pd.DataFrame:
    rows = [(f"s{i}", 1, n_obs, step) for i in range(n_series) for step in range(1, steps + 1)]
    frame = pd.DataFrame(rows, columns=["series_id", "m", "n", "step"])
    u = np.linspace(0.0, 1.0, len(frame))  # evenly spread ratios: known percentiles
    frame["r80"] = scale * np.random.default_rng(0).permutation(u)
    frame["r95"] = frame["r80"]
    return frame


def _layout(**edges) -> WidthCalibration:
    return WidthCalibration(levels=(80, 95), length_edges=(45,), factors={}, **edges)


def test_learn_factor_tables_takes_level_percentiles_per_bucket():
    short, long = _ratio_frame(40, 2, 10, 1.0), _ratio_frame(40, 2, 60, 3.0)
    long["series_id"] = "l" + long["series_id"]
    tables = learn_factor_tables(pd.concat([short, long]), _layout(), smooth=1)
    assert set(tables) == {"m1_b0", "m1_b1"}
    assert tables["m1_b0"].shape == (2, 2)
    # Each step holds half the evenly spread ratios, so percentiles are close to the level.
    np.testing.assert_allclose(tables["m1_b0"][:, 0], 0.8, atol=0.05)
    np.testing.assert_allclose(tables["m1_b1"][:, 1], 3 * 0.95, atol=0.15)
    # Too few series for a cell: left out.
    assert learn_factor_tables(_ratio_frame(10, 2, 10, 1.0), _layout()) == {}
    assert table_keys(short.iloc[:1], _layout(edges_by_season={1: (5, 45)})) == ["m1_b1"]


def test_drift_corrections_measure_how_earlier_factors_miss_later_outcomes():
    later = _ratio_frame(40, 2, 20, 1.0)
    earlier = {"m1_b0": np.full((2, 2), 2.0)}  # twice too wide for the later ratios
    c = drift_corrections(earlier, later, _layout())
    np.testing.assert_allclose(c["m1_b0"], [0.4, 0.475], atol=0.01)
    # Applying the correction to the earlier factors covers the level on the later outcomes.
    covered = np.mean(later["r80"] <= 2.0 * c["m1_b0"][0])
    assert covered == pytest.approx(0.8, abs=0.01)
    assert drift_corrections({}, later, _layout()) == {}
