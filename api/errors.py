"""The error envelope, the exception → status table and the handlers that apply them.

Every 4xx and 5xx response has the body ``{"error": {"code", "message", "details"}}``.
The status of an exception is looked up along its MRO in :data:`STATUS_BY_EXCEPTION`, so a
subclass inherits its parent's status (STYLE §5). This module is the only place that maps
exceptions to HTTP statuses; routes let library exceptions propagate.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import typing
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.service.admission import OverloadedError
from api.service.warming import NotReadyError
from data.connectors.exceptions import SourceError, SourceTimeoutError
from data.exceptions import ConflictError, DataError, IngestError, StorageUnavailableError, UploadLimitError
from forecasting.exceptions import (
    ForecastingError,
    InsufficientDataError,
    IntervalsNotSupportedError,
    InvalidParameterError,
    InvalidSeriesError,
    ModelFitError,
    NotFittedError,
    NotFoundError,
    WorkerLostError,
)
from reports.exceptions import RenderUnavailableError

__all__ = [
    "STATUS_BY_EXCEPTION",
    "ApiError",
    "AuthenticationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "error_body",
    "error_details",
    "detailed",
    "http_error_response",
    "install_error_handlers",
    "status_for",
]

logger = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "internal server error; quote the request id when reporting it"
#: The detail of FastAPI's own 400 when the body parser raises something other than a JSON error.
_FASTAPI_BODY_ERROR = "There was an error parsing the body"


class ApiError(Exception):
    """An error raised by the service layer itself (auth, body size), with a fixed ``code``."""

    code = "api_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class AuthenticationError(ApiError):
    """No API key, or an unknown one, was sent."""

    code = "not_authenticated"


class PermissionDeniedError(ApiError):
    """The key is valid but its scope does not allow this method."""

    code = "forbidden"


class PayloadTooLargeError(ApiError):
    """The request body is larger than ``TRADECAST_MAX_BODY_BYTES``."""

    code = "payload_too_large"


#: Exception class → HTTP status, resolved along the MRO by :func:`status_for`.
STATUS_BY_EXCEPTION: dict[type[BaseException], int] = {
    InvalidParameterError: 422,
    InvalidSeriesError: 422,
    InsufficientDataError: 422,
    IntervalsNotSupportedError: 422,
    ModelFitError: 422,
    # A batch in which no model could forecast a series (forecasting.forecast_many).
    ForecastingError: 422,
    NotFoundError: 404,
    # A bug in a caller, not a user error: generic 500.
    NotFittedError: 500,
    # A fitting process died (memory); the executor has started a new one: retry.
    WorkerLostError: 503,
    IngestError: 422,
    # More columns, series or cells than TRADECAST_MAX_UPLOAD_* allow.
    UploadLimitError: 413,
    ConflictError: 409,
    StorageUnavailableError: 503,
    # The fitting queue is full (TRADECAST_MAX_PENDING_FITS): retry after Retry-After.
    OverloadedError: 503,
    # /ready while the fitting workers warm up: the message says what is warming.
    NotReadyError: 503,
    # PDF asked for and the service has no Chromium: the message says what to install.
    RenderUnavailableError: 503,
    DataError: 500,
    RequestValidationError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    PayloadTooLargeError: 413,
    # An official source failed (HTTP 5xx, unreachable, unreadable answer) or timed out; its
    # refusals of a query are InvalidQueryError (422) and "no data" EmptyResultError (404).
    SourceError: 502,
    SourceTimeoutError: 504,
}

_CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}


def status_for(exc: BaseException) -> int:
    """The HTTP status of ``exc``: the first class of its MRO in the table, else 500."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_EXCEPTION.get(cls)
        if status is not None:
            return status
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The envelope ``{"error": {"code", "message", "details"}}``."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _json_safe(value: Any) -> Any:
    """Make validation-error payloads JSON-serialisable (ctx may hold exceptions, NaN...)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _request_id(request: Request) -> str | None:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else None


def domain_error_response(exc: Exception, request_id: str | None = None) -> JSONResponse:
    """Build the response for a library, store or service exception."""
    status = status_for(exc)
    # 502/503/504 are conditions of a dependency (a source, the queue), not bugs: their
    # messages are ours and safe to show.
    if status >= 500 and status not in (502, 503, 504):
        logger.error("unhandled %s (request_id=%s)", type(exc).__name__, request_id, exc_info=exc)
        return internal_error_response(request_id)
    code = str(getattr(exc, "code", None) or _CODE_BY_STATUS.get(status, "error"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        headers = {"Retry-After": str(retry_after)}
    return JSONResponse(error_body(code, str(exc), error_details(exc)), status_code=status, headers=headers)


def error_details(exc: BaseException) -> dict[str, Any]:
    """The ``details`` of an error's envelope: the exception's own, made JSON-safe (``{}`` if none)."""
    details = getattr(exc, "details", None)
    if callable(details):  # data.IngestError exposes details() as a method
        details = details()
    return _json_safe(details) if isinstance(details, dict) else {}


def internal_error_response(request_id: str | None) -> JSONResponse:
    """A generic 500: no exception text, only the request id to quote."""
    return JSONResponse(
        error_body("internal_error", INTERNAL_ERROR_MESSAGE, {"request_id": request_id}), status_code=500
    )


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc) or "request"


def _body_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _body_models(arg)]


def _known_fields(request: Request, loc: tuple[Any, ...] | list[Any]) -> list[str]:
    """The field names the request body accepts next to the unknown field at ``loc`` ([] if not found)."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None or not loc or loc[0] != "body":
        return []
    models = _body_models(body_field.field_info.annotation)
    for part in loc[1:-1]:
        if isinstance(part, str):
            fields = [m.model_fields[part] for m in models if part in m.model_fields]
            models = [found for f in fields for found in _body_models(f.annotation)]
        # an int is a list position: the item's model is the list's, already in ``models``
    return sorted(
        {name for m in models for name, f in m.model_fields.items()}
        | {f.alias for m in models for f in m.model_fields.values() if f.alias}
    )


