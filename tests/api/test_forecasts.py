"""POST /v1/forecasts, GET /v1/forecasts/{id} and the cache."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from forecasting.base import ModelTags
from forecasting.exceptions import ConvergenceWarning
from forecasting.frames import hi_col, lo_col
from forecasting.models.naive import Naive
from tests.api.conftest import annual, assert_error


def test_inline_forecast_returns_rows_levels_and_interval_method(client):
    response = client.post(
        "/v1/forecasts", json={"data": annual(), "frequency": "annual", "horizon": 3, "model": "drift"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "drift"
    assert body["frequency"] == "annual"
    assert body["levels"] == [80, 95]
    assert body["series_id"] is None and body["vintage"] is None
    assert body["data_hash"].startswith("sha256:")
    assert body["interval_method"]
    assert body["warnings"] == []
    assert [row["ds"] for row in body["forecast"]] == ["2020", "2021", "2022"]
    for row in body["forecast"]:
        assert set(row) == {"ds", "mean", lo_col(80), hi_col(80), lo_col(95), hi_col(95)}
        assert row[lo_col(95)] <= row[lo_col(80)] <= row["mean"] <= row[hi_col(80)] <= row[hi_col(95)]
    assert response.headers["x-cache"] == "miss"


def test_empty_levels_give_point_forecasts(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "levels": [], "model": "naive"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["levels"] == []
    assert all(set(row) == {"ds", "mean"} for row in response.json()["forecast"])


def test_default_model_comes_from_settings(client):
    response = client.post("/v1/forecasts", json={"data": annual(), "frequency": "annual", "horizon": 2})
    assert response.status_code == 200
    assert response.json()["model"] == "naive2"


def test_repeated_request_is_served_from_cache(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "levels": [90]}
    first = client.post("/v1/forecasts", json=body)
    second = client.post("/v1/forecasts", json=body)
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert first.json() == second.json()
    metrics = client.get("/metrics").text
    assert "tradecast_forecast_cache_hits_total 1.0" in metrics
    assert "tradecast_forecast_cache_misses_total 1.0" in metrics
    assert 'tradecast_fit_duration_seconds_count{model="naive2"} 1.0' in metrics


def test_different_parameters_are_not_shared_in_cache(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 2}
    client.post("/v1/forecasts", json=body)
    other = client.post("/v1/forecasts", json={**body, "levels": [50]})
    assert other.headers["x-cache"] == "miss"
    assert set(other.json()["forecast"][0]) == {"ds", "mean", lo_col(50), hi_col(50)}


def test_forecast_is_archived_and_readable_by_id(client):
    created = client.post("/v1/forecasts", json={"data": annual(), "frequency": "annual", "horizon": 2}).json()
    fetched = client.get(f"/v1/forecasts/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["forecast"] == created["forecast"]
    assert fetched.json()["interval_method"] == created["interval_method"]
    listed = client.get("/v1/forecasts").json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == created["id"]


def test_archived_forecasts_are_listed_a_page_at_a_time(client):
    ids = [
        client.post(
            "/v1/forecasts", json={"data": annual(), "frequency": "annual", "horizon": h, "model": "naive"}
        ).json()["id"]
        for h in (1, 2, 3)
    ]
    page = client.get("/v1/forecasts", params={"limit": 2}).json()
    assert page["count"] == 3 and [f["id"] for f in page["data"]] == ids[::-1][:2]
    page = client.get("/v1/forecasts", params={"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and [f["id"] for f in page["data"]] == [ids[0]]
    assert_error(client.get("/v1/forecasts", params={"offset": -1}), 422, "validation_error")


def test_unknown_forecast_id_is_404(client):
    assert_error(client.get("/v1/forecasts/" + "0" * 32), 404, "forecast_not_found")


def test_stored_series_forecast_reports_vintage_and_as_of(client, stored):
    before = datetime.now(UTC).isoformat()
    revised = annual(base=60.0)
    body = {"series_id": stored, "frequency": "annual", "data": revised}
    assert client.post("/v1/series", json=body).status_code == 201
    latest = client.post("/v1/forecasts", json={"series_id": stored, "horizon": 2, "model": "naive"}).json()
    assert latest["series_id"] == stored
    assert latest["vintage"]["number"] == 2
    assert latest["forecast"][0]["mean"] == pytest.approx(revised[-1]["y"])
    old = client.post(
        "/v1/forecasts", json={"series_id": stored, "horizon": 2, "model": "naive", "as_of": before}
    ).json()
    assert old["vintage"]["number"] == 1
    assert old["forecast"][0]["mean"] == pytest.approx(annual()[-1]["y"])


def test_new_vintage_is_not_served_from_old_cache(client, stored):
    request = {"series_id": stored, "horizon": 2, "model": "naive"}
    first = client.post("/v1/forecasts", json=request)
    client.post("/v1/series", json={"series_id": stored, "frequency": "annual", "data": annual(base=80.0)})
    second = client.post("/v1/forecasts", json=request)
    assert second.headers["x-cache"] == "miss"
    assert second.json()["id"] != first.json()["id"]


def test_unknown_series_id_is_404(client):
    assert_error(client.post("/v1/forecasts", json={"series_id": "nope", "horizon": 2}), 404, "series_not_found")


def test_share_series_stays_inside_unit_interval(client):
    data = [{"ds": f"{2010 + i // 4}Q{i % 4 + 1}", "y": 0.2 + 0.02 * i} for i in range(16)]
    body = {"data": data, "frequency": "quarterly", "kind": "share", "horizon": 8, "model": "drift"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    rows = response.json()["forecast"]
    assert rows[0]["ds"] == "2014Q1"
    assert all(row[lo_col(95)] > 0 and row[hi_col(95)] < 1 for row in rows)


def test_log_transform_reports_scale_in_interval_method(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "model": "naive", "transform": "log"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200
    assert "log" in response.json()["interval_method"]


class _WarningNaive(Naive):
    """Naive that warns like a model whose optimiser stopped early."""

    tags: ClassVar[ModelTags] = Naive.tags

    def _fit(self, y):
        warnings.warn("optimiser stopped after 50 iterations", ConvergenceWarning, stacklevel=2)
        super()._fit(y)


def test_model_warnings_are_returned_with_their_code(client, monkeypatch):
    from forecasting import registry

    monkeypatch.setitem(registry.REGISTRY, "warning_naive", _WarningNaive)
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "model": "warning_naive"}
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [{"code": "convergence", "message": "optimiser stopped after 50 iterations"}]


# ------------------------------------------------------------------ bad input never gives a 500
def _post(client, **changes):
    body = {"data": annual(), "frequency": "annual", "horizon": 3, **changes}
    return client.post("/v1/forecasts", json=body)


def test_null_value_is_422_naming_the_period(client):
    data = annual()
    data[4]["y"] = None
    error = assert_error(_post(client, data=data), 422, "missing_values", "missing value")
    assert error["details"]["first_missing"] == "2004"


def test_nan_token_in_json_is_422(client):
    raw = b'{"data": [{"ds": "2000", "y": NaN}, {"ds": "2001", "y": 1}], "frequency": "annual", "horizon": 1}'
    response = client.post("/v1/forecasts", content=raw, headers={"content-type": "application/json"})
    error = assert_error(response, 422, "validation_error")
    assert "data.0.y" in error["message"]


def test_gap_is_422_listing_missing_periods(client):
    data = annual()
    del data[5]
    error = assert_error(_post(client, data=data), 422, "missing_periods", "gap")
    assert error["details"]["missing_periods"] == ["2005"]


def test_duplicate_period_is_422(client):
    data = [*annual(), {"ds": "2003", "y": 1.0}]
    error = assert_error(_post(client, data=data), 422, "duplicate_period", "duplicate period 2003")
    assert "first given at data[3]" in error["message"]
    assert error["details"]["field"] == "data[20].ds"


def test_unreadable_period_is_422_naming_the_item(client):
    data = annual()
    data[2]["ds"] = "last year"
    error = assert_error(_post(client, data=data), 422, "unreadable_period", "data[2].ds")
    assert error["details"]["value"] == "last year"


def test_negative_values_with_log_transform_is_422(client):
    data = [{"ds": str(2000 + i), "y": float(i - 3)} for i in range(12)]
    assert_error(_post(client, data=data, transform="log", model="naive"), 422, "invalid_series", "log")


def test_share_outside_unit_interval_is_422(client):
    assert_error(_post(client, kind="share"), 422, "share_out_of_range", "[0, 1]")


def test_log_transform_of_share_is_422(client):
    data = [{"ds": str(2000 + i), "y": 0.5} for i in range(10)]
    assert_error(_post(client, data=data, kind="share", transform="log"), 422, "invalid_parameter")


def test_too_short_series_is_422(client):
    assert_error(_post(client, data=annual(2)), 422, "insufficient_data")


def test_series_too_short_for_model_is_422(client):
    data = [{"ds": f"2020Q{q}", "y": 1.0 + q} for q in range(1, 5)]
    response = _post(client, data=data, model="seasonal_naive", frequency="quarterly")
    assert_error(response, 422, "insufficient_data")


def test_horizon_above_limit_is_422(client, settings):
    error = assert_error(_post(client, horizon=settings.max_horizon + 1), 422, "invalid_parameter", "horizon")
    assert error["details"]["field"] == "horizon"


def test_horizon_not_an_integer_names_the_field(client):
    error = assert_error(_post(client, horizon="soon"), 422, "validation_error", "'horizon'")
    assert error["details"]["errors"][0]["field"] == "horizon"


def test_too_many_levels_is_422(client):
    assert_error(_post(client, levels=[10, 20, 30, 40, 50, 60]), 422, "invalid_parameter", "levels")


def test_level_out_of_range_is_422(client):
    assert_error(_post(client, levels=[100]), 422, "validation_error", "levels.0")


def test_series_above_length_limit_is_422(client, settings):
    data = [{"ds": f"{1000 + i // 12}-{i % 12 + 1:02d}", "y": 1.0} for i in range(settings.max_series_length + 1)]
    assert_error(_post(client, data=data, frequency="monthly"), 422, "invalid_parameter", "at most")


def test_unknown_model_is_422_listing_choices(client):
    error = assert_error(_post(client, model="prophet"), 422, "invalid_parameter", "prophet")
    assert "naive" in error["details"]["choices"]


def test_both_series_id_and_data_is_422(client):
    assert_error(_post(client, series_id="x"), 422, "validation_error", "exactly one")


def test_inline_data_without_frequency_is_422(client):
    response = client.post("/v1/forecasts", json={"data": annual(), "horizon": 2})
    assert_error(response, 422, "validation_error", "frequency")


def test_unknown_field_is_422(client):
    assert_error(_post(client, steps=3), 422, "validation_error", "steps")


def test_body_above_limit_is_413(client, settings):
    big = b"{" + b" " * (settings.max_body_bytes + 10) + b"}"
    response = client.post("/v1/forecasts", content=big, headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert response.headers["x-request-id"]


def test_streamed_body_above_limit_is_413(client, settings):
    def chunks():
        yield b'{"data": ['
        for _ in range(settings.max_body_bytes // 1000 + 5):
            yield b" " * 1000

    response = client.post("/v1/forecasts", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("body", [b"{not json", b'{"data": ['])
def test_malformed_json_is_422_saying_so(client, body):
    response = client.post("/v1/forecasts", content=body, headers={"content-type": "application/json"})
    error = assert_error(response, 422, "invalid_json", "not valid JSON at character")
    assert error["details"]["field"] == "body"
    assert isinstance(error["details"]["position"], int)


def test_failed_request_stores_nothing(client):
    _post(client, data=annual(2))
    _post(client, horizon=10_000)
    assert client.get("/v1/forecasts").json()["count"] == 0


def test_missing_values_refused_by_default_and_latest_stretch_on_request(client):
    data = annual()
    data[3]["y"] = None
    body = {"data": data, "frequency": "annual", "horizon": 2, "model": "drift"}
    refused = client.post("/v1/forecasts", json=body)
    assert_error(refused, 422, "missing_values")
    assert "missing value" in refused.json()["error"]["message"]
    accepted = client.post("/v1/forecasts", json={**body, "missing": "latest_stretch"})
    assert accepted.status_code == 200, accepted.text
    notes = accepted.json()["warnings"]
    assert [n["code"] for n in notes] == ["missing_values"]
    assert "latest unbroken stretch" in notes[0]["message"]
    # A different treatment of missing values is a different forecast, not a cache hit.
    assert accepted.headers["x-cache"] == "miss"


def test_unreadable_annual_period_names_the_item(client):
    data = annual()
    data[0]["ds"] = "abc"
    error = assert_error(_post(client, data=data), 422, "unreadable_period", "cannot read the period 'abc'")
    assert error["details"] == {"field": "data[0].ds", "value": "abc"}


# ------------------------------------------------------------------ the event-loop fast path
def _only_the_fast_path(client, monkeypatch) -> list:
    """Make anything but the event-loop cache lookup fail; return what the fast path answered."""
    from api.routes import forecasts as route
    from api.service import forecasts as use_cases

    service = client.app.state.service
    lookup = service.cached_forecast
    answered: list = []

    def spy(request):
        hit = lookup(request)
        answered.append(hit)
        return hit

    def fails(*args, **kwargs):
        raise AssertionError("the request left the fast path")

    monkeypatch.setattr(service, "cached_forecast", spy)
    monkeypatch.setattr(use_cases, "fit_plan", fails)
    monkeypatch.setattr(route, "run_in_threadpool", fails)
    return answered


def test_repeated_inline_forecast_is_answered_by_the_fast_path(client, monkeypatch):
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "model": "naive", "levels": [95, 80]}
    first = client.post("/v1/forecasts", json=body)
    assert first.headers["x-cache"] == "miss"
    answered = _only_the_fast_path(client, monkeypatch)
    second = client.post("/v1/forecasts", json=body)
    assert second.status_code == 200, second.text
    assert second.headers["x-cache"] == "hit" and second.json() == first.json()
    assert len(answered) == 1 and answered[0].forecast_id == first.json()["id"]


def test_repeated_stored_forecast_is_answered_by_the_fast_path(client, stored, monkeypatch):
    body = {"series_id": stored, "horizon": 2, "model": "naive"}
    first = client.post("/v1/forecasts", json=body)
    assert first.headers["x-cache"] == "miss"
    answered = _only_the_fast_path(client, monkeypatch)
    second = client.post("/v1/forecasts", json=body)
    assert second.headers["x-cache"] == "hit" and second.json()["id"] == first.json()["id"]
    assert len(answered) == 1 and answered[0].vintage.number == 1


def test_inline_forecast_with_default_kind_shares_the_cache_with_explicit_level(client):
    body = {"data": annual(), "frequency": "annual", "horizon": 2, "model": "naive"}
    first = client.post("/v1/forecasts", json=body)
    second = client.post("/v1/forecasts", json={**body, "kind": "level"})
    assert second.headers["x-cache"] == "hit" and second.json()["id"] == first.json()["id"]


def test_dead_fitting_worker_is_503_and_the_next_request_works(tmp_path, monkeypatch):
    from api.main import create_app
    from forecasting.exceptions import WorkerLostError
    from forecasting.executor import TaskResult
    from tests.api.conftest import TestClient, make_settings

    with TestClient(create_app(make_settings(tmp_path))) as client:
        from concurrent.futures import Future

        executor = client.app.state.service.executor
        real_submit = executor.submit

        def lost(*args, **kwargs):
            future = Future()
            future.set_result(TaskResult(error=WorkerLostError("a worker died.")))
            return future

        monkeypatch.setattr(executor, "submit", lost)
        body = {"data": annual(), "frequency": "annual", "horizon": 2, "model": "naive"}
        assert_error(client.post("/v1/forecasts", json=body), 503, "worker_lost")
        assert client.app.state.service.gate.pending == 0
        monkeypatch.setattr(executor, "submit", real_submit)
        assert client.post("/v1/forecasts", json=body).headers["x-cache"] == "miss"


def test_archived_forecast_with_bare_params_is_readable(client) -> None:
    import pandas as pd

    from data.meta import ForecastRecord

    frame = pd.DataFrame({"mean": [1.0, 2.0]}, index=pd.period_range("2030-01", periods=2, freq="M", name="ds"))
    forecast_id = client.app.state.store.archive.save_forecast(
        ForecastRecord(series_id=None, vintage_id=None, model="naive", params={}, horizon=2, levels=(), frame=frame)
    )
    page = client.get("/v1/forecasts")
    assert page.status_code == 200, page.text
    one = client.get(f"/v1/forecasts/{forecast_id}")
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["frequency"] == "monthly" and body["kind"] == "level" and body["transform"] == "none"
    assert [r["ds"] for r in body["forecast"]] == ["2030-01", "2030-02"]


def test_forecast_after_delete_and_reupload_is_not_the_old_one(client, stored) -> None:
    body = {"series_id": stored, "model": "naive", "horizon": 2, "levels": []}
    first = client.post("/v1/forecasts", json=body)
    assert first.status_code == 200 and first.headers["x-cache"] == "miss"
    assert client.delete(f"/v1/series/{stored}").status_code == 204
    fresh = {"series_id": stored, "name": "again", "frequency": "annual", "data": annual(base=500.0)}
    assert client.post("/v1/series", json=fresh).status_code == 201
    second = client.post("/v1/forecasts", json=body)
    assert second.status_code == 200, second.text
    assert second.headers["x-cache"] == "miss"
    assert second.json()["vintage"]["vintage_id"] != first.json()["vintage"]["vintage_id"]
    assert second.json()["forecast"][0]["mean"] != first.json()["forecast"][0]["mean"]
