"""Bearer API keys with read or write scope.

Keys come from ``TRADECAST_API_KEYS`` (``"key1:read,key2:write"``). With no keys the service
is open (and ``tradecast serve`` then refuses non-loopback binds). GET, HEAD and OPTIONS
need ``read``; every other method needs ``write``, which includes ``read``.

The header is read directly rather than through ``fastapi.security.HTTPBearer``: that
would be one more dependency to resolve on every request; the scheme is declared in the
OpenAPI document by :func:`add_security_scheme` instead.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request

from api.errors import AuthenticationError, PermissionDeniedError
from api.settings import ApiKey

__all__ = ["SECURITY_SCHEME", "add_security_scheme", "authorize", "find_key"]

SECURITY_SCHEME = "bearerAuth"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


async def authorize(request: Request) -> None:
    """Check the bearer key against the method's scope (no-op when no keys are set).

    ``async`` although it never awaits: it is pure computation, and a plain ``def``
    dependency would be run in the threadpool on every request.
    """
    keys: list[ApiKey] = request.app.state.api_keys
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("missing API key; send 'Authorization: Bearer <key>'")
    key = find_key(keys, token)
    if key is None:
        raise AuthenticationError("invalid API key")
    needed = "read" if request.method in _READ_METHODS else "write"
    if needed == "write" and key.scope != "write":
        raise PermissionDeniedError(
            f"this key has read scope; {request.method} {request.url.path} needs a write key",
            {"required_scope": "write", "key_scope": key.scope},
        )


def add_security_scheme(schema: dict[str, Any], prefix: str = "/v1") -> dict[str, Any]:
    """Declare bearer auth in an OpenAPI document for every operation under ``prefix``."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from TRADECAST_API_KEYS (read scope for GET, write for the rest).",
    }
    for path, operations in schema.get("paths", {}).items():
        if path.startswith(prefix) or path == "/metrics":
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["security"] = [{SECURITY_SCHEME: []}]
    return schema
