"""Mixed reporting: months, year-to-date and annual totals read without inventing months."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.exceptions import InvalidSeriesError
from forecasting.mixed import monthly_from_reports

GACC = Path("/work/shared/data/domain/china_russia_monthly_and_ytd_press_gacc.csv")


def test_consecutive_ytd_totals_give_the_month_between():
    out = monthly_from_reports(["2022-01..02", "2022-01..03", "2022-04"], [26.4, 38.17, 12.69])
    assert out.y.index[0] == pd.Period("2022-03", freq="M")
    assert out.y[pd.Period("2022-03", freq="M")] == pytest.approx(11.77)
    assert out.derived == [pd.Period("2022-03", freq="M")]
    # Jan..Feb stays one total over two months: neither month is invented.
    assert out.aggregates.to_dict("records") == [
        {"start": pd.Period("2022-01", freq="M"), "end": pd.Period("2022-02", freq="M"), "total": 26.4}
    ]


def test_annual_total_minus_reported_months_gives_the_last_one():
    labels = [f"2021-{m:02d}" for m in range(1, 12)] + ["2021"]
    values = [1.0] * 11 + [15.0]
    out = monthly_from_reports(labels, values)
    assert out.y.iloc[-1] == pytest.approx(4.0)
    assert out.y.notna().all() and out.aggregates.empty


def test_gaps_stay_missing_and_totals_over_several_unknown_months_are_kept():
    out = monthly_from_reports(["2020-01..06", "2020-03", "2020-09"], [49.15, 8.0, 9.0])
    assert out.y.isna().sum() == len(out.y) - 2
    # The published total over January to June (March, known, included) stays as it is.
    assert out.aggregates.to_dict("records")[0]["total"] == pytest.approx(49.15)


def test_reported_months_that_contradict_a_total_are_noted():
    out = monthly_from_reports(["2020-01", "2020-02", "2020-01..02"], [1.0, 1.0, 3.0])
    assert out.notes and "2020-01..02" in out.notes[0]
    assert out.y.tolist() == [1.0, 1.0]


def test_unreadable_label_raises():
    with pytest.raises(InvalidSeriesError, match="2020-Q1"):
        monthly_from_reports(["2020-Q1"], [1.0])


@pytest.mark.skipif(not GACC.exists(), reason="domain data not mounted")
def test_gacc_monthly_and_ytd_series_is_forecastable_with_missing_model():
    frame = pd.read_csv(GACC)
    out = monthly_from_reports(frame["period"], frame["total_usd_bn"], name="cn_ru_total")
    observed = out.y.dropna()
    assert len(observed) >= 30 and out.y.isna().sum() > 100  # sparse: most months are unknown
    # 2022-03 is reported; it also equals Jan..Mar minus Jan..Feb within rounding.
    assert out.y[pd.Period("2022-03", freq="M")] == pytest.approx(38.17 - 26.4, abs=0.15)
    fc = forecasting.forecast(out.y, 6, (95,), model="structural", missing="model")
    assert np.isfinite(fc.to_numpy()).all() and (fc["lo_95"] <= fc["hi_95"]).all()
