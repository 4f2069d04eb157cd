"""bench.load (``make bench-load``): its request bodies, checks and table, without a server."""

from __future__ import annotations

import json
from typing import Any

from bench.load import _checks, _table, _uncached, _uncached_from, monthly_series


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


def test_table_has_a_row_per_phase_with_ratios() -> None:
    phases = _phases()
    table = _table({"phases": phases, "checks": _checks(phases)})
    assert "| cached inline | 850.0 | 0.85 |" in table
    assert table.count("\n|") == len(phases) + 1
    assert "series_p99<100ms_while_saturated=ok" in table
