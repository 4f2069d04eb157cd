"""Statistics-office files as they come (issue 34, item 2): descriptive value headers with a
given ``series_id``, unit checked against scale, and one negative-value rule for every door
(JSON body, file upload, ``tradecast load``)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from data import IngestError, load_series
from tests.api.conftest import assert_error

# As a statistics office publishes it: ';' separators, a decimal comma, values in millions.
OFFICE_CSV = b"Period;Value (USD millions)\n2020;1234,5\n2021;1300,25\n2022;1400\n"
EXPORTS_CSV = b"Period,Exports to China (USD millions)\n2020,1.5\n2021,2.25\n2022,3\n"
NEGATIVE_CSV = b"unique_id,ds,y\nbal,2021,5\nbal,2022,-3\nbal,2023,4\n"


def _upload(client: Any, content: bytes, filename: str = "office.csv", **fields: str) -> Any:
    return client.post("/v1/series", files={"file": (filename, content, "text/csv")}, data=fields)


def test_descriptive_header_uploads_with_series_id_form_field(client):
    response = _upload(client, OFFICE_CSV, series_id="cn_exports", name="Exports", unit="USD")
    assert response.status_code == 201, response.text
    stored = client.get("/v1/series/cn_exports").json()
    assert [o["y"] for o in stored["data"]] == [1_234_500_000.0, 1_300_250_000.0, 1_400_000_000.0]
    assert (stored["name"], stored["unit"], stored["frequency"]) == ("Exports", "USD", "annual")


def test_descriptive_header_names_the_series_when_no_name_given(client):
    assert _upload(client, EXPORTS_CSV, series_id="cn_x").status_code == 201
    stored = client.get("/v1/series/cn_x").json()
    assert stored["name"] == "Exports to China" and stored["unit"] == "USD"
    assert [o["y"] for o in stored["data"]] == [1.5e6, 2.25e6, 3e6]


def test_descriptive_header_without_series_id_says_to_pass_it(client):
    error = assert_error(_upload(client, OFFICE_CSV), 422, "invalid_series_id")
    assert "'Value (USD millions)'" in error["message"] and "pass series_id" in error["message"]
    assert client.get("/v1/series").json()["count"] == 0


def test_unit_naming_another_scale_is_refused_naming_both(client):
    response = _upload(client, b"ds,y\n2020,1\n2021,2\n", series_id="s", scale="millions", unit="USD bn")
    error = assert_error(response, 422, "unit_scale_mismatch")
    assert "unit='USD bn'" in error["message"] and "scale='millions'" in error["message"]
    response = _upload(client, OFFICE_CSV, series_id="s", unit="USD bn")  # millions read from the header
    assert "value header" in assert_error(response, 422, "unit_scale_mismatch")["message"]
    assert client.get("/v1/series").json()["count"] == 0


def test_several_value_columns_with_series_id_are_refused(client):
    response = _upload(client, b"period,a,b\n2020,1,2\n", series_id="s")
    assert "2 value columns ['a', 'b']" in assert_error(response, 422, "invalid_input")["message"]


def test_negative_level_refused_by_json_body_unless_allowed(client):
    body = {"series_id": "bal", "frequency": "annual", "data": [{"ds": "2022", "y": 1}, {"ds": "2023", "y": -2}]}
    error = assert_error(client.post("/v1/series", json=body), 422, "negative_value")
    assert "allow_negative" in error["message"]
    assert client.post("/v1/series", json={**body, "allow_negative": True}).status_code == 201


def test_negative_level_refused_by_upload_unless_form_field_allows(client):
    assert_error(_upload(client, NEGATIVE_CSV), 422, "negative_value")
    assert _upload(client, NEGATIVE_CSV, allow_negative="true").status_code == 201
    assert client.get("/v1/series/bal").json()["data"][1]["y"] == -3.0


def test_allow_negative_form_field_must_be_a_flag(client):
    error = assert_error(_upload(client, NEGATIVE_CSV, allow_negative="maybe"), 422, "invalid_input")
    assert error["details"]["field"] == "allow_negative"


def test_negative_share_is_refused_even_when_negatives_allowed(client):
    data = [{"ds": "2022", "y": 0.5}, {"ds": "2023", "y": -0.1}]
    body = {"series_id": "sh", "frequency": "annual", "kind": "share", "data": data, "allow_negative": True}
    assert_error(client.post("/v1/series", json=body), 422, "share_out_of_range")


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def test_descriptive_header_loads_with_series_id_cli_option(cli_env):
    path = cli_env / "office.csv"
    path.write_bytes(OFFICE_CSV)
    runner = CliRunner()
    refused = runner.invoke(app, ["load", str(path)])
    assert refused.exit_code == 1 and "pass series_id" in refused.output
    result = runner.invoke(app, ["load", str(path), "--series-id", "cn_exports", "--name", "Exports", "--unit", "USD"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["series", "show", "cn_exports"])
    assert "cn_exports: Exports" in shown.output and "unit USD" in shown.output
    assert "2021       1.30025e+09" in shown.output


def test_cli_unit_scale_mismatch_and_negative_option(cli_env):
    runner = CliRunner()
    office = cli_env / "office.csv"
    office.write_bytes(OFFICE_CSV)
    result = runner.invoke(app, ["load", str(office), "--series-id", "s", "--unit", "USD bn"])
    assert result.exit_code == 1 and "error (unit_scale_mismatch)" in result.output
    negative = cli_env / "bal.csv"
    negative.write_bytes(NEGATIVE_CSV)
    assert "error (negative_value)" in runner.invoke(app, ["load", str(negative)]).output
    allowed = runner.invoke(app, ["load", str(negative), "--allow-negative"])
    assert allowed.exit_code == 0, allowed.output


def test_library_reads_semicolon_decimal_comma_office_file():
    result = load_series(io.BytesIO(OFFICE_CSV), format="csv", series_id="x")
    assert result.frame["y"].tolist() == [1_234_500_000.0, 1_300_250_000.0, 1_400_000_000.0]
    assert result.scale == "millions" and result.metas["x"].unit == "USD"
    with pytest.raises(IngestError, match="unit='USD millions' names millions"):
        load_series(io.BytesIO(OFFICE_CSV), format="csv", series_id="x", unit="USD millions")


def test_overlong_name_form_field_is_refused(client):
    response = _upload(client, EXPORTS_CSV, series_id="s", name="x" * 201)
    assert assert_error(response, 422, "invalid_input")["details"]["field"] == "name"
