"""Mixed reporting: months, year-to-date and annual totals read without inventing months."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.exceptions import InsufficientDataError, InvalidParameterError, InvalidSeriesError
from forecasting.mixed import MixedMonthly, forecast_mixed, monthly_from_reports

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


# --- forecast_mixed: the cumulator model ------------------------------------------------


def _simulated_reports(seed: int, years: int = 5) -> tuple[pd.Series, pd.Series]:
    """A monthly truth and its reports: ~30% of months (the last always), two YTD totals a year."""
    rng = np.random.default_rng(seed)
    n = 12 * years
    t = np.arange(n)
    truth = pd.Series(
        100 + np.cumsum(rng.normal(0.3, 1.0, n)) + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2.0, n),
        index=pd.period_range("2015-01", periods=n, freq="M"),
    )
    figures = {str(p): v for i, (p, v) in enumerate(truth.items()) if rng.random() < 0.3 or i == n - 1}
    for year in range(2015, 2015 + years):
        months = truth[truth.index.year == year]
        for cut in rng.choice(np.arange(2, 13), size=2, replace=False):
            figures[f"{year}-01..{int(cut):02d}"] = float(months.iloc[: int(cut)].sum())
    return truth, pd.Series(figures, name="sim")


def test_forecast_mixed_smoothed_months_add_up_to_the_published_totals():
    truth, reports = _simulated_reports(3)
    out = forecast_mixed(reports, 6, (80, 95))
    assert len(out.totals_used) >= 5
    for start, end, total in out.totals_used.itertuples(index=False):
        assert out.estimates.loc[start:end, "mean"].sum() == pytest.approx(total, rel=1e-6)
    est = out.estimates
    known = est["status"] != "estimated"
    # Published months are passed through exactly, with no width; the others are estimates.
    np.testing.assert_array_equal(est.loc[known, "mean"], est.loc[known, "y"])
    assert (est.loc[known, "hi_95"] == est.loc[known, "lo_95"]).all()
    unknown = est[~known]
    assert unknown["y"].isna().all() and (unknown["hi_95"] > unknown["hi_80"]).all()
    assert (unknown["lo_80"] > unknown["lo_95"]).all()
    assert list(out.forecast.columns) == ["mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert out.forecast.index[0] == truth.index[-1] + 1 and len(out.forecast) == 6


def test_forecast_mixed_use_totals_false_drops_only_the_totals():
    _, reports = _simulated_reports(5, years=8)
    mixed = monthly_from_reports(reports.index, reports.to_numpy())
    no_totals = MixedMonthly(mixed.y, mixed.derived, mixed.aggregates.iloc[:0], [])
    a = forecast_mixed(no_totals, 4, (95,))
    b = forecast_mixed(mixed, 4, (95,), use_totals=False)
    c = forecast_mixed(mixed, 4, (95,))
    assert b.totals_used.empty and "cumulator" not in b.params["model"] and "cumulator" in c.params["model"]
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    assert not np.allclose(b.forecast["mean"], c.forecast["mean"])


def test_forecast_mixed_totals_narrow_the_estimates_of_the_months_they_cover():
    _, reports = _simulated_reports(7, years=8)
    with_totals = forecast_mixed(reports, 3, (95,))
    without = forecast_mixed(reports, 3, (95,), use_totals=False)
    covered = set()
    for start, end, _ in with_totals.totals_used.itertuples(index=False):
        covered |= set(pd.period_range(start, end, freq="M"))
    est_a = with_totals.estimates
    months = [p for p in covered if est_a.loc[p, "status"] == "estimated" and p in without.estimates.index]
    width_a = (est_a.loc[months, "hi_95"] - est_a.loc[months, "lo_95"]).mean()
    width_b = (without.estimates.loc[months, "hi_95"] - without.estimates.loc[months, "lo_95"]).mean()
    assert months and width_a < width_b


@pytest.mark.parametrize(
    ("labels", "values", "match"),
    [
        (["2020-01", "2020-01"], [1.0, 2.0], "given twice"),
        (["2020", "2020-01..12"], [10.0, 12.0], "given twice"),
        (["2020-01..13"], [1.0], "01..12"),
    ],
)
def test_monthly_from_reports_refuses_inconsistent_labels(labels, values, match):
    with pytest.raises(InvalidSeriesError, match=match):
        monthly_from_reports(labels, values)


def _mixed(y_values, start, aggregates):
    y = pd.Series(y_values, index=pd.period_range(start, periods=len(y_values), freq="M", name="ds"), name="y")
    return MixedMonthly(y, [], pd.DataFrame(aggregates, columns=["start", "end", "total"]), [])


def test_forecast_mixed_refuses_overlapping_or_contradicting_totals():
    p = lambda s: pd.Period(s, freq="M")  # noqa: E731
    values = [10.0, np.nan, np.nan, 11.0] * 6
    overlapping = _mixed(values, "2020-01", [(p("2020-01"), p("2020-03"), 31.0), (p("2020-03"), p("2020-05"), 30.0)])
    with pytest.raises(InvalidSeriesError, match="overlap"):
        forecast_mixed(overlapping, 3)
    full = [10.0] * 24
    contradicting = _mixed(full, "2020-01", [(p("2020-01"), p("2020-03"), 40.0)])
    with pytest.raises(InvalidSeriesError, match="contradicts its months"):
        forecast_mixed(contradicting, 3)
    # Trade-like series (no negative figure): a total below its known months is impossible.
    short_total = _mixed(values, "2020-01", [(p("2020-01"), p("2020-03"), 5.0)])
    with pytest.raises(InvalidSeriesError, match="less than the months"):
        forecast_mixed(short_total, 3)


def test_forecast_mixed_refuses_negative_derived_month_of_a_flow():
    reports = pd.Series({"2020-01..02": 20.0, "2020-01..03": 15.0, **{f"2020-{m:02d}": 10.0 for m in range(4, 13)}})
    with pytest.raises(InvalidSeriesError, match="negative"):
        forecast_mixed(reports, 3)


def test_forecast_mixed_bad_arguments_raise_typed_errors():
    _, reports = _simulated_reports(1, years=2)
    with pytest.raises(InvalidParameterError, match="trend"):
        forecast_mixed(reports, 3, trend="smooth")
    with pytest.raises(InvalidParameterError, match="horizon"):
        forecast_mixed(reports, 0)
    with pytest.raises(InvalidSeriesError, match="Series"):
        forecast_mixed([1.0, 2.0], 3)  # type: ignore[arg-type]
    with pytest.raises(InsufficientDataError, match="published figures"):
        forecast_mixed(pd.Series({"2020-01": 1.0, "2020-02": 2.0, "2020-01..06": 9.0}), 3)


@pytest.mark.skipif(not GACC.exists(), reason="domain data not mounted")
def test_gacc_totals_are_respected_by_the_estimates():
    frame = pd.read_csv(GACC)
    mixed = monthly_from_reports(frame["period"], frame["total_usd_bn"], name="cn_ru_total")
    out = forecast_mixed(mixed, 6, (95,))
    assert len(out.totals_used) == len(mixed.aggregates)
    for start, end, total in out.totals_used.itertuples(index=False):
        assert out.estimates.loc[start:end, "mean"].sum() == pytest.approx(total, rel=1e-5)
    assert out.forecast.index[0] == pd.Period("2025-07", freq="M")
