"""Bearer API keys with read or write scope.

Keys come from ``TRADECAST_API_KEYS`` (``"key1:read,key2:write"``). With no keys the service
is open (and ``tradecast serve`` then refuses non-loopback binds). GET, HEAD and OPTIONS
need ``read``; every other method needs ``write``, which includes ``read``.

The key is checked by :class:`AuthMiddleware` on every path under ``/v1`` and on
``/metrics``, before the route reads or parses the body: a request without a valid key gets
401 (or 403) whatever its body, never a 422 that would tell an anonymous caller how the
body is validated, and an anonymous body is never parsed. The header is read directly
rather than through ``fastapi.security.HTTPBearer``; the scheme is declared in the OpenAPI
document by :func:`add_security_scheme`.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import AuthenticationError, PermissionDeniedError, domain_error_response
from api.settings import ApiKey

__all__ = [
    "PROTECTED_PREFIXES",
    "SECURITY_SCHEME",
    "AuthMiddleware",
    "add_security_scheme",
    "authorize",
    "find_key",
    "has_write_scope",
]

SECURITY_SCHEME = "bearerAuth"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Paths that need a key (when keys are set); /health, /ready and the docs stay open.
PROTECTED_PREFIXES = ("/v1/", "/metrics")


def find_key(keys: list[ApiKey], presented: str) -> ApiKey | None:
    """The configured key equal to ``presented``, compared in constant time.

    Every key is compared (no early exit), so timing reveals neither which key matched
    nor how long a matching prefix was.
    """
    candidate = presented.encode()
    found: ApiKey | None = None
    for key in keys:
        if hmac.compare_digest(key.secret, candidate):
            found = key
    return found


def check_key(keys: list[ApiKey], method: str, path: str, authorization: str) -> None:
    """Check the ``Authorization`` header against the scope ``method`` needs.

    Raises
    ------
    AuthenticationError
        No bearer key, or an unknown one (401).
    PermissionDeniedError
        A read key on a method that writes (403).
    """
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("missing API key; send 'Authorization: Bearer <key>'")
    key = find_key(keys, token)
    if key is None:
        raise AuthenticationError("invalid API key")
    needed = "read" if method in _READ_METHODS else "write"
    if needed == "write" and key.scope != "write":
        raise PermissionDeniedError(
            f"this key has read scope; {method} {path} needs a write key",
            {"required_scope": "write", "key_scope": key.scope},
        )


def has_write_scope(request: Request) -> bool:
    """Whether the request's key may write (always, on a service without keys).

    Reads answer read-scope keys with less: a webhook URL's query (its receiver's token) is
    redacted for them.
    """
    keys: list[ApiKey] = request.app.state.api_keys
    if not keys:
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    key = find_key(keys, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    return key is not None and key.scope == "write"


async def authorize(request: Request) -> None:
    """Dependency form of the key check (no-op when no keys are set), for routes outside
    :data:`PROTECTED_PREFIXES`; the service itself relies on :class:`AuthMiddleware`.
    """
    keys: list[ApiKey] = request.app.state.api_keys
    if keys:
        check_key(keys, request.method, request.url.path, request.headers.get("authorization", ""))


class AuthMiddleware:
    """Refuse a request to a protected path without a valid key before any route runs.

    Runs inside the request-context middleware (so a refusal carries a request id and is
    counted) and before routing: the body is neither read nor parsed for a refused request.
    Keys are read from ``app.state.api_keys`` at each request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROTECTED_PREFIXES):
            keys: list[ApiKey] = scope["app"].state.api_keys
            if keys:
                headers = dict(scope.get("headers") or ())
                authorization = headers.get(b"authorization", b"").decode("latin-1")
                try:
                    check_key(keys, scope["method"], scope["path"], authorization)
                except (AuthenticationError, PermissionDeniedError) as exc:
                    await domain_error_response(exc)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def add_security_scheme(schema: dict[str, Any], prefixes: tuple[str, ...] = PROTECTED_PREFIXES) -> dict[str, Any]:
    """Declare bearer auth in an OpenAPI document for every operation under ``prefixes``."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from TRADECAST_API_KEYS (read scope for GET, write for the rest).",
    }
    for path, operations in schema.get("paths", {}).items():
        if path.startswith(prefixes):
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["security"] = [{SECURITY_SCHEME: []}]
    return schema
