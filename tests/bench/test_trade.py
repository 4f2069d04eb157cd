"""The trade benchmark's data rules, origin split, cache and scores, on tiny files in the
layouts of the domain data (no shared data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import trade
from bench.trade_choose import score_combos, score_weighted


def _russia_rows(partner: str, level: float, rng: np.random.Generator, skip: int | None = None) -> list[tuple]:
    rows = []
    for flow in ("export", "import"):
        for i, ds in enumerate(pd.period_range("2006-01", "2021-12", freq="M")):
            if i == skip:
                continue
            value = level * (1 + 0.2 * np.sin(2 * np.pi * ds.month / 12)) * np.exp(rng.normal(0, 0.05))
            rows.append((ds.year, ds.month, flow, partner, partner, value))
    return rows


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("domain")
    rng = np.random.default_rng(7)
    rows = _russia_rows("Big Land", 500.0, rng) + _russia_rows("Gappy", 500.0, rng, skip=30)
    rows += _russia_rows("Tiny", 5.0, rng)
    cols = ["year", "month", "flow_russia", "partner_ru", "partner_en", "value_musd"]
    pd.DataFrame(rows, columns=cols).to_csv(folder / trade.RUSSIA_FILE, index=False)
    years = [str(y) for y in range(1948, 2021)]
    imf = []
    for code, counterpart, values in (
        ("TXG_FOB_USD", "China", 1e9 * np.exp(np.cumsum(rng.normal(0.04, 0.1, len(years))))),
        ("TMG_CIF_USD", "India", np.r_[np.full(len(years) - 1, 1e9), 4.5e14]),  # corrupt: dropped
    ):
        imf.append({"Country Name": "Brazil", "Indicator Code": code, "Counterpart Country Name": counterpart,
                    **dict(zip(years, values, strict=True))})  # fmt: skip
    pd.DataFrame(imf).to_csv(folder / trade.IMF_FILE, index=False)
    eu = []
    for reporter, level in (("Austria", 2e8), ("Malta", 1e5)):
        for ds in pd.period_range("2020-01", "2022-11", freq="M"):
            eu += [(ds.year, ds.month, reporter, "Russian Federation (Russia)", f, level) for f in ("EXPORT", "IMPORT")]
    pd.DataFrame(eu, columns=["year", "month", "reporter", "partner", "flow", "value_eur"]).to_csv(
        folder / trade.EU_FILE, index=False
    )
    return folder


def test_russia_monthly_drops_partners_with_gaps_or_little_trade(domain):
    series = trade.load_russia_monthly(domain)
    assert sorted(series) == ["big_land_e", "big_land_i"]
    assert len(series["big_land_e"]) == 192
    assert series["big_land_e"].index.freqstr == "M"


def test_imf_annual_drops_corrupt_values(domain):
    series = trade.load_imf_annual(domain)
    assert list(series) == ["brazil_x_china"]
    assert series["brazil_x_china"].index[0] == pd.Period("1994", freq="Y")


def test_eu_russia_keeps_members_above_threshold_and_the_sum(domain):
    series = trade.load_eu_russia(domain)
    assert sorted(series) == ["austria_e", "austria_i", "eu_sum_e", "eu_sum_i"]
    assert series["eu_sum_e"].iloc[0] == pytest.approx((2e8 + 1e5) / 1e6)


def test_eu_sum_leaves_out_members_with_a_missing_month(tmp_path, domain):
    raw = pd.read_csv(domain / trade.EU_FILE)
    gap = raw.index[(raw["reporter"] == "Malta") & (raw["year"] == 2021) & (raw["month"] == 5)]
    raw.drop(gap).to_csv(tmp_path / trade.EU_FILE, index=False)
    series = trade.load_eu_russia(tmp_path)
    assert series["eu_sum_e"].iloc[0] == pytest.approx(2e8 / 1e6)
    assert series["eu_sum_e"].notna().all()


def test_cases_split_choosing_before_reporting_origins(domain):
    cases = trade.build_cases(domain)
    monthly = [c for c in cases if c.set_name == "russia_monthly"]
    assert {c.origin for c in monthly if c.split == "choose"} == set(trade.CHOOSE["russia_monthly"])
    assert max(c.origin for c in monthly if c.split == "choose") < min(c.origin for c in monthly if c.split == "report")
    last = next(c for c in monthly if c.origin == "2020-12")
    assert len(last.test) == 12 and last.horizon == 18
    assert last.train.index[-1] == pd.Period("2020-12", freq="M")


def test_score_forecast_perfect_and_missed():
    y = pd.Series(np.arange(1.0, 25.0), index=pd.period_range("2000-01", periods=24, freq="M"))
    case = trade.Case("russia_monthly", "s", "2001-12", y, np.array([25.0, 26.0]), 2, 12)
    exact = {"mean": case.test, "lo_80": case.test, "hi_80": case.test, "lo_95": case.test, "hi_95": case.test}
    row = trade.score_forecast(case, exact, 2)
    assert row["smape"] == 0.0 and row["mase"] == 0.0 and row["cov95"] == 100.0
    off = {k: v + 12.0 for k, v in exact.items()}
    row = trade.score_forecast(case, off, 2)
    assert row["mase"] == pytest.approx(1.0) and row["cov80"] == 0.0 and row["msis95"] == pytest.approx(2 / 0.05)


def test_cache_round_trip_scores_auto_and_references(domain, tmp_path):
    cases = [c for c in trade.build_cases(domain, ["imf_annual"]) if c.origin in ("2008", "2012")]
    for case in cases:
        key, failed = trade.forecast_case(case, ["auto", *trade.REFERENCES, "naive2"], tmp_path)
        assert failed == [] and key == case.key
    scores = trade.score_cases(cases, cache=tmp_path)
    assert {"auto", "sf_ets", "sf_arima", "sf_theta", "sf_mean", "m:ets"} <= set(scores["method"])
    table = trade.summarise(scores)
    assert set(table.index.get_level_values("split")) == {"choose", "report"}
    assert (table["n_series"] == 1).all()
    trade.forget(cases, ["auto"], tmp_path)
    assert not any(k.startswith(("auto", "m:")) for k in trade.load_cached(cases[0], tmp_path))


def test_choose_scores_combinations_and_past_weights(domain, tmp_path):
    cases = [c for c in trade.build_cases(domain, ["imf_annual"]) if c.split == "choose"][:3]
    for case in cases:
        trade.forecast_case(case, ["auto", *trade.REFERENCES, "naive2"], tmp_path)
    from bench.trade_choose import point_table

    points = point_table(cases, tmp_path)
    table = score_combos(cases, points, ("m:ets", "naive2"))
    assert table.loc["auto", "owa"] == pytest.approx(1.0)
    assert "m:ets + naive2" in table.index
    equal = score_weighted(cases, cases, points, ("m:ets", "naive2"), 0.0)
    assert equal == pytest.approx(tuple(table.loc["m:ets + naive2", ["smape", "mase"]]))


def _rows(method: str, origins: tuple[str, ...], smape: float, series: str = "a") -> list[dict]:
    return [{"set": "imf_annual", "series": series, "origin": o, "split": "report", "h": 6, "method": method,
             "smape": smape + i, "mase": 1.0} for i, o in enumerate(origins)]  # fmt: skip


def test_common_cases_and_gaps_pair_only_the_cases_both_methods_have():
    both = ("2010", "2011")
    scores = pd.DataFrame(
        _rows("auto", (*both, "2012"), 10.0) + _rows("r_ets", both, 12.0)
        + _rows("auto", both, 5.0, "b") + _rows("r_ets", both, 4.0, "b")
    )  # fmt: skip
    common = trade.common_cases(scores, ["auto", "r_ets"])
    assert len(common) == 8 and "2012" not in set(common["origin"])
    choose = pd.DataFrame(_rows("auto", ("2004",), 9.0)).assign(split="choose")  # no r_ets at these origins
    assert len(trade.common_cases(pd.concat([scores, choose]), ["auto", "r_ets"])) == 9
    gap = trade.paired_gap(scores, "auto", "r_ets", "smape")
    # a: auto 10, 11 vs 12, 13 (its 2012 case has no pair) -> -2; b: +1
    assert gap["gap"].iloc[0] == pytest.approx(-0.5)
    assert gap["gap_se"].iloc[0] == pytest.approx(np.std([-2.0, 1.0], ddof=1) / np.sqrt(2))


def test_auto_gaps_leave_out_references_that_were_not_run():
    scores = pd.DataFrame(_rows("auto", ("2010", "2011"), 10.0) + _rows("sf_ets", ("2010", "2011"), 11.0))
    gaps = trade.auto_gaps(scores)
    assert set(gaps.index.get_level_values("reference")) == {"sf_ets"}
    assert gaps.loc[("imf_annual", 6, "report", "sf_ets"), ("gap", "smape")] == pytest.approx(-1.0)
