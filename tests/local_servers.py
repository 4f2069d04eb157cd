"""Misbehaving local servers for the deadline tests: one that never answers, one that drips."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[socket.socket, threading.Event], None]


def drip(conn: socket.socket, stop: threading.Event, payload: bytes, interval: float) -> None:
    """Send ``payload`` one byte every ``interval`` seconds until done or stopped."""
    for byte in payload:
        if stop.wait(interval):
            return
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return


@contextmanager
def socket_server(handle: Handler | None = None, path: str = "") -> Iterator[str]:
    """A TCP server on 127.0.0.1 yielding its ``http://`` URL (plus ``path``).

    Each accepted connection goes to ``handle(conn, stop)`` on its own thread; without a
    handler it is held open and never answered. Everything closes when the block ends.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            if handle is not None:
                threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{path}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
