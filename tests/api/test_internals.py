"""Units under the routes: LRU cache, route labels, vintage memory, access log."""

from __future__ import annotations

import json
import logging
import time

from api.cache import LRUCache, data_hash
from api.convert import observations_to_series
from api.logs import JsonFormatter, RequestIdFilter
from api.main import create_app
from api.middleware import _route_label
from api.schemas import ObservationRead
from data import SeriesMeta
from tests.api.conftest import TestClient, annual, make_settings


def test_lru_cache_evicts_least_recently_used():
    cache: LRUCache[int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_zero_size_cache_stores_nothing():
    cache: LRUCache[int] = LRUCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None


def test_data_hash_is_stable_and_sensitive():
    assert data_hash({"b": 1, "a": [1.0, None]}) == data_hash({"a": [1.0, None], "b": 1})
    assert data_hash([1.0]) != data_hash([1.0000001])


class _Route:
    def __init__(self, path: str) -> None:
        self.path = path


def test_route_label_restores_include_prefix():
    scope = {"path": "/v1/series/abc/vintages", "route": _Route("/series/{series_id}/vintages")}
    assert _route_label(scope) == "/v1/series/{series_id}/vintages"
    assert _route_label({"path": "/health", "route": _Route("/health")}) == "/health"
    assert _route_label({"path": "/nope"}) == "unmatched"


def _store_behind_the_api(app, values):
    """Write a vintage directly to the store, as another process (a CLI load) would."""
    y = observations_to_series([ObservationRead(**o) for o in values], "annual")
    app.state.store.series.save_series(SeriesMeta("s", frequency="annual"), y)


def test_vintage_saved_elsewhere_is_used_after_the_ttl(tmp_path):
    app = create_app(make_settings(tmp_path, vintage_ttl_seconds=0.3))
    with TestClient(app) as client:
        client.post("/v1/series", json={"series_id": "s", "frequency": "annual", "data": annual()})
        request = {"series_id": "s", "horizon": 1, "model": "naive"}
        first = client.post("/v1/forecasts", json=request).json()
        _store_behind_the_api(app, annual(base=500.0))
        time.sleep(0.4)
        client.post("/v1/forecasts", json=request)  # this one refreshes the vintage list
        later = client.post("/v1/forecasts", json=request).json()
        assert later["vintage"]["number"] == 2 and later["id"] != first["id"]


def test_zero_ttl_always_asks_the_store(tmp_path):
    app = create_app(make_settings(tmp_path, vintage_ttl_seconds=0))
    with TestClient(app) as client:
        client.post("/v1/series", json={"series_id": "s", "frequency": "annual", "data": annual()})
        request = {"series_id": "s", "horizon": 1, "model": "naive"}
        client.post("/v1/forecasts", json=request)
        _store_behind_the_api(app, annual(base=500.0))
        assert client.post("/v1/forecasts", json=request).json()["vintage"]["number"] == 2


def test_access_log_is_json_with_request_id(client, caplog):
    logger = logging.getLogger("api.access")
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="api.access"):
            client.get("/health", headers={"X-Request-ID": "trace-42"})
    finally:
        logger.setLevel(previous)
    record = next(r for r in caplog.records if r.name == "api.access")
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "trace-42"
    assert line["status"] == 200 and line["route"] == "/health" and line["duration_ms"] >= 0
