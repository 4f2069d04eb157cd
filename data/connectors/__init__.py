"""Official sources (IMF, ECB, UN Comtrade, DBnomics) behind one interface.

Usage::

    from data.connectors import fetch_source
    result = fetch_source("dbnomics", "IMF/DOT/A.CN.TXG_FOB_USD.RU")
    result.series[0].values          # float series on a PeriodIndex
    store.sources.store_fetch(result)  # a new vintage only if the data changed

See ``docs/connectors.md`` for the query syntax of each source and why plain ``httpx``
is used rather than each source's own client.
"""

from __future__ import annotations

from data.connectors.base import DEFAULT_TIMEOUT_SECONDS, Connector, FetchedSeries, FetchResult
from data.connectors.exceptions import (
    EmptyResultError,
    InvalidQueryError,
    SourceError,
    SourceResponseError,
    SourceTimeoutError,
    UnknownSourceError,
)
from data.connectors.registry import SOURCES, SourceOptions, fetch_source, get_connector, list_sources

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "SOURCES",
    "Connector",
    "EmptyResultError",
    "FetchResult",
    "FetchedSeries",
    "InvalidQueryError",
    "SourceError",
    "SourceOptions",
    "SourceResponseError",
    "SourceTimeoutError",
    "UnknownSourceError",
    "fetch_source",
    "get_connector",
    "list_sources",
]
