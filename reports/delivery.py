"""Delivery of a finished report run: e-mail over SMTP and a signed webhook POST.

A report definition says *where* a run goes (:class:`DeliveryTarget`: recipients and a
webhook URL); the service's settings say *how* (:class:`DeliveryOptions`: the SMTP relay,
the webhook secret, retries). Both are plain data; nothing here reads the environment.

Each channel is tried up to ``max_attempts`` times, waiting ``backoff_seconds * 2**(k-1)``
(capped at ``max_backoff_seconds``) after the k-th failure; a refusal that cannot get better
by waiting (a 4xx answer from the webhook, a recipient the SMTP server rejects) ends the
tries at once. Every channel's outcome becomes one :class:`DeliveryOutcome`, which the
caller stores in the run's delivery log (:mod:`reports.delivery_log`).

Webhook signature
-----------------
The body is JSON. Two headers sign it::

    X-Tradecast-Timestamp: <unix seconds>
    X-Tradecast-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body bytes>" keyed by the secret>

A receiver recomputes the HMAC over the raw body with the shared secret, compares it in
constant time, and refuses timestamps more than a few minutes old (replays);
:func:`verify_signature` does exactly that.

Secrets (the SMTP password, the webhook secret) are :class:`pydantic.SecretStr`: they print
as ``**********`` and are revealed only at the moment of use, never logged or stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from pydantic import SecretStr

from forecasting.exceptions import InvalidParameterError

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Attachment",
    "DeliveryOptions",
    "DeliveryOutcome",
    "DeliveryTarget",
    "check_delivery",
    "deliver",
    "redact_url",
    "send_email",
    "post_webhook",
    "sign_body",
    "verify_signature",
]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tradecast-Signature"
TIMESTAMP_HEADER = "X-Tradecast-Timestamp"
EMAIL = "email"
WEBHOOK = "webhook"
SENT = "sent"
FAILED = "failed"
_MAX_RECIPIENTS = 50
_MAX_URL = 2000
# A pragmatic address check: one "@", no spaces, a dot in the domain. Full RFC 5322 parsing
# would accept addresses no relay delivers to; the relay has the last word anyway.
_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_MAX_ERROR = 500


@dataclass(frozen=True)
class Attachment:
    """A file sent with the e-mail: its name, bytes and MIME type (``"text/html"``)."""

    filename: str
    content: bytes
    mime: str


@dataclass(frozen=True)
class DeliveryTarget:
    """Where a report's runs go: e-mail recipients and/or a webhook URL."""

    emails: tuple[str, ...] = ()
    webhook_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able mapping."""
        return {"emails": list(self.emails), "webhook_url": self.webhook_url}

    @classmethod
    def from_dict(cls, data: object) -> DeliveryTarget:
        """Build from a mapping ``{"emails": [...], "webhook_url": ...}`` and check it."""
        if isinstance(data, DeliveryTarget):
            return check_delivery(data)
        if not isinstance(data, dict):
            raise InvalidParameterError(f"delivery must be an object with emails and webhook_url; got {data!r}.")
        unknown = sorted(set(data) - {"emails", "webhook_url"})
        if unknown:
            raise InvalidParameterError(f"unknown delivery fields: {', '.join(unknown)} (use emails, webhook_url).")
        emails = data.get("emails") or ()
        if isinstance(emails, str) or not isinstance(emails, list | tuple):
            raise InvalidParameterError(f"delivery.emails must be a list of addresses; got {emails!r}.")
        return check_delivery(cls(tuple(emails), data.get("webhook_url")))

    def channels(self) -> list[tuple[str, str]]:
        """``(channel, shown target)`` pairs, in the order :func:`deliver` reports them."""
        out = [(EMAIL, ", ".join(self.emails))] if self.emails else []
        return out + ([(WEBHOOK, redact_url(self.webhook_url))] if self.webhook_url else [])

    @property
    def is_empty(self) -> bool:
        """Whether the target names no channel."""
        return not self.emails and not self.webhook_url


def check_delivery(target: DeliveryTarget) -> DeliveryTarget:
    """Validate ``target`` and return it normalised (duplicate recipients dropped).

    Raises
    ------
    InvalidParameterError
        Naming ``delivery.emails`` or ``delivery.webhook_url``, the value and the rule.
    """
    if len(target.emails) > _MAX_RECIPIENTS:
        raise InvalidParameterError(
            f"delivery.emails has {len(target.emails)} addresses; at most {_MAX_RECIPIENTS} are accepted."
        )
    bad = [e for e in target.emails if not isinstance(e, str) or not _EMAIL_RE.match(e)]
    if bad:
        raise InvalidParameterError(
            f"delivery.emails must be e-mail addresses such as analyst@example.org; got {bad!r}."
        )
    url = target.webhook_url
    if url is not None:
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > _MAX_URL:
            raise InvalidParameterError(
                f"delivery.webhook_url must be an http(s) URL with a host, at most {_MAX_URL} characters; got {url!r}."
            )
        if parts.username or parts.password:
            raise InvalidParameterError(
                "delivery.webhook_url must not carry a user name or password; the body is signed with "
                "TRADECAST_WEBHOOK_SECRET instead."
            )
    return DeliveryTarget(tuple(dict.fromkeys(target.emails)), url or None)


@dataclass(frozen=True)
class DeliveryOptions:
    """How runs are delivered (from the service's settings; plain arguments here).

    Attributes
    ----------
    smtp_host : str
        SMTP relay; empty disables e-mail.
    smtp_port : int
        Its port (25, 587 for STARTTLS, 465 for TLS).
    smtp_security : {"none", "starttls", "tls"}
        Plain, upgraded with STARTTLS, or TLS from the first byte.
    smtp_username, smtp_password : str, SecretStr
        Login; an empty user name sends without logging in.
    smtp_sender : str
        The ``From`` address.
    webhook_secret : SecretStr
        Key of the body's HMAC-SHA256 signature; webhooks are not sent without one.
    timeout_seconds : float
        Per attempt, connection and answer.
    max_attempts : int
        Tries per channel (1: no retry).
    backoff_seconds, max_backoff_seconds : float
        The wait after the k-th failure is ``backoff_seconds * 2**(k-1)``, at most
        ``max_backoff_seconds``.
    """

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = field(default_factory=lambda: SecretStr(""))
    smtp_sender: str = "tradecast@localhost"
    webhook_secret: SecretStr = field(default_factory=lambda: SecretStr(""))
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 60.0

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt."""
        return float(min(self.backoff_seconds * 2 ** (failures - 1), self.max_backoff_seconds))


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened on one channel: ``status`` is ``sent`` or ``failed``."""

    channel: str
    target: str
    status: str
    attempts: int
    error: str | None = None


class _PermanentError(Exception):
    """A refusal that retrying cannot fix."""


def redact_url(url: str) -> str:
    """``url`` without its query and fragment (where tokens travel), for logs and records."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


# -- signing -----------------------------------------------------------------------------


def sign_body(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The signature header value ``sha256=<hex>`` of ``body`` sent at ``timestamp``."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str | bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` signs ``body`` at ``timestamp`` and the timestamp is recent.

    This is the receiver's check: pass the raw request body and the two headers.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_seconds:
        return False
    # compare_digest: a plain == leaks, through its timing, how many leading characters match.
    return hmac.compare_digest(sign_body(secret, sent, body), signature)


# -- channels ----------------------------------------------------------------------------


def send_email(
    options: DeliveryOptions,
    recipients: Sequence[str],
    subject: str,
    html: str,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Send one message with an HTML body (and a plain-text fallback) and the attachments.

    Raises
    ------
    smtplib.SMTPException, OSError
        As the relay or the network fails (``deliver`` retries them).
    """
    message = EmailMessage()
    message["From"] = options.smtp_sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content("This report is in HTML; open it in a mail reader that shows HTML, or open the attachment.")
    message.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.mime.partition("/")
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype or "octet-stream", filename=item.filename
        )
    smtp_class = smtplib.SMTP_SSL if options.smtp_security == "tls" else smtplib.SMTP
    with smtp_class(options.smtp_host, options.smtp_port, timeout=options.timeout_seconds) as client:
        if options.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if options.smtp_username:
            client.login(options.smtp_username, options.smtp_password.get_secret_value())
        client.send_message(message)


def post_webhook(options: DeliveryOptions, url: str, payload: dict[str, Any], *, now: float | None = None) -> int:
    """POST ``payload`` as JSON to ``url`` with the signature headers; returns the status.

    Raises
    ------
    urllib.error.HTTPError, urllib.error.URLError, OSError
        As the receiver answers with an error or cannot be reached.
    """
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time() if now is None else now)
    signature = sign_body(options.webhook_secret.get_secret_value(), timestamp, body)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "tradecast-report-delivery",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature,
        },
    )
    with urllib.request.urlopen(request, timeout=options.timeout_seconds) as response:
        return int(response.status)


# -- delivering a run --------------------------------------------------------------------


def deliver(
    target: DeliveryTarget,
    options: DeliveryOptions,
    *,
    subject: str,
    html: str,
    attachments: Sequence[Attachment],
    payload: dict[str, Any],
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Send a run to every channel of ``target``; one outcome per channel, never raises.

    ``attachments`` go with the e-mail (the caller chooses them: the HTML page, a PDF...);
    ``payload`` is the webhook's JSON body.
    """
    outcomes: list[DeliveryOutcome] = []
    if target.emails:
        recipients = ", ".join(target.emails)
        if not options.smtp_host:
            outcomes.append(
                DeliveryOutcome(EMAIL, recipients, FAILED, 0, "e-mail is not configured: set TRADECAST_SMTP_HOST")
            )
        else:
            send = lambda: send_email(options, target.emails, subject, html, attachments)  # noqa: E731
            outcomes.append(_with_retries(EMAIL, recipients, send, options, sleep))
    if target.webhook_url:
        shown = redact_url(target.webhook_url)
        if not options.webhook_secret.get_secret_value():
            error = "webhooks are not configured: set TRADECAST_WEBHOOK_SECRET (bodies are always signed)"
            outcomes.append(DeliveryOutcome(WEBHOOK, shown, FAILED, 0, error))
        else:
            url = target.webhook_url
            outcomes.append(_with_retries(WEBHOOK, shown, lambda: _post_checked(options, url, payload), options, sleep))
    return outcomes


def _post_checked(options: DeliveryOptions, url: str, payload: dict[str, Any]) -> None:
    try:
        post_webhook(options, url, payload)
    except urllib.error.HTTPError as exc:
        # 408 (timeout) and 429 (slow down) may pass later; other 4xx answers will not.
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise _PermanentError(f"the receiver refused the webhook with HTTP {exc.code}") from None
        raise


def _with_retries(
    channel: str,
    target: str,
    send: Callable[[], None],
    options: DeliveryOptions,
    sleep: Callable[[float], None],
) -> DeliveryOutcome:
    attempts = max(1, options.max_attempts)
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            send()
        except Exception as exc:
            error = _describe(exc)
            permanent = isinstance(exc, _PermanentError) or _is_permanent_smtp(exc)
            logger.warning("delivery %s to %s: attempt %d/%d failed: %s", channel, target, attempt, attempts, error)
            if permanent:
                return DeliveryOutcome(channel, target, FAILED, attempt, error)
            if attempt < attempts:
                sleep(options.backoff(attempt))
            continue
        logger.info("delivery %s to %s: sent (attempt %d)", channel, target, attempt)
        return DeliveryOutcome(channel, target, SENT, attempt)
    return DeliveryOutcome(channel, target, FAILED, attempts, error)


def _is_permanent_smtp(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPAuthenticationError):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _describe(exc: Exception) -> str:
    """A short, secret-free description of a delivery failure for the log and the record."""
    if isinstance(exc, _PermanentError):
        text = str(exc)
    elif isinstance(exc, urllib.error.HTTPError):
        text = f"the receiver answered HTTP {exc.code}"
    elif isinstance(exc, urllib.error.URLError):
        text = f"the receiver could not be reached ({exc.reason})"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = f"the SMTP server refused the recipients {sorted(exc.recipients)}"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"the SMTP server refused the login (code {exc.smtp_code}); check TRADECAST_SMTP_USERNAME/PASSWORD"
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"the SMTP server answered {exc.smtp_code}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:_MAX_ERROR]
