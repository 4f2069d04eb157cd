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
import http.client
import json
import logging
import re
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from pydantic import SecretStr

from forecasting.exceptions import InvalidParameterError
from reports.exceptions import WebhookAddressError
from reports.webhooks import check_webhook_address, send_pinned_post

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Attachment",
    "DeliveryOptions",
    "DeliveryOutcome",
    "DeliveryTarget",
    "WEBHOOK_OUTCOMES",
    "check_delivery",
    "check_webhook_target",
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
# A host without spaces, control characters, "%" (an IPv6 zone or an escape) or "\\" (which
# some parsers read as "/"); international names stay allowed (the resolver applies IDNA).
_HOST_RE = re.compile(r"^[^\s%\\/@?#\x00-\x1f\x7f]+$")
#: What the delivery log says about a webhook that was not delivered: coarse on purpose, so
#: that the log cannot be used to tell an open port from a closed one or read a receiver's error.
WEBHOOK_OUTCOMES = {
    "http_error_4xx": "the receiver refused the webhook (HTTP 4xx)",
    "http_error_5xx": "the receiver failed (HTTP 5xx)",
    "redirect_refused": "the receiver answered with a redirect, which is not followed",
    "refused_address": "the webhook host is or resolves to an internal address",
    "connection_failed": "the receiver could not be reached",
    "timeout": "the receiver did not answer within the delivery deadline",
    "invalid_request": "the webhook request could not be built (invalid URL or header)",
}
_PERMANENT_OUTCOMES = frozenset({"redirect_refused", "refused_address", "invalid_request"})


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


def check_webhook_target(target: DeliveryTarget, allow: Sequence[str] = ()) -> None:
    """Refuse a webhook URL whose host is internal (see :mod:`reports.webhooks`).

    Resolves the host (the definition is made once; listings never resolve). ``allow``
    lists the internal receivers the service accepts (``TRADECAST_WEBHOOK_ALLOW_HOSTS``).

    Raises
    ------
    WebhookAddressError
        422, naming the rule (``details.rule``).
    """
    url = target.webhook_url
    if url:
        host = urllib.parse.urlsplit(url).hostname or ""
        # Here, not in check_delivery: definitions stored before this rule must stay readable.
        if not _HOST_RE.match(host) or any(ord(c) < 33 or ord(c) == 127 for c in url):
            raise InvalidParameterError(
                f"delivery.webhook_url has a host or characters a URL cannot carry (spaces, control "
                f"characters, '%' or '\\' in the host); got {url!r}."
            )
        check_webhook_address(url, allow)


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
    webhook_allow : tuple of str
        Internal webhook receivers accepted anyway: host names, addresses or networks
        (everything else must resolve to public addresses; see :mod:`reports.webhooks`).
    timeout_seconds : float
        Per attempt, connection and answer.
    deadline_seconds : float
        A webhook's whole delivery, every attempt and wait included, ends by then.
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
    webhook_allow: tuple[str, ...] = ()
    timeout_seconds: float = 10.0
    deadline_seconds: float = 60.0
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


class WebhookFailed(Exception):
    """A webhook not delivered; ``outcome`` is a key of :data:`WEBHOOK_OUTCOMES`."""

    def __init__(self, outcome: str) -> None:
        super().__init__(WEBHOOK_OUTCOMES[outcome])
        self.outcome = outcome
        self.permanent = outcome in _PERMANENT_OUTCOMES


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
    except (TypeError, ValueError, OverflowError):
        return False
    if not isinstance(signature, str | bytes) or not isinstance(body, bytes):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_seconds:
        return False
    given = signature.encode("utf-8", "replace") if isinstance(signature, str) else signature
    # compare_digest: a plain == leaks, through its timing, how many leading characters match.
    # Bytes on both sides: on str it raises TypeError for non-ASCII text instead of answering.
    return hmac.compare_digest(sign_body(secret, sent, body).encode(), given)


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


