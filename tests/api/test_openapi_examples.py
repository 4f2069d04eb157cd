"""Every request example of ``/docs`` answers 2xx when posted against the bundled samples."""

from __future__ import annotations

from typing import Any

import pytest

from api.examples import FORM_EXAMPLES, REQUEST_EXAMPLES
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


def test_every_request_body_has_an_example_for_each_content_type(client):
    spec = client.get("/openapi.json").json()
    bodies = [
        (method, path, content_type, media)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for content_type, media in operation.get("requestBody", {}).get("content", {}).items()
    ]
    assert ("post", "/v1/series", "multipart/form-data") in [(m, p, c) for m, p, c, _ in bodies]
    missing = [(method, path, content_type) for method, path, content_type, media in bodies if "example" not in media]
    assert not missing, f"request bodies without an example: {missing}"


def test_upload_form_example_fields_are_fields_of_the_form(client):
    form = client.get("/openapi.json").json()["paths"]["/v1/series"]["post"]["requestBody"]["content"][
        "multipart/form-data"
    ]
    assert set(form["example"]) <= set(form["schema"]["properties"])
    assert set(form["schema"]["required"]) <= set(form["example"])


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
        for method, path in FORM_EXAMPLES:
            fields = dict(spec["paths"][path][method]["requestBody"]["content"]["multipart/form-data"]["example"])
            upload = {"file": ("upload.csv", fields.pop("file").encode())}
            response = client.request(method.upper(), _url(spec, method, path), files=upload, data=fields)
            assert 200 <= response.status_code < 300, (method, path, response.text[:1000])


def test_upload_form_example_stores_the_series_it_names(client):
    fields = dict(FORM_EXAMPLES[("post", "/v1/series")])
    response = client.post("/v1/series", files={"file": ("upload.csv", fields.pop("file").encode())}, data=fields)
    assert response.status_code == 201, response.text
    (vintage,) = response.json()["data"]
    assert vintage["series_id"] == fields["series_id"] and vintage["n_obs"] == 6
    assert vintage["published_at"] == "2021-03-31T00:00:00Z"
    stored = client.get(f"/v1/series/{fields['series_id']}").json()
    # The header's "USD millions" and the decimal commas are read: 49484,540 millions is 4.948454e10.
    values = {row["ds"]: row["y"] for row in stored["data"]}
    assert values["2019"] == pytest.approx(49_484_540_000.0)
