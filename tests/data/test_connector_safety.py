"""Connector queries stay on the source's API path; a whole fetch ends by its deadline."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import AbstractContextManager

import httpx
import pytest

from data.connectors import InvalidQueryError, SourceOptions, SourceTimeoutError, fetch_source, get_connector
from data.connectors.base import http_get
from tests.data._recorded import COMTRADE_QUERY, DBNOMICS_QUERY, ECB_QUERY, Recorded
from tests.local_servers import drip, socket_server


@pytest.mark.parametrize(
    ("source", "query"),
    [
        ("dbnomics", "../../x/y"),
        ("dbnomics", "IMF/../A.CN"),
        ("dbnomics", "IMF/DOT/A.CN?x=1"),
        ("dbnomics", "IMF/DOT/A.CN#frag"),
        ("dbnomics", "IMF/%2e%2e/A.CN"),
        ("dbnomics", "IMF/DOT/A%2F..%2Fx"),
        ("dbnomics", "IMF/./A.CN"),
        ("dbnomics", "IMF\\..\\x/DOT/A"),
        ("ecb", "../x"),
        ("ecb", "EXR/.."),
        ("ecb", "..%2f../M.CNY"),
        ("ecb", "EXR/M.CNY?format=csv"),
        ("imf", "IMTS/CHN%2F..%2F..%2Fadmin"),
        ("comtrade", "../A/HS?reporterCode=156&flowCode=X"),
        ("comtrade", "C/A/..?reporterCode=156&flowCode=X"),
        ("comtrade", "C/A/%2e%2e?reporterCode=156&flowCode=X"),
        ("comtrade", "C/A/H#S?reporterCode=156&flowCode=X"),
    ],
)
def test_query_parts_that_could_leave_the_api_path_are_refused(source: str, query: str) -> None:
    recorded = Recorded()
    with pytest.raises(InvalidQueryError) as info:
        fetch_source(source, query, options=SourceOptions(transport=recorded.transport, comtrade_key="k" * 20))
    assert info.value.code == "invalid_query"
    assert recorded.requests == []  # refused before any request, so no key header left the process


def test_ordinary_queries_still_pass_the_segment_check() -> None:
    for source, query in (("dbnomics", DBNOMICS_QUERY), ("ecb", ECB_QUERY), ("comtrade", COMTRADE_QUERY)):
        assert fetch_source(source, query, options=SourceOptions(transport=Recorded().transport)).series


def _dripping_source(interval: float) -> AbstractContextManager[str]:
    """An HTTP server that sends its answer one byte every ``interval`` seconds."""
    body = b'{"series": {"docs": []}}' + b" " * 10_000
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        try:
            conn.sendall(head)
        except OSError:
            return
        drip(conn, stop, body, interval)

    return socket_server(answer)


def test_source_trickling_a_byte_at_a_time_hits_the_whole_fetch_deadline() -> None:
    with _dripping_source(0.2) as base, httpx.Client(timeout=5.0) as client:
        started = time.monotonic()
        with pytest.raises(SourceTimeoutError, match="within 1 s"):
            http_get(client, "dbnomics", "A/B/C", f"{base}/series", deadline_seconds=1.0)
        took = time.monotonic() - started
    assert took < 2.5, took  # each read is quick (0.2 s < 5 s timeout): only the deadline ends it


def test_connectors_take_the_deadline_from_the_options() -> None:
    options = SourceOptions(deadline_seconds=0.6)
    with _dripping_source(0.2) as base, httpx.Client(timeout=5.0) as client:
        connector = get_connector("dbnomics", client, options)
        connector.base_url = base  # type: ignore[attr-defined]
        started = time.monotonic()
        with pytest.raises(SourceTimeoutError):
            connector.fetch("IMF/DOT/A.CN.TXG_FOB_USD.RU")
    assert time.monotonic() - started < 2.0
