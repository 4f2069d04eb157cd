"""SDMX-JSON sources: the IMF (IMTS bilateral trade, exchange rates) and the ECB.

Both publish SDMX 2.1 REST (``/data/{flow}/{key}``) and answer in SDMX-JSON. The query is
``FLOW/KEY`` exactly as on the source's data portal, e.g. ``EXR/M.CNY.EUR.SP00.A`` (ECB,
monthly yuan per euro) or ``IMTS/CHN.XG_FOB_USD.RUS.A`` (IMF, China's exports to Russia).

:func:`parse_sdmx_json` reads both message versions: 1.0 (``dataSets`` and ``structure`` at
the top) and 2.0 (under ``data``, with ``structures``). Series keys are positions into the
series dimensions' value lists (``"0:1:0"``), observation keys positions into the time
dimension's values, per the SDMX-JSON specification.
"""

from __future__ import annotations

from dataclasses import dataclass
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

__all__ = ["ECB_URL", "IMF_URL", "SdmxJsonConnector", "SdmxSeries", "parse_sdmx_json"]

ECB_URL = "https://data-api.ecb.europa.eu/service"
IMF_URL = "https://api.imf.org/external/sdmx/2.1"
_ACCEPT = "application/vnd.sdmx.data+json;version=1.0.0"
_FREQUENCIES = {"A": "annual", "Q": "quarterly", "M": "monthly"}
_UNIT_ATTRIBUTES = ("UNIT", "UNIT_MEASURE", "CURRENCY")
_TITLE_ATTRIBUTES = ("TITLE", "TITLE_COMPL", "SERIES_NAME")


@dataclass(frozen=True)
class SdmxSeries:
    """One series of an SDMX-JSON message: its key, time labels, values and attributes."""

    dimensions: dict[str, str]
    labels: list[str]
    values: list[float | None]
    attributes: dict[str, str]


def _message_parts(payload: Any, source: str, query: str) -> tuple[list[Any], dict[str, Any], Any]:
    """(dataSets, structure, prepared) of a 1.0 or 2.0 message."""
    if not isinstance(payload, dict):
        raise SourceResponseError(f"source {source!r}, query {query!r}: the answer is not an SDMX-JSON message.")
    body: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else payload
    header = payload.get("header") or payload.get("meta") or {}
    structure = body.get("structure")
    if structure is None and isinstance(body.get("structures"), list) and body["structures"]:
        structure = body["structures"][0]
    datasets = body.get("dataSets")
    if not isinstance(datasets, list) or not isinstance(structure, dict):
        raise SourceResponseError(
            f"source {source!r}, query {query!r}: the SDMX-JSON message has no dataSets or structure."
        )
    return datasets, structure, header.get("prepared") if isinstance(header, dict) else None


def _value_name(value: dict[str, Any]) -> str:
    name = value.get("name", value.get("id", ""))
    if isinstance(name, dict):  # localised names: {"en": "..."}
        name = name.get("en") or next(iter(name.values()), "")
    return str(name)


def _attributes(structure: dict[str, Any], positions: list[Any]) -> dict[str, str]:
    specs = (structure.get("attributes") or {}).get("series") or []
    out: dict[str, str] = {}
    for spec, position in zip(specs, positions, strict=False):
        values = spec.get("values") or []
        if isinstance(position, int) and 0 <= position < len(values):
            out[str(spec.get("id"))] = _value_name(values[position])
    return out


def parse_sdmx_json(payload: Any, source: str, query: str) -> tuple[list[SdmxSeries], datetime | None]:
    """Every series of an SDMX-JSON data message, and the message's ``prepared`` time.

    Raises
    ------
    SourceResponseError
        If the message lacks the parts the specification requires.
    EmptyResultError
        If it holds no series.
    """
    datasets, structure, prepared = _message_parts(payload, source, query)
    dims = structure.get("dimensions") or {}
    series_dims = dims.get("series") or []
    time_dims = dims.get("observation") or []
    if not time_dims:
        raise SourceResponseError(f"source {source!r}, query {query!r}: the message has no time dimension.")
    times = [str(v.get("id")) for v in time_dims[0].get("values") or []]
    found: list[SdmxSeries] = []
    for dataset in datasets:
        for key, body in (dataset.get("series") or {}).items():
            try:
                positions = [int(p) for p in str(key).split(":")] if key != "" else []
                dimensions = {
                    str(d["id"]): str(d["values"][p]["id"]) for d, p in zip(series_dims, positions, strict=True)
                }
                pairs = sorted((int(k), v) for k, v in (body.get("observations") or {}).items())
                labels = [times[i] for i, _ in pairs]
            except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
                raise SourceResponseError(
                    f"source {source!r}, query {query!r}: series key {key!r} does not match the structure."
                ) from exc
            values = [to_number(obs[0] if obs else None, source, query) for _, obs in pairs]
            found.append(SdmxSeries(dimensions, labels, values, _attributes(structure, body.get("attributes") or [])))
    if not found:
        raise EmptyResultError(f"source {source!r}: query {query!r} matches no series.")
    return found, parse_time(prepared)


