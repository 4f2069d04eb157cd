"""Errors of the official-source connectors.

Each refines a :mod:`forecasting` or :mod:`data` error, so the REST layer's MRO-based status
table maps it (STYLE §5)::

    SourceError(DataError)                                   502: the source failed
    ├── SourceTimeoutError                                   504: no answer in time
    ├── SourceResponseError                                  502: an answer we cannot read
    ├── UnknownSourceError(InvalidParameterError, ...)       422: no connector of that name
    ├── InvalidQueryError(InvalidParameterError, ...)        422: query malformed or refused
    └── EmptyResultError(NotFoundError, ...)                 404: the query matches no data

Messages never contain credentials: a connector sends its key in a header and the errors
quote the query, not the request.
"""

from __future__ import annotations

from data.exceptions import DataError
from forecasting.exceptions import InvalidParameterError, NotFoundError

__all__ = [
    "EmptyResultError",
    "InvalidQueryError",
    "SourceError",
    "SourceResponseError",
    "SourceTimeoutError",
    "UnknownSourceError",
]


class SourceError(DataError):
    """An official source could not be reached or answered with a server error."""

    code = "source_unavailable"


class SourceTimeoutError(SourceError):
    """The source did not answer within the timeout."""

    code = "source_timeout"


class SourceResponseError(SourceError):
    """The source answered, but not in the documented shape."""

    code = "source_bad_response"


class UnknownSourceError(InvalidParameterError, SourceError):
    """No connector is registered under this source name."""

    code = "unknown_source"


class InvalidQueryError(InvalidParameterError, SourceError):
    """The query is malformed, or the source refused it (HTTP 4xx)."""

    code = "invalid_query"


class EmptyResultError(NotFoundError, SourceError):
    """The source answered, but the query matches no observations."""

    code = "empty_result"
