"""Health, readiness, metrics, models, request ids, unknown routes and the 500 path."""

from __future__ import annotations

import json
import logging
import os
import threading

import pytest

from api.logs import JsonFormatter, RequestIdFilter
from api.main import create_app
from data import StorageUnavailableError
from forecasting import list_models
from tests.api.conftest import TestClient, assert_error, make_settings


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_when_store_answers(client):
    assert client.app.state.service.warming.wait(timeout=30)
    body = client.get("/ready").json()
    assert body["status"] == "ready" and body["storage"] == "ok"
    assert "1 of 1 in this process warmed" in body["warm_up"]


def test_ready_is_503_naming_what_warms_until_warm_up_ends(tmp_path, monkeypatch):
    release = threading.Event()

    def slow_warm() -> int:
        assert release.wait(timeout=30)
        return os.getpid()

    monkeypatch.setattr("api.service.forecasts.warm_up", slow_warm)
    with TestClient(create_app(make_settings(tmp_path, warm_up=True))) as client:
        assert client.get("/health").status_code == 200  # alive while warming
        error = assert_error(client.get("/ready"), 503, "warming_up", "compiling their kernels")
        assert error["details"] == {"retry_after": 1, "warmed": 0, "workers": 1}
        assert client.get("/ready").headers["retry-after"] == "1"
        release.set()
        assert client.app.state.service.warming.wait(timeout=30)
        body = client.get("/ready").json()
        assert body["status"] == "ready" and "small fits of 'auto': 1 of 1" in body["warm_up"]


def test_ready_is_503_when_store_is_down(client, monkeypatch):
    def down():
        raise StorageUnavailableError("the database is unavailable: connection refused")

    monkeypatch.setattr(client.app.state.store, "check_connection", down)
    assert_error(client.get("/ready"), 503, "storage_unavailable", "unavailable")


def test_models_lists_registry_with_tags(client):
    body = client.get("/v1/models").json()
    names = [m["name"] for m in body["data"]]
    assert names == list_models() and body["count"] == len(names)
    naive = next(m for m in body["data"] if m["name"] == "naive")
    assert naive["supports_intervals"] is True and naive["min_obs"] >= 1
    assert [m["name"] for m in body["data"] if m["is_default"]] == ["naive2"]


def test_models_describe_each_model_in_a_sentence(client):
    described = {m["name"]: m["description"] for m in client.get("/v1/models").json()["data"]}
    assert described["naive2"] == "M-competition Naive2: the naive method on seasonally adjusted data."
    assert described["ces"].startswith("Complex exponential smoothing")
    for name, sentence in described.items():
        assert len(sentence) >= 20 and sentence.endswith(".") and "``" not in sentence, (name, sentence)


def test_metrics_count_requests_by_route_template(client, stored):
    client.get(f"/v1/series/{stored}")
    client.get("/v1/series/missing")
    text = client.get("/metrics").text
    assert 'tradecast_http_requests_total{method="GET",route="/v1/series/{series_id}",status="200"} 1.0' in text
    assert 'route="/v1/series/{series_id}",status="404"} 1.0' in text
    assert "tradecast_http_request_duration_seconds_bucket" in text


def test_request_id_is_generated_or_echoed(client):
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    unsafe = client.get("/health", headers={"X-Request-ID": "bad id\twith tab"}).headers["x-request-id"]
    assert unsafe != "bad id\twith tab"


def test_unknown_route_is_404_envelope(client):
    assert_error(client.get("/v2/anything"), 404, "not_found", "/v2/anything")


def test_wrong_method_is_405_envelope(client):
    assert_error(client.put("/v1/models"), 405, "method_not_allowed")


def test_unexpected_error_is_generic_500_with_request_id(client, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals: /etc/passwd")

    monkeypatch.setattr(client.app.state.store.series, "list_series", boom)
    with caplog.at_level(logging.ERROR):
        response = client.get("/v1/series", headers={"X-Request-ID": "req-500"})
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert error["details"] == {"request_id": "req-500"}
    assert response.headers["x-request-id"] == "req-500"
    assert any("req-500" in r.getMessage() and r.exc_info for r in caplog.records)


def test_docs_and_openapi_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/forecasts" in spec["paths"] and "/v1/forecasts/batch" in spec["paths"]
    assert "ErrorRead" in spec["components"]["schemas"]


def test_json_log_lines_carry_request_id():
    record = logging.makeLogRecord({"msg": "hello %s", "args": ("x",), "levelname": "INFO", "name": "t"})
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x" and line["request_id"] == "-"


@pytest.mark.parametrize("path", ["/v1/series/has space", "/v1/forecasts/not-hex"])
def test_bad_path_parameters_are_422(client, path):
    assert_error(client.get(path), 422, "validation_error")