class SdmxJsonConnector:
    """A source that serves SDMX 2.1 REST data queries as SDMX-JSON.

    Parameters
    ----------
    name : str
        Registry name (``imf``, ``ecb``).
    base_url : str
        The service root; the request is ``{base_url}/data/{agency,}FLOW/KEY``.
    client : httpx.Client
        The HTTP client (timeouts set by the caller).
    agency : str, optional
        Agency prefixed to the flow when the query does not name one (``IMF.STA`` for the IMF).
    params : dict, optional
        Query parameters added to every request (the ECB's ``format=jsondata``).
    deadline_seconds : float
        The whole fetch ends within this (the client's timeout bounds each read only).
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        client: httpx.Client,
        *,
        agency: str | None = None,
        params: dict[str, str] | None = None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    ) -> None:
        self.deadline_seconds = deadline_seconds
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.agency = agency
        self.params = dict(params or {})

    def _split(self, query: str) -> tuple[str, str]:
        flow, sep, key = query.partition("/")
        if not sep or not flow or not key or "/" in key or any(c.isspace() for c in query):
            raise InvalidQueryError(
                f"source {self.name!r}: query {query!r} is not FLOW/KEY (e.g. EXR/M.CNY.EUR.SP00.A); "
                "separate dimensions with '.', alternatives with '+'."
            )
        return flow, key

    def fetch(self, query: str) -> FetchResult:
        """Fetch ``FLOW/KEY``; see :class:`~data.connectors.base.Connector`."""
        query = check_query(self.name, query)
        flow, key = self._split(query)
        check_segments(self.name, query, [flow, key])
        if self.agency and "," not in flow:
            flow = f"{self.agency},{flow}"
        params = {**self.params, "detail": "full"}
        response = http_get(
            self.client,
            self.name,
            query,
            f"{self.base_url}/data/{flow}/{key}",
            params=params,
            headers={"Accept": _ACCEPT},
            deadline_seconds=self.deadline_seconds,
        )
        retrieved = datetime.now(UTC)
        found, published = parse_sdmx_json(read_json(response, self.name, query), self.name, query)
        series = [self._to_fetched(query, flow, item) for item in found]
        return FetchResult(self.name, query, retrieved, series, published_at=published)

    def _to_fetched(self, query: str, flow: str, item: SdmxSeries) -> FetchedSeries:
        code = item.dimensions.get("FREQ") or item.dimensions.get("FREQUENCY") or ""
        frequency = _FREQUENCIES.get(code)
        if frequency is None:
            raise InvalidQueryError(
                f"source {self.name!r}, query {query!r}: frequency {code!r} is not stored; "
                "ask for annual (A), quarterly (Q) or monthly (M) data."
            )
        series_key = ".".join(item.dimensions.values())
        series_id = make_series_id(self.name, flow.split(",")[-1], series_key)
        unit = next((item.attributes[a] for a in _UNIT_ATTRIBUTES if a in item.attributes), "")
        if item.attributes.get("UNIT_MULT") not in (None, "", "0"):
            unit = f"{unit} x10^{item.attributes['UNIT_MULT']}".strip()
        title = next((item.attributes[a] for a in _TITLE_ATTRIBUTES if a in item.attributes), series_key)
        tags = {"source": self.name, "source_flow": flow, "source_key": series_key, **item.dimensions}
        meta = SeriesMeta(series_id, name=title[:300], frequency=frequency, unit=unit[:100], tags=tags)
        return FetchedSeries(meta, to_series(self.name, query, meta, item.labels, item.values))
