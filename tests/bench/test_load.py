"""bench.load (``make bench-load``): its request bodies, checks and table, without a server."""

from __future__ import annotations

import json
import os
from typing import Any

from bench.load import _checks, _table, _uncached, _uncached_from, monthly_series, server_cpu_seconds


def _phase(rps: float, statuses: dict[str, int], p99: float | None = 5.0, missing: int = 0) -> dict[str, Any]:
    return {
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": p99,
        "statuses": statuses,
        "503_without_retry_after": missing,
    }


def _phases(**changes: dict[str, Any]) -> dict[str, Any]:
    phases = {
        "GET /health": _phase(1000, {"200": 10}),
        "cached stored": _phase(900, {"200": 9}),
        "cached inline": _phase(850, {"200": 9}),
        "uncached auto (monthly)": _phase(10, {"200": 5}),
        "saturation: uncached auto": _phase(10, {"200": 5, "503": 40}),
        "saturation: GET /v1/series": _phase(200, {"200": 100}, p99=20.0),
    }
    phases.update(changes)
    return phases


def test_uncached_bodies_differ_from_request_to_request_and_between_phases() -> None:
    bodies = {_uncached(n)[2] for n in range(50)}
    assert len(bodies) == 50
    assert _uncached_from(10)(0) == _uncached(10)
    data = monthly_series(seed=1)
    assert len(data) == 72 and data[0]["ds"] == "2015-01" and data[-1]["ds"] == "2020-12"
    assert json.loads(_uncached(3)[2])["model"] == "auto"


def test_checks_pass_on_a_healthy_run() -> None:
    assert all(_checks(_phases()).values())


def test_checks_fail_on_each_defect() -> None:
    assert not _checks(_phases(**{"cached inline": _phase(700, {"200": 7})}))["cached_inline>=0.8_of_health"]
    no_refusal = _phases(**{"saturation: uncached auto": _phase(10, {"200": 50})})
    assert not _checks(no_refusal)["saturation_refused_with_503"]
    bare_503 = _phases(**{"saturation: uncached auto": _phase(10, {"200": 5, "503": 4}, missing=1)})
    assert not _checks(bare_503)["every_503_has_retry_after"]
    crash = _phases(**{"uncached auto (monthly)": _phase(10, {"200": 5, "500": 1})})
    assert not _checks(crash)["no_other_5xx"]
    slow = _phases(**{"saturation: GET /v1/series": _phase(10, {"200": 10}, p99=250.0)})
    assert not _checks(slow)["series_p99<100ms_while_saturated"]


def test_checks_cover_every_retry_mode() -> None:
    modes = {
        "saturation (retry at once): uncached auto": _phase(10, {"200": 5, "503": 400}),
        "saturation (retry at once): GET /v1/series": _phase(150, {"200": 100}, p99=30.0),
        "saturation (Retry-After honoured): uncached auto": _phase(10, {"200": 5, "503": 40}),
        "saturation (Retry-After honoured): GET /v1/series": _phase(200, {"200": 100}, p99=20.0),
    }
    phases = {k: v for k, v in _phases(**modes).items() if not k.startswith("saturation:")}
    assert all(_checks(phases).values())
    slow_when_rude = {**phases, "saturation (retry at once): GET /v1/series": _phase(10, {"200": 10}, p99=266.0)}
    assert not _checks(slow_when_rude)["series_p99<100ms_while_saturated"]
    unrefused = {**phases, "saturation (Retry-After honoured): uncached auto": _phase(10, {"200": 50})}
    assert not _checks(unrefused)["saturation_refused_with_503"]
    no_saturation = {k: v for k, v in phases.items() if not k.startswith("saturation")}
    checks = _checks(no_saturation)
    assert not checks["saturation_refused_with_503"] and not checks["series_p99<100ms_while_saturated"]


def test_table_shows_server_cpu_per_request_when_measured() -> None:
    phases = _phases(**{"GET /health": {**_phase(1000, {"200": 10}), "server_cpu_ms_per_request": 0.667}})
    table = _table({"phases": phases, "checks": _checks(phases)})
    assert "| GET /health | 1000.0 | 1.00 | 1.0 | 5.0 | 0.67 | 200: 10 |" in table
    assert "| cached inline | 850.0 | 0.85 | 1.0 | 5.0 | - |" in table


def test_server_cpu_seconds_reads_this_process() -> None:
    spent = server_cpu_seconds(os.getpid())
    assert spent is not None and spent > 0
    assert server_cpu_seconds(2**22 + 12345) is None


def test_table_has_a_row_per_phase_with_ratios() -> None:
    phases = _phases()
    table = _table({"phases": phases, "checks": _checks(phases)})
    assert "| cached inline | 850.0 | 0.85 |" in table
    assert table.count("\n|") == len(phases) + 1
    assert "series_p99<100ms_while_saturated=ok" in table
