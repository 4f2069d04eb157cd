"""The first forecast after start-up against warm ones (issue 34: at most 3x).

Starts ``tradecast serve`` (default fit workers) on a free loopback port with a temporary
SQLite store, waits for ``GET /ready`` (or ``/health`` with ``--no-warm-up``, which sets
``TRADECAST_WARM_UP=0``: the behaviour before the warm-up), then posts ``--warm`` + 1 uncached
``auto`` forecasts of monthly inline series, one after the other, each on different data so
none is served from the cache. Prints the first one's seconds, the median of the others and
their ratio; ``--rounds`` repeats it on a fresh server each time.

Usage::

    python -m bench.first_forecast [--rounds 3] [--warm 6] [--no-warm-up]
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def monthly(seed: int, n: int = 72) -> list[dict[str, Any]]:
    """A trending seasonal monthly series; ``seed`` changes every value (no cache hit)."""
    rows = []
    for i in range(n):
        y = 100 + 0.7 * i + 9 * math.sin(2 * math.pi * i / 12 + seed) + 3 * math.sin(1.3 * i * (seed + 1))
        rows.append({"ds": f"{2015 + i // 12}-{i % 12 + 1:02d}", "y": round(y, 3)})
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(folder: Path, warm_up: bool) -> tuple[str, subprocess.Popen[bytes], float]:
    """Start the server; return its URL, its process and the seconds until it said ready."""
    port = free_port()
    env = {
        **os.environ,
        "TRADECAST_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "TRADECAST_LOG_LEVEL": "WARNING",
        "TRADECAST_REPORT_DIR": str(folder / "reports"),
        "TRADECAST_WARM_UP": "1" if warm_up else "0",
    }
    env.pop("TRADECAST_API_KEYS", None)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    path = "/ready" if warm_up else "/health"
    while time.monotonic() - start < 300:
        if proc.poll() is not None:
            raise SystemExit("server exited early")
        try:
            if httpx.get(base + path, timeout=1).status_code == 200:
                return base, proc, time.monotonic() - start
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server not answering {path} within 300 s")


def one_round(warm_up: bool, n_warm: int, seed: int) -> tuple[float, float, float]:
    """(seconds to ready, first forecast's seconds, median of the next ``n_warm``)."""
    with tempfile.TemporaryDirectory(prefix="tradecast-first-") as tmp:
        base, proc, ready = serve(Path(tmp), warm_up)
        try:
            times = []
            with httpx.Client(base_url=base, timeout=120) as client:
                for i in range(n_warm + 1):
                    body = {"data": monthly(seed * 100 + i), "frequency": "monthly", "horizon": 12, "model": "auto"}
                    start = time.perf_counter()
                    response = client.post("/v1/forecasts", json=body)
                    times.append(time.perf_counter() - start)
                    if response.status_code != 200 or response.headers.get("x-cache") != "miss":
                        raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:300]}")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return ready, times[0], statistics.median(times[1:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh servers, one after the other")
    parser.add_argument("--warm", type=int, default=6, help="forecasts after the first one")
    parser.add_argument("--no-warm-up", action="store_true", help="TRADECAST_WARM_UP=0 and wait for /health")
    args = parser.parse_args(argv)
    ratios = []
    for r in range(args.rounds):
        ready, first, warm = one_round(not args.no_warm_up, args.warm, r)
        ratios.append(first / warm)
        line = f"round {r + 1}: ready after {ready:.1f} s; first {first:.3f} s, warm median {warm:.3f} s"
        print(f"{line}, ratio {first / warm:.2f}")  # noqa: T201 - a benchmark script reports on stdout
    print(f"median first/warm ratio over {args.rounds} rounds: {statistics.median(ratios):.2f}")  # noqa: T201 - a benchmark script reports on stdout


if __name__ == "__main__":
    main()
