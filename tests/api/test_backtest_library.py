"""POST /v1/backtests runs :func:`forecasting.backtest_models` and nothing else (issue 33): the same frame
for the same series, models and options, each model labelled by the name asked for."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from forecasting import backtest_models
from tests.api.conftest import annual


def _series(data: list[dict[str, Any]]) -> pd.Series:
    index = pd.PeriodIndex([o["ds"] for o in data], freq="Y")
    return pd.Series([o["y"] for o in data], index=index, name="y", dtype=float)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame as REST's ``rows`` (periods as their labels)."""
    return [
        {k: str(v) if isinstance(v, pd.Period) else v for k, v in record.items()}
        for record in frame.to_dict(orient="records")
    ]


@pytest.mark.parametrize("transform", ["none", "log"])
def test_rest_backtest_of_two_models_is_the_library_frame(client: TestClient, transform: str) -> None:
    data = annual(24)
    body = {"data": data, "frequency": "annual", "horizon": 3, "windows": 3, "models": ["naive", "drift"]}
    response = client.post("/v1/backtests", json=body | {"transform": transform})
    assert response.status_code == 200, response.text
    frame = backtest_models(_series(data), 3, 3, ["naive", "drift"], (80, 95), transform=transform)
    assert response.json()["rows"] == _rows(frame)
    # Each model keeps its name and its own scores (with 'log', both were named after the last model).
    assert [m["model"] for m in response.json()["metrics"]] == ["naive", "drift"]
    assert len({m["mae"] for m in response.json()["metrics"]}) == 2


def test_rest_backtest_with_a_driver_and_an_event_is_the_library_frame(client: TestClient) -> None:
    data = annual(24)
    x = [{"ds": o["ds"], "y": 10.0 + (i % 4) + 0.2 * i} for i, o in enumerate(data)]
    event = {"ds": "2015", "type": "level_shift"}
    body = {"data": data, "frequency": "annual", "horizon": 2, "windows": 2, "levels": [80]}
    body |= {"models": ["regression_arima", "structural"], "drivers": [{"name": "x", "data": x}], "events": [event]}
    response = client.post("/v1/backtests", json=body)
    assert response.status_code == 200, response.text
    drivers = _series(x).to_frame("x")
    frame = backtest_models(
        _series(data),
        2,
        2,
        ["regression_arima", "structural"],
        (80,),
        drivers=drivers,
        events=[event],
    )
    assert response.json()["rows"] == _rows(frame)
