"""REST: publication dates, identical uploads (200, created=false), the vintage diff, upload options."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from tests.api.conftest import assert_error

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "publications"


def _body(data, published_at=None):
    body = {"series_id": "gacc", "frequency": "annual", "unit": "USD bn", "data": data}
    if published_at:
        body["published_at"] = published_at
    return body


def test_identical_json_upload_answers_200_created_false(client):
    data = [{"ds": "2022", "y": 190.27}]
    first = client.post("/v1/series", json=_body(data, "2023-01-13T00:00:00Z"))
    assert first.status_code == 201 and first.json()["data"][0]["created"] is True
    assert first.json()["data"][0]["published_at"].startswith("2023-01-13T00:00:00")
    again = client.post("/v1/series", json=_body(data, "2023-02-01T00:00:00Z"))
    assert again.status_code == 200, again.text
    assert again.json()["data"][0]["created"] is False
    assert again.json()["data"][0]["vintage_id"] == first.json()["data"][0]["vintage_id"]
    assert client.get("/v1/series/gacc/vintages").json()["count"] == 1


def test_as_of_reads_by_publication_date(client):
    client.post("/v1/series", json=_body([{"ds": "2022", "y": 190.27}], "2023-01-13T00:00:00Z"))
    client.post("/v1/series", json=_body([{"ds": "2022", "y": 190.27}, {"ds": "2023", "y": 240.11}], "2024-01-12"))
    then = client.get("/v1/series/gacc", params={"as_of": "2023-12-31T00:00:00Z"}).json()
    assert [o["ds"] for o in then["data"]] == ["2022"]
    latest = client.get("/v1/series/gacc").json()
    assert [o["ds"] for o in latest["data"]] == ["2022", "2023"]


def test_vintage_diff_route(client):
    a = client.post("/v1/series", json=_body([{"ds": "2020", "y": 1.0}, {"ds": "2021", "y": 2.0}])).json()
    b = client.post("/v1/series", json=_body([{"ds": "2021", "y": 2.5}, {"ds": "2022", "y": 3.0}])).json()
    ids = a["data"][0]["vintage_id"], b["data"][0]["vintage_id"]
    response = client.get("/v1/series/gacc/vintages/diff", params={"from": ids[0], "to": ids[1]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 3 and body["from_vintage"]["vintage_id"] == ids[0]
    assert body["data"] == [
        {"ds": "2020", "change": "removed", "old": 1.0, "new": None},
        {"ds": "2021", "change": "changed", "old": 2.0, "new": 2.5},
        {"ds": "2022", "change": "added", "old": None, "new": 3.0},
    ]


def test_vintage_diff_takes_per_series_numbers_when_ids_differ(client):
    # Another series stored first, so this series' vintages 1 and 2 have global ids 2 and 3.
    other = dict(_body([{"ds": "2020", "y": 9.0}]), series_id="other")
    assert client.post("/v1/series", json=other).json()["data"][0]["vintage_id"] == 1
    a = client.post("/v1/series", json=_body([{"ds": "2020", "y": 1.0}])).json()["data"][0]
    b = client.post("/v1/series", json=_body([{"ds": "2020", "y": 1.5}])).json()["data"][0]
    assert (a["number"], b["number"]) == (1, 2) and (a["vintage_id"], b["vintage_id"]) == (2, 3)
    by_number = client.get("/v1/series/gacc/vintages/diff", params={"from": 1, "to": 2})
    assert by_number.status_code == 200, by_number.text
    body = by_number.json()
    assert body["from_vintage"]["vintage_id"] == 2 and body["to_vintage"]["vintage_id"] == 3
    assert body["data"] == [{"ds": "2020", "change": "changed", "old": 1.0, "new": 1.5}]
    # A global id of the series that is no vintage number of it (3) still works.
    by_id = client.get("/v1/series/gacc/vintages/diff", params={"from": 2, "to": 3}).json()
    assert by_id["from_vintage"]["vintage_id"] == 3 and by_id["to_vintage"]["vintage_id"] == 3
    assert by_id["count"] == 0
    # Neither a number nor an id of this series (id 1 belongs to 'other', but 1 is gacc's number 1;
    # 4 is neither).
    assert_error(client.get("/v1/series/gacc/vintages/diff", params={"from": 1, "to": 4}), 404, "vintage_not_found")


def test_vintage_diff_unknown_vintage_404_and_missing_param_422(client):
    a = client.post("/v1/series", json=_body([{"ds": "2020", "y": 1.0}])).json()["data"][0]["vintage_id"]
    assert_error(
        client.get("/v1/series/gacc/vintages/diff", params={"from": a, "to": a + 99}), 404, "vintage_not_found"
    )
    assert_error(client.get("/v1/series/gacc/vintages/diff", params={"from": a}), 422, "validation_error")
    assert_error(client.get("/v1/series/nope/vintages/diff", params={"from": 1, "to": 2}), 404, "series_not_found")


def test_comtrade_upload_with_published_at_then_identical(client):
    raw = (FIXTURES / "comtrade_rus_chn_2019.csv").read_bytes()
    files = {"file": ("comtrade.csv", raw, "text/csv")}
    first = client.post("/v1/series", files=files, data={"published_at": "2019-06-01T00:00:00Z"})
    assert first.status_code == 201, first.text
    assert sorted(v["series_id"] for v in first.json()["data"]) == ["rus_chn_export", "rus_chn_import"]
    again = client.post("/v1/series", files=files)
    assert again.status_code == 200 and all(not v["created"] for v in again.json()["data"])
    stored = client.get("/v1/series/rus_chn_import").json()
    assert stored["data"][0] == {"ds": "2019-01", "y": 4066666430.0}


def test_upload_bad_published_at_and_header_row_are_422(client):
    files = {"file": ("t.csv", b"unique_id,ds,y\na,2020,1\n", "text/csv")}
    error = assert_error(
        client.post("/v1/series", files=files, data={"published_at": "last year"}), 422, "invalid_input"
    )
    assert "published_at 'last year' is not a date-time" in error["message"]
    error = assert_error(client.post("/v1/series", files=files, data={"header_row": "0"}), 422, "invalid_input")
    assert "header_row must be a whole number >= 1" in error["message"]


def _book() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "notes"
    ws = book.create_sheet("data")
    ws.append(["Russia-China trade, USD millions"])
    ws.append(["unique_id", "ds", "value_musd"])
    ws.append(["ru_cn", "2019M01", 4066.66643])
    ws.append(["ru_cn", "2019M02", 4067.76276])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_sheet_and_header_row_are_used(client):
    files = {"file": ("t.xlsx", _book(), "application/octet-stream")}
    response = client.post("/v1/series", files=files, data={"sheet": "data", "header_row": "2"})
    assert response.status_code == 201, response.text
    stored = client.get("/v1/series/ru_cn").json()
    assert stored["unit"] == "USD" and stored["data"][0]["y"] == 4066.66643e6


def test_excel_unknown_sheet_is_422_naming_the_sheets(client):
    files = {"file": ("t.xlsx", _book(), "application/octet-stream")}
    error = assert_error(client.post("/v1/series", files=files, data={"sheet": "Data"}), 422, "invalid_input")
    assert "no sheet named 'Data'; the workbook has sheets ['notes', 'data']" in error["message"]
