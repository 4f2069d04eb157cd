"""Where a webhook may go, and the POST that connects only to an address it has checked.

A webhook URL is chosen by whoever writes a report definition, and the service connects to
it: without checks, a definition could make the service reach what only it can reach (the
cloud metadata service at ``169.254.169.254``, a database on ``127.0.0.1``, the office
network) and, through the delivery log, tell open ports from closed ones (server-side
request forgery). So a webhook host must resolve to *public* addresses only:

========================  ==============================================================
rule                      refused addresses
========================  ==============================================================
``loopback``              ``127.0.0.0/8``, ``::1``
``private``               ``10/8``, ``172.16/12``, ``192.168/16`` and the like
``link_local``            ``169.254/16`` (cloud metadata), ``fe80::/10``
``unique_local``          ``fc00::/7``
``multicast``             ``224/4``, ``ff00::/8``
``unspecified``           ``0.0.0.0``, ``::``
``reserved``              ``240/4`` and every other range that is not globally routable
``internal_name``         ``localhost``, ``*.localhost``, ``*.internal``
                          (``metadata.google.internal``), ``*.local``, ``*.home.arpa``...
========================  ==============================================================

IPv4 addresses written inside IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64, Teredo) are checked
as the IPv4 address they carry, and the numeric spellings the C resolver accepts
(``2130706433``, ``0x7f.1``, ``017700000001``) resolve to the address they spell, which is
then checked. The check runs when a definition is made and again at every delivery, on the
addresses the connection then uses (a name may resolve elsewhere by then): the POST
connects to the checked address itself, never resolves twice.

An operator with a receiver inside the network lists it in ``allow`` (the service setting
``TRADECAST_WEBHOOK_ALLOW_HOSTS``): host names (exact) or addresses and networks
(``10.1.2.3``, ``10.1.0.0/16``).

Redirects are never followed (a 3xx answer is a failed delivery): following one would send
the signed body to a host nobody checked.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reports.exceptions import WebhookAddressError

__all__ = [
    "Resolver",
    "WebhookResponse",
    "check_webhook_address",
    "resolve_host",
    "send_pinned_post",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``; tests pass their own to play a DNS that changes its answer.
Resolver = Callable[[str, int], list[str]]

_INTERNAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data", "metadata.goog"})
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".intranet", ".lan")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
# At most this many bytes of the answer are read: the status line is what matters.
_MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class WebhookResponse:
    """The receiver's answer: its status (the body is read, bounded, and dropped)."""

    status: int


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the C resolver: numeric spellings included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_rule(address: IPAddress) -> str | None:
    """The rule (see the module docstring) that refuses ``address``, or ``None`` if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_rule(embedded)
        if address in _UNIQUE_LOCAL:
            return "unique_local"
    for rule in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{rule}"):
            return rule
    return None if address.is_global else "reserved"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # ::a.b.c.d (IPv4-compatible, deprecated) still reaches a.b.c.d on some stacks.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def _is_allowed(host: str, address: str | None, allow: Sequence[str]) -> bool:
    for entry in allow:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == host.lower().rstrip("."):
            return True
        if address is None:
            continue
        try:
            if ipaddress.ip_address(address.split("%")[0]) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _refuse(url_shown: str, rule: str, detail: str) -> WebhookAddressError:
    return WebhookAddressError(
        f"delivery.webhook_url {url_shown!r} is refused ({rule}): {detail}. Webhooks go to public addresses "
        "only; an internal receiver must be listed in TRADECAST_WEBHOOK_ALLOW_HOSTS.",
        details={"field": "delivery.webhook_url", "rule": rule},
    )


def check_webhook_address(
    url: str,
    allow: Sequence[str] = (),
    *,
    resolve: Resolver | None = None,
    require_resolution: bool = False,
) -> list[str]:
    """Check the host of ``url`` and return the addresses it may be reached at.

    Parameters
    ----------
    url : str
        An http(s) URL (its form is checked by :func:`reports.delivery.check_delivery`).
    allow : sequence of str
        Host names, addresses or networks allowed although internal.
    resolve : callable, optional
        Host and port to addresses (default :func:`resolve_host`, the system resolver).
    require_resolution : bool
        At delivery, a host that does not resolve is refused; when a definition is made it
        is accepted (the delivery checks it again), so a passing DNS failure does not refuse it.

    Returns
    -------
    list of str
        The checked addresses (empty when the name did not resolve and that is accepted).

    Raises
    ------
    WebhookAddressError
        Naming the rule (``loopback``, ``private``, ``internal_name``...); ``details.rule``.
    """
    resolve = resolve or resolve_host
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    shown = f"{parts.scheme}://{host}"
    port = _port(parts)
    named_ok = _is_allowed(host, None, allow)
    lowered = host.lower()
    single_label = "." not in lowered and ":" not in host
    internal = lowered in _INTERNAL_NAMES or lowered.endswith(_INTERNAL_SUFFIXES) or single_label
    if not named_ok and internal and not _numeric(host):
        raise _refuse(shown, "internal_name", f"{host!r} names a machine inside the network")
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        if require_resolution:
            raise _refuse(shown, "unresolvable", f"{host!r} does not resolve") from None
        return []
    if not addresses and require_resolution:
        raise _refuse(shown, "unresolvable", f"{host!r} does not resolve")
    for address in addresses:
        rule = address_rule(ipaddress.ip_address(address.split("%")[0]))
        if rule is not None and not named_ok and not _is_allowed(host, address, allow):
            raise _refuse(shown, rule, f"{host!r} resolves to {rule.replace('_', '-')} address {address}")
    return addresses


def _numeric(host: str) -> bool:
    """Whether ``host`` is an address written as a number (``2130706433``, ``0x7f.1``, ``[::1]``)."""
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        return False


def _port(parts: urllib.parse.SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        port = None
    return port or (443 if parts.scheme == "https" else 80)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address; the Host header keeps the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address; the certificate is verified for the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.pinned = address

    def connect(self) -> None:
        raw = socket.create_connection((self.pinned, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def send_pinned_post(
    url: str, addresses: Sequence[str], body: bytes, headers: Mapping[str, str], *, deadline: float
) -> WebhookResponse:
    """POST ``body`` to ``url``, connecting to the first of ``addresses`` that answers.

    ``deadline`` is a :func:`time.monotonic` instant: the whole exchange (connection, request,
    answer) is cut off then, however slowly the receiver trickles bytes. Redirects are not
    followed (the status is returned as it is).

    Raises
    ------
    TimeoutError
        The deadline passed.
    OSError, http.client.HTTPException
        The receiver could not be reached or answered garbage.
    ValueError
        ``headers`` or the URL cannot be sent (a line break in a header...).
    """
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    target += f"?{parts.query}" if parts.query else ""
    last: OSError | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the webhook deadline passed")
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        conn = kind(parts.hostname or "", _port(parts), address, remaining)
        try:
            return _exchange(conn, target, body, headers, remaining)
        except ConnectionRefusedError as exc:
            last = exc
        finally:
            conn.close()
    raise last or OSError("the webhook host has no address")


def _exchange(
    conn: http.client.HTTPConnection, target: str, body: bytes, headers: Mapping[str, str], remaining: float
) -> WebhookResponse:
    cut = threading.Event()

    def cut_off() -> None:
        # A receiver sending a byte now and then beats every per-read timeout; shutting the
        # socket down wakes the blocked read at the deadline.
        cut.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(remaining, cut_off)
    timer.daemon = True
    timer.start()
    try:
        conn.request("POST", target, body=body, headers=dict(headers))
        response = conn.getresponse()
        response.read(_MAX_ANSWER)
        return WebhookResponse(response.status)
    except (OSError, http.client.HTTPException) as exc:
        if cut.is_set():
            raise TimeoutError("the webhook deadline passed") from exc
        raise
    finally:
        timer.cancel()
