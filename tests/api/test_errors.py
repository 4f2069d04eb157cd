"""The exception → status table (one test per row) and the envelope of each."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from api.errors import STATUS_BY_EXCEPTION, AuthenticationError, PermissionDeniedError, status_for
from api.main import create_app
from data import ConflictError, IngestError, SeriesNotFoundError, StorageUnavailableError
from forecasting.exceptions import (
    InsufficientDataError,
    IntervalsNotSupportedError,
    InvalidParameterError,
    InvalidSeriesError,
    ModelFitError,
    NotFittedError,
    NotFoundError,
)
from tests.api.conftest import TestClient, assert_error

CASES = [
    (InvalidParameterError("horizon must be >= 1; got 0."), 422, "invalid_parameter"),
    (InvalidSeriesError("y has gaps."), 422, "invalid_series"),
    (InsufficientDataError("y has 2 observations; 3 are needed."), 422, "insufficient_data"),
    (IntervalsNotSupportedError("point forecasts only."), 422, "intervals_not_supported"),
    (ModelFitError("ETS failed to converge on this data."), 422, "model_fit_error"),
    (NotFoundError("unknown report 'x'."), 404, "not_found"),
    (SeriesNotFoundError("no series 'x'."), 404, "series_not_found"),
    (ConflictError("series 'x' is annual; got monthly."), 409, "conflict"),
    (StorageUnavailableError("the database is unavailable."), 503, "storage_unavailable"),
    (IngestError("line 3, column 2 ('y'): 'abc' is not a number.", line=3, column=2), 422, "invalid_input"),
    (AuthenticationError("invalid API key"), 401, "not_authenticated"),
    (PermissionDeniedError("needs a write key"), 403, "forbidden"),
]


class _OddModelError(ModelFitError):
    """A subclass the table does not list: inherits its parent's status."""


def test_status_is_resolved_along_the_mro():
    assert status_for(_OddModelError("x")) == 422
    assert status_for(SeriesNotFoundError("x")) == 404
    assert status_for(NotFittedError("x")) == 500
    assert status_for(KeyError("x")) == 500
    assert all(400 <= s < 600 for s in STATUS_BY_EXCEPTION.values())


@pytest.fixture
def raising_client(settings):
    app = create_app(settings)
    router = APIRouter()

    @router.get("/raise/{index}")
    def raise_case(index: int) -> None:
        raise CASES[index][0]

    @router.get("/raise-not-fitted")
    def raise_not_fitted() -> None:
        raise NotFittedError("ETS is not fitted yet; call fit(y) before predict().")

    @router.get("/raise-runtime")
    def raise_runtime() -> None:
        raise RuntimeError("LinAlgError deep inside statsmodels")

    app.include_router(router)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(("index", "status", "code"), [(i, s, c) for i, (_, s, c) in enumerate(CASES)])
def test_each_exception_gives_its_status_code_and_message(raising_client, index, status, code):
    error = assert_error(raising_client.get(f"/raise/{index}"), status, code)
    assert error["message"] == str(CASES[index][0])


def test_ingest_error_details_name_line_and_column(raising_client):
    index = next(i for i, case in enumerate(CASES) if isinstance(case[0], IngestError))
    error = assert_error(raising_client.get(f"/raise/{index}"), 422, "invalid_input")
    assert error["details"]["line"] == 3 and error["details"]["column"] == 2


@pytest.mark.parametrize("path", ["/raise-not-fitted", "/raise-runtime"])
def test_bugs_are_generic_500_without_internals(raising_client, path):
    response = raising_client.get(path)
    error = assert_error(response, 500, "internal_error")
    assert "fit" not in error["message"] and "LinAlg" not in response.text
    assert error["details"]["request_id"] == response.headers["x-request-id"]
