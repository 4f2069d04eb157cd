"""The one lease helper shared by job rows and report runs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from data.leases import Lease, LeaseKeeper


def test_lease_times_follow_its_length() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    lease = Lease(60)
    assert lease.renew_every == 20
    assert lease.until(now) == now + timedelta(seconds=60)


def test_keeper_renews_until_stopped() -> None:
    calls: list[float] = []
    with LeaseKeeper(lambda: calls.append(time.monotonic()) is None, 0.02, name="t"):
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    n = len(calls)
    assert n >= 3
    time.sleep(0.1)
    assert len(calls) == n  # stopped with the block


def test_keeper_stops_when_the_lease_is_lost() -> None:
    calls: list[int] = []

    def renew() -> bool:
        calls.append(1)
        return False

    keeper = LeaseKeeper(renew, 0.01, name="lost").start()
    assert keeper.thread is not None
    keeper.thread.join(timeout=5)
    assert not keeper.thread.is_alive()
    assert calls == [1]


def test_keeper_survives_a_failed_renewal(caplog: pytest.LogCaptureFixture) -> None:
    done = threading.Event()
    calls: list[int] = []

    def renew() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database busy")
        done.set()

    with LeaseKeeper(renew, 0.01, name="flaky"):
        assert done.wait(5)
    assert len(calls) >= 2
    assert "renewing the lease failed" in caplog.text
