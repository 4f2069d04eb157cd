"""Degenerate series answer 200 with ``auto`` through REST; thin evidence is said in ``warnings``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from forecasting.testing import check_forecast_frame


def _annual(values: list[float]) -> list[dict[str, Any]]:
    return [{"ds": str(2000 + i), "y": v} for i, v in enumerate(values)]


def _monthly(values: list[float]) -> list[dict[str, Any]]:
    return [{"ds": f"{2020 + i // 12}-{i % 12 + 1:02d}", "y": v} for i, v in enumerate(values)]


CASES = {
    "linear_1_to_8": ({"data": _annual([float(v) for v in range(1, 9)]), "frequency": "annual"}, "optimized_theta"),
    "linear_10_to_28": (
        {"data": _annual([float(v) for v in range(10, 29, 2)]), "frequency": "annual"},
        "optimized_theta",
    ),
    "constant_monthly": ({"data": _monthly([5.0] * 36), "frequency": "monthly"}, "ces"),
    "zero_monthly": ({"data": _monthly([0.0] * 36), "frequency": "monthly"}, "ces"),
    "share_all_0": ({"data": _monthly([0.0] * 24), "frequency": "monthly", "kind": "share"}, "theta"),
    "share_all_1": ({"data": _monthly([1.0] * 24), "frequency": "monthly", "kind": "share"}, "theta"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_degenerate_series_answer_200_with_member_dropped_warning(client, case):
    body, dropped = CASES[case]
    response = client.post("/v1/forecasts", json={**body, "horizon": 3, "model": "auto"})
    assert response.status_code == 200, response.text
    out = response.json()
    frame = pd.DataFrame(out["forecast"]).set_index("ds")
    check_forecast_frame(frame, 3, (80, 95))
    member = [w for w in out["warnings"] if w["code"] == "member_dropped"]
    assert member and any(dropped in w["message"] for w in member), out["warnings"]


def test_short_series_carries_thin_evidence_warning(client):
    body = {"data": _annual([50.0 + 3 * i + (i % 2) for i in range(8)]), "frequency": "annual", "horizon": 2}
    out = client.post("/v1/forecasts", json={**body, "model": "naive"}).json()
    thin = [w for w in out["warnings"] if w["code"] == "thin_evidence"]
    assert len(thin) == 1 and "based on 8 published years" in thin[0]["message"]


def test_sparse_share_series_carries_sparse_and_thin_warnings(client):
    published = {"2022-01": 0.005, "2022-03": 0.015, "2022-09": 0.14, "2022-12": 0.16}
    published |= {"2023-03": 0.18, "2023-05": 0.25, "2023-06": 0.25, "2024-01": 0.408}
    months = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(25)]
    body = {
        "data": [{"ds": m, "y": published.get(m)} for m in months],
        "frequency": "monthly",
        "kind": "share",
        "missing": "model",
        "model": "auto",
        "horizon": 3,
    }
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    codes = {w["code"]: w["message"] for w in response.json()["warnings"]}
    assert "based on 8 published months" in codes["thin_evidence"]
    assert "sparse publication" in codes["sparse_series"]


def test_backtest_far_from_nominal_carries_backtest_coverage_warning(client):
    data = _annual([10.0 + 5.0 * i for i in range(30)])
    body = {"data": data, "frequency": "annual", "horizon": 3, "windows": 3, "models": ["naive"]}
    response = client.post("/v1/backtests", json=body)
    assert response.status_code == 200, response.text
    coverage = [w for w in response.json()["warnings"] if w["code"] == "backtest_coverage"]
    assert coverage and "backtest of 'naive'" in coverage[0]["message"]


def test_three_point_series_answers_with_drift_and_says_the_evidence_is_thin(client):
    # Issue 35: the documented minimum is 3 observations; auto falls back to the drift method.
    body = {"data": _annual([228.1, 240.1, 244.8]), "frequency": "annual", "horizon": 2, "model": "auto"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert [w["code"] for w in out["warnings"]] == ["thin_evidence"]
    frame = pd.DataFrame(out["forecast"]).set_index("ds")
    assert frame["mean"].tolist() == pytest.approx([244.8 + 8.35, 244.8 + 2 * 8.35])


def test_two_point_series_is_refused_naming_the_minimum(client):
    body = {"data": _annual([228.1, 240.1]), "frequency": "annual", "horizon": 2, "model": "auto"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "insufficient_data"
    assert "at least 3" in response.json()["error"]["message"]
