"""``bench.structure_bench``: the trade hierarchy and the loader on a tiny file of the same layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.structure_bench import FILE, level_of, load_trade, summarise, trade_hierarchy
from forecasting.structure import build_hierarchy


def test_trade_hierarchy_is_grouped_and_sums_every_bottom_series_once_into_all() -> None:
    tree = build_hierarchy(trade_hierarchy(["china", "germany"]))
    rows = dict(zip(tree.nodes, tree.summing, strict=True))
    assert rows["all"].tolist() == [1, 1, 1, 1]
    assert level_of("exports", ["china"]) == "flow" and level_of("china_x", ["china"]) == "partner x flow"


def test_load_trade_keeps_the_largest_complete_partners(tmp_path: Path) -> None:
    rows = []
    for year in (2006, 2007):
        for month in range(1, 13):
            for partner, size in (("China", 10.0), ("Gap Land", 99.0), ("Small", 1.0)):
                if partner == "Gap Land" and month == 5:
                    continue  # an incomplete partner is left out whatever its size
                for flow in ("export", "import"):
                    rows.append((year, month, flow, partner, partner, size))
    columns = ["year", "month", "flow_russia", "partner_ru", "partner_en", "value_musd"]
    pd.DataFrame(rows, columns=columns).to_csv(tmp_path / FILE, index=False)
    wide = load_trade(tmp_path, 1)
    assert list(wide.columns) == ["china_x", "china_m"] and len(wide) == 24
    assert isinstance(wide.index, pd.PeriodIndex) and wide.index.freqstr == "M"


def test_summarise_reports_standard_errors_per_level_and_method() -> None:
    scores = pd.DataFrame(
        {"level": ["all"] * 4, "method": ["a", "a", "b", "b"], "smape": [1.0, 3.0, 2.0, 2.0], "mase": [1.0] * 4}
    ).assign(cover95=1.0)
    table = summarise(scores)
    assert table.loc[("all", "a"), "smape"] == 2.0
    assert np.isclose(table.loc[("all", "a"), "smape_se"], 1.0)
    assert table.loc[("all", "b"), "smape_se"] == 0.0


def test_bilateral_run_scores_total_and_flows_for_ours_and_the_reference(monkeypatch) -> None:
    import bench.structure_bilateral as bilateral

    monkeypatch.setattr(bilateral, "SELECT", ("2010-12",))
    monkeypatch.setattr(bilateral, "REPORT", ())
    index = pd.period_range("2006-01", "2011-12", freq="M", name="ds")
    rng = np.random.default_rng(0)
    season = 1 + 0.2 * np.sin(np.arange(len(index)) * 2 * np.pi / 12)
    bottom = pd.DataFrame(
        {"cn_x": 50 * season + rng.normal(0, 1, len(index)), "cn_m": 30 * season + rng.normal(0, 1, len(index))},
        index=index,
    )
    scores = bilateral.run(bottom, ["cn"], ["naive2"], n_jobs=1, n_paths=50)
    assert set(scores["method"]) == {"naive2+mint_shrink", "AutoETS+MinT-shrink (ref)"}
    assert sorted(scores.loc[scores["method"] == "naive2+mint_shrink", "level"]) == ["flow", "flow", "total"]
    assert scores["smape"].between(0, 200).all() and scores["cover95"].between(0, 1).all()


def test_hybrid_draws_take_the_point_forecast_and_residuals_of_one_model_and_the_paths_of_the_other() -> None:
    from bench.structure_bench import hybrid_draws
    from forecasting.structure._joint import NodeDraws

    ets = {"t": NodeDraws(np.array([10.0, 11.0]), np.zeros((2, 3)), np.array([0.1, -0.1]), "ets_untested")}
    auto = {"t": NodeDraws(np.array([9.0, 9.0]), np.arange(6.0).reshape(2, 3), np.array([0.5, 0.5]), "auto")}
    assert hybrid_draws({"ets_untested": ets}) == {}  # both models are needed
    got = hybrid_draws({"ets_untested": ets, "auto": auto})["ets_untested@auto"]["t"]
    assert got.mean.tolist() == [10.0, 11.0] and got.residuals.tolist() == [0.1, -0.1]
    assert got.paths.tolist() == auto["t"].paths.tolist() and got.model == "ets_untested@auto"
