"""``tradecast serve`` in a subprocess for the tests that need a real server (uvicorn, sockets)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path, env: dict[str, str], *, timeout: float = 60) -> tuple[str, subprocess.Popen[str]]:
    """Start ``tradecast serve`` in ``folder`` with the SQLite store ``folder/server.db`` and
    ``env`` on top of this process's environment (no API keys); wait for ``/health``.

    Returns the base URL and the process (the caller kills it).
    """
    port = free_port()
    full = {
        **os.environ,
        "TRADECAST_DATABASE_URL": f"sqlite:///{folder / 'server.db'}",
        "TRADECAST_LOG_LEVEL": "WARNING",
        "TRADECAST_REPORT_DIR": str(folder / "reports"),
        # Ready at once (no warm-up fits in the workers) unless a test asks for them.
        "TRADECAST_WARM_UP": "0",
        **env,
    }
    full.pop("TRADECAST_API_KEYS", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port)],
        env=full,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()[1][-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base, proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"server did not start within {timeout:.0f} s")
        time.sleep(0.2)
