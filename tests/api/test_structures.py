"""REST for stored structures: define (validated), list, read, delete, and coherent forecasts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _store(client: TestClient, series_id: str, values: list[float], start: int = 2000, **extra: Any) -> None:
    data = [{"ds": str(start + i), "y": v} for i, v in enumerate(values)]
    body = {"series_id": series_id, "frequency": "annual", "data": data, **extra}
    response = client.post("/v1/series", json=body)
    assert response.status_code == 201, response.text


@pytest.fixture
def trade(client: TestClient) -> dict[str, Any]:
    """Exports and imports 2002-2021, and a stated total from 2000 (two years longer)."""
    x = [20.0 + 1.5 * i + (i % 3) for i in range(20)]
    m = [15.0 + 1.1 * i + (i % 2) for i in range(20)]
    _store(client, "x", x, start=2002)
    _store(client, "m", m, start=2002)
    _store(client, "t", [30.0, 33.0] + [a + b for a, b in zip(x, m, strict=True)], start=2000)
    body = {"name": "cn-ru", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "model": "naive2"}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def shares(client: TestClient) -> None:
    a = [0.2 + 0.01 * i for i in range(15)]
    b = [0.3 - 0.005 * i for i in range(15)]
    for sid, values in {"a": a, "b": b, "c": [1 - p - q for p, q in zip(a, b, strict=True)]}.items():
        _store(client, sid, values, kind="share")


def test_create_structure_returns_definition_with_default_method(trade: dict[str, Any]) -> None:
    assert trade["method"] == "mint_shrink"
    assert trade["members"] == ["t", "x", "m"]
    assert trade["created_at"] is not None


def test_list_read_delete_structure(client: TestClient, trade: dict[str, Any]) -> None:
    page = client.get("/v1/structures").json()
    assert page["count"] == 1 and page["data"][0]["name"] == "cn-ru"
    assert client.get("/v1/structures/cn-ru").json()["hierarchy"] == {"t": ["x", "m"]}
    assert client.delete("/v1/structures/cn-ru").status_code == 204
    response = client.get("/v1/structures/cn-ru")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "structure_not_found"


def test_hierarchy_forecast_is_coherent_on_common_span(client: TestClient, trade: dict[str, Any]) -> None:
    response = client.post("/v1/structures/cn-ru/forecasts", json={"horizon": 3, "levels": [80, 95]})
    assert response.status_code == 200, response.text
    body = response.json()
    nodes = {n["unique_id"]: n for n in body["nodes"]}
    assert {k: n["role"] for k, n in nodes.items()} == {"t": "aggregate", "x": "bottom", "m": "bottom"}
    assert [r["ds"] for r in nodes["t"]["forecast"]] == ["2022", "2023", "2024"]
    for h in range(3):
        total = nodes["t"]["forecast"][h]
        parts = nodes["x"]["forecast"][h]["mean"] + nodes["m"]["forecast"][h]["mean"]
        assert total["mean"] == pytest.approx(parts, rel=1e-9)
        assert total["lo_95"] <= total["lo_80"] <= total["mean"] <= total["hi_80"] <= total["hi_95"]
    assert all(n["vintage_id"] is not None for n in nodes.values())


def test_composition_forecast_sums_to_one(client: TestClient, shares: None) -> None:
    body = {"name": "mix", "kind": "composition", "components": ["a", "b", "c"], "model": "naive2"}
    assert client.post("/v1/structures", json=body).status_code == 201
    response = client.post("/v1/structures/mix/forecasts", json={"horizon": 2, "levels": [95]})
    assert response.status_code == 200, response.text
    nodes = response.json()["nodes"]
    assert [n["role"] for n in nodes] == ["component"] * 3
    for h in range(2):
        assert sum(n["forecast"][h]["mean"] for n in nodes) == pytest.approx(1.0, abs=1e-9)
        assert all(0 <= n["forecast"][h]["lo_95"] <= n["forecast"][h]["hi_95"] <= 1 for n in nodes)


def test_create_structure_with_cycle_is_422(client: TestClient) -> None:
    _store(client, "c", [1.0, 2.0, 3.0])
    body = {"name": "loop", "kind": "hierarchy", "hierarchy": {"a": ["b", "c"], "b": ["a", "c"]}}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "hierarchy_cycle"


def test_create_structure_with_unknown_id_is_422(client: TestClient) -> None:
    _store(client, "x", [1.0, 2.0, 3.0])
    body = {"name": "h", "kind": "hierarchy", "hierarchy": {"t": ["x", "nope"]}}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_hierarchy_id"
    assert "nope" in error["message"]


def test_create_composition_with_method_is_422(client: TestClient, shares: None) -> None:
    body = {"name": "mix", "kind": "composition", "components": ["a", "b"], "method": "ols"}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_structure"


def test_create_structure_twice_is_409(client: TestClient, trade: dict[str, Any]) -> None:
    body = {"name": "cn-ru", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "structure_exists"


def test_forecast_unknown_structure_is_404(client: TestClient) -> None:
    response = client.post("/v1/structures/nothing/forecasts", json={"horizon": 2})
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_forecast_structure_with_gap_is_422_naming_series(client: TestClient) -> None:
    _store(client, "x", [1.0, 2.0, None, 4.0, 5.0, 6.0])  # type: ignore[list-item]
    _store(client, "m", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    body = {"name": "gappy", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "model": "naive"}
    assert client.post("/v1/structures", json=body).status_code == 201
    response = client.post("/v1/structures/gappy/forecasts", json={"horizon": 2})
    assert response.status_code == 422
    assert "'x'" in response.json()["error"]["message"]


def test_forecast_structure_horizon_over_limit_is_422(client: TestClient, trade: dict[str, Any]) -> None:
    response = client.post("/v1/structures/cn-ru/forecasts", json={"horizon": 10_000})
    assert response.status_code == 422


def test_structure_routes_are_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/v1/structures"])
    assert {"get", "delete"} <= set(paths["/v1/structures/{name}"])
    assert "404" in paths["/v1/structures/{name}/forecasts"]["post"]["responses"]


def test_sample_structures_answer_422_naming_why(client: TestClient) -> None:
    """The bundled figures are sparse: forecasting the sample structures names the problem."""
    from data.samples import load_samples

    load_samples(client.app.state.store)  # type: ignore[attr-defined]
    trade = client.post("/v1/structures/cn-ru-trade/forecasts", json={"horizon": 2})
    assert trade.status_code == 422
    assert "cn_ru_" in trade.json()["error"]["message"]
    shares = client.post("/v1/structures/ru-export-settlement-currencies/forecasts", json={"horizon": 2})
    assert shares.status_code == 422
    assert shares.json()["error"]["code"]


def test_list_structures_with_an_offset_beyond_any_integer_column_is_422(client):
    # Found by the schema fuzzer: an unbounded offset overflowed SQLite's INTEGER (500).
    response = client.get("/v1/structures", params={"offset": 2**63})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
