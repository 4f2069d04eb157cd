"""The calibration lab's cross-validated choice of base band per table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from bench.calibrate_intervals import band_ratios, choose_bands, table_layout
from forecasting.intervals import MIXTURE, POOLED

GRID = (50, 60, 70, 80, 90, 95, 99)


def _outcomes(truth: str, n_series: int = 200, steps: int = 3) -> pd.DataFrame:
    """Near-origin outcomes of non-seasonal fits whose members disagree by a random amount
    per series; errors drawn with the pooled sd (``truth="pooled"``) or with the spread of the
    mixture, which grows with the disagreement (``truth="mixture"``). Units of the MSIS scale."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n_series):
        disagreement = float(rng.uniform(0.0, 3.0))
        sd = {POOLED: 1.0, MIXTURE: float(np.sqrt(1.0 + disagreement**2))}
        for step in range(1, steps + 1):
            err = float(rng.normal(0.0, sd[truth]))
            row = {"series_id": f"s{i}", "m": 1, "n": 60, "step": step, "origin": "near", "err_s": err}
            for band, s in sd.items():
                for lv in GRID:
                    half = norm.ppf(0.5 + lv / 200) * s
                    row["r" + str(lv) + ("" if band == MIXTURE else f"_{band}")] = abs(err) / half
                    row[f"up_{band}{lv}"] = row[f"down_{band}{lv}"] = half
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("truth", [MIXTURE, POOLED])
def test_calibration_script_chooses_the_band_that_scores_better(truth):
    layout = table_layout({})
    bands, scores = choose_bands(_outcomes(truth), layout)
    other = POOLED if truth == MIXTURE else MIXTURE
    assert scores["m1_b2"][truth] < scores["m1_b2"][other]
    assert bands == ({"m1_b2": POOLED} if truth == POOLED else {})


def test_calibration_script_learns_the_chosen_bands_ratios():
    ratios = _outcomes(POOLED)
    layout = table_layout({})
    moved = band_ratios(ratios, layout, {"m1_b2": POOLED})
    np.testing.assert_allclose(moved["r80"], ratios["r80_pooled"])
    assert band_ratios(ratios, layout, {"m1_b1": POOLED})["r80"].equals(ratios["r80"])
