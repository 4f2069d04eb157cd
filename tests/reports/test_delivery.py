"""Delivery: e-mail to a local SMTP server, signed webhooks to a local receiver, retries, the log."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from data import Store
from data.tables import ReportDeliveriesTable
from forecasting.exceptions import InvalidParameterError
from reports.definitions import ReportDefinition
from reports.delivery import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Attachment,
    DeliveryOptions,
    DeliveryTarget,
    deliver,
    redact_url,
    sign_body,
    verify_signature,
)
from reports.delivery_log import DeliveryLog
from reports.jobs import run_report
from reports.store import SUCCEEDED, ReportStore
from tests.reports.conftest import AS_OF
from tests.reports.delivery_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_SECRET,
    free_port,
    http_receiver,
    smtp_server,
)

HTML = "<html><body><h1>China-Russia</h1><p>Forecast</p></body></html>"


def _options(smtp_port: int = 25, **overrides: object) -> DeliveryOptions:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        # The local receiver is on loopback: allowed explicitly, as an operator would.
        "webhook_allow": ("127.0.0.1",),
        "timeout_seconds": 5.0,
        "max_attempts": 3,
        "backoff_seconds": 0.5,
        "max_backoff_seconds": 0.75,
    }
    values.update(overrides)
    return DeliveryOptions(**values)  # type: ignore[arg-type]


def _send(target: DeliveryTarget, options: DeliveryOptions, sleeps: list[float] | None = None) -> list:
    waits = sleeps if sleeps is not None else []
    return deliver(
        target,
        options,
        subject="China-Russia: forecast as of 2024-01-15",
        html=HTML,
        attachments=[Attachment("cn-ru-2024-01-15.html", HTML.encode(), "text/html")],
        payload={"report": "cn-ru", "run_id": "r1"},
        sleep=waits.append,
    )


# -- e-mail ------------------------------------------------------------------------------


def test_email_has_html_body_and_the_attachments_given() -> None:
    with smtp_server() as box:
        [outcome] = _send(DeliveryTarget(emails=("a@example.org", "b@example.org")), _options(box.port))
    assert outcome.channel == "email" and outcome.status == "sent" and outcome.attempts == 1
    assert box.envelopes == [("tradecast@localhost", ["a@example.org", "b@example.org"])]
    message = box.messages[0]
    assert message["Subject"] == "China-Russia: forecast as of 2024-01-15"
    body = message.get_body(preferencelist=("html",))
    assert body is not None and "<h1>China-Russia</h1>" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "cn-ru-2024-01-15.html"
    assert attachment.get_content_type() == "text/html"
    assert attachment.get_payload(decode=True) == HTML.encode()


def test_email_logs_in_with_the_configured_password() -> None:
    with smtp_server(require_login=True) as box:
        options = _options(box.port, smtp_username=SMTP_USER, smtp_password=SecretStr(SMTP_PASSWORD))
        [sent] = _send(DeliveryTarget(emails=("a@example.org",)), options)
        wrong = _options(box.port, smtp_username=SMTP_USER, smtp_password=SecretStr("not-the-password"))
        [refused] = _send(DeliveryTarget(emails=("a@example.org",)), wrong)
    assert sent.status == "sent" and box.logins == [SMTP_USER] and len(box.messages) == 1
    # A refused login will not pass by waiting: one attempt, and the message names the settings.
    assert refused.status == "failed" and refused.attempts == 1
    assert "TRADECAST_SMTP_USERNAME/PASSWORD" in (refused.error or "")


def test_unreachable_smtp_server_is_retried_with_backoff_then_fails() -> None:
    sleeps: list[float] = []
    [outcome] = _send(DeliveryTarget(emails=("a@example.org",)), _options(free_port()), sleeps)
    assert outcome.status == "failed" and outcome.attempts == 3 and outcome.error
    assert sleeps == [0.5, 0.75]  # 0.5 * 2**0, then 0.5 * 2**1 capped at 0.75


# -- webhook -----------------------------------------------------------------------------


def test_webhook_body_is_signed_and_the_signature_verifies() -> None:
    with http_receiver() as receiver:
        [outcome] = _send(DeliveryTarget(webhook_url=receiver.url), _options())
    assert outcome.status == "sent" and outcome.target.endswith("/hooks/tradecast?…")
    [(headers, body)] = receiver.requests
    assert json.loads(body) == {"report": "cn-ru", "run_id": "r1"}
    assert headers["Content-Type"] == "application/json"
    timestamp, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    assert abs(int(timestamp) - time.time()) < 60 and signature.startswith("sha256=")
    assert verify_signature(WEBHOOK_SECRET, timestamp, body, signature)
    assert not verify_signature(WEBHOOK_SECRET, timestamp, body + b" ", signature)  # body changed
    assert not verify_signature("another-secret-value", timestamp, body, signature)  # wrong key
    assert not verify_signature(WEBHOOK_SECRET, str(int(timestamp) + 1), body, signature)  # time changed
    # A replay ten minutes later is refused even with a valid signature.
    assert not verify_signature(WEBHOOK_SECRET, timestamp, body, signature, now=int(timestamp) + 600)


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k" * 16, b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign_body("k" * 16, 1700000000, b"{}") == f"sha256={expected}"


def test_webhook_server_errors_are_retried_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    with http_receiver(statuses=[503, 500, 200]) as receiver:
        options = _options(backoff_seconds=0.25, max_backoff_seconds=10.0)
        [outcome] = _send(DeliveryTarget(webhook_url=receiver.url), options, sleeps)
    assert outcome.status == "sent" and outcome.attempts == 3 and len(receiver.requests) == 3
    assert sleeps == [0.25, 0.5]


def test_webhook_client_error_is_not_retried() -> None:
    sleeps: list[float] = []
    with http_receiver(statuses=[404]) as receiver:
        [outcome] = _send(DeliveryTarget(webhook_url=receiver.url), _options(), sleeps)
    assert outcome.status == "failed" and outcome.attempts == 1 and sleeps == []
    assert (outcome.error or "").startswith("http_error_4xx") and "404" not in (outcome.error or "")


def test_retries_are_bounded_by_max_attempts() -> None:
    sleeps: list[float] = []
    with http_receiver(statuses=[500] * 10) as receiver:
        [outcome] = _send(DeliveryTarget(webhook_url=receiver.url), _options(max_attempts=4), sleeps)
    assert outcome.status == "failed" and outcome.attempts == 4 and len(receiver.requests) == 4
    assert sleeps == [0.5, 0.75, 0.75] and (outcome.error or "").startswith("http_error_5xx")


def test_channels_without_settings_fail_naming_the_setting() -> None:
    options = DeliveryOptions(max_attempts=1)
    outcomes = _send(DeliveryTarget(emails=("a@example.org",), webhook_url="https://example.org/h"), options)
    assert [o.status for o in outcomes] == ["failed", "failed"] and all(o.attempts == 0 for o in outcomes)
    assert "TRADECAST_SMTP_HOST" in (outcomes[0].error or "")
    assert "TRADECAST_WEBHOOK_SECRET" in (outcomes[1].error or "")


# -- targets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "contains"),
    [
        ({"emails": ["not-an-address"]}, "delivery.emails"),
        ({"emails": "a@example.org"}, "list of addresses"),
        ({"webhook_url": "ftp://example.org/x"}, "delivery.webhook_url"),
        ({"webhook_url": "https:///nohost"}, "delivery.webhook_url"),
        ({"webhook_url": "https://user:pw@example.org/x"}, "user name or password"),
        ({"sms": ["123"]}, "unknown delivery fields: sms"),
    ],
)
def test_invalid_delivery_targets_are_refused(data: dict, contains: str) -> None:
    with pytest.raises(InvalidParameterError, match=contains):
        DeliveryTarget.from_dict(data)


def test_definition_round_trips_its_delivery_and_empty_means_none() -> None:
    spec = {"name": "r", "series_ids": ["s1"], "delivery": {"emails": ["a@x.org", "a@x.org"], "webhook_url": None}}
    definition = ReportDefinition.from_dict(spec)
    assert definition.delivery == DeliveryTarget(emails=("a@x.org",))
    assert ReportDefinition.from_dict(definition.to_dict()) == definition
    assert ReportDefinition.from_dict({**spec, "delivery": {"emails": []}}).delivery is None


def test_redact_url_drops_query_and_fragment() -> None:
    assert redact_url("https://h.example/p/q?token=s3cret#frag") == "https://h.example/p/q?…"
    assert redact_url("https://h.example/p") == "https://h.example/p"


def test_options_repr_hides_secrets() -> None:
    options = _options(smtp_password=SecretStr(SMTP_PASSWORD))
    assert SMTP_PASSWORD not in repr(options) and WEBHOOK_SECRET not in repr(options)


# -- a report run, delivered and logged ---------------------------------------------------


def test_successful_run_is_delivered_and_logged_without_secrets(
    loaded: Store, reports: ReportStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(require_login=True) as box, http_receiver(statuses=[502]) as receiver:
        stored = reports.get_definition("t1").definition
        target = DeliveryTarget(emails=("manager@example.org",), webhook_url=receiver.url)
        reports.update_definition(ReportDefinition.from_dict({**stored.to_dict(), "delivery": target.to_dict()}))
        options = _options(
            box.port, smtp_username=SMTP_USER, smtp_password=SecretStr(SMTP_PASSWORD), backoff_seconds=0.01
        )
        run = run_report("t1", AS_OF, loaded, delivery=options)
    assert run.status == SUCCEEDED, run.error
    log = DeliveryLog.for_store(loaded).for_run(run.run_id)
    assert [(d.channel, d.status, d.attempts) for d in log] == [("email", "sent", 1), ("webhook", "sent", 2)]
    assert log[0].target == "manager@example.org" and "token" not in log[1].target
    [message] = box.messages
    assert message["Subject"] == "Test report: forecast as of 2024-01-15"
    [attachment] = list(message.iter_attachments())
    body = message.get_body(preferencelist=("html",))
    assert body is not None and "<html" in body.get_content()  # the report itself is the e-mail's body
    assert attachment.get_content_type() == "application/pdf"  # ...and it comes as a PDF
    assert attachment.get_payload(decode=True).startswith(b"%PDF-")
    payload = json.loads(receiver.requests[-1][1])
    assert payload["run_id"] == run.run_id and payload["status"] == SUCCEEDED and payload["n_series"] == 2
    assert payload["attachments"][0]["filename"] == attachment.get_filename()
    assert "delivery webhook" in caplog.text  # the failed first attempt is logged...
    for secret in (SMTP_PASSWORD, WEBHOOK_SECRET, "abc123"):  # ...but no secret, nor the URL's token
        assert secret not in caplog.text
    with loaded.engine.connect() as conn:
        rows = conn.execute(select(ReportDeliveriesTable.__table__)).all()  # type: ignore[call-overload]
    assert len(rows) == 2 and not any(s in repr(rows) for s in (SMTP_PASSWORD, WEBHOOK_SECRET, "abc123"))


def test_rerunning_a_stored_run_does_not_deliver_again(loaded: Store, reports: ReportStore) -> None:
    with http_receiver() as receiver:
        stored = reports.get_definition("t1").definition
        spec = {**stored.to_dict(), "delivery": {"webhook_url": receiver.url}}
        reports.update_definition(ReportDefinition.from_dict(spec))
        first = run_report("t1", AS_OF, loaded, delivery=_options())
        again = run_report("t1", AS_OF, loaded, delivery=_options())
    assert again.run_id == first.run_id and len(receiver.requests) == 1


def test_failed_run_is_not_delivered(store: Store, reports: ReportStore) -> None:
    with http_receiver() as receiver:
        definition = ReportDefinition.from_dict(
            {"name": "bad", "series_ids": ["missing"], "model": "drift", "delivery": {"webhook_url": receiver.url}}
        )
        reports.create_definition(definition, now=datetime(2020, 1, 1, tzinfo=UTC))
        run = run_report("bad", AS_OF, store, delivery=_options())
    assert run.status == "failed" and receiver.requests == []
    [skipped] = DeliveryLog.for_store(store).for_run(run.run_id)
    assert skipped.channel == "webhook" and skipped.status == "skipped" and "run failed" in (skipped.error or "")


def test_attachment_falls_back_to_the_html_when_no_pdf_can_be_printed(monkeypatch) -> None:
    from reports import dispatch
    from reports.exceptions import RenderUnavailableError

    def no_chromium(html: str) -> bytes:
        raise RenderUnavailableError("chromium is not installed")

    monkeypatch.setattr(dispatch, "html_to_pdf", no_chromium)
    run = SimpleNamespace(report_name="cn-ru", run_id="r1", as_of=datetime(2024, 1, 15, tzinfo=UTC), details={})
    [attachment] = dispatch.run_attachments(run, "<html>report</html>")  # type: ignore[arg-type]
    assert (attachment.filename, attachment.mime) == ("cn-ru-2024-01-15.html", "text/html")
    assert attachment.content == b"<html>report</html>"
