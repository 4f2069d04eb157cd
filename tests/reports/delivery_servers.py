"""Local servers for the delivery tests: an SMTP server (aiosmtpd) and an HTTP receiver.

Both listen on 127.0.0.1 on a free port and keep what they received; no test uses the
network beyond this machine's loopback.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SMTP_USER = "reports"
SMTP_PASSWORD = "smtp-pass-Zq8r41vN"
WEBHOOK_SECRET = "whsec-Lk2PqR9sT4uV7wX0yZ3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """Messages the SMTP server accepted, and the logins it saw."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    port: int = 0


@contextmanager
def smtp_server(*, require_login: bool = False) -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1; with ``require_login``, AUTH with SMTP_USER/PASSWORD."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            box.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
            )
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == SMTP_USER
        ok = ok and data.password.decode() == SMTP_PASSWORD
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": box.port}
    if require_login:
        kwargs.update(authenticator=authenticate, auth_require_tls=False)
    controller = Controller(Handler(), **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Receiver:
    """Requests the HTTP receiver got; ``statuses`` are answered in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@contextmanager
def http_receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    """A threaded HTTP server on 127.0.0.1 recording every POST."""
    receiver = Receiver(statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append((dict(self.headers.items()), body))
            code = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tradecast?token=abc123"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