def post_webhook(
    options: DeliveryOptions,
    url: str,
    payload: dict[str, Any],
    *,
    now: float | None = None,
    deadline: float | None = None,
) -> int:
    """POST ``payload`` as JSON to ``url`` with the signature headers; returns the 2xx status.

    The host is checked (and resolved) again now, and the connection goes to the checked
    address: a name that resolved to a public address when the definition was made may
    resolve inside the network today. Redirects are not followed. ``deadline`` (a
    :func:`time.monotonic` instant; default ``timeout_seconds`` from now) cuts off the whole
    exchange.

    Raises
    ------
    WebhookFailed
        With a coarse outcome (``http_error_5xx``, ``refused_address``, ``timeout``...).
    """
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time() if now is None else now)
    signature = sign_body(options.webhook_secret.get_secret_value(), timestamp, body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "tradecast-report-delivery",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature,
    }
    ends = min(deadline or float("inf"), time.monotonic() + options.timeout_seconds)
    try:
        addresses = check_webhook_address(url, options.webhook_allow, require_resolution=True)
        status = send_pinned_post(url, addresses, body, headers, deadline=ends).status
    except WebhookAddressError:
        raise WebhookFailed("refused_address") from None
    except TimeoutError:  # socket.timeout is TimeoutError too
        raise WebhookFailed("timeout") from None
    except (ValueError, UnicodeError, http.client.InvalidURL):
        raise WebhookFailed("invalid_request") from None
    except OSError:
        raise WebhookFailed("connection_failed") from None
    except Exception:  # http.client.HTTPException and kin: the receiver answered garbage
        raise WebhookFailed("connection_failed") from None
    return _check_status(status)


def _check_status(status: int) -> int:
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise WebhookFailed("redirect_refused")
    if 400 <= status < 500:
        failure = WebhookFailed("http_error_4xx")
        # 408 (timeout) and 429 (slow down) may pass later; other 4xx answers will not.
        failure.permanent = status not in (408, 429)
        raise failure
    raise WebhookFailed("http_error_5xx")


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
            deadline = time.monotonic() + options.deadline_seconds
            post = lambda: _post_by(options, url, payload, deadline)  # noqa: E731
            outcomes.append(_with_retries(WEBHOOK, shown, post, options, sleep, deadline=deadline))
    return outcomes


def _post_by(options: DeliveryOptions, url: str, payload: dict[str, Any], deadline: float) -> None:
    if time.monotonic() >= deadline:
        raise WebhookFailed("timeout")
    post_webhook(options, url, payload, deadline=deadline)


def _with_retries(
    channel: str,
    target: str,
    send: Callable[[], None],
    options: DeliveryOptions,
    sleep: Callable[[float], None],
    *,
    deadline: float | None = None,
) -> DeliveryOutcome:
    attempts = max(1, options.max_attempts)
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            send()
        except Exception as exc:
            error = _describe(exc)
            logger.warning("delivery %s to %s: attempt %d/%d failed: %s", channel, target, attempt, attempts, error)
            wait = options.backoff(attempt)
            out_of_time = deadline is not None and time.monotonic() + wait >= deadline
            if _is_permanent(exc) or (out_of_time and attempt < attempts):
                return DeliveryOutcome(channel, target, FAILED, attempt, error)
            if attempt < attempts:
                sleep(wait)
            continue
        logger.info("delivery %s to %s: sent (attempt %d)", channel, target, attempt)
        return DeliveryOutcome(channel, target, SENT, attempt)
    return DeliveryOutcome(channel, target, FAILED, attempts, error)


def _is_permanent(exc: Exception) -> bool:
    """Whether retrying cannot help: a refusal, or a message that cannot be built (a header
    with a line break raises ValueError every time)."""
    if isinstance(exc, WebhookFailed):
        return exc.permanent
    if isinstance(exc, ValueError | UnicodeError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPAuthenticationError):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _describe(exc: Exception) -> str:
    """A short, secret-free description of a delivery failure for the log and the record."""
    if isinstance(exc, WebhookFailed):
        text = f"{exc.outcome}: {exc}"
    elif isinstance(exc, ValueError):
        text = f"the message could not be built ({type(exc).__name__}); check the report title and recipients"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = f"the SMTP server refused the recipients {sorted(exc.recipients)}"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"the SMTP server refused the login (code {exc.smtp_code}); check TRADECAST_SMTP_USERNAME/PASSWORD"
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"the SMTP server answered {exc.smtp_code}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:_MAX_ERROR]
