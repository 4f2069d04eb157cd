"""Bearer API keys with read/write scope; settings validation of keys."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from api.auth import find_key
from api.main import create_app
from api.settings import Settings, parse_api_keys
from tests.api.conftest import READ_KEY, WRITE_KEY, TestClient, annual, assert_error, make_settings


@pytest.fixture
def secured(tmp_path):
    settings = make_settings(tmp_path, api_keys=f"{READ_KEY}:read,{WRITE_KEY}:write", log_level="INFO")
    with TestClient(create_app(settings)) as client:
        yield client


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_no_key_is_401_with_challenge(secured):
    response = secured.get("/v1/models")
    assert_error(response, 401, "not_authenticated", "missing API key")
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_key_is_401(secured):
    assert_error(secured.get("/v1/models", headers=_bearer("nope-nope-nope")), 401, "not_authenticated", "invalid")


def test_non_bearer_scheme_is_401(secured):
    assert_error(secured.get("/v1/models", headers={"Authorization": f"Basic {READ_KEY}"}), 401, "not_authenticated")


def test_read_key_reads(secured):
    assert secured.get("/v1/models", headers=_bearer(READ_KEY)).status_code == 200


def test_read_key_on_write_route_is_403(secured):
    body = {"data": annual(), "frequency": "annual", "horizon": 1}
    error = assert_error(secured.post("/v1/forecasts", json=body, headers=_bearer(READ_KEY)), 403, "forbidden")
    assert error["details"] == {"required_scope": "write", "key_scope": "read"}


def test_read_key_cannot_delete(secured):
    assert_error(secured.delete("/v1/series/x", headers=_bearer(READ_KEY)), 403, "forbidden")


def test_write_key_writes_and_reads(secured):
    body = {"data": annual(), "frequency": "annual", "horizon": 1}
    assert secured.post("/v1/forecasts", json=body, headers=_bearer(WRITE_KEY)).status_code == 200
    assert secured.get("/v1/forecasts", headers=_bearer(WRITE_KEY)).status_code == 200


def test_health_is_open_but_metrics_need_a_key(secured):
    assert secured.get("/health").status_code == 200
    assert_error(secured.get("/metrics"), 401, "not_authenticated")
    assert secured.get("/metrics", headers=_bearer(READ_KEY)).status_code == 200


def test_keys_never_appear_in_logs(secured, caplog):
    with caplog.at_level(logging.DEBUG):
        secured.get("/v1/models", headers=_bearer(READ_KEY))
        secured.get("/v1/models", headers=_bearer("wrong-key-abcdef"))
        secured.post("/v1/forecasts", json={}, headers=_bearer(READ_KEY))
    assert caplog.records, "expected access log lines"
    text = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert READ_KEY not in text and "wrong-key-abcdef" not in text


def test_open_service_without_keys(client):
    assert client.get("/v1/models").status_code == 200


def test_parse_api_keys_scopes():
    keys = parse_api_keys(" a1234567:read , b1234567:write,c1234567 ")
    assert [(k.secret, k.scope) for k in keys] == [(b"a1234567", "read"), (b"b1234567", "write"), (b"c1234567", "read")]
    assert "a1234567" not in repr(keys)


def test_parse_api_keys_rejects_bad_scope_without_echoing_key():
    with pytest.raises(ValueError, match="entry #1") as info:
        parse_api_keys("s3cret-value:admin")
    assert "s3cret-value" not in str(info.value)


def test_placeholder_keys_refused_outside_development():
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(env="production", api_keys="changeme:write")
    assert Settings(env="development", api_keys="changeme:write").keys()[0].scope == "write"


def test_find_key_compares_every_key():
    keys = parse_api_keys("k1234567:read,k7654321:write")
    found = find_key(keys, "k7654321")
    assert found is not None and found.scope == "write"
    assert find_key(keys, "k1234567x") is None


def test_openapi_declares_bearer_on_v1_routes(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/forecasts"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/health"]["get"]


def test_placeholder_key_error_does_not_echo_the_key():
    with pytest.raises(ValidationError) as info:
        Settings(env="production", api_keys="tiny7:write")
    assert "tiny7" not in str(info.value)


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "not_authenticated"),
        ({"Authorization": "Bearer nope-nope-nope"}, 401, "not_authenticated"),
        (_bearer(READ_KEY), 403, "forbidden"),
        (_bearer(WRITE_KEY), 422, "invalid_json"),
    ],
)
def test_key_is_checked_before_a_malformed_body_is_parsed(secured, headers, status, code):
    headers = {**headers, "Content-Type": "application/json", "X-Request-ID": "auth-first-1"}
    response = secured.post("/v1/forecasts", content=b'{"data": [', headers=headers)
    assert_error(response, status, code)
    assert response.headers["x-request-id"] == "auth-first-1"


def test_upload_without_a_key_is_401_not_a_validation_error(secured):
    response = secured.post("/v1/series", files={"file": ("x.csv", b"ds,a" + b"," * 80_000)})
    assert_error(response, 401, "not_authenticated")
    assert_error(secured.post("/v1/reports/x/runs", content=b"{{{"), 401, "not_authenticated")


def test_open_paths_need_no_key_and_metrics_does(secured):
    assert secured.get("/health").status_code == 200
    assert secured.get("/openapi.json").status_code == 200
    assert_error(secured.get("/metrics"), 401, "not_authenticated")
    assert secured.get("/metrics", headers=_bearer(READ_KEY)).status_code == 200
