"""DBnomics (API v22): one door to the IMF, Eurostat, OECD, BIS and national sources it mirrors.

The query is ``PROVIDER/DATASET/SERIES`` as on db.nomics.world, e.g.
``IMF/DOT/A.CN.TXG_FOB_USD.RU`` (China's exports to Russia, from the IMF's Direction of
Trade) or ``Eurostat/ext_st_eu27_2020sitc/M.EXP.SITC0-4.EU27_2020.RU`` (wildcards such as
``M..`` are refused: one series per query keeps the store's ids stable).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from data.connectors.base import (
    DEFAULT_DEADLINE_SECONDS,
    FetchedSeries,
    FetchResult,
    check_query,
    check_segments,
    http_get,
    make_series_id,
    parse_time,
    read_json,
    to_number,
    to_series,
)
from data.connectors.exceptions import EmptyResultError, InvalidQueryError, SourceResponseError
from data.meta import SeriesMeta

__all__ = ["DBNOMICS_URL", "DBnomicsConnector"]

DBNOMICS_URL = "https://api.db.nomics.world/v22"
_FREQUENCIES = {"annual": "annual", "quarterly": "quarterly", "monthly": "monthly"}


class DBnomicsConnector:
    """DBnomics series.

    Parameters
    ----------
    client : httpx.Client
        The HTTP client (timeouts set by the caller).
    base_url : str
        The API root.
    deadline_seconds : float
        The whole fetch ends within this (the client's timeout bounds each read only).
    """

    name = "dbnomics"

    def __init__(
        self, client: httpx.Client, *, base_url: str = DBNOMICS_URL, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.deadline_seconds = deadline_seconds

    def fetch(self, query: str) -> FetchResult:
        """Fetch ``PROVIDER/DATASET/SERIES``; see :class:`~data.connectors.base.Connector`."""
        query = check_query(self.name, query)
        parts = query.split("/")
        if len(parts) != 3 or not all(parts) or ".." in parts[2] or any(c.isspace() for c in query):
            raise InvalidQueryError(
                f"source 'dbnomics': query {query!r} is not PROVIDER/DATASET/SERIES with a full series code, "
                "e.g. IMF/DOT/A.CN.TXG_FOB_USD.RU."
            )
        check_segments(self.name, query, parts)
        response = http_get(
            self.client,
            self.name,
            query,
            f"{self.base_url}/series/{query}",
            params={"observations": "1", "format": "json", "metadata": "false"},
            deadline_seconds=self.deadline_seconds,
        )
        retrieved = datetime.now(UTC)
        payload = read_json(response, self.name, query)
        docs = (payload.get("series") or {}).get("docs") if isinstance(payload, dict) else None
        if not isinstance(docs, list):
            raise SourceResponseError(f"source 'dbnomics', query {query!r}: the answer has no series.docs list.")
        if not docs:
            raise EmptyResultError(f"source 'dbnomics': query {query!r} matches no series.")
        series = [self._to_fetched(query, doc) for doc in docs]
        return FetchResult(self.name, query, retrieved, series)

    def _to_fetched(self, query: str, doc: Any) -> FetchedSeries:
        try:
            provider, dataset, code = doc["provider_code"], doc["dataset_code"], doc["series_code"]
            labels, raw = list(doc["period"]), list(doc["value"])
        except (KeyError, TypeError) as exc:
            raise SourceResponseError(
                f"source 'dbnomics', query {query!r}: a series lacks {exc} (provider_code, dataset_code, "
                "series_code, period, value)."
            ) from None
        frequency = _FREQUENCIES.get(str(doc.get("@frequency", "")))
        if frequency is None:
            raise InvalidQueryError(
                f"source 'dbnomics', query {query!r}: frequency {doc.get('@frequency')!r} is not stored; "
                "ask for an annual, quarterly or monthly series."
            )
        values = [to_number(v, self.name, query) for v in raw]
        dimensions = {str(k): str(v) for k, v in (doc.get("dimensions") or {}).items()}
        tags = {"source": self.name, "source_key": f"{provider}/{dataset}/{code}", **dimensions}
        meta = SeriesMeta(
            make_series_id(self.name, provider, dataset, code),
            name=str(doc.get("series_name") or code)[:300],
            frequency=frequency,
            tags=tags,
        )
        updated = parse_time(doc.get("indexed_at"))
        return FetchedSeries(meta, to_series(self.name, query, meta, labels, values), last_updated=updated)
