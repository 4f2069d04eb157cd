"""Series routes: create (JSON and upload), list, read, vintages, delete."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import annual, assert_error


def test_create_series_returns_first_vintage(client):
    body = {"series_id": "s1", "frequency": "annual", "data": annual(5), "release": "GACC 2024-01-12"}
    response = client.post("/v1/series", json=body)
    assert response.status_code == 201, response.text
    vintage = response.json()["data"][0]
    assert vintage["series_id"] == "s1" and vintage["number"] == 1
    assert vintage["release"] == "GACC 2024-01-12" and vintage["n_obs"] == 5


def test_read_series_returns_observations_and_metadata(client, stored):
    body = client.get(f"/v1/series/{stored}").json()
    assert body["series_id"] == stored and body["unit"] == "USD bn"
    assert body["tags"] == {"reporter": "CN", "partner": "RU"}
    assert body["data"][:2] == annual()[:2]
    assert body["vintage"]["number"] == 1


def test_gaps_are_stored_as_null(client):
    data = annual(6)
    del data[2]
    assert client.post("/v1/series", json={"series_id": "g", "frequency": "annual", "data": data}).status_code == 201
    observations = client.get("/v1/series/g").json()["data"]
    assert observations[2] == {"ds": "2002", "y": None}
    # ...and forecasting it names the gap instead of failing obscurely.
    error = assert_error(client.post("/v1/forecasts", json={"series_id": "g", "horizon": 1}), 422, "missing_values")
    assert error["details"]["first_missing"] == "2002"


def test_list_series_filters_by_tag_and_pages(client, stored):
    for i in range(3):
        body = {"series_id": f"x{i}", "frequency": "annual", "data": annual(4), "tags": {"reporter": "KZ"}}
        client.post("/v1/series", json=body)
    page = client.get("/v1/series", params={"limit": 2}).json()
    assert page["count"] == 4 and len(page["data"]) == 2
    tagged = client.get("/v1/series", params={"tag": "reporter:CN"}).json()
    assert [s["series_id"] for s in tagged["data"]] == [stored]


def test_vintages_and_as_of(client, stored):
    cut = datetime.now(UTC).isoformat()
    client.post("/v1/series", json={"series_id": stored, "frequency": "annual", "data": annual(base=99.0)})
    vintages = client.get(f"/v1/series/{stored}/vintages").json()
    assert vintages["count"] == 2 and [v["number"] for v in vintages["data"]] == [1, 2]
    old = client.get(f"/v1/series/{stored}", params={"as_of": cut}).json()
    assert old["vintage"]["number"] == 1 and old["data"][0]["y"] == annual()[0]["y"]


def test_delete_series_then_404(client, stored):
    assert client.delete(f"/v1/series/{stored}").status_code == 204
    assert_error(client.get(f"/v1/series/{stored}"), 404, "series_not_found")
    assert_error(client.delete(f"/v1/series/{stored}"), 404, "series_not_found")
    assert_error(client.get(f"/v1/series/{stored}/vintages"), 404, "series_not_found")


def test_invalid_series_id_is_422(client):
    body = {"series_id": "no spaces please", "frequency": "annual", "data": annual(3)}
    assert_error(client.post("/v1/series", json=body), 422, "validation_error", "series_id")


def test_unknown_frequency_is_422(client):
    body = {"series_id": "s", "frequency": "weekly", "data": annual(3)}
    assert_error(client.post("/v1/series", json=body), 422, "validation_error", "frequency")


def test_non_json_body_is_422(client):
    response = client.post("/v1/series", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert_error(response, 422, "invalid_json", "not valid JSON")


def test_frequency_change_is_409(client, stored):
    data = [{"ds": f"2020-{m:02d}", "y": 1.0} for m in range(1, 7)]
    response = client.post("/v1/series", json={"series_id": stored, "frequency": "monthly", "data": data})
    assert_error(response, 409, "conflict")


def test_csv_upload_stores_every_series(client):
    csv = "unique_id,ds,y\na,2020,1.5\na,2021,2.5\nb,2020,3\nb,2021,4\n"
    response = client.post(
        "/v1/series",
        files={"file": ("trade.csv", csv.encode(), "text/csv")},
        data={"frequency": "annual", "release": "test upload"},
    )
    assert response.status_code == 201, response.text
    assert sorted(v["series_id"] for v in response.json()["data"]) == ["a", "b"]
    assert client.get("/v1/series/b").json()["data"][1] == {"ds": "2021", "y": 4.0}


def test_csv_upload_error_names_line_and_column(client):
    csv = "unique_id,ds,y\na,2020,1.5\na,2021,lots\n"
    response = client.post("/v1/series", files={"file": ("t.csv", csv.encode(), "text/csv")})
    error = assert_error(response, 422, "non_numeric_value")
    assert error["details"]["line"] == 3
    assert client.get("/v1/series").json()["count"] == 0


def test_upload_without_file_part_is_422(client):
    response = client.post("/v1/series", files={"other": ("t.csv", b"x", "text/csv")})
    assert_error(response, 422, "validation_error", "file")
