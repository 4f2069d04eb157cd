"""The delivery log of report runs: one row per run and channel, in the store's database.

Rows are opened (``pending``) by the report runner before it produces a run, then settled:
``sent`` or ``failed`` after :func:`reports.delivery.deliver`, or ``skipped`` when the run
failed. They are read with the run record. They hold the recipients or the redacted webhook URL, the outcome, the
number of attempts and a secret-free error; never a secret.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from data import Store
from data.db import Database
from data.tables import ReportDeliveriesTable
from reports.delivery import DeliveryOutcome

__all__ = ["PENDING", "SKIPPED", "DeliveryLog", "DeliveryRecord"]

#: A delivery waiting for its run to finish; then ``sent``, ``failed`` or ``skipped``.
PENDING = "pending"
#: The run failed, so nothing was sent.
SKIPPED = "skipped"

_L = cast(Table, ReportDeliveriesTable.__table__)


@dataclass(frozen=True)
class DeliveryRecord:
    """One logged delivery: channel (``email``/``webhook``), target, status (``pending``,
    ``sent``, ``failed`` or ``skipped``), attempts, error."""

    delivery_id: str
    run_id: str
    report_name: str
    channel: str
    target: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime


class DeliveryLog:
    """Delivery rows on the series store's database (``store.db``), read and written like every repository."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine

    @classmethod
    def for_store(cls, store: Store) -> DeliveryLog:
        """The delivery log sharing ``store``'s (a :class:`data.Store`) database."""
        return cls(store.db)

    def start(self, run_id: str, report_name: str, channels: Sequence[tuple[str, str]]) -> list[str]:
        """Add a ``pending`` row per ``(channel, target)`` and return their ids, in order.

        Written before the run is produced, so that a client polling the run record never
        sees a finished run without the deliveries still to come.
        """
        now = datetime.now(UTC)
        rows = [
            {
                "id": uuid.uuid4().hex,
                "run_id": run_id,
                "report_name": report_name,
                "channel": channel,
                "target": target,
                "status": PENDING,
                "attempts": 0,
                "error": None,
                "created_at": now,
            }
            for channel, target in channels
        ]
        if rows:
            with self.db.write() as conn:
                conn.execute(insert(_L), rows)
        return [str(row["id"]) for row in rows]

    def finish(self, delivery_id: str, outcome: DeliveryOutcome) -> None:
        """Record the outcome of pending delivery ``delivery_id``."""
        with self.db.write() as conn:
            conn.execute(
                update(_L)
                .where(_L.c.id == delivery_id)
                .values(target=outcome.target, status=outcome.status, attempts=outcome.attempts, error=outcome.error)
            )

    def skip(self, delivery_ids: Sequence[str], reason: str) -> None:
        """Mark pending deliveries ``skipped`` (the run failed: there is nothing to send)."""
        if delivery_ids:
            with self.db.write() as conn:
                conn.execute(update(_L).where(_L.c.id.in_(list(delivery_ids))).values(status=SKIPPED, error=reason))

    def for_runs(self, run_ids: Sequence[str]) -> dict[str, list[DeliveryRecord]]:
        """The deliveries of each of ``run_ids`` (one query), oldest first; runs without any are absent."""
        out: dict[str, list[DeliveryRecord]] = {}
        if not run_ids:
            return out
        query = select(_L).where(_L.c.run_id.in_(list(run_ids))).order_by(_L.c.created_at, _L.c.channel)
        with self.db.read() as conn:
            for row in conn.execute(query):
                record = _to_record(dict(row._mapping))
                out.setdefault(record.run_id, []).append(record)
        return out

    def for_run(self, run_id: str) -> list[DeliveryRecord]:
        """The deliveries of run ``run_id``, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(_L).where(_L.c.run_id == run_id).order_by(_L.c.created_at, _L.c.channel)).all()
        return [_to_record(dict(r._mapping)) for r in rows]


def _to_record(m: dict[str, Any]) -> DeliveryRecord:
    return DeliveryRecord(
        delivery_id=m["id"],
        run_id=m["run_id"],
        report_name=m["report_name"],
        channel=m["channel"],
        target=m["target"],
        status=m["status"],
        attempts=m["attempts"],
        error=m["error"],
        created_at=m["created_at"],
    )
