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


def test_sample_structures_forecast_through_their_gaps(client: TestClient) -> None:
    """The bundled figures are sparse; the sample structures fit through the gaps and stay coherent."""
    from data.samples import load_samples

    load_samples(client.app.state.store)  # type: ignore[attr-defined]
    trade = client.post("/v1/structures/cn-ru-trade/forecasts", json={"horizon": 2})
    assert trade.status_code == 200, trade.text
    nodes = {n["unique_id"]: n["forecast"] for n in trade.json()["nodes"]}
    for h in range(2):
        parts = nodes["cn_ru_exports_annual"][h]["mean"] + nodes["cn_ru_imports_annual"][h]["mean"]
        assert nodes["cn_ru_trade_total_annual"][h]["mean"] == pytest.approx(parts, rel=1e-9)
    shares = client.post("/v1/structures/ru-export-settlement-currencies/forecasts", json={"horizon": 3})
    assert shares.status_code == 200, shares.text
    comps = shares.json()["nodes"]
    for h in range(3):
        assert sum(c["forecast"][h]["mean"] for c in comps) == pytest.approx(1.0, abs=1e-9)
        assert all(0 <= c["forecast"][h]["lo_95"] <= c["forecast"][h]["hi_95"] <= 1 for c in comps)


def test_hierarchy_with_gaps_forecasts_with_missing_model(client: TestClient) -> None:
    _store(client, "x", [1.0, 2.0, None, 4.0, 5.0, 6.5, 7.0, 8.2, None, 10.0, 11.0, 12.1])  # type: ignore[list-item]
    _store(client, "m", [2.0, 2.5, 3.1, 3.4, None, 4.6, 5.0, 5.5, 6.1, 6.4, 7.0, 7.6])  # type: ignore[list-item]
    body = {"name": "gappy", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "missing": "model"}
    created = client.post("/v1/structures", json={**body, "model": "structural"})
    assert created.status_code == 201, created.text
    assert created.json()["missing"] == "model"
    response = client.post("/v1/structures/gappy/forecasts", json={"horizon": 2})
    assert response.status_code == 200, response.text
    nodes = {n["unique_id"]: n["forecast"] for n in response.json()["nodes"]}
    assert nodes["t"][0]["mean"] == pytest.approx(nodes["x"][0]["mean"] + nodes["m"][0]["mean"], rel=1e-9)


def test_missing_model_with_a_model_that_cannot_take_gaps_is_422(client: TestClient) -> None:
    _store(client, "x", [1.0, 2.0, None, 4.0, 5.0, 6.0])  # type: ignore[list-item]
    _store(client, "m", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    body = {"name": "gappy", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "model": "naive", "missing": "model"}
    assert client.post("/v1/structures", json=body).status_code == 201
    response = client.post("/v1/structures/gappy/forecasts", json={"horizon": 2})
    assert response.status_code == 422
    assert "missing='model'" in response.json()["error"]["message"]


def _tagged(client: TestClient, sid: str, partner: str, flow: str, level: float) -> None:
    tags = {"reporter": "RU", "partner": partner, "flow": flow}
    _store(client, sid, [level + 0.7 * i + (i % 3) for i in range(16)], tags=tags)


def test_hierarchy_by_tags_sums_partners_and_flows(client: TestClient) -> None:
    for partner, base in (("CN", 40.0), ("DE", 30.0)):
        _tagged(client, f"{partner.lower()}_x", partner, "export", base)
        _tagged(client, f"{partner.lower()}_m", partner, "import", base / 2)
    body = {
        "name": "ru",
        "kind": "hierarchy",
        "select": {"reporter": "RU"},
        "by": ["partner", "flow"],
        "model": "naive2",
    }
    created = client.post("/v1/structures", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["members"][:3] == ["ru", "ru:partner=CN", "ru:partner=DE"]
    _tagged(client, "in_x", "IN", "export", 10.0)  # stored later: joins the structure
    response = client.post("/v1/structures/ru/forecasts", json={"horizon": 2})
    assert response.status_code == 200, response.text
    mean = {n["unique_id"]: n["forecast"][0]["mean"] for n in response.json()["nodes"]}
    bottoms = ("cn_x", "cn_m", "de_x", "de_m", "in_x")
    assert mean["ru"] == pytest.approx(sum(mean[b] for b in bottoms), rel=1e-9)
    assert mean["ru:flow=export"] == pytest.approx(mean["cn_x"] + mean["de_x"] + mean["in_x"], rel=1e-9)
    assert mean["ru:partner=CN"] == pytest.approx(mean["cn_x"] + mean["cn_m"], rel=1e-9)
    node = client.post("/v1/structures/ru/forecasts/ru:partner=CN", json={"horizon": 2})  # a derived node's id
    assert node.status_code == 200, node.text
    assert node.json()["forecast"][0]["mean"] == pytest.approx(mean["ru:partner=CN"], rel=1e-12)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "hierarchy", "select": {"reporter": "RU"}}, "by"),
        ({"kind": "hierarchy", "by": ["flow"]}, "by"),
        ({"kind": "hierarchy", "select": {"reporter": "RU"}, "by": ["flow"], "hierarchy": {"t": ["a"]}}, "select"),
    ],
)
def test_bad_structure_by_tags_is_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    _tagged(client, "cn_x", "CN", "export", 1.0)
    response = client.post("/v1/structures", json={"name": "bad", **body})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_structure_by_tags_matching_nothing_is_422(client: TestClient) -> None:
    body = {"name": "none", "kind": "hierarchy", "select": {"reporter": "XX"}, "by": ["flow"]}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 422
    assert "no series matches" in response.json()["error"]["message"]


