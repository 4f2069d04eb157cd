"""Issue 21, the reliability items finished here: auth before any body limit, a body read
timeout (a raw socket against a real server), and defined repeated query parameters."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import uvicorn

import api.routes.forecasts as forecast_routes
import api.routes.series as series_routes
import api.service.forecasts as service_forecasts
from api.main import create_app
from api.service.admission import FitGate, OverloadedError, UploadWorker
from api.settings import Settings
from tests.api.conftest import READ_KEY, WRITE_KEY, TestClient, annual, assert_error, make_settings
from tests.api.servers import free_port

KEYS = f"{WRITE_KEY}:write,{READ_KEY}:read"

#: Generous: the point is "not stuck behind the uploads", not a latency figure.
FAST_SECONDS = 5.0


class LiveServer:
    """``create_app(settings)`` served by uvicorn in a thread of this process, on loopback."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes, float]:
    """(status, headers, body, seconds) of one HTTP/1.1 response read from ``sock``."""
    start = time.monotonic()
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return int(lines[0].split()[1]), headers, body, time.monotonic() - start


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the peer closes ``sock`` within ``seconds`` (reads EOF)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path, api_keys=KEYS, max_body_bytes=4096))) as client:
        yield client


# -- item 12: auth is checked before any body limit ---------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/forecasts"), ("POST", "/v1/series"), ("POST", "/v1/backtests"), ("PUT", "/v1/reports/r")],
)
def test_body_over_the_limit_without_a_key_is_401_not_413(keyed: TestClient, method: str, path: str) -> None:
    big = b'{"data": "' + b"x" * 10_000 + b'"}'
    response = keyed.request(method, path, content=big, headers={"Content-Type": "application/json"})
    assert_error(response, 401, "not_authenticated")


def test_body_over_the_limit_with_a_read_key_is_403(keyed: TestClient) -> None:
    big = b"{" + b" " * 10_000 + b"}"
    headers = {"Authorization": f"Bearer {READ_KEY}", "Content-Type": "application/json"}
    assert_error(keyed.post("/v1/forecasts", content=big, headers=headers), 403, "forbidden")


def test_body_over_the_limit_with_a_write_key_is_413_naming_the_limit(keyed: TestClient) -> None:
    big = b"{" + b" " * 10_000 + b"}"
    headers = {"Authorization": f"Bearer {WRITE_KEY}", "Content-Type": "application/json"}
    error = assert_error(keyed.post("/v1/forecasts", content=big, headers=headers), 413, "payload_too_large")
    assert error["details"] == {"max_body_bytes": 4096}


def test_declared_length_over_the_limit_without_a_key_is_401_and_no_body_is_awaited(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_keys=KEYS, max_body_bytes=4096, body_timeout_seconds=30)
    with LiveServer(settings) as server, server.connect() as sock:
        # Declares 10 MB and sends none of it: the answer must not wait for the body.
        sock.sendall(b"POST /v1/forecasts HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n")
        status, _, body, seconds = read_response(sock, timeout=10)
        assert status == 401 and json.loads(body)["error"]["code"] == "not_authenticated"
        assert seconds < 5


def test_declared_length_over_the_limit_with_a_key_is_413_at_once_and_closes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_keys=KEYS, max_body_bytes=4096, body_timeout_seconds=30)
    with LiveServer(settings) as server, server.connect() as sock:
        request = f"POST /v1/forecasts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {WRITE_KEY}\r\n"
        sock.sendall(request.encode() + b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n")
        status, headers, body, seconds = read_response(sock, timeout=10)
        assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
        assert seconds < 5 and headers.get("connection") == "close"
        assert closed_within(sock, 5)


# -- item 12: a body that does not arrive is answered 408 and its connection closed -------


@pytest.fixture
def slow_body_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, body_timeout_seconds=1.0)) as server:
        yield server


@pytest.mark.parametrize("path", ["/v1/forecasts", "/v1/series"])
def test_incomplete_body_is_answered_408_and_closed_within_the_timeout(slow_body_server: LiveServer, path: str) -> None:
    with slow_body_server.connect() as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
        sock.sendall(head.encode() + b'{"data": [')  # then nothing more
        status, headers, body, seconds = read_response(sock, timeout=10)
        error = json.loads(body)["error"]
        assert status == 408 and error["code"] == "request_timeout", body
        assert "TRADECAST_BODY_TIMEOUT_SECONDS" in error["message"]
        assert error["details"] == {"body_timeout_seconds": 1.0}
        assert 0.9 <= seconds < 5, seconds
        assert headers.get("connection") == "close"
        assert closed_within(sock, 5), "the connection stayed open after the 408"


