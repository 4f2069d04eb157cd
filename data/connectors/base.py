"""The connector interface: ``fetch(query) -> FetchResult``, and the HTTP call every connector shares.

A connector turns a source-specific query string (the path and parameters of the source's
documented API, e.g. ``EXR/M.CNY.EUR.SP00.A`` for the ECB) into validated, period-indexed
float series (the series parser's type) with their metadata. It knows nothing of the
store: :func:`data.connectors.store_fetch` writes the result as vintages.

Every connector calls its source through :func:`http_get` on an :class:`httpx.Client` it is
given, so tests pass a client on a :class:`httpx.MockTransport` serving recorded responses
and no test touches the network.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np
import pandas as pd

from data.codec import as_utc
from data.connectors.exceptions import (
    EmptyResultError,
    InvalidQueryError,
    SourceError,
    SourceResponseError,
    SourceTimeoutError,
)
from data.exceptions import IngestError
from data.meta import SeriesMeta
from forecasting.exceptions import InvalidSeriesError
from forecasting.series import RowLocator, parse_series

__all__ = [
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_TIMEOUT_SECONDS",
    "Connector",
    "FetchResult",
    "FetchedSeries",
    "http_get",
    "check_segments",
    "make_series_id",
    "normalize_period",
    "parse_time",
    "to_number",
    "to_series",
]

logger = logging.getLogger(__name__)

#: Seconds to wait for a source (connect and read) unless the caller says otherwise.
DEFAULT_TIMEOUT_SECONDS = 30.0
#: Seconds a whole fetch (connection, headers and every byte of the body) may take: the
#: per-request timeout bounds each read only, so a source trickling a byte now and then
#: would otherwise hold the fetch for ever.
DEFAULT_DEADLINE_SECONDS = 120.0
#: Longest query accepted: source queries are short keys, never bodies.
MAX_QUERY_CHARS = 500
#: Characters of one path segment of a source's URL: the codes of official sources (letters,
#: digits, ``. _ - + , @ * ~ :``). No ``/``, ``?``, ``#``, ``%`` or ``\``, which would move the
#: request to another path of the same host (``../../x``, ``%2e%2e``).
_SEGMENT = re.compile(r"^[A-Za-z0-9_.+,@*~:-]+$")
_ENCODING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
#: The most bytes of one answer read into memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class FetchedSeries:
    """One series as a source published it.

    Attributes
    ----------
    meta : SeriesMeta
        Id (made from the source and its key unless the caller chose one), name, frequency,
        unit and tags (``source``, ``source_key`` and the source's dimensions).
    values : pd.Series
        Float values on a regular ``PeriodIndex`` (NaN for gaps), named by the id.
    last_updated : datetime or None
        When the source last updated this series, if it says so.
    """

    meta: SeriesMeta
    values: pd.Series
    last_updated: datetime | None = None


@dataclass(frozen=True)
class FetchResult:
    """What one fetch returned.

    Attributes
    ----------
    source : str
        Connector name (``imf``, ``ecb``, ``comtrade``, ``dbnomics``).
    query : str
        The query as given.
    retrieved_at : datetime
        When the response arrived (UTC).
    series : list of FetchedSeries
        At least one series.
    published_at : datetime or None
        The release date the source gives for the whole response (SDMX ``prepared``,
        Comtrade ``refPeriod`` release...), if any.
    """

    source: str
    query: str
    retrieved_at: datetime
    series: list[FetchedSeries] = field(default_factory=list)
    published_at: datetime | None = None


@runtime_checkable
class Connector(Protocol):
    """An official source behind one method."""

    #: Registry name, lowercase.
    name: str

    def fetch(self, query: str) -> FetchResult:
        """Fetch the series ``query`` names.

        Raises
        ------
        InvalidQueryError
            Malformed query, or the source refused it (HTTP 4xx).
        EmptyResultError
            The source has no observations for it.
        SourceError
            HTTP 5xx, transport failure (:class:`SourceTimeoutError` on timeout) or a response
            not in the documented shape (:class:`SourceResponseError`).
        """
        ...


def check_query(source: str, query: object) -> str:
    """The stripped query, or :class:`InvalidQueryError` if it is empty or too long."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidQueryError(f"source {source!r}: the query is empty; give the key of the data, e.g. FLOW/KEY.")
    text = query.strip()
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQueryError(f"source {source!r}: the query has {len(text)} characters; at most {MAX_QUERY_CHARS}.")
    return text


def check_segments(source: str, query: str, segments: Sequence[str]) -> None:
    r"""Refuse a query whose URL path segments could leave the source's API path.

    Raises
    ------
    InvalidQueryError
        Naming the segment: ``..``, ``.``, or one holding ``/ ? # % \``, spaces or other
        characters that no official code uses.
    """
    for segment in segments:
        if not _SEGMENT.match(segment) or set(segment) == {"."}:
            raise InvalidQueryError(
                f"source {source!r}: query {query!r} has the part {segment!r}, which is not a code; codes are "
                "letters, digits and . _ - + , @ * ~ : (no '..', '/', '?', '#', '%')."
            )


def http_get(
    client: httpx.Client,
    source: str,
    query: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
) -> httpx.Response:
    """GET ``url`` and map every failure to a connector error naming the source and the query.

    The whole fetch ends within ``deadline_seconds`` (:class:`SourceTimeoutError`), however
    slowly the source sends. The request (which may carry a key in its headers) is never
    put in a message or a log.
    """
    try:
        response = _get_by(client, url, params, headers, time.monotonic() + deadline_seconds)
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise SourceTimeoutError(
            f"source {source!r} did not answer in time for query {query!r} (within {deadline_seconds:g} s); "
            "retry later."
        ) from exc
    except httpx.HTTPError as exc:
        raise SourceError(
            f"source {source!r} could not be reached for query {query!r} ({type(exc).__name__}); retry later."
        ) from None
    status = response.status_code
    logger.info("source %s: query %r answered HTTP %d", source, query, status)
    if status == 404:
        raise EmptyResultError(f"source {source!r} has no data for query {query!r} (HTTP 404).")
    if 400 <= status < 500:
        raise InvalidQueryError(f"source {source!r} refused query {query!r} (HTTP {status}): {_short_reason(response)}")
    if status >= 300:
        raise SourceError(f"source {source!r} failed on query {query!r} (HTTP {status}); retry later.")
    return response


def _get_by(
    client: httpx.Client,
    url: str,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    deadline: float,
) -> httpx.Response:
    """GET with the body streamed and the monotonic ``deadline`` checked between chunks."""
    remaining = deadline - time.monotonic()
    # Each read waits at most what is left of the deadline (and no longer than the client's own timeout).
    timeout = httpx.Timeout(
        _shorter(client.timeout.read, remaining), connect=_shorter(client.timeout.connect, remaining)
    )
    with client.stream("GET", url, params=params, headers=headers, timeout=timeout) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded: the size cap holds after gzip too
            size += len(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError("the fetch deadline passed")
            if size > MAX_ANSWER_BYTES:
                raise httpx.DecodingError(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
            chunks.append(chunk)
    # Rebuilt from the decoded bytes (so without the encoding headers): .json() and .text work as usual.
    kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _ENCODING_HEADERS]
    return httpx.Response(response.status_code, headers=kept, content=b"".join(chunks), request=response.request)


def _shorter(timeout: float | None, remaining: float) -> float:
    return max(0.001, remaining if timeout is None else min(timeout, remaining))


def _short_reason(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:200]
    return text or response.reason_phrase


def read_json(response: httpx.Response, source: str, query: str) -> Any:
    """The JSON body, or :class:`SourceResponseError`."""
    try:
        return response.json()
    except ValueError:
        raise SourceResponseError(f"source {source!r} answered query {query!r} with a body that is not JSON.") from None


def to_number(value: object, source: str, query: str) -> float | None:
    """A published value as a float; ``None``, ``""`` and ``"NA"`` are gaps.

    Raises
    ------
    SourceResponseError
        If the value is neither a number nor a gap marker.
    """
    if value is None or value in ("", "NA", "NaN"):
        return None
    if isinstance(value, bool):
        raise SourceResponseError(f"source {source!r}, query {query!r}: value {value!r} is not a number.")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SourceResponseError(
            f"source {source!r}, query {query!r}: value {str(value)[:40]!r} is not a number."
        ) from None


def parse_time(value: object) -> datetime | None:
    """An aware UTC time from ISO text a source gives (``2026-11-30T20:00:00Z``), else ``None``.

    Release dates are informative: a date we cannot read is dropped, not an error.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        logger.info("unreadable source date %r ignored", value[:40])
        return None


def make_series_id(source: str, *parts: str) -> str:
    """A store id from the source and the series' key: ``imf.IMTS.CHN.XG_FOB_USD.RUS.A``."""
    raw = ".".join([source, *(p for p in parts if p)])
    return _UNSAFE.sub("_", raw).strip("._-")[:100]


_MONTH_LABEL = re.compile(r"^(\d{4})-?M(\d{2})$")
_COMPACT_MONTH = re.compile(r"^(\d{4})(\d{2})$")


def normalize_period(label: object) -> str:
    """SDMX ``2019-M01`` and Comtrade ``201901`` as ``2019-01``; other labels unchanged."""
    text = str(label).strip()
    match = _MONTH_LABEL.match(text) or _COMPACT_MONTH.match(text)
    return f"{match.group(1)}-{match.group(2)}" if match else text


def to_series(
    source: str,
    query: str,
    meta: SeriesMeta,
    labels: list[str],
    values: list[float | None],
) -> pd.Series:
    """Period labels and values through the one series parser, gaps kept as NaN.

    Raises
    ------
    EmptyResultError
        If no value is present.
    SourceResponseError
        If a label or value is not what the source documents (the parser's message quoted).
    """
    y = np.array([np.nan if v is None else v for v in values], dtype=float)
    labels = [normalize_period(label) for label in labels]
    if len(y) == 0 or np.isnan(y).all():
        raise EmptyResultError(f"source {source!r}: query {query!r} returned no observations for {meta.series_id!r}.")
    try:
        series = parse_series(
            np.asarray(labels, dtype=object),
            y,
            frequency=meta.frequency,
            kind=meta.kind,
            name=meta.series_id,
            allow_gaps=True,
            locator=RowLocator(meta.series_id),
        )
    except (InvalidSeriesError, IngestError) as exc:
        raise SourceResponseError(f"source {source!r}, query {query!r}: {exc}") from None
    return series
