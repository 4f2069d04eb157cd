"""``bench.gaps_rules``: the rules scored from one row's fits, the summary, the choosing sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.gaps_rules import PSEUDO_TEST, choose_series, rule_forecasts, summary
from bench.m3 import load_m3


def _row(**changes: object) -> pd.Series:
    row: dict[str, object] = {
        "series": "s1",
        "arm": "gaps",
        "has_gaps": True,
        "hold": 12,
        "hold_seen": 8,
        "lean_skipped": False,
        "hold_mae_regression_arima": 1.0,
        "hold_mae_structural": 2.0,
        "fc_regression_arima": np.array([10.0, 12.0]),
        "fc_structural": np.array([20.0, 22.0]),
        "aicc_regression_arima": 50.0,
        "aicc_structural": 40.0,
        "test": np.array([11.0, 11.0]),
    }
    row.update(changes)
    return pd.Series(row)


def test_rules_follow_the_holdout_the_observed_share_and_the_aicc() -> None:
    fc = rule_forecasts(_row())
    np.testing.assert_array_equal(fc["holdout"], [10.0, 12.0])  # lower holdout MAE
    np.testing.assert_array_equal(fc["structural_if_gaps"], [20.0, 22.0])
    np.testing.assert_array_equal(fc["holdout_seen75pct"], [20.0, 22.0])  # 8 of 12 < 75%
    np.testing.assert_array_equal(fc["aicc"], [20.0, 22.0])
    np.testing.assert_array_equal(fc["mean"], [15.0, 17.0])
    full = rule_forecasts(_row(hold_seen=12, has_gaps=False))
    np.testing.assert_array_equal(full["holdout_seen100pct"], [10.0, 12.0])
    np.testing.assert_array_equal(full["structural_if_gaps"], [10.0, 12.0])


def test_a_lean_row_scores_only_the_rules_that_need_no_regression_arima() -> None:
    fc = rule_forecasts(_row(lean_skipped=True, hold_mae_regression_arima=np.nan))
    for rule in ("holdout", "aicc", "mean", "regression_arima"):
        assert np.isnan(fc[rule]).all()
    np.testing.assert_array_equal(fc["holdout_seen100pct"], [20.0, 22.0])


def test_summary_gives_the_ratio_and_paired_differences() -> None:
    rows = []
    for sid, complete, gaps in (("a", 10.0, 12.0), ("b", 20.0, 21.0)):
        for arm, level in (("complete", complete), ("gaps", gaps)):
            fc = np.array([level, level])
            rows.append(
                _row(series=sid, arm=arm, fc_structural=fc, fc_regression_arima=fc, test=np.array([10.0, 10.0]))
            )
    table = summary(pd.DataFrame(rows)).set_index("rule")
    # sMAPE of a constant forecast f against 10: 200 |f - 10| / (f + 10)
    smape = {level: 200 * abs(level - 10) / (level + 10) for level in (10.0, 12.0, 20.0, 21.0)}
    expected_gaps = (smape[12.0] + smape[21.0]) / 2
    expected_complete = (smape[10.0] + smape[20.0]) / 2
    assert np.isclose(table.loc["structural", "ratio"], expected_gaps / expected_complete)
    diffs = np.array([smape[12.0] - smape[10.0], smape[21.0] - smape[20.0]])
    assert np.isclose(table.loc["structural", "d_gaps"], diffs.mean())
    assert np.isclose(table.loc["structural", "se_d_gaps"], diffs.std(ddof=1) / np.sqrt(2))
    assert table.loc["holdout", "d_complete_vs_holdout"] == 0.0


def test_choose_series_are_other_series_with_their_last_months_as_the_test(tmp_path: Path) -> None:
    rows = []
    for k in range(8):
        for i in range(60):
            split = "train" if i < 54 else "test"
            rows.append((f"N{k:04d}", "MICRO", "MONTHLY", 12, 6, split, 1990 + i // 12, i % 12 + 1, 100.0 + i + k))
    columns = ["series_id", "category", "period_kind", "freq", "h", "split", "year", "period", "value"]
    path = tmp_path / "m3.csv.gz"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    chosen = choose_series(path, 2)
    scored = load_m3(path, periods=["monthly"], sample=2)
    assert {s.series_id for s in chosen}.isdisjoint({s.series_id for s in scored})
    first = chosen[0]
    assert len(first.train) == 54 - PSEUDO_TEST and len(first.test) == PSEUDO_TEST
    assert first.test[0] == 100.0 + (54 - PSEUDO_TEST) + int(first.series_id[1:])  # the training part, not the M3 test
