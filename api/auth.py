"""Bearer API keys with read or write scope.

Keys come from ``TRADECAST_API_KEYS`` (``"key1:read,key2:write"``). With no keys the service
is open (and ``tradecast serve`` then refuses non-loopback binds). GET, HEAD and OPTIONS
need ``read``; every other method needs ``write``, which includes ``read``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import ApiKey
from api.errors import AuthenticationError, PermissionDeniedError

__all__ = ["authorize", "find_key"]

_bearer = HTTPBearer(auto_error=False, description="An API key from TRADECAST_API_KEYS.")
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


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Check the bearer key against the method's scope (no-op when no keys are set).

    ``async`` although it never awaits: it is pure computation, and a plain ``def``
    dependency would be run in the threadpool on every request.
    """
    keys: list[ApiKey] = request.app.state.api_keys
    if not keys:
        return
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise AuthenticationError("missing API key; send 'Authorization: Bearer <key>'")
    key = find_key(keys, credentials.credentials)
    if key is None:
        raise AuthenticationError("invalid API key")
    needed = "read" if request.method in _READ_METHODS else "write"
    if needed == "write" and key.scope != "write":
        raise PermissionDeniedError(
            f"this key has read scope; {request.method} {request.url.path} needs a write key",
            {"required_scope": "write", "key_scope": key.scope},
        )
