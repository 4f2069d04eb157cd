"""/v1/reports: PDF of a run, PDF and Excel files written per run, per-series options and structures."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.main import create_app
from tests.api.conftest import TestClient, assert_error, make_settings
from tests.api.test_reports import AS_OF, _definition, run_and_wait


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, report_dir=tmp_path / "reports", backtest_windows=1, scheduler_enabled=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _run(client: TestClient, **overrides: object) -> dict[str, object]:
    created = client.post("/v1/reports", json=_definition(schedule=None, **overrides))
    assert created.status_code == 201, created.text
    body: dict[str, object] = run_and_wait(client, "cn-ru", {"as_of": AS_OF})
    assert body["status"] == "succeeded", body
    return body


def test_definition_keeps_series_options_and_structures(client: TestClient, stored: str) -> None:
    options = {"cn_ru": {"missing": "model", "model": "structural"}}
    created = client.post("/v1/reports", json=_definition(series_options=options, structures=["trade"]))
    assert created.status_code == 201, created.text
    body = client.get("/v1/reports/cn-ru").json()
    assert body["series_options"] == options and body["structures"] == ["trade"]


def test_bad_series_option_is_refused_at_creation(client: TestClient, stored: str) -> None:
    # A value the forecast request refuses too: the same code as POST /v1/forecasts (tests/api/test_parity.py).
    response = client.post("/v1/reports", json=_definition(series_options={"cn_ru": {"missing": "fill"}}))
    assert_error(response, 422, "validation_error", "series_options")
    response = client.post("/v1/reports", json=_definition(series_options={"cn_ru": {"fill": "zero"}}))
    assert_error(response, 422, "invalid_parameter", "unknown option")


def test_unknown_format_is_refused(client: TestClient, stored: str) -> None:
    assert_error(client.post("/v1/reports", json=_definition(formats=["docx"])), 422, "invalid_parameter", "formats")


def test_xlsx_file_is_written_per_run(client: TestClient, stored: str) -> None:
    run = _run(client, formats=["html", "xlsx"])
    files = run["details"]["files"]  # type: ignore[index]
    book = load_workbook(io.BytesIO(Path(files["xlsx"]).read_bytes()))
    assert book.sheetnames == ["contents", "cn_ru"]


def test_pdf_without_chromium_is_a_503_naming_the_fix(
    client: TestClient, stored: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    # The run still succeeds (its HTML is stored) and says why there is no PDF file.
    run = _run(client, formats=["html", "pdf"])
    details = run["details"]
    assert isinstance(details, dict) and "files" not in details
    assert "make install" in details["format_errors"]["pdf"]
    error = assert_error(client.get("/v1/reports/cn-ru/runs/latest/pdf"), 503, "render_unavailable", "make install")
    assert "chromium" in error["message"].lower()


@pytest.mark.browser
def test_pdf_of_a_run_and_pdf_file(client: TestClient, stored: str) -> None:
    if not shutil.which("chromium"):
        pytest.skip("chromium is installed by `make install`")
    run = _run(client, formats=["html", "pdf"])
    pdf = Path(run["details"]["files"]["pdf"]).read_bytes()  # type: ignore[index]
    assert pdf.startswith(b"%PDF-")
    latest = client.get("/v1/reports/cn-ru/runs/latest/pdf")
    assert latest.status_code == 200 and latest.headers["content-type"] == "application/pdf"
    assert latest.content.startswith(b"%PDF-") and "attachment" in latest.headers["content-disposition"]
    one = client.get(f"/v1/reports/cn-ru/runs/{run['run_id']}/pdf")
    assert one.status_code == 200 and one.content.startswith(b"%PDF-")
    assert_error(client.get(f"/v1/reports/cn-ru/runs/{'0' * 32}/pdf"), 404, "run_not_found")
