"""Bounded loopback load of the REST service, with saturation (``make bench-load``).

Starts ``tradecast serve`` in a subprocess on a free loopback port (temporary SQLite store,
``TRADECAST_FIT_WORKERS`` fitting processes, ``TRADECAST_MAX_PENDING_FITS`` as the bound of the
fitting queue), then measures from this process, each phase for ``--duration`` seconds with
``--connections`` concurrent clients:

1. ``GET /health``: the reference throughput;
2. cached forecasts of a stored series (``series_id``) and of inline data (the same body each
   time, so the first answer is cached), as ratios of the ``/health`` throughput, with p99;
3. uncached forecasts (different monthly data on every request, ``auto``): throughput, p50/p99
   of the answered ones, and how many were refused with ``503 overloaded`` (and whether each
   carried ``Retry-After``);
4. saturation: the same uncached load with ``--saturate`` clients while one client, in a
   process of its own, reads ``GET /v1/series`` back to back; its p99 must stay under 100 ms. It runs in each mode of
   ``--retry``: the saturating clients retry at once after a 503 (``immediate``, the worst
   case: a client that ignores ``Retry-After``), or wait ``Retry-After`` (``polite``).

Each phase also reports the server process's CPU time per request (user + system, from
``/proc``), a figure that moves much less than latencies when other work shares the machine.

Checks (issue 21): cached inline >= 0.8 of ``/health``; saturation answered with 503 +
Retry-After (bounded queue, no 5xx otherwise); ``GET /v1/series`` p99 < 100 ms while saturated,
in every mode. Figures go to stdout (a Markdown table) and ``var/bench/load.json``.

Usage::

    python -m bench.load [--duration 10] [--connections 20] [--saturate 40]
                         [--fit-workers 2] [--max-pending-fits 4] [--retry both|immediate|polite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.api_load import _free_port, annual_series, start_server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "load.json"
JSON = {"Content-Type": "application/json"}


def monthly_series(seed: int, n: int = 72) -> list[dict[str, Any]]:
    """A seasonal monthly series, different for every seed (so never served from the cache)."""
    out = []
    for i in range(n):
        value = 100 + 0.5 * i + 10 * math.sin(2 * math.pi * i / 12 + seed % 5) + ((seed * 7919 + i * 104729) % 97) / 10
        out.append({"ds": f"{2015 + i // 12}-{i % 12 + 1:02d}", "y": round(value, 3)})
    return out


def _quantile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


class _Tally:
    """Latencies of answered requests and counts of statuses of one phase."""

    def __init__(self, polite: bool = False) -> None:
        self.polite = polite  # wait Retry-After after a 503, as a well-behaved client does
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.retry_after_missing = 0
        self.transport_errors = 0

    def summary(self, elapsed: float) -> dict[str, Any]:
        ok = self.statuses.get(200, 0)
        return {
            "requests": sum(self.statuses.values()),
            "ok": ok,
            "rps": ok / elapsed,
            "p50_ms": _quantile(self.latencies, 0.50),
            "p99_ms": _quantile(self.latencies, 0.99),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "503_without_retry_after": self.retry_after_missing,
            "transport_errors": self.transport_errors,
        }


async def _worker(client: httpx.AsyncClient, stop: float, tally: _Tally, request: Any) -> None:
    n = 0
    while time.perf_counter() < stop:
        method, url, body = request(n)
        n += 1
        started = time.perf_counter()
        try:
            response = await client.request(method, url, content=body, headers=JSON)
        except httpx.TransportError:
            tally.transport_errors += 1
            continue
        tally.statuses[response.status_code] += 1
        if response.status_code == 200:
            tally.latencies.append(time.perf_counter() - started)
        elif response.status_code == 503:
            retry_after = response.headers.get("retry-after")
            if retry_after is None:
                tally.retry_after_missing += 1
            elif tally.polite:
                await asyncio.sleep(min(float(retry_after), max(0.0, stop - time.perf_counter())))


def server_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (None where ``/proc`` is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phase(
    base: str, duration: float, groups: list[tuple[int, Any]], polite: bool = False, pid: int | None = None
) -> tuple[list[dict[str, Any]], float]:
    """Run groups of (clients, request factory) together; one summary per group.

    With the server's ``pid``, each summary also holds the server's CPU milliseconds per
    request of the whole phase (every group's requests, answered or refused).
    """
    total = sum(n for n, _ in groups)
    limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
    tallies = [_Tally(polite) for _ in groups]
    cpu_before = server_cpu_seconds(pid) if pid is not None else None
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        stop = time.perf_counter() + duration
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _worker(client, stop, tally, lambda n, make=make, k=k: make(k * 1_000_000 + n))
                for tally, (clients, make) in zip(tallies, groups, strict=True)
                for k in range(clients)
            )
        )
        elapsed = time.perf_counter() - started
    summaries = [t.summary(elapsed) for t in tallies]
    cpu_after = server_cpu_seconds(pid) if pid is not None else None
    requests = sum(s["requests"] for s in summaries)
    if cpu_before is not None and cpu_after is not None and requests:
        for summary in summaries:
            summary["server_cpu_ms_per_request"] = 1000 * (cpu_after - cpu_before) / requests
    return summaries, elapsed


def _uncached(n: int) -> tuple[str, str, str]:
    body = {"data": monthly_series(seed=n), "frequency": "monthly", "horizon": 12, "model": "auto"}
    return "POST", "/v1/forecasts", json.dumps(body)


def _uncached_from(offset: int) -> Any:
    """Request factory of uncached forecasts whose seeds start at ``offset`` (phases never share data)."""
    return lambda n: _uncached(offset + n)


#: --retry modes: the phase-name label and whether the saturating clients wait Retry-After.
RETRY_MODES = {"immediate": ("retry at once", False), "polite": ("Retry-After honoured", True)}


async def _measure(base: str, args: argparse.Namespace, pid: int | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        stored = {"series_id": "bench_annual", "frequency": "annual", "unit": "USD bn", "data": annual_series()}
        (await client.post("/v1/series", json=stored)).raise_for_status()
        stored_body = json.dumps({"series_id": "bench_annual", "horizon": 5, "levels": [80, 95]})
        inline_body = json.dumps({"data": annual_series(seed=3), "frequency": "annual", "horizon": 5})
        for body in (stored_body, inline_body, *(_uncached(-k)[2] for k in range(1, 3))):  # warm cache and workers
            (await client.post("/v1/forecasts", content=body, headers=JSON)).raise_for_status()
        again = await client.post("/v1/forecasts", content=inline_body, headers=JSON)
        assert again.headers.get("x-cache") == "hit", "the inline forecast was not cached"
    d, c = args.duration, args.connections
    phases: dict[str, Any] = {}
    phases["GET /health"] = (await _phase(base, d, [(c, lambda n: ("GET", "/health", None))], pid=pid))[0][0]
    cached = {"cached stored": stored_body, "cached inline": inline_body}
    for name, body in cached.items():
        phases[name] = (await _phase(base, d, [(c, lambda n, b=body: ("POST", "/v1/forecasts", b))], pid=pid))[0][0]
    phases["uncached auto (monthly)"] = (await _phase(base, d, [(c, _uncached_from(10_000_000))], pid=pid))[0][0]
    for i, mode in enumerate(_retry_modes(args)):
        label, polite = RETRY_MODES[mode]
        saturated, listing = await _saturation(base, d, args.saturate, 20_000_000 * (i + 1), polite, pid)
        phases[f"saturation ({label}): uncached auto"] = saturated
        phases[f"saturation ({label}): GET /v1/series"] = listing
    return phases


async def _saturation(
    base: str, duration: float, clients: int, offset: int, polite: bool, pid: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Saturating clients in this process; ``GET /v1/series`` read back to back by another.

    The reader runs in a process of its own: sharing this process's event loop (and GIL)
    with clients that retry at once would add the load generator's own queueing to the
    latency it measures.
    """
    start_at = time.time() + 3.0  # the reader's process is spawned meanwhile
    cpu_before = None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        reader = asyncio.get_running_loop().run_in_executor(
            pool, _read_back_to_back, base, "/v1/series", start_at, duration
        )
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu_before = server_cpu_seconds(pid) if pid is not None else None
        saturated = (await _phase(base, duration, [(clients, _uncached_from(offset))], polite=polite))[0][0]
        listing = await reader
    cpu_after = server_cpu_seconds(pid) if pid is not None else None
    requests = saturated["requests"] + listing["requests"]
    if cpu_before is not None and cpu_after is not None and requests:
        saturated["server_cpu_ms_per_request"] = listing["server_cpu_ms_per_request"] = (
            1000 * (cpu_after - cpu_before) / requests
        )
    return saturated, listing


def _read_back_to_back(base: str, path: str, start_at: float, duration: float) -> dict[str, Any]:
    """One client's ``GET path`` back to back from ``start_at`` for ``duration`` s (another process)."""
    tally = _Tally()
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/health")  # connect before the clock starts
        time.sleep(max(0.0, start_at - time.time()))
        started = time.perf_counter()
        stop = started + duration
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            try:
                response = client.get(path)
            except httpx.TransportError:
                tally.transport_errors += 1
                continue
            tally.statuses[response.status_code] += 1
            if response.status_code == 200:
                tally.latencies.append(time.perf_counter() - sent)
        return tally.summary(time.perf_counter() - started)


def _retry_modes(args: argparse.Namespace) -> list[str]:
    if args.honour_retry_after:
        return ["polite"]
    return ["immediate", "polite"] if args.retry == "both" else [args.retry]


def _checks(phases: dict[str, Any]) -> dict[str, bool]:
    health = phases["GET /health"]["rps"]
    saturated = [s for name, s in phases.items() if name.startswith("saturation") and name.endswith("uncached auto")]
    listings = [s for name, s in phases.items() if name.startswith("saturation") and name.endswith("GET /v1/series")]
    server_errors = sum(v for s in phases.values() for k, v in s["statuses"].items() if k != "503" and k >= "500")
    return {
        "cached_inline>=0.8_of_health": phases["cached inline"]["rps"] >= 0.8 * health,
        "saturation_refused_with_503": bool(saturated) and all(s["statuses"].get("503", 0) > 0 for s in saturated),
        "every_503_has_retry_after": all(s["503_without_retry_after"] == 0 for s in phases.values()),
        "no_other_5xx": server_errors == 0,
        "series_p99<100ms_while_saturated": bool(listings) and all((s["p99_ms"] or 1e9) < 100 for s in listings),
    }


def _table(results: dict[str, Any]) -> str:
    health = results["phases"]["GET /health"]["rps"]
    lines = [
        "| phase | answered req/s | ratio to /health | p50 ms | p99 ms | server CPU ms/req | statuses |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in results["phases"].items():
        p50 = "-" if s["p50_ms"] is None else f"{s['p50_ms']:.1f}"
        p99 = "-" if s["p99_ms"] is None else f"{s['p99_ms']:.1f}"
        cpu = s.get("server_cpu_ms_per_request")
        cpu_text = "-" if cpu is None else f"{cpu:.2f}"
        statuses = ", ".join(f"{k}: {v}" for k, v in s["statuses"].items())
        lines.append(f"| {name} | {s['rps']:.1f} | {s['rps'] / health:.2f} | {p50} | {p99} | {cpu_text} | {statuses} |")
    lines.append("")
    lines.append("checks: " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in results["checks"].items()))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=20, help="concurrent clients per phase")
    parser.add_argument("--saturate", type=int, default=40, help="clients of uncached fits in the saturation phase")
    parser.add_argument(
        "--retry",
        choices=["both", "immediate", "polite"],
        default="both",
        help="how saturating clients retry after a 503: at once (worst case), after Retry-After, or a phase of each",
    )
    parser.add_argument("--honour-retry-after", action="store_true", help="the same as --retry polite")
    parser.add_argument("--fit-workers", type=int, default=2)
    parser.add_argument("--max-pending-fits", type=int, default=4)
    args = parser.parse_args()
    # start_server copies this process's environment into the server's.
    os.environ["TRADECAST_FIT_WORKERS"] = str(args.fit_workers)
    os.environ["TRADECAST_MAX_PENDING_FITS"] = str(args.max_pending_fits)
    port = _free_port()
    loadavg = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tradecast-load-") as tmp:
        proc = start_server(port, 1, Path(tmp))
        try:
            phases = asyncio.run(_measure(f"http://127.0.0.1:{port}", args, pid=proc.pid))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    checks = _checks(phases)
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {**vars(args), "cpus": os.cpu_count(), "loadavg_before": loadavg, "loadavg": os.getloadavg()},
        "phases": phases,
        "checks": checks,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    print(_table(results))  # noqa: T201 - a benchmark script reports on stdout
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
