"""UN Comtrade (the v1 API): bilateral trade by reporter, partner, flow and commodity.

The query is the tail of the documented URL, ``TYPE/FREQ/CLASSIFICATION?PARAMETERS``, e.g.
``C/A/HS?reporterCode=156&partnerCode=643&flowCode=X&cmdCode=TOTAL&period=2016,2017,2018``
(goods, annual, HS; China's exports to Russia, all commodities). With a subscription key the
request goes to ``/data/v1/get``, without one to the public ``/public/v1/preview`` (at most
500 records). The key travels in the ``Ocp-Apim-Subscription-Key`` header, never in the URL,
so neither a log line nor an error message can show it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from data.connectors.base import (
    DEFAULT_DEADLINE_SECONDS,
    FetchedSeries,
    FetchResult,
    check_query,
    check_segments,
    http_get,
    make_series_id,
    read_json,
    to_number,
    to_series,
)
from data.connectors.exceptions import EmptyResultError, InvalidQueryError, SourceResponseError
from data.meta import SeriesMeta

__all__ = ["COMTRADE_URL", "ComtradeConnector"]

COMTRADE_URL = "https://comtradeapi.un.org"
_FREQUENCIES = {"A": "annual", "M": "monthly"}
_FLOWS = {"X": "exports", "M": "imports", "RX": "re-exports", "RM": "re-imports"}
#: Parameters the series key is made of; one series per distinct combination.
_KEY_FIELDS = ("reporterCode", "partnerCode", "flowCode", "cmdCode")
_REQUIRED = ("reporterCode", "flowCode")


def _split(query: str) -> tuple[str, str, str, dict[str, str]]:
    path, _, raw = query.partition("?")
    parts = path.strip("/").split("/")
    try:
        params = dict(parse_qsl(raw, keep_blank_values=False, strict_parsing=bool(raw)))
    except ValueError:
        params = {}
    if len(parts) != 3 or not all(parts) or parts[1] not in _FREQUENCIES or not params:
        raise InvalidQueryError(
            f"source 'comtrade': query {query!r} is not TYPE/FREQ/CLASSIFICATION?PARAMETERS with FREQ A or M, "
            "e.g. C/A/HS?reporterCode=156&partnerCode=643&flowCode=X&cmdCode=TOTAL&period=2019,2020."
        )
    if any(name.lower().replace("_", "-") == "subscription-key" for name in params):
        # A key in the query would be stored with the refresh and logged with the request.
        raise InvalidQueryError(
            "source 'comtrade': the query holds a subscription key; set TRADECAST_COMTRADE_KEY instead "
            "and leave it out of the query."
        )
    missing = [name for name in _REQUIRED if name not in params]
    if missing:
        raise InvalidQueryError(f"source 'comtrade': query {query!r} lacks {', '.join(missing)}.")
    return parts[0], parts[1], parts[2], params


class ComtradeConnector:
    """UN Comtrade final data.

    Parameters
    ----------
    client : httpx.Client
        The HTTP client (timeouts set by the caller).
    key : str, optional
        Subscription key (``TRADECAST_COMTRADE_KEY``); without it the public preview is used.
    base_url : str
        The API root.
    deadline_seconds : float
        The whole fetch ends within this (the client's timeout bounds each read only).
    """

    name = "comtrade"

    def __init__(
        self,
        client: httpx.Client,
        *,
        key: str | None = None,
        base_url: str = COMTRADE_URL,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    ) -> None:
        self.client = client
        self.deadline_seconds = deadline_seconds
        self._key = key or None
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        # The key is a secret: never part of a repr that may end up in a log.
        return f"ComtradeConnector(base_url={self.base_url!r}, key={'***' if self._key else None})"

    def fetch(self, query: str) -> FetchResult:
        """Fetch ``TYPE/FREQ/CLASSIFICATION?PARAMETERS``; see :class:`~data.connectors.base.Connector`."""
        query = check_query(self.name, query)
        type_code, freq, classification, params = _split(query)
        # The key header goes with the request: the path must stay the documented one.
        check_segments(self.name, query, [type_code, freq, classification])
        if self._key:
            url = f"{self.base_url}/data/v1/get/{type_code}/{freq}/{classification}"
            headers = {"Ocp-Apim-Subscription-Key": self._key}
        else:
            url = f"{self.base_url}/public/v1/preview/{type_code}/{freq}/{classification}"
            headers = {}
        response = http_get(
            self.client, self.name, query, url, params=params, headers=headers, deadline_seconds=self.deadline_seconds
        )
        retrieved = datetime.now(UTC)
        payload = read_json(response, self.name, query)
        if isinstance(payload, dict) and payload.get("error"):
            raise InvalidQueryError(f"source 'comtrade' refused query {query!r}: {str(payload['error'])[:200]}")
        rows = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise SourceResponseError(f"source 'comtrade', query {query!r}: the answer has no 'data' list.")
        if not rows:
            raise EmptyResultError(f"source 'comtrade': query {query!r} returned no records.")
        return FetchResult(self.name, query, retrieved, self._series(query, freq, rows))

    def _series(self, query: str, freq: str, rows: list[Any]) -> list[FetchedSeries]:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if not isinstance(row, dict) or "period" not in row or "primaryValue" not in row:
                raise SourceResponseError(f"source 'comtrade', query {query!r}: a record lacks period or primaryValue.")
            groups[tuple(str(row.get(f, "")) for f in _KEY_FIELDS)].append(row)
        out = []
        for key, members in groups.items():
            first = members[0]
            reporter, partner, flow, cmd = key
            series_id = make_series_id(self.name, freq, *key)
            name = (
                f"{first.get('reporterDesc') or reporter} {_FLOWS.get(flow, flow)} "
                f"{'to' if flow.endswith('X') else 'from'} {first.get('partnerDesc') or partner} ({cmd})"
            )
            tags = {
                "source": self.name,
                "source_key": ".".join(key),
                "reporter": str(first.get("reporterISO") or reporter),
                "partner": str(first.get("partnerISO") or partner),
                "flow": flow,
                "commodity": cmd,
            }
            meta = SeriesMeta(series_id, name=name, frequency=_FREQUENCIES[freq], unit="USD", tags=tags)
            labels = [str(r["period"]) for r in members]
            values = [to_number(r["primaryValue"], self.name, query) for r in members]
            out.append(FetchedSeries(meta, to_series(self.name, query, meta, labels, values)))
        return out
