"""The four-door test: one bad input, one error code, whichever way the series comes in.

Doors: a CSV upload (``POST /v1/series`` multipart), a JSON body stored (``POST /v1/series``),
an inline forecast (``POST /v1/forecasts`` with ``data``) and a report, whose sections run
the observations they forecast through the same parser (a report definition names stored
series; it does not carry observations itself).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from reports.content import compute_section
from tests.api.conftest import assert_error

GOOD_DS = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
GOOD_Y: list[Any] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]

# (case id, position 2 changed to this ds or y, kind, expected code)
CASES = [
    ("unreadable_period", {"ds": "2023-13"}, "level", "unreadable_period"),
    ("duplicate_period", {"ds": "2023-01"}, "level", "duplicate_period"),
    ("share_outside_unit_interval", {"y": 40.0}, "share", "share_out_of_range"),
    ("non_numeric_value", {"y": "abc"}, "level", "non_numeric_value"),
    ("mixed_frequency", {"ds": "2023"}, "level", "mixed_frequency"),
    ("non_finite_value", {"y": "inf"}, "level", "non_finite_value"),
]


def _observations(change: dict[str, Any]) -> tuple[list[str], list[Any]]:
    ds, y = list(GOOD_DS), list(GOOD_Y)
    ds[2] = change.get("ds", ds[2])
    y[2] = change.get("y", y[2])
    return ds, y


def _csv_upload(client: Any, ds: list[str], y: list[Any], kind: str) -> Any:
    text = "unique_id,ds,y\n" + "".join(f"s,{d},{v}\n" for d, v in zip(ds, y, strict=True))
    files = {"file": ("bad.csv", text.encode(), "text/csv")}
    return client.post("/v1/series", files=files, data={"kind": kind})


def _json_store(client: Any, ds: list[str], y: list[Any], kind: str) -> Any:
    data = [{"ds": d, "y": v} for d, v in zip(ds, y, strict=True)]
    return client.post("/v1/series", json={"series_id": "s", "frequency": "monthly", "kind": kind, "data": data})


def _inline_forecast(client: Any, ds: list[str], y: list[Any], kind: str) -> Any:
    data = [{"ds": d, "y": v} for d, v in zip(ds, y, strict=True)]
    body = {"data": data, "frequency": "monthly", "kind": kind, "horizon": 2, "model": "naive"}
    return client.post("/v1/forecasts", json=body)


@pytest.mark.parametrize("door", [_csv_upload, _json_store, _inline_forecast], ids=["csv", "json_store", "inline"])
@pytest.mark.parametrize(("change", "kind", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_bad_input_same_code_through_rest_doors(client, door, change, kind, code):
    ds, y = _observations(change)
    error = assert_error(door(client, ds, y, kind), 422, code)
    # The door names the place: a file line, or the item of the JSON list.
    where = error["details"].get("line") or error["details"].get("field") or error["message"]
    assert str(where) in ("4", "data[2].ds", "data[2].y") or "2023-03" in error["message"], error
    assert client.get("/v1/series").json()["count"] == 0


@pytest.mark.parametrize(("change", "kind", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_bad_input_same_code_through_a_report_section(change, kind, code):
    ds, y = _observations(change)
    section = compute_section(
        "s", pd.Series(y, index=pd.Index(ds, dtype=object)), horizon=2, levels=(80,), model="naive", kind=kind
    )
    assert not section.ok
    assert section.error_code == code, section.error


def test_report_section_of_clean_observations_forecasts():
    section = compute_section(
        "s", pd.Series(GOOD_Y, index=pd.Index(GOOD_DS, dtype=object)), horizon=2, levels=(80,), model="naive"
    )
    assert section.ok and len(section.forecasts) == 2
