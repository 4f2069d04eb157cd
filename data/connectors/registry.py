"""Source name -> connector, written out (no discovery), and the one-call :func:`fetch_source`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from data.connectors.base import DEFAULT_DEADLINE_SECONDS, DEFAULT_TIMEOUT_SECONDS, Connector, FetchResult
from data.connectors.comtrade import COMTRADE_URL, ComtradeConnector
from data.connectors.dbnomics import DBNOMICS_URL, DBnomicsConnector
from data.connectors.exceptions import UnknownSourceError
from data.connectors.sdmx import ECB_URL, IMF_URL, SdmxJsonConnector

__all__ = ["PUBLIC_URLS", "SOURCES", "SourceOptions", "fetch_source", "get_connector", "list_sources"]

#: Source name -> the service root each connector calls unless the caller names another.
PUBLIC_URLS = {"imf": IMF_URL, "ecb": ECB_URL, "comtrade": COMTRADE_URL, "dbnomics": DBNOMICS_URL}


@dataclass(frozen=True)
class SourceOptions:
    """What connectors need from the caller's settings.

    Attributes
    ----------
    timeout_seconds : float
        Connect and read timeout of each request.
    deadline_seconds : float
        The most one fetch (connection and the whole answer) may take.
    comtrade_key : str or None
        UN Comtrade subscription key (a secret: never logged, never in a repr).
    transport : httpx.BaseTransport or None
        The HTTP transport of the clients :func:`fetch_source` opens (default: the network);
        tests pass an ``httpx.MockTransport`` serving recorded responses.
    base_urls : Mapping of str to str
        Source name -> service root to call instead of its public address
        (:data:`PUBLIC_URLS`): a mirror, a proxy, or a local stand-in serving recorded
        answers. Sources not named keep their public address.
    """

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    comtrade_key: str | None = None
    transport: httpx.BaseTransport | None = None
    base_urls: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        key = "***" if self.comtrade_key else None
        return (
            f"SourceOptions(timeout_seconds={self.timeout_seconds}, comtrade_key={key}, "
            f"base_urls={dict(self.base_urls)!r})"
        )

    def base_url(self, source: str) -> str:
        """The service root to call for ``source``: the one given, else its public address."""
        return self.base_urls.get(source) or PUBLIC_URLS[source]


def _imf(client: httpx.Client, options: SourceOptions) -> Connector:
    return SdmxJsonConnector(
        "imf", options.base_url("imf"), client, agency="IMF.STA", deadline_seconds=options.deadline_seconds
    )


def _ecb(client: httpx.Client, options: SourceOptions) -> Connector:
    return SdmxJsonConnector(
        "ecb", options.base_url("ecb"), client, params={"format": "jsondata"}, deadline_seconds=options.deadline_seconds
    )


def _comtrade(client: httpx.Client, options: SourceOptions) -> Connector:
    return ComtradeConnector(
        client,
        key=options.comtrade_key,
        base_url=options.base_url("comtrade"),
        deadline_seconds=options.deadline_seconds,
    )


def _dbnomics(client: httpx.Client, options: SourceOptions) -> Connector:
    return DBnomicsConnector(client, base_url=options.base_url("dbnomics"), deadline_seconds=options.deadline_seconds)


#: Source name -> (factory, one-line description with an example query).
SOURCES: dict[str, tuple[Callable[[httpx.Client, SourceOptions], Connector], str]] = {
    "imf": (_imf, "IMF SDMX (IMTS bilateral trade, exchange rates): FLOW/KEY, e.g. IMTS/CHN.XG_FOB_USD.RUS.A"),
    "ecb": (_ecb, "European Central Bank SDMX: FLOW/KEY, e.g. EXR/M.CNY.EUR.SP00.A"),
    "comtrade": (
        _comtrade,
        "UN Comtrade: TYPE/FREQ/CLASSIFICATION?PARAMETERS, "
        "e.g. C/A/HS?reporterCode=156&partnerCode=643&flowCode=X&cmdCode=TOTAL",
    ),
    "dbnomics": (
        _dbnomics,
        "DBnomics (mirrors IMF, Eurostat, OECD...): PROVIDER/DATASET/SERIES, e.g. IMF/DOT/A.CN.TXG_FOB_USD.RU",
    ),
}


def list_sources() -> dict[str, str]:
    """Source name -> description with an example query."""
    return {name: description for name, (_, description) in SOURCES.items()}


def get_connector(source: str, client: httpx.Client, options: SourceOptions | None = None) -> Connector:
    """The connector of ``source`` on ``client``.

    Raises
    ------
    UnknownSourceError
        If no connector has that name.
    """
    entry = SOURCES.get(str(source).lower())
    if entry is None:
        raise UnknownSourceError(f"unknown source {source!r}; choose one of {', '.join(sorted(SOURCES))}.")
    return entry[0](client, options or SourceOptions())


def fetch_source(
    source: str, query: str, *, options: SourceOptions | None = None, client: httpx.Client | None = None
) -> FetchResult:
    """Fetch ``query`` from ``source``: the notebook entry point.

    Parameters
    ----------
    source : str
        ``imf``, ``ecb``, ``comtrade`` or ``dbnomics`` (see :func:`list_sources`).
    query : str
        The source's key, e.g. ``IMF/DOT/A.CN.TXG_FOB_USD.RU`` for DBnomics.
    options : SourceOptions, optional
        Timeout and credentials.
    client : httpx.Client, optional
        An HTTP client to use (tests pass one on recorded responses); by default one is
        opened with ``options.timeout_seconds`` and closed afterwards.

    Returns
    -------
    FetchResult

    Raises
    ------
    UnknownSourceError, InvalidQueryError, EmptyResultError, SourceError
    """
    options = options or SourceOptions()
    if client is not None:
        return get_connector(source, client, options).fetch(query)
    with httpx.Client(timeout=options.timeout_seconds, follow_redirects=True, transport=options.transport) as own:
        return get_connector(source, own, options).fetch(query)
