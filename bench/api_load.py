"""Load benchmark of the REST service (``make bench-api``).

Starts ``tradecast serve`` in a subprocess on a free loopback port with a temporary SQLite
store, then measures from outside the server process:

1. throughput and latency of a trivial endpoint (``GET /health``) and of a cached
   ``POST /v1/forecasts`` for a stored annual series, each with ``--connections`` concurrent
   clients for ``--duration`` seconds, with ``wrk`` (Debian package ``wrk``) or, if it is
   missing, an asyncio/httpx load generator in this (separate) process;
2. the latency of uncached ``auto`` forecasts of 30-point annual series (sequential, each
   on different data so nothing is served from the cache).

Targets (issue 5): cached throughput >= 50% of the trivial endpoint's, cached p99 < 100 ms,
uncached p50 < 1 s. Figures go to stdout and ``var/bench/api_load.json``.

Usage::

    python -m bench.api_load [--duration 20] [--connections 50] [--workers 1] [--rounds 1]
                             [--tool wrk|python]

Other processes on the machine share its CPUs with the server and the load tool; the
load average is printed with the figures, and ``--rounds`` alternates the two loads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "api_load.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def annual_series(n: int = 30, seed: int = 0) -> list[dict[str, Any]]:
    """A trade-like annual series: growth with a cycle, different for each seed."""
    values = []
    level = 40.0 + seed % 7
    for i in range(n):
        level *= 1.0 + 0.06 + 0.05 * math.sin(0.7 * i + seed) + 0.002 * ((seed * 31 + i * 17) % 11 - 5)
        values.append({"ds": str(1994 + i), "y": round(level, 3)})
    return values


def start_server(port: int, workers: int, db_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TRADECAST_DATABASE_URL": f"sqlite:///{db_dir / 'bench.db'}",
        "TRADECAST_LOG_LEVEL": "WARNING",
        "TRADECAST_WORKERS": str(workers),
        "TRADECAST_REPORT_DIR": str(db_dir / "reports"),
    }
    env.pop("TRADECAST_API_KEYS", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        cwd=db_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early:\n{proc.communicate()[0]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not become ready within 90 s")


# ------------------------------------------------------------------ load tools
_WRK_LUA = """
wrk.method = "{method}"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
"""


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(url: str, method: str, body: str | None, duration: int, connections: int) -> dict[str, Any]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    with tempfile.TemporaryDirectory() as tmp:
        if body is not None:
            script = Path(tmp) / "request.lua"
            script.write_text(_WRK_LUA.format(method=method, body=body))
            cmd += ["-s", str(script)]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    pct = {int(p): _wrk_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "tool": "wrk",
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": pct.get(50),
        "p90_ms": pct.get(90),
        "p99_ms": pct.get(99),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


async def _python_load(url: str, method: str, body: str | None, duration: int, connections: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + duration
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                response = await client.request(method, url, content=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                failures += response.status_code >= 300

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "tool": "python-httpx",
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": q(0.50),
        "p90_ms": q(0.90),
        "p99_ms": q(0.99),
        "non_2xx": failures,
        "socket_errors": None,
    }


def run_load(tool: str, url: str, method: str, body: str | None, duration: int, connections: int) -> dict[str, Any]:
    if tool == "wrk":
        return run_wrk(url, method, body, duration, connections)
    return asyncio.run(_python_load(url, method, body, duration, connections))


# ------------------------------------------------------------------ main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--uncached", type=int, default=15, help="number of uncached auto forecasts")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternate trivial/cached runs; the median-ratio round is reported"
    )
    args = parser.parse_args()
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tradecast-bench-") as tmp:
        proc = start_server(port, args.workers, Path(tmp))
        try:
            results = _measure(base, tool, args)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    _report(results)
    return 0 if results["passed"] else 1


def _measure(base: str, tool: str, args: argparse.Namespace) -> dict[str, Any]:
    client = httpx.Client(base_url=base, timeout=120)
    series = {"series_id": "bench_annual", "frequency": "annual", "unit": "USD bn", "data": annual_series()}
    client.post("/v1/series", json=series).raise_for_status()

    # Uncached auto forecasts: different data every time (first one also warms the workers).
    warm = client.post("/v1/forecasts", json={"data": annual_series(seed=999), "frequency": "annual", "horizon": 5})
    warm.raise_for_status()
    uncached: list[float] = []
    models: set[str] = set()
    for seed in range(1, args.uncached + 1):
        body = {"data": annual_series(seed=seed), "frequency": "annual", "horizon": 5, "model": "auto"}
        t0 = time.perf_counter()
        response = client.post("/v1/forecasts", json=body)
        uncached.append(time.perf_counter() - t0)
        response.raise_for_status()
        assert response.headers["x-cache"] == "miss"
        models.add(response.json()["model"])

    cached_body = json.dumps({"series_id": "bench_annual", "horizon": 5, "levels": [80, 95]})
    first = client.post("/v1/forecasts", content=cached_body, headers={"content-type": "application/json"})
    first.raise_for_status()
    again = client.post("/v1/forecasts", content=cached_body, headers={"content-type": "application/json"})
    assert again.headers["x-cache"] == "hit", "the forecast was not cached"

    # Alternate the two loads round by round, so that a busy machine disturbs both alike.
    rounds = []
    for _ in range(args.rounds):
        trivial = run_load(tool, f"{base}/health", "GET", None, args.duration, args.connections)
        cached = run_load(tool, f"{base}/v1/forecasts", "POST", cached_body, args.duration, args.connections)
        rounds.append({"trivial": trivial, "cached": cached, "ratio": cached["rps"] / trivial["rps"]})
    middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    trivial, cached = middle["trivial"], middle["cached"]
    metrics = client.get("/metrics").text
    hits = re.search(r"^tradecast_forecast_cache_hits_total (\S+)", metrics, re.M)
    server_side = _server_latency(metrics, "POST", "/v1/forecasts")
    client.close()

    ratio = middle["ratio"]
    p50_uncached = statistics.median(uncached)
    checks = {
        "cached_throughput_ratio>=0.5": ratio >= 0.5,
        "cached_p99<100ms": (cached["p99_ms"] or 1e9) < 100,
        "uncached_auto_p50<1s": p50_uncached < 1.0,
        "no_errors": cached["non_2xx"] == 0 and trivial["non_2xx"] == 0,
    }
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {
            "tool": tool,
            "duration_s": args.duration,
            "connections": args.connections,
            "uvicorn_workers": args.workers,
            "rounds": args.rounds,
            "cpus": os.cpu_count(),
        },
        "trivial_get_health": trivial,
        "cached_post_forecast": cached,
        "cached_vs_trivial_throughput": ratio,
        "rounds": rounds,
        "cache_hits_reported_by_server": float(hits.group(1)) if hits else None,
        "server_side_forecast_latency_share_below": server_side,
        "uncached_auto_forecast_30pt_annual": {
            "n": len(uncached),
            "p50_ms": p50_uncached * 1000,
            "p90_ms": sorted(uncached)[int(0.9 * (len(uncached) - 1))] * 1000,
            "max_ms": max(uncached) * 1000,
            "first_request_incl_worker_warmup_ms": warm.elapsed.total_seconds() * 1000,
            "models_reported": sorted(models),
        },
        "checks": checks,
        "passed": all(checks.values()),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _server_latency(metrics: str, method: str, route: str) -> dict[str, float]:
    """Share of the server's own timings (all requests of the run) below each bucket bound."""
    pattern = (
        r'^tradecast_http_request_duration_seconds_bucket\{le="([^"]+)",'
        rf'method="{method}",route="{re.escape(route)}"\}} (\S+)'
    )
    buckets = {le: float(n) for le, n in re.findall(pattern, metrics, re.M)}
    total = buckets.get("+Inf", 0.0)
    return {f"{le}s": n / total for le, n in buckets.items() if total and le in ("0.005", "0.025", "0.1")}