def _unknown_field_message(request: Request, error: dict[str, Any]) -> str:
    loc = error.get("loc", ())
    name = str(loc[-1]) if loc else ""
    close = difflib.get_close_matches(name, _known_fields(request, loc), n=1, cutoff=0.6)
    return f"unknown field '{_field_name(loc)}'" + (f"; did you mean '{close[0]}'?" if close else "")


def _validation_errors(request: Request, exc: RequestValidationError) -> list[dict[str, Any]]:
    """One entry per pydantic error, unknown fields first (a typo also makes its field 'missing')."""
    raw = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    return [
        {
            "field": _field_name(e.get("loc", ())),
            "loc": list(e.get("loc", ())),
            "message": _unknown_field_message(request, e)
            if e.get("type") == "extra_forbidden"
            else str(e.get("msg", "")).removeprefix("Value error, "),
        }
        for e in raw
    ]


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(request, exc)
    if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
        allowed = _literal_path_methods(request)
        if allowed and request.method not in allowed:
            # GET /v1/forecasts/batch: the path names the batch route, not a forecast id.
            message = f"method {request.method} is not allowed on {request.url.path}"
            return JSONResponse(
                error_body("method_not_allowed", message), status_code=405, headers={"Allow": ", ".join(allowed)}
            )
    bad_json = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        # pydantic reports a malformed body as a "field" named after the character offset.
        loc = bad_json.get("loc", ())
        position = loc[-1] if loc and isinstance(loc[-1], int) else None
        reason = str((bad_json.get("ctx") or {}).get("error", "")).strip()
        where = f" at character {position}" if position is not None else ""
        message = f"the request body is not valid JSON{where}" + (f" ({reason})" if reason else "")
        details = {"field": "body", "position": position, "reason": reason or None}
        return JSONResponse(error_body("invalid_json", message, details), status_code=422)
    first = errors[0] if errors else {"field": "request", "message": "invalid request"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if str(first["message"]).startswith("unknown field"):
        message = f"{first['message']}{more}"
    else:
        message = f"invalid field '{first['field']}': {first['message']}{more}"
    return JSONResponse(error_body("validation_error", message, {"errors": _json_safe(errors)}), status_code=422)


def http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    """The envelope of an HTTP exception raised outside the routes (a body limit in a middleware)."""
    details = getattr(exc, "details", None)
    return JSONResponse(
        error_body(
            _CODE_BY_STATUS.get(exc.status_code, "http_error"),
            str(exc.detail),
            details if isinstance(details, dict) else None,
        ),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; see /docs for the API"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
        allowed = _allowed_methods(request)
        if allowed:
            return JSONResponse(error_body(code, message), status_code=405, headers={"Allow": ", ".join(allowed)})
    elif exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
        # FastAPI answers 400 when the JSON parser itself fails (RecursionError on a body nested
        # 100,000 deep): the same malformed-body answer as any other invalid JSON.
        message = "the request body is not valid JSON (nested too deeply to be read)"
        details = {"field": "body", "position": None, "reason": "nested too deeply"}
        return JSONResponse(error_body("invalid_json", message, details), status_code=422)
    else:
        return http_error_response(exc)
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _allow_patterns(request: Request) -> list[tuple[Any, bool, set[str]]]:
    """(compiled path, parameter-free?, methods) of every documented path, built once per app."""
    from starlette.routing import compile_path

    app = request.app
    patterns: list[tuple[Any, bool, set[str]]] | None = getattr(app.state, "allow_patterns", None)
    if patterns is None:
        patterns = [
            (compile_path(path)[0], "{" not in path, {m.upper() for m in operations if m != "parameters"})
            for path, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.allow_patterns = patterns
    return patterns


def _literal_path_methods(request: Request) -> list[str]:
    """The methods of the documented parameter-free path equal to this one ([] if none)."""
    path = request.url.path
    found: set[str] = set()
    for regex, literal, methods in _allow_patterns(request):
        if literal and regex.fullmatch(path):
            found |= methods
    return sorted(found)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API documents on this path (RFC 9110: the ``Allow`` of a 405).

    Starlette's own 405 names only the methods of the first route that matched the path,
    so ``/v1/reports`` (GET and POST on two routes) answered ``Allow: POST``. The OpenAPI
    paths are the public list of routes.
    """
    path = request.url.path
    matching = [(literal, methods) for regex, literal, methods in _allow_patterns(request) if regex.match(path)]
    # A literal path (``/v1/forecasts/batch``) is what the path names, not a value of a parameter.
    chosen = [methods for literal, methods in matching if literal] or [methods for _, methods in matching]
    return sorted(set().union(*chosen))


async def _domain_handler(request: Request, exc: Exception) -> JSONResponse:
    return domain_error_response(exc, _request_id(request))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; unexpected exceptions are turned into a 500 by the middleware."""
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    for cls in (ForecastingError, DataError, ApiError, OverloadedError, NotReadyError):
        app.add_exception_handler(cls, _domain_handler)


def dumps(body: dict[str, Any]) -> bytes:
    """Compact JSON bytes of an error body (used by the raw ASGI middleware)."""
    return json.dumps(body, separators=(",", ":")).encode()


E = TypeVar("E", bound=BaseException)


def detailed(exc: E, details: dict[str, Any]) -> E:
    """Attach ``details`` (shown in the error body) to a library exception and return it."""
    exc.details = details  # type: ignore[attr-defined]
    return exc
