"""Every request example of ``/docs`` answers 2xx when posted against the bundled samples."""

from __future__ import annotations

from typing import Any

from api.examples import REQUEST_EXAMPLES
from data.connectors import SourceOptions
from data.samples import load_samples
from tests.api.conftest import TestClient, create_app, make_settings
from tests.data._recorded import Recorded


def _json_bodies(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def _url(spec: dict[str, Any], method: str, path: str) -> str:
    for parameter in spec["paths"][path][method].get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", parameter["example"])
    return path


def test_every_json_request_body_has_an_example(client):
    spec = client.get("/openapi.json").json()
    bodies = _json_bodies(spec)
    assert sorted(bodies) == sorted(REQUEST_EXAMPLES)
    assert all("example" in spec["paths"][p][m]["requestBody"]["content"]["application/json"] for m, p in bodies)


def test_every_request_example_answers_2xx_on_the_samples(tmp_path):
    settings = make_settings(tmp_path, default_model="auto")
    with TestClient(create_app(settings)) as client:
        load_samples(client.app.state.store)
        client.app.state.source_options = SourceOptions(transport=Recorded().transport)
        spec = client.get("/openapi.json").json()
        for method, path in REQUEST_EXAMPLES:  # in order: the report is created before it is updated
            example = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]
            response = client.request(method.upper(), _url(spec, method, path), json=example)
            assert 200 <= response.status_code < 300, (method, path, response.text[:1000])
