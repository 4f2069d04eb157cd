"""POST /v1/series uploads: caps refused with 413 naming the limit; /health answers meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from api.main import create_app
from tests.api.conftest import TestClient, assert_error, make_settings


def test_upload_with_80000_empty_header_columns_is_413_naming_the_limit(client: TestClient) -> None:
    data = b"ds,a" + b"," * 80_000 + b"\n2000,1\n"
    started = time.perf_counter()
    response = client.post("/v1/series", files={"file": ("wide.csv", data)}, data={"frequency": "annual"})
    assert time.perf_counter() - started < 5
    error = assert_error(response, 413, "upload_too_large", "TRADECAST_MAX_UPLOAD_COLUMNS")
    assert error["details"]["limit"] == "max_upload_columns" and error["details"]["found"] == 80_002


def test_upload_caps_follow_the_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_series=3)
    header = "ds," + ",".join(f"s{i}" for i in range(4))
    csv = f"{header}\n2000,1,2,3,4\n2001,2,3,4,5\n2002,3,4,5,6\n".encode()
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/series", files={"file": ("w.csv", csv)}, data={"frequency": "annual"})
        error = assert_error(response, 413, "upload_too_large", "at most 3 series")
        assert error["details"] == {
            "limit": "max_upload_series",
            "setting": "TRADECAST_MAX_UPLOAD_SERIES",
            "maximum": 3,
            "found": 4,
            "line": None,
        }


def _big_valid_csv(n_series: int = 300, n_months: int = 240) -> bytes:
    lines = ["unique_id,ds,y"]
    for s in range(n_series):
        lines.extend(f"s{s},{2000 + m // 12}-{m % 12 + 1:02d},{100 + s + m % 17}" for m in range(n_months))
    return ("\n".join(lines) + "\n").encode()


def test_health_answers_while_a_large_upload_is_parsed(client: TestClient) -> None:
    data = _big_valid_csv()
    outcome: dict[str, int] = {}

    def upload() -> None:
        response = client.post("/v1/series", files={"file": ("big.csv", data)}, data={"frequency": "monthly"})
        outcome["status"] = response.status_code

    worker = threading.Thread(target=upload)
    worker.start()
    slowest, polls = 0.0, 0
    while worker.is_alive():
        started = time.perf_counter()
        assert client.get("/health").status_code == 200
        slowest = max(slowest, time.perf_counter() - started)
        polls += 1
        time.sleep(0.02)
    worker.join()
    assert outcome["status"] == 201
    assert polls >= 5, f"the upload took too little time to show anything ({polls} polls)"
    assert slowest < 0.5, f"/health took {slowest:.2f} s during the upload"
