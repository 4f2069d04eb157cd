"""One pure-ASGI middleware: request id, access log, metrics, body limits, last-resort 500.

Pure ASGI (not ``BaseHTTPMiddleware``) keeps the per-request overhead to a few microseconds,
which matters for cached forecasts answered in about a millisecond.

The body limits (size and time) are enforced when the body is read, not when the request
arrives: the key check (:class:`api.auth.AuthMiddleware`, inside this one) and routing come
first, so a request without a valid key gets 401 whatever its body, and nothing of an
anonymous body is read. A declared ``Content-Length`` over the limit is refused at the first
read without waiting for the bytes; a body that stops arriving is answered 408 once
``body_timeout`` seconds have passed since its first read, and that connection is closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import re
import time
import uuid
from collections import Counter, OrderedDict
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import domain_error_response, error_body, http_error_response
from api.logs import request_id_var
from api.metrics import Metrics
from api.service.admission import OverloadedError

__all__ = ["FitAdmissionMiddleware", "RequestContextMiddleware", "SingleValueQueryMiddleware"]

logger = logging.getLogger("api.access")

_REQUEST_ID_HEADER = b"x-request-id"
#: Accept a caller's request id only if it is short and plain (it ends up in logs).
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class RequestContextMiddleware:
    """Tag each request with an id, enforce the body limit, count and time it."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, body_timeout: float = 15.0) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
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
        body = _BodyGuard(receive, _content_length(scope), self.max_body_bytes, self.body_timeout)

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                extra = [rid_header, _CLOSE] if body.refused else [rid_header]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, body.receive, send_wrapper)
        except Exception as exc:
            # Anything that escaped the exception handlers. Known errors (a body that grew past
            # the limit while streaming) get their own status; the rest is logged with the
            # request id and answered with a generic 500 without internals.
            if not started:
                if isinstance(exc, HTTPException):  # a body limit hit outside the routes
                    response = http_error_response(exc)
                else:
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


#: Sent with a 408 or 413 from :class:`_BodyGuard`: the rest of that body is never read, so
#: the connection cannot carry another request.
_CLOSE = (b"connection", b"close")


class _BodyGuard:
    """The request's ``receive``, refusing a body over the size limit or too slow to arrive.

    Refusals are :class:`HTTPException` (413, 408), because FastAPI re-raises those from body
    parsing (anything else becomes a 400 "error parsing the body"); the app's handler turns
    them into the JSON error envelope. Once the body is complete (or the client has gone),
    messages pass through untouched: waiting for a disconnection is not a slow body.
    """

    __slots__ = ("_deadline", "_declared", "_limit", "_receive", "_seen", "_timeout", "complete", "refused")

    def __init__(self, receive: Receive, declared: int | None, limit: int, timeout: float) -> None:
        self._receive = receive
        self._declared = declared
        self._limit = limit
        self._timeout = timeout
        self._deadline: float | None = None
        self._seen = 0
        self.complete = False
        self.refused = False

    async def receive(self) -> Message:
        if self.complete:
            return await self._receive()
        if self._declared is not None and self._declared > self._limit:
            self._too_large()
        loop = asyncio.get_running_loop()
        if self._deadline is None:
            self._deadline = loop.time() + self._timeout
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            detail = (
                f"the request body did not arrive whole within {self._timeout:g} s (TRADECAST_BODY_TIMEOUT_SECONDS)"
            )
            self._refuse(408, detail, {"body_timeout_seconds": self._timeout})
        if message["type"] != "http.request":
            self.complete = True
            return message
        self._seen += len(message.get("body", b""))
        if self._seen > self._limit:
            self._too_large()
        self.complete = not message.get("more_body", False)
        return message

    def _too_large(self) -> NoReturn:
        self._refuse(413, f"request body exceeds {self._limit} bytes", {"max_body_bytes": self._limit})

    def _refuse(self, status: int, detail: str, details: dict[str, Any]) -> NoReturn:
        self.refused = True
        self.complete = True  # nothing more is read from this request
        exc = HTTPException(status, detail=detail)
        exc.details = details  # type: ignore[attr-defined]  # shown in the error envelope
        raise exc