def _report(results: dict[str, Any]) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    t, c, u = (
        results["trivial_get_health"],
        results["cached_post_forecast"],
        results["uncached_auto_forecast_30pt_annual"],
    )
    s = results["settings"]
    lines = [
        f"tradecast API load benchmark ({s['tool']}, {s['connections']} connections, {s['duration_s']} s, "
        f"{s['uvicorn_workers']} uvicorn worker(s), {s['cpus']} CPUs, server log level WARNING)",
        f"  GET /health (trivial)       {t['rps']:9.0f} req/s  p50 {t['p50_ms']:.2f} ms  p99 {t['p99_ms']:.2f} ms",
        f"  POST /v1/forecasts (cached) {c['rps']:9.0f} req/s  p50 {c['p50_ms']:.2f} ms  p99 {c['p99_ms']:.2f} ms",
        f"  cached / trivial throughput  {results['cached_vs_trivial_throughput']:.2f}  (target >= 0.50)",
        f"  uncached auto, 30-pt annual  p50 {u['p50_ms']:.0f} ms  p90 {u['p90_ms']:.0f} ms  max {u['max_ms']:.0f} ms"
        f"  (n={u['n']}; target p50 < 1000 ms)",
        *(
            f"  round {i + 1}: trivial {r['trivial']['rps']:.0f} req/s (p99 {r['trivial']['p99_ms']:.1f} ms), "
            f"cached {r['cached']['rps']:.0f} req/s (p99 {r['cached']['p99_ms']:.1f} ms), ratio {r['ratio']:.2f}"
            for i, r in enumerate(results["rounds"])
        ),
        "  server-side timing of POST /v1/forecasts, share of requests below: "
        + ", ".join(f"{k} {v:.4f}" for k, v in results["server_side_forecast_latency_share_below"].items()),
        "  load average during the run: " + results["loadavg"],
        "  checks: " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in results["checks"].items()),
        f"  written to {OUT.relative_to(ROOT)}",
    ]
    print("\n".join(lines))  # noqa: T201 - a benchmark script reports on stdout


if __name__ == "__main__":
    raise SystemExit(main())
