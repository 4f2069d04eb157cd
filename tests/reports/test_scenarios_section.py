"""The scenario section of a report and break notes (reports/scenarios.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.frames import MEAN, hi_col, lo_col
from reports.scenarios import break_notes, build_scenario_section, render_scenario_section


def _frame(index: pd.PeriodIndex, level: float) -> pd.DataFrame:
    mean = np.full(len(index), level)
    frame = pd.DataFrame({MEAN: mean, lo_col(95): mean - 2.0, hi_col(95): mean + 2.0}, index=index)
    frame.index.name = "ds"
    return frame


def _history() -> pd.Series:
    return pd.Series(np.arange(48.0), index=pd.period_range("2020-01", periods=48, freq="M"), name="y")


def test_scenario_section_table_and_one_chart_per_scenario():
    y = _history()
    future = pd.period_range("2024-01", periods=3, freq="M")
    section = build_scenario_section(
        "cn_ru", y, {"oil_60": _frame(future, 10.0), "oil_90<b>": _frame(future, 20.0)}, title="Trade"
    )
    assert section.periods == ["2024-01", "2024-02", "2024-03"]
    assert list(section.scenarios) == ["oil_60", "oil_90<b>"]
    assert section.levels == (95,)
    html = str(render_scenario_section(section))
    assert html.count("<svg") == 2
    assert html.count("<tr>") == 4  # header + three periods
    assert "oil_90&lt;b&gt;" in html and "oil_90<b>" not in html  # names are escaped
    assert "(8 to" in html and "12)" in html  # the 95% interval of oil_60
    assert "leave out the drivers' own uncertainty" in html


def test_scenario_section_refuses_mismatched_periods():
    y = _history()
    a = _frame(pd.period_range("2024-01", periods=3, freq="M"), 1.0)
    b = _frame(pd.period_range("2024-02", periods=3, freq="M"), 1.0)
    with pytest.raises(ValueError, match="same periods"):
        build_scenario_section("s", y, {"a": a, "b": b})


def test_break_notes_report_a_level_shift_and_skip_a_marked_one():
    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(100.0, 1.0, 40), rng.normal(60.0, 1.0, 20)]
    y = pd.Series(values, index=pd.period_range("2017-01", periods=60, freq="M"), name="y")
    notes = break_notes(y)
    assert [n.code for n in notes] == ["structural_break"]
    assert "2020-05" in notes[0].message
    assert break_notes(y, [{"ds": "2020-05", "type": "level_shift"}]) == []
    assert break_notes(y.iloc[:5]) == []