def test_incomplete_multipart_upload_is_408_not_500(slow_body_server: LiveServer) -> None:
    with slow_body_server.connect() as sock:
        head = (
            "POST /v1/series HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
            "Content-Length: 5000\r\n\r\n"
        )
        part = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nds,a\n2000,1\n'
        sock.sendall(head.encode() + part)
        status, _, body, seconds = read_response(sock, timeout=10)
        assert status == 408 and json.loads(body)["error"]["code"] == "request_timeout", body
        assert seconds < 5 and closed_within(sock, 5)


def test_body_dripping_slower_than_the_timeout_is_408_even_if_bytes_keep_coming(slow_body_server: LiveServer) -> None:
    with slow_body_server.connect() as sock:
        sock.sendall(b"POST /v1/forecasts HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n")
        start = time.monotonic()
        sock.settimeout(0.25)
        answer = b""
        while time.monotonic() - start < 8 and not answer:
            sock.sendall(b" ")  # one byte every 0.25 s: never idle, never complete
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - start < 5


def test_complete_body_after_a_pause_shorter_than_the_timeout_is_served(slow_body_server: LiveServer) -> None:
    payload = json.dumps({"data": annual(), "frequency": "annual", "horizon": 2}).encode()
    with slow_body_server.connect() as sock:
        head = (
            "POST /v1/forecasts HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        sock.sendall(head.encode() + payload[:10])
        time.sleep(0.3)
        sock.sendall(payload[10:])
        status, headers, body, _ = read_response(sock, timeout=30)
        assert status == 200, body
        assert headers.get("connection") != "close"


# -- item 1: uploads are parsed in their own bounded threads ------------------------------


def _csv(i: int) -> dict[str, Any]:
    rows = "\n".join(f"{2000 + k},{k + i}" for k in range(12))
    return {"files": {"file": (f"s{i}.csv", f"ds,s{i}\n{rows}\n".encode())}, "data": {"frequency": "annual"}}


def _in_thread(fn: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, out


def _wait_until(condition: Any, timeout: float = FAST_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def slow_uploads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, threading.Event, list[int]]]:
    """An app with 2 upload slots, whose parser waits for an event, and a threadpool of 2 threads."""
    release = threading.Event()
    entered: list[int] = []
    real = series_routes.load_series

    def slow_load_series(*args: Any, **kwargs: Any) -> Any:
        entered.append(1)
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(series_routes, "load_series", slow_load_series)
    with TestClient(create_app(make_settings(tmp_path, max_concurrent_uploads=2))) as client:

        async def shrink_threadpool() -> None:
            # As many threads as slow uploads: parsed in the shared threadpool (main before this
            # change), they would hold every thread and the sync routes would wait behind them.
            anyio.to_thread.current_default_thread_limiter().total_tokens = 2

        assert client.portal is not None
        client.portal.call(shrink_threadpool)
        yield client, release, entered
        release.set()


def test_slow_uploads_never_hold_the_threads_of_health_and_get_routes(
    slow_uploads: tuple[TestClient, threading.Event, list[int]],
) -> None:
    client, release, entered = slow_uploads
    admitted = [_in_thread(client.post, "/v1/series", **_csv(i)) for i in range(2)]
    _wait_until(lambda: len(entered) == 2)
    more = [_in_thread(client.post, "/v1/series", **_csv(i)) for i in range(2, 5)]

    for path in ("/health", "/ready", "/v1/series", "/v1/models", "/v1/forecasts"):
        reader, out = _in_thread(client.get, path)
        reader.join(FAST_SECONDS)
        assert out and out[0].status_code == 200, f"GET {path} was stuck behind the uploads"

    # Uploads beyond the two slots are refused at once (files and JSON alike), unparsed.
    for thread, out in more:
        thread.join(FAST_SECONDS)
        assert out, "an upload beyond the bound was queued instead of refused"
        error = assert_error(out[0], 503, "overloaded", "TRADECAST_MAX_CONCURRENT_UPLOADS")
        assert int(out[0].headers["Retry-After"]) >= 1
        assert error["details"]["max_concurrent_uploads"] == 2
    json_body = {"series_id": "j", "frequency": "annual", "data": annual()}
    assert_error(client.post("/v1/series", json=json_body), 503, "overloaded")
    assert len(entered) == 2

    # The admitted uploads finish and are stored; the slots come back.
    release.set()
    for thread, out in admitted:
        thread.join(30)
        assert out and out[0].status_code == 201, out
    uploads: UploadWorker = client.app.state.uploads  # type: ignore[attr-defined]
    _wait_until(lambda: uploads.active == 0)
    assert client.post("/v1/series", json=json_body).status_code == 201
    assert client.get("/v1/series").json()["count"] == 3


def test_invalid_json_series_body_is_422_from_the_upload_thread(client: TestClient) -> None:
    response = client.post("/v1/series", content=b'{"series_id": ', headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_json")
    response = client.post("/v1/series", json={"series_id": "x", "frequency": "weekly", "data": annual()})
    assert_error(response, 422, "validation_error", "frequency")
    uploads: UploadWorker = client.app.state.uploads  # type: ignore[attr-defined]
    assert uploads.active == 0


def test_upload_slot_comes_back_after_an_error_and_after_a_refusal() -> None:
    worker = UploadWorker(1)
    try:
        with pytest.raises(ZeroDivisionError), worker.admit() as slot:
            asyncio.run(slot.run(lambda: 1 / 0))
        assert worker.active == 0
        with worker.admit():
            with pytest.raises(OverloadedError) as refused:
                worker.admit()
            assert refused.value.retry_after >= 1 and worker.active == 1
        assert worker.active == 0
    finally:
        worker.shutdown()


def test_upload_slot_is_held_until_its_thread_ends_even_if_the_request_is_cancelled() -> None:
    worker = UploadWorker(1)
    gate = threading.Event()

    async def cancelled_upload() -> None:
        with worker.admit() as slot:
            task = asyncio.ensure_future(slot.run(gate.wait, 30))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    try:
        asyncio.run(cancelled_upload())
        assert worker.active == 1, "the slot came back while its thread still parsed"
        gate.set()
        _wait_until(lambda: worker.active == 0)
    finally:
        gate.set()
        worker.shutdown()


# -- item 10 follow-up: a refusal under saturation does no work --------------------------


@pytest.fixture
def full_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, list[str]]]:
    """An app whose fitting queue is full, counting what reads or parses a request's data."""
    reads: list[str] = []
    real_prepare = service_forecasts.prepare

    def counting_prepare(source: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(source.series_id or "inline")
        return real_prepare(source, *args, **kwargs)

    monkeypatch.setattr(service_forecasts, "prepare", counting_prepare)
    with TestClient(create_app(make_settings(tmp_path, max_pending_fits=2))) as client:
        stored = {"series_id": "s", "frequency": "annual", "data": annual()}
        assert client.post("/v1/series", json=stored).status_code == 201
        assert client.post("/v1/forecasts", json={"series_id": "s", "horizon": 2}).status_code == 200
        reads.clear()
        service = client.app.state.service  # type: ignore[attr-defined]
        service.gate.force(2)
        yield client, reads
        service.gate.release(2)


def test_full_queue_refuses_forecasts_and_backtests_before_reading_their_data(
    full_queue: tuple[TestClient, list[str]],
) -> None:
    client, reads = full_queue
    inline = {"data": annual(start=1950), "frequency": "annual", "horizon": 2}
    assert_error(client.post("/v1/forecasts", json=inline), 503, "overloaded")
    assert_error(client.post("/v1/forecasts", json={"series_id": "s", "horizon": 3}), 503, "overloaded")
    assert_error(client.post("/v1/backtests", json={**inline, "windows": 2, "models": ["naive"]}), 503, "overloaded")
    assert reads == [], "a refused request read or parsed its data"
    # A cached forecast of the stored series is still served from the full queue.
    hit = client.post("/v1/forecasts", json={"series_id": "s", "horizon": 2})
    assert hit.status_code == 200 and hit.headers["X-Cache"] == "hit"


def test_full_queue_refuses_inline_data_on_the_event_loop(
    full_queue: tuple[TestClient, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = full_queue
    hops: list[Any] = []
    real = forecast_routes.run_in_threadpool

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(forecast_routes, "run_in_threadpool", counting)
    inline = {"data": annual(start=1951), "frequency": "annual", "horizon": 2}
    assert_error(client.post("/v1/forecasts", json=inline), 503, "overloaded")
    assert hops == [], "the refusal waited for a threadpool thread"


def test_gate_check_takes_no_slot() -> None:
    gate = FitGate(2)
    gate.check()
    assert gate.pending == 0
    gate.force(2)
    with pytest.raises(OverloadedError):
        gate.check()
    assert gate.pending == 2


# -- repeated query parameters: a single-valued one given twice is a 422 naming it ---------


@pytest.mark.parametrize(
    "url",
    [
        "/v1/series?limit=1&limit=2",
        "/v1/series?offset=0&limit=5&offset=1",
        "/v1/forecasts?since=2020-01-01T00:00:00Z&since=2021-01-01T00:00:00Z",
        "/v1/series/cn_ru?as_of=2020-01-01T00:00:00Z&as_of=2030-01-01T00:00:00Z",
        "/v1/series?limit=&limit=",
    ],
)
def test_repeated_single_valued_query_parameter_is_422_naming_it(client: TestClient, stored: str, url: str) -> None:
    name = url.split("&")[-1].split("=")[0]
    error = assert_error(client.get(url), 422, "validation_error", f"'{name}'")
    assert "given 2 times" in error["message"]
    assert error["details"]["errors"][0]["loc"] == ["query", name]


def test_repeatable_query_parameter_still_takes_every_value(client: TestClient, stored: str) -> None:
    both = client.get("/v1/series?tag=reporter:CN&tag=partner:RU")
    assert both.status_code == 200 and both.json()["count"] == 1
    assert client.get("/v1/series?tag=reporter:CN&tag=partner:XX").json()["count"] == 0
    assert client.get("/v1/series?limit=1&tag=reporter:CN").status_code == 200


def test_repeated_query_parameter_without_a_key_is_401(keyed: TestClient) -> None:
    assert_error(keyed.get("/v1/series?limit=1&limit=2"), 401, "not_authenticated")
    ok = keyed.get("/v1/series?limit=1&limit=2", headers={"Authorization": f"Bearer {READ_KEY}"})
    assert_error(ok, 422, "validation_error", "'limit'")


def test_repeated_unknown_query_parameter_is_ignored_like_any_unknown_one(client: TestClient) -> None:
    assert client.get("/v1/series?x=1&x=2").status_code == 200
    assert client.get("/health?x=1&x=2").status_code == 200


def test_full_queue_refuses_forecasts_before_validating_their_body(full_queue: tuple[TestClient, list[str]]) -> None:
    client, _ = full_queue
    headers = {"Content-Type": "application/json"}
    # Not even valid JSON: refused for the full queue, not parsed (a 422 once there is room).
    refused = client.post("/v1/forecasts", content=b'{"data": [1, 2', headers=headers)
    assert_error(refused, 503, "overloaded")
    assert int(refused.headers["Retry-After"]) >= 1
    assert_error(client.post("/v1/backtests", content=b"[", headers=headers), 503, "overloaded")
    # A body answered before may be a cache hit: it is still served.
    again = client.post("/v1/forecasts", json={"series_id": "s", "horizon": 2})
    assert again.status_code == 200 and again.headers["X-Cache"] == "hit"
    service = client.app.state.service  # type: ignore[attr-defined]
    service.gate.release(2)
    try:
        assert_error(client.post("/v1/forecasts", content=b'{"data": [1, 2', headers=headers), 422, "invalid_json")
    finally:
        service.gate.force(2)


def test_full_queue_with_a_body_over_the_limit_is_still_413(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, max_pending_fits=1, max_body_bytes=2048))) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        service.gate.force(1)
        big = b"{" + b" " * 5000 + b"}"
        response = client.post("/v1/forecasts", content=big, headers={"Content-Type": "application/json"})
        error = assert_error(response, 413, "payload_too_large")
        assert error["details"] == {"max_body_bytes": 2048}
        service.gate.release(1)


# -- review: structure forecasts went around the fitting queue, waiting in a thread -------


def _hierarchy(client: TestClient) -> None:
    for series_id, base in (("x", 20.0), ("m", 15.0)):
        body = {"series_id": series_id, "frequency": "annual", "data": annual(base=base)}
        assert client.post("/v1/series", json=body).status_code == 201
    total = [{"ds": str(2000 + i), "y": 35.0 + 6 * i + 2 * (i % 3)} for i in range(20)]
    assert client.post("/v1/series", json={"series_id": "t", "frequency": "annual", "data": total}).status_code == 201
    structure = {"name": "h", "kind": "hierarchy", "hierarchy": {"t": ["x", "m"]}, "model": "naive2"}
    assert client.post("/v1/structures", json=structure).status_code == 201


def test_structure_forecast_takes_a_slot_of_the_fitting_queue(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, max_pending_fits=1))) as client:
        _hierarchy(client)
        service = client.app.state.service  # type: ignore[attr-defined]
        taken: list[int] = []
        real_submit = service._submit

        def spying_submit(*args: Any, **kwargs: Any) -> Any:
            taken.append(service.gate.pending)
            return real_submit(*args, **kwargs)

        service._submit = spying_submit
        response = client.post("/v1/structures/h/forecasts", json={"horizon": 2})
        assert response.status_code == 200, response.text
        assert taken == [1] and service.gate.pending == 0
        service.gate.force(1)
        try:
            assert_error(client.post("/v1/structures/h/forecasts", json={"horizon": 2}), 503, "overloaded")
            # Refused before its body is read: even a malformed one.
            refused = client.post(
                "/v1/structures/h/forecasts", content=b"{", headers={"Content-Type": "application/json"}
            )
            assert_error(refused, 503, "overloaded")
        finally:
            service.gate.release(1)


def test_upload_worker_serves_again_after_a_shutdown(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    for i in range(2):  # two lifespans of one app, as the schema fuzzer runs it
        with TestClient(app) as client:
            body = {"series_id": f"s{i}", "frequency": "annual", "data": annual()}
            assert client.post("/v1/series", json=body).status_code == 201


# -- review: report runs started through the API held shared threads for minutes ----------