class SingleValueQueryMiddleware:
    """Refuse a query parameter given more than once where its route takes one value (422).

    Starlette keeps the last of ``?limit=1&limit=2`` and the route would never know; a
    client that repeats a parameter by mistake would get an answer to a question it did not
    ask. Which parameters take a list (``tag``) is read once from the app's OpenAPI document
    (an ``array`` schema). Runs inside :class:`api.auth.AuthMiddleware`; a request without
    a query string, or without a repeated name, costs one check.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[tuple[re.Pattern[str], str, frozenset[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            repeated = _repeated_names(scope["query_string"])
            if repeated:
                single = self._single_valued(scope)
                refused = [(name, count) for name, count in repeated if name in single]
                if refused:
                    await JSONResponse(_repeated_error(refused), status_code=422)(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _single_valued(self, scope: Scope) -> frozenset[str]:
        """The query parameters that take one value on this path and method."""
        if self._routes is None:
            self._routes = _query_parameters(scope["app"].openapi())
        method, path = scope["method"].lower(), scope["path"]
        names: set[str] = set()
        for regex, route_method, single in self._routes:
            if route_method == method and regex.fullmatch(path):
                names |= single
        return frozenset(names)


def _repeated_names(query_string: bytes) -> list[tuple[str, int]]:
    counts = Counter(name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return [(name, n) for name, n in counts.items() if n > 1]


def _query_parameters(openapi: dict[str, Any]) -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
    """(path regex, method, single-valued query parameter names) of every documented operation."""
    from starlette.routing import compile_path

    routes = []
    for path, operations in openapi.get("paths", {}).items():
        regex = compile_path(path)[0]
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            single = frozenset(p["name"] for p in params if not _is_array(p.get("schema", {})))
            routes.append((regex, method, single))
    return routes


def _is_array(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        return True
    return any(_is_array(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []) if isinstance(s, dict))


def _repeated_error(refused: list[tuple[str, int]]) -> dict[str, Any]:
    errors = [
        {"field": name, "loc": ["query", name], "message": f"given {n} times; this parameter takes one value"}
        for name, n in refused
    ]
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    message = f"invalid field '{first['field']}': {first['message']}{more}"
    return error_body("validation_error", message, {"errors": errors})


class FitAdmissionMiddleware:
    """While the fitting queue is full, refuse what would be fitted before its body is parsed.

    A client that ignores ``Retry-After`` retries at once; if each refusal validated its
    body (pydantic, the inline data's hash), such clients would keep the event loop busy
    and slow every other route. Here a refusal costs the reading of the body and one hash:

    * ``POST /v1/backtests`` and ``POST /v1/structures/{name}/forecasts`` are never cached:
      refused without reading their body;
    * ``POST /v1/forecasts`` is refused unless its exact body was answered before (it may
      be a cache hit, which the route still serves); the hashes of answered bodies are
      remembered (a bounded LRU), so cached forecasts stay cheap under saturation.

    Whatever passes is checked again by the service (``FitGate.acquire``). Runs inside
    :class:`api.auth.AuthMiddleware`: anonymous requests are refused with 401 first.
    """

    def __init__(self, app: ASGIApp, *, remember: int = 4096) -> None:
        self.app = app
        self._answered: OrderedDict[bytes, None] = OrderedDict()
        self._remember = remember

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _FITTING_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            scope["app"].state.service.gate.check()
        except OverloadedError as full:
            if scope["path"] != "/v1/forecasts":
                await domain_error_response(full)(scope, receive, send)
                return
            body = await _read_body(receive)
            digest = _digest(body)
            if digest not in self._answered:
                await domain_error_response(full)(scope, receive, send)
                return
            await self._forecast(scope, _replay(body, receive), send, digest)
            return
        if scope["path"] == "/v1/forecasts":
            await self._forecast(scope, receive, send, None)
            return
        await self.app(scope, receive, send)

    async def _forecast(self, scope: Scope, receive: Receive, send: Send, digest: bytes | None) -> None:
        """Pass a forecast on (hashing its body unless ``digest`` is known); remember an answered one."""
        hasher = hashlib.blake2b(digest_size=16)

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                hasher.update(message.get("body", b""))
            return message

        async def remembering_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self._remember_body(digest if digest is not None else hasher.digest())
            await send(message)

        await self.app(scope, receive if digest is not None else hashing_receive, remembering_send)

    def _remember_body(self, digest: bytes) -> None:
        self._answered[digest] = None
        self._answered.move_to_end(digest)
        while len(self._answered) > self._remember:
            self._answered.popitem(last=False)


#: The POST routes whose work is a fit admitted by the service's FitGate (the batch route is
#: not: a batch answered from the cache needs no fit, and its size decides its admission).
_FITTING_PATH = re.compile(r"^/v1/(forecasts|backtests|structures/[^/]+/forecasts)$")


def _digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then the real messages (a disconnection)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


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
