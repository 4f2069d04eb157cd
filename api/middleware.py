"""One pure-ASGI middleware: request id, access log, metrics, declared-size limit, last-resort 500.

Pure ASGI (not ``BaseHTTPMiddleware``) keeps the per-request overhead to a few microseconds,
which matters for cached forecasts answered in about a millisecond.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import domain_error_response, dumps, error_body
from api.logs import request_id_var
from api.metrics import Metrics

__all__ = ["RequestContextMiddleware"]

logger = logging.getLogger("api.access")

_REQUEST_ID_HEADER = b"x-request-id"
#: Accept a caller's request id only if it is short and plain (it ends up in logs).
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class RequestContextMiddleware:
    """Tag each request with an id, enforce the body limit, count and time it."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # Request ids need to be unique, not secret: a random per-process prefix and a
        # counter cost far less than uuid4() per request.
        self._id_prefix = uuid.uuid4().hex[:16]
        self._counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _incoming_id(scope) or f"{self._id_prefix}{next(self._counter):016x}"
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False
        rid_header = (_REQUEST_ID_HEADER, request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                status = 413
                await _send_json(send, 413, _too_large(self.max_body_bytes), rid_header)
                return
            await self.app(scope, self._limited(receive), send_wrapper)
        except Exception as exc:
            # Anything that escaped the exception handlers. Known errors (a body that grew past
            # the limit while streaming) get their own status; the rest is logged with the
            # request id and answered with a generic 500 without internals.
            if not started:
                response = domain_error_response(exc, request_id)
                status = response.status_code
                await _send_json(send, status, response.body, rid_header)
            else:
                logger.error("error after the response started on %s %s", scope["method"], scope["path"], exc_info=exc)
        finally:
            elapsed = time.perf_counter() - start
            route = _route_label(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "%s %s %d %.1fms",
                    method,
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={"method": method, "route": route, "status": status, "duration_ms": elapsed * 1000},
                )
            request_id_var.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        """Count streamed body bytes; past the limit raise a 413 that FastAPI passes through."""
        limit = self.max_body_bytes
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException, because FastAPI re-raises those from body parsing
                    # (anything else becomes a 400 "error parsing the body").
                    raise HTTPException(413, detail=f"request body exceeds {limit} bytes")
            return message

        return wrapped


def _route_label(scope: Scope) -> str:
    """The matched route's full path template (``/v1/series/{series_id}``), for metric labels.

    Included routers report their path without the include prefix; the prefix is the part
    of the real path before the template's segments.
    """
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return "unmatched"
    n_template = template.strip("/").count("/") + 1 if template.strip("/") else 0
    segments = scope["path"].strip("/").split("/")
    prefix = segments[: max(len(segments) - n_template, 0)]
    return ("/" + "/".join(prefix) if prefix else "") + (template if template != "/" or not prefix else "")


def _incoming_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == _REQUEST_ID_HEADER and _SAFE_ID.match(value):
            return str(value.decode())
    return None


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> bytes:
    return dumps(error_body("payload_too_large", f"request body exceeds {limit} bytes", {"max_body_bytes": limit}))


async def _send_json(send: Send, status: int, body: bytes | Any, rid_header: tuple[bytes, bytes]) -> None:
    payload = bytes(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                rid_header,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
