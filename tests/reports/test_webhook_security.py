"""Webhooks cannot reach inside (SSRF), follow no redirect, log coarse outcomes, end by a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from reports.delivery import (
    WEBHOOK_OUTCOMES,
    Attachment,
    DeliveryOptions,
    DeliveryTarget,
    check_webhook_target,
    deliver,
    sign_body,
    verify_signature,
)
from reports.exceptions import WebhookAddressError
from reports.webhooks import address_rule, check_webhook_address
from tests.local_servers import drip, socket_server
from tests.reports.delivery_servers import WEBHOOK_SECRET, free_port, http_receiver

INTERNAL_URLS = [
    ("http://169.254.169.254/latest/meta-data/", "link_local"),
    ("http://127.0.0.1:8000/v1/series", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[::1]:8000/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "link_local"),
    ("http://[fd00::1]/", "unique_local"),
    ("http://[fe80::1]/", "link_local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "reserved"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://0251.0376.0251.0376/", "link_local"),
    ("http://metadata.google.internal/computeMetadata/v1/", "internal_name"),
    ("http://metadata/", "internal_name"),
    ("http://localhost:8000/", "internal_name"),
    ("http://api.localhost/", "internal_name"),
    ("http://printer.local/", "internal_name"),
]


def _no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")


def _options(**overrides: Any) -> DeliveryOptions:
    values: dict[str, Any] = {
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "webhook_allow": ("127.0.0.1",),
        "timeout_seconds": 5.0,
        "max_attempts": 3,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 0.01,
    }
    values.update(overrides)
    return DeliveryOptions(**values)


def _send(url: str, options: DeliveryOptions, sleeps: list[float] | None = None) -> Any:
    waits = sleeps if sleeps is not None else []
    [outcome] = deliver(
        DeliveryTarget(webhook_url=url),
        options,
        subject="s",
        html="<p>x</p>",
        attachments=[Attachment("a.html", b"x", "text/html")],
        payload={"report": "r", "run_id": "1"},
        sleep=waits.append,
    )
    return outcome


@pytest.mark.parametrize(("url", "rule"), INTERNAL_URLS)
def test_internal_webhook_address_is_refused_naming_the_rule(url: str, rule: str) -> None:
    with pytest.raises(WebhookAddressError) as info:
        check_webhook_target(DeliveryTarget(webhook_url=url))
    assert info.value.details == {"field": "delivery.webhook_url", "rule": rule}
    assert rule in str(info.value) and "TRADECAST_WEBHOOK_ALLOW_HOSTS" in str(info.value)


def test_public_address_passes_and_names_resolving_inside_are_refused() -> None:
    assert check_webhook_address("https://93.184.215.14/hook") == ["93.184.215.14"]
    inside = lambda host, port: ["10.20.30.40"]  # noqa: E731  (a public-looking name, an internal answer)
    with pytest.raises(WebhookAddressError, match="private"):
        check_webhook_address("https://hooks.example.org/x", resolve=inside)
    mixed = lambda host, port: ["93.184.215.14", "127.0.0.1"]  # noqa: E731
    with pytest.raises(WebhookAddressError, match="loopback"):
        check_webhook_address("https://hooks.example.org/x", resolve=mixed)


def test_unresolvable_name_is_accepted_at_definition_and_refused_at_delivery() -> None:
    assert check_webhook_address("https://hooks.example.org/x", resolve=_no_dns) == []
    with pytest.raises(WebhookAddressError, match="unresolvable"):
        check_webhook_address("https://hooks.example.org/x", resolve=_no_dns, require_resolution=True)


def test_allow_list_admits_named_hosts_addresses_and_networks() -> None:
    inside = lambda host, port: ["10.1.2.3"]  # noqa: E731
    assert check_webhook_address("http://hooks.corp.example/x", ["hooks.corp.example"], resolve=inside)
    assert check_webhook_address("http://hooks.corp.example/x", ["10.1.0.0/16"], resolve=inside)
    assert check_webhook_address("http://10.1.2.3/x", ["10.1.2.3"]) == ["10.1.2.3"]
    with pytest.raises(WebhookAddressError):
        check_webhook_address("http://10.2.0.1/x", ["10.1.0.0/16"])
    assert check_webhook_address("http://metadata.google.internal/", ["metadata.google.internal"], resolve=inside)


def test_address_rule_sees_the_ipv4_inside_ipv6_forms() -> None:
    import ipaddress

    assert address_rule(ipaddress.ip_address("::ffff:10.0.0.1")) == "private"
    assert address_rule(ipaddress.ip_address("2001::ffff:ffff:80ff:fefe")) == "loopback"  # Teredo 127.0.1.1
    assert address_rule(ipaddress.ip_address("2606:4700::1111")) is None


def test_delivery_rechecks_the_address_when_dns_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([["93.184.215.14"]])  # public when the definition is made...
    monkeypatch.setattr("reports.webhooks.resolve_host", lambda host, port: next(answers, ["127.0.0.1"]))
    with http_receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "hooks.example.org")
        check_webhook_target(DeliveryTarget(webhook_url=url))  # ...accepted
        outcome = _send(url, _options(webhook_allow=()))  # ...then loopback at delivery: refused, not retried
    assert outcome.status == "failed" and outcome.attempts == 1
    assert (outcome.error or "").startswith("refused_address") and receiver.requests == []


def test_delivery_connects_to_the_checked_address_not_a_second_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr("reports.webhooks.resolve_host", resolve)
    with http_receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "hooks.example.org")
        outcome = _send(url, _options(webhook_allow=("hooks.example.org",)))
    assert outcome.status == "sent" and calls == ["hooks.example.org"]
    [(headers, _)] = receiver.requests
    assert headers["Host"].startswith("hooks.example.org")  # the URL's host, at the checked address


@contextmanager
def _redirecting(location: str, status: int = 302) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed_and_not_retried(status: int) -> None:
    with http_receiver() as target, _redirecting(target.url, status) as url:
        outcome = _send(url, _options())
    assert outcome.status == "failed" and outcome.attempts == 1
    assert (outcome.error or "").startswith("redirect_refused")
    assert target.requests == []  # the signed body never reached the redirect's target


def test_delivery_log_keeps_coarse_outcomes_not_receiver_details() -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook"
    refused = _send(closed, _options(max_attempts=2))
    assert refused.status == "failed" and refused.attempts == 2
    assert refused.error == f"connection_failed: {WEBHOOK_OUTCOMES['connection_failed']}"
    with http_receiver(statuses=[418]) as receiver:
        teapot = _send(receiver.url, _options())
    assert teapot.error == f"http_error_4xx: {WEBHOOK_OUTCOMES['http_error_4xx']}" and teapot.attempts == 1
    with http_receiver(statuses=[503, 500, 502]) as receiver:
        failing = _send(receiver.url, _options())
    assert failing.error == f"http_error_5xx: {WEBHOOK_OUTCOMES['http_error_5xx']}" and failing.attempts == 3


def test_too_many_requests_is_retried_but_other_4xx_are_not() -> None:
    with http_receiver(statuses=[429, 200]) as receiver:
        outcome = _send(receiver.url, _options())
    assert outcome.status == "sent" and outcome.attempts == 2


def _silent_receiver(drip_seconds: float | None = None) -> AbstractContextManager[str]:
    """Accepts connections and never answers (or answers one byte every ``drip_seconds``)."""
    if drip_seconds is None:
        return socket_server(path="/hook")
    payload = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000
    return socket_server(lambda conn, stop: drip(conn, stop, payload, drip_seconds), path="/hook")


@pytest.mark.parametrize("drip", [None, 0.2])
def test_receiver_that_never_answers_is_cut_off_by_the_delivery_deadline(drip: float | None) -> None:
    options = _options(timeout_seconds=5.0, deadline_seconds=1.0, max_attempts=3)
    with _silent_receiver(drip) as url:
        started = time.monotonic()
        outcome = _send(url, options)
        took = time.monotonic() - started
    assert outcome.status == "failed" and (outcome.error or "").startswith("timeout")
    assert took < 2.5, took  # 1 s deadline (not 3 tries x 5 s, nor a byte every 0.2 s for ever)


def test_message_that_cannot_be_built_is_not_retried() -> None:
    outcome = _send("http://127.0.0.1:1/a\r\nX-Injected: 1", _options())
    assert outcome.status == "failed" and outcome.attempts == 1
    assert (outcome.error or "").startswith("invalid_request")


@pytest.mark.parametrize("signature", [None, "sha256=é", "", b"\xff", 12])
def test_verify_signature_answers_false_for_any_bad_signature(signature: Any) -> None:
    now = 1_700_000_000
    assert verify_signature(WEBHOOK_SECRET, str(now), b"{}", signature, now=now) is False
    assert verify_signature(WEBHOOK_SECRET, str(now), b"{}", sign_body(WEBHOOK_SECRET, now, b"{}"), now=now)
    assert verify_signature(WEBHOOK_SECRET, "9" * 400, b"{}", "sha256=x", now=now) is False


def test_email_subject_with_a_line_break_fails_once_not_three_times() -> None:
    from tests.reports.delivery_servers import smtp_server

    with smtp_server() as box:
        options = _options(smtp_host="127.0.0.1", smtp_port=box.port, smtp_security="none")
        [outcome] = deliver(
            DeliveryTarget(emails=("a@example.org",)),
            options,
            subject="Trade\r\nBcc: victim@example.org",
            html="<p>x</p>",
            attachments=[],
            payload={},
            sleep=lambda s: None,
        )
    assert outcome.status == "failed" and outcome.attempts == 1 and box.messages == []


@pytest.mark.parametrize("url", ["http://hooks.example.org/a b", "http://hooks%2eexample.org/", "http://a\\b.org/"])
def test_webhook_url_with_characters_a_url_cannot_carry_is_refused(url: str) -> None:
    from forecasting.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="cannot carry"):
        check_webhook_target(DeliveryTarget(webhook_url=url))


def test_international_host_name_is_not_refused_for_its_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reports.webhooks.resolve_host", lambda host, port: ["93.184.215.14"])
    check_webhook_target(DeliveryTarget(webhook_url="https://bücher.example/hook"))
