"""R's forecast references of the trade benchmark: the CSV exchange, the cache, the mean of the
three, and (when Rscript is installed) one real chunk through R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import trade, trade_r


def _case(key: str, n: int = 24, horizon: int = 3, season: int = 1) -> trade.Case:
    y = pd.Series(100.0 + np.arange(n, dtype=float), index=pd.period_range("1990", periods=n, freq="Y"))
    return trade.Case("imf_annual", key, "2008", y, np.full(horizon, 200.0), horizon, season)


def _r_rows(key: str, method: str, horizon: int, level: float) -> list[dict]:
    return [
        {"key": f"imf_annual/{key}__2008", "method": method, "step": s, "mean": level}
        | {"lo_80": level - 1, "hi_80": level + 1, "lo_95": level - 2, "hi_95": level + 2}
        for s in range(1, horizon + 1)
    ]


def test_series_frame_is_long_with_one_row_per_observation():
    frame = trade_r.series_frame([_case("a", n=5), _case("b", n=7)])
    assert len(frame) == 12
    assert list(frame.columns) == ["key", "season", "horizon", "t", "value"]
    first = frame[frame["key"] == "imf_annual/a__2008"]
    assert first["t"].tolist() == [1, 2, 3, 4, 5] and first["value"].iloc[-1] == 104.0


def test_parse_forecasts_marks_missing_or_short_forecasts_failed():
    cases = [_case("a"), _case("b")]
    rows = _r_rows("a", "r_ets", 3, 150.0) + _r_rows("a", "r_theta", 3, 160.0) + _r_rows("b", "r_ets", 3, 1.0)[:2]
    parsed = trade_r.parse_forecasts(pd.DataFrame(rows), cases, trade_r.R_METHODS)
    a = parsed["imf_annual/a__2008"]
    assert a["r_ets"]["mean"].tolist() == [150.0] * 3 and a["r_theta"]["hi_95"].tolist() == [162.0] * 3
    assert "failed:r_arima" in a and "r_arima" not in a
    assert set(parsed["imf_annual/b__2008"]) == {f"failed:{m}" for m in trade_r.R_METHODS}


def test_r_cache_is_separate_and_r_mean_averages_the_three(tmp_path):
    case = _case("a")
    trade.forecast_case(case, ["naive2"], tmp_path)
    rows = [r for m, lv in zip(trade_r.R_METHODS, (150.0, 160.0, 170.0), strict=True) for r in _r_rows("a", m, 3, lv)]
    parsed = trade_r.parse_forecasts(pd.DataFrame(rows), [case], trade_r.R_METHODS)
    trade_r.r_cache_path(case, tmp_path).write_bytes(__import__("pickle").dumps(parsed[case.key]))
    assert "r_ets" not in trade.load_cached(case, tmp_path)  # the Python cache file is untouched
    methods = trade.methods_of(trade.load_all(case, tmp_path))
    assert methods["r_mean"]["mean"].tolist() == [160.0] * 3
    assert methods["r_mean"]["lo_95"].tolist() == [158.0] * 3
    assert trade_r.todo([case], trade_r.R_METHODS, tmp_path) == []
    trade.forget([case], ["r_arima"], tmp_path)
    assert "r_arima" not in trade.load_all(case, tmp_path) and "r_ets" in trade.load_all(case, tmp_path)
    assert trade_r.todo([case], trade_r.R_METHODS, tmp_path) == [case]


def test_run_r_without_rscript_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(trade_r, "rscript", lambda: None)
    said: list[str] = []
    assert trade_r.run_r([_case("a")], 1, tmp_path, say=said.append) == 0.0
    assert said == [trade_r.INSTALL_HINT] and "r-cran-forecast" in said[0]
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(trade_r.rscript() is None, reason="Rscript not installed")
def test_one_chunk_through_r(tmp_path):
    rng = np.random.default_rng(1)
    case = _case("a")
    noisy = case.train * np.exp(rng.normal(0, 0.02, len(case.train)))
    case = trade.Case(case.set_name, "a", case.origin, noisy, case.test, case.horizon, 1)
    assert trade_r.run_chunk([case], trade_r.R_METHODS, tmp_path, str(trade_r.rscript())) == 0
    stored = trade_r.load_r_cached(case, tmp_path)
    for method in trade_r.R_METHODS:
        fc = stored[method]
        assert fc["mean"].shape == (3,)
        assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["mean"]).all()
        assert (fc["mean"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
        assert 110.0 < fc["mean"][0] < 140.0  # a trending series near 123 at its end
