"""Recorded source responses: no test touches the network.

:class:`Recorded` serves them to a connector's client through an ``httpx.MockTransport``;
:func:`recorded_sources_server` serves the same answers over HTTP on 127.0.0.1, for the tests
that run ``tradecast`` and the service as separate processes (the README's source examples),
pointed at it by ``TRADECAST_IMF_URL`` and the like.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from data.connectors.registry import PUBLIC_URLS

RECORDED = Path(__file__).parent / "recorded"

IMF_QUERY = "IMTS/CHN.XG_FOB_USD.RUS.A"
ECB_QUERY = "ETR/M.AT.RU.IMP"
COMTRADE_QUERY = "C/A/HS?reporterCode=156&partnerCode=643&flowCode=X&cmdCode=TOTAL&period=2016,2017,2018,2019,2020"
DBNOMICS_QUERY = "IMF/DOT/A.CN.TMG_CIF_USD.RU"

#: (host, path) -> recorded body.
ROUTES = {
    (
        "api.imf.org",
        "/external/sdmx/2.1/data/IMF.STA,IMTS/CHN.XG_FOB_USD.RUS.A",
    ): "imf_imts_chn_rus_exports_annual.json",
    ("data-api.ecb.europa.eu", "/service/data/ETR/M.AT.RU.IMP"): "ecb_sdmx2_monthly.json",
    ("comtradeapi.un.org", "/data/v1/get/C/A/HS"): "comtrade_chn_rus_exports_annual.json",
    ("comtradeapi.un.org", "/public/v1/preview/C/A/HS"): "comtrade_chn_rus_exports_annual.json",
    ("api.db.nomics.world", "/v22/series/IMF/DOT/A.CN.TMG_CIF_USD.RU"): "dbnomics_imf_dot_chn_rus_imports_annual.json",
    # The README's example: China's exports to Russia through DBnomics.
    ("api.db.nomics.world", "/v22/series/IMF/DOT/A.CN.TXG_FOB_USD.RU"): "dbnomics_imf_dot_chn_rus_exports_annual.json",
}


class Recorded:
    """A transport answering from :data:`ROUTES`, 404 elsewhere; keeps every request it saw.

    ``body`` answers every request instead; ``status`` sets the answers' status; ``error``
    raises instead of answering.
    """

    def __init__(
        self,
        *,
        body: bytes | None = None,
        status: int = 200,
        error: Callable[[httpx.Request], Exception] | None = None,
    ) -> None:
        self.requests: list[httpx.Request] = []
        self.body = body
        self.status = status
        self.error = error
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error(request)
        name = ROUTES.get((request.url.host, request.url.path))
        if self.body is None and name is None:
            return httpx.Response(404, json={"message": "No results found"})
        content = self.body if self.body is not None else (RECORDED / str(name)).read_bytes()
        return httpx.Response(self.status, content=content, headers={"Content-Type": "application/json"})

    def client(self) -> httpx.Client:
        """A client on this transport."""
        return httpx.Client(transport=self.transport)


@dataclass
class SourcesStandIn:
    """A local HTTP server answering as the official sources do, from :data:`ROUTES`.

    Attributes
    ----------
    urls : dict of str to str
        Source name -> service root on the stand-in (``http://127.0.0.1:PORT/api.imf.org/...``):
        the public root with its host moved into the path, so one server answers for every source.
    paths : list of str
        The path of every request it received, in order (query strings dropped).
    """

    urls: dict[str, str]
    paths: list[str] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """``TRADECAST_<SOURCE>_URL`` variables pointing the service and the CLI here."""
        return {f"TRADECAST_{name.upper()}_URL": url for name, url in self.urls.items()}


@contextmanager
def recorded_sources_server() -> Iterator[SourcesStandIn]:
    """Serve the recorded answers over HTTP on 127.0.0.1 (404 with a JSON message elsewhere)."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            paths.append(path)
            host, _, rest = path.lstrip("/").partition("/")
            name = ROUTES.get((host, "/" + rest))
            body = (RECORDED / name).read_bytes() if name else b'{"message": "No results found"}'
            self.send_response(200 if name else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads ``paths`` instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    urls = {name: f"{root}/{urlsplit(url).netloc}{urlsplit(url).path}" for name, url in PUBLIC_URLS.items()}
    try:
        yield SourcesStandIn(urls, paths)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