def test_structure_by_tags_with_duplicate_combination_is_422(client: TestClient) -> None:
    _tagged(client, "cn_x", "CN", "export", 1.0)
    _tagged(client, "cn_x2", "CN", "export", 2.0)
    body = {"name": "dup", "kind": "hierarchy", "select": {"reporter": "RU"}, "by": ["partner", "flow"]}
    response = client.post("/v1/structures", json=body)
    assert response.status_code == 422
    assert "'cn_x'" in response.json()["error"]["message"] and "'cn_x2'" in response.json()["error"]["message"]


def test_list_structures_with_an_offset_beyond_any_integer_column_is_422(client):
    # Found by the schema fuzzer: an unbounded offset overflowed SQLite's INTEGER (500).
    response = client.get("/v1/structures", params={"offset": 2**63})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_member_forecast_returns_the_structures_coherent_rows_labelled(
    client: TestClient, trade: dict[str, Any]
) -> None:
    whole = client.post("/v1/structures/cn-ru/forecasts", json={"horizon": 3, "levels": [80, 95]})
    assert whole.status_code == 200, whole.text
    coherent = {n["unique_id"]: n["forecast"] for n in whole.json()["nodes"]}
    response = client.post("/v1/structures/cn-ru/forecasts/t", json={"horizon": 3, "levels": [80, 95]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["series_id"], body["structure"], body["role"], body["coherent"]) == ("t", "cn-ru", "aggregate", True)
    assert "Coherent forecast of t within the structure cn-ru" in body["label"]
    assert body["forecast"] == coherent["t"]
    parts = [x["mean"] + m["mean"] for x, m in zip(coherent["x"], coherent["m"], strict=True)]
    assert [r["mean"] for r in body["forecast"]] == pytest.approx(parts, rel=1e-9)


def test_member_forecast_of_a_series_outside_the_structure_is_404(client: TestClient, trade: dict[str, Any]) -> None:
    _store(client, "q", [1.0 + i for i in range(12)])
    response = client.post("/v1/structures/cn-ru/forecasts/q", json={"horizon": 2})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_in_structure"
    assert "'q'" in error["message"] and "t, x, m" in error["message"]


def test_member_forecast_of_a_component_is_labelled_as_summing_to_one(client: TestClient, shares: None) -> None:
    body = {"name": "mix", "kind": "composition", "components": ["a", "b", "c"], "model": "naive2"}
    assert client.post("/v1/structures", json=body).status_code == 201
    response = client.post("/v1/structures/mix/forecasts/b", json={"horizon": 2, "levels": [95]})
    assert response.status_code == 200, response.text
    read = response.json()
    assert read["role"] == "component" and "sum to 1" in read["label"]
    assert all(0 <= r["lo_95"] <= r["mean"] <= r["hi_95"] <= 1 for r in read["forecast"])


def test_structure_forecast_shows_nodes_fitted_while_it_runs(
    client: TestClient, trade: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow model: the structure's record shows series fitted / total before the forecast ends."""
    import threading
    import time

    import forecasting.structure._joint as joint

    released = threading.Semaphore(0)
    real = joint._draw_one

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert released.acquire(timeout=20), "the test never let this node's fit end"
        return real(*args, **kwargs)

    monkeypatch.setattr(joint, "_draw_one", slow)
    answers: list[Any] = []
    request = threading.Thread(
        target=lambda: answers.append(client.post("/v1/structures/cn-ru/forecasts", json={"horizon": 2}))
    )
    request.start()
    try:
        released.release()  # one of the three nodes ends
        deadline, progress = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            progress = client.get("/v1/structures/cn-ru").json()["progress"]
            if progress is not None and progress["n_done"] == 1:
                break
            time.sleep(0.02)
        assert progress is not None and (progress["n_total"], progress["n_done"]) == (3, 1)
        assert progress["eta_seconds"] is not None and not answers  # still running
    finally:
        for _ in range(2):
            released.release()
        request.join(timeout=30)
    assert answers and answers[0].status_code == 200, answers
    done = client.get("/v1/structures").json()["data"][0]["progress"]
    assert (done["n_total"], done["n_done"], done["n_failed"]) == (3, 3, 0)


def test_failed_structure_forecast_records_its_error(client: TestClient) -> None:
    _store(client, "a1", [1.0, 2.0, 3.0, 4.0])
    _store(client, "b1", [1.0, 2.0, 3.0, 4.0])
    _store(client, "t1", [2.0, 4.0, 6.0, 50.0])  # a stated total that is not the sum of its parts
    body = {"name": "bad", "kind": "hierarchy", "hierarchy": {"t1": ["a1", "b1"]}, "model": "naive2"}
    assert client.post("/v1/structures", json=body).status_code == 201
    assert client.get("/v1/structures/bad").json()["progress"] is None  # never forecast
    response = client.post("/v1/structures/bad/forecasts", json={"horizon": 2})
    assert response.status_code == 422, response.text
    progress = client.get("/v1/structures/bad").json()["progress"]
    assert progress["n_failed"] == 1
    assert progress["failures"][0]["item"] == "bad"
    assert progress["failures"][0]["code"] == response.json()["error"]["code"]


def test_a_structure_defined_again_starts_without_the_old_progress(client: TestClient) -> None:
    _store(client, "a1", [1.0, 2.0, 3.0, 4.0])
    _store(client, "b1", [1.0, 2.0, 3.0, 4.0])
    _store(client, "t1", [2.0, 4.0, 6.0, 50.0])
    body = {"name": "bad", "kind": "hierarchy", "hierarchy": {"t1": ["a1", "b1"]}, "model": "naive2"}
    assert client.post("/v1/structures", json=body).status_code == 201
    assert client.post("/v1/structures/bad/forecasts", json={"horizon": 2}).status_code == 422
    assert client.get("/v1/structures/bad").json()["progress"]["n_failed"] == 1
    assert client.delete("/v1/structures/bad").status_code == 204
    assert client.post("/v1/structures", json=body).status_code == 201
    assert client.get("/v1/structures/bad").json()["progress"] is None  # not the deleted one's


@pytest.mark.slow
def test_structure_forecast_on_a_process_pool_records_progress_from_the_worker(tmp_path: Any) -> None:
    from api.main import create_app
    from tests.api.conftest import make_settings

    with TestClient(create_app(make_settings(tmp_path, fit_workers=1))) as pooled:
        _store(pooled, "x", [10.0 + i for i in range(15)])
        _store(pooled, "m", [11.0 + i for i in range(15)])
        body = {"name": "s", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "model": "naive2"}
        assert pooled.post("/v1/structures", json=body).status_code == 201
        assert pooled.post("/v1/structures/s/forecasts", json={"horizon": 2}).status_code == 200
        progress = pooled.get("/v1/structures/s").json()["progress"]
    # Counted by the worker process through its own connection (the tracker travels pickled).
    assert (progress["n_total"], progress["n_done"], progress["n_failed"]) == (3, 3, 0)
