"""Recorded source responses served by an ``httpx.MockTransport``: no test touches the network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

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
