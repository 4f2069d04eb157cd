"""Persistence of report definitions and runs, in the series store's database.

:class:`ReportStore` works on the store's :class:`data.db.Database` like every repository
(the tables are in :mod:`data.tables`, created by the store's Alembic migrations): reads
through ``db.read()``, each write one short ``db.write()`` transaction (``IMMEDIATE`` on
SQLite, so concurrent writers queue rather than fail; a database that cannot be reached is
a ``StorageUnavailableError``).

Runs are keyed by :func:`run_key` (report name and as-of time). :meth:`ReportStore.claim_run`
inserts the run row before anything is computed: the unique key lets exactly one process
claim a given run, which is how two schedulers on one database run each fire once.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Row, String, Table, delete, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError

from data import Store
from data.db import Database
from data.leases import Lease
from data.progress_repo import REPORT_RUN
from data.tables import JobProgressTable, ReportDefinitionsTable, ReportDeliveriesTable, ReportRunsTable
from reports.definitions import ReportDefinition, check_name
from reports.exceptions import ReportExistsError, ReportNotFoundError, RunNotFoundError

__all__ = [
    "FAILED",
    "LEASE_SECONDS",
    "RUNNING",
    "STALE_AFTER_SECONDS",
    "PARTIAL",
    "PRODUCED",
    "SUCCEEDED",
    "ReportRun",
    "ReportStore",
    "StoredDefinition",
    "normalize_as_of",
    "run_key",
]

logger = logging.getLogger(__name__)

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def _earlier_ids(details: dict[str, Any] | None) -> dict[str, Any]:
    """The ids a run had before it was taken over, kept when its outcome is recorded."""
    return {k: v for k, v in (details or {}).items() if k == "previous_run_ids"}


def _by_previous_id(conn: Connection, run_id: str) -> Row[Any] | None:
    """The run that was ``run_id`` before it was taken over (a client polls the id it was given).

    Hex ids only, so the id is safe inside LIKE; a full scan, but only for an unknown id.
    """
    if not _RUN_ID.match(run_id):
        return None
    text = sql_cast(_R.c.details, String)
    return conn.execute(select(*_RUN_COLUMNS).where(text.like(f'%"{run_id}"%')).limit(1)).first()


RUNNING = "running"
SUCCEEDED = "succeeded"
#: Produced, but some series (or structures) could not be forecast: see ``n_failed``.
PARTIAL = "partial"
FAILED = "failed"
#: Runs that produced a report (served, delivered, not redone without ``force``).
PRODUCED: tuple[str, ...] = (SUCCEEDED, PARTIAL)
#: A run still ``running`` this long after it started is taken as interrupted (its process
#: stopped: a crash, a kill, a restart) and marked failed, so that it can be redone.
STALE_AFTER_SECONDS = 7200.0
#: How long a job's lease lasts unless renewed: a run whose lease has expired was
#: interrupted (its process died) and is run again. Renewed every third of it. The default
#: of ``TRADECAST_JOB_LEASE_SECONDS``, for report runs and the service's job rows alike.
LEASE_SECONDS = 30.0

_D = cast(Table, ReportDefinitionsTable.__table__)
_R = cast(Table, ReportRunsTable.__table__)
_P = cast(Table, JobProgressTable.__table__)
_L = cast(Table, ReportDeliveriesTable.__table__)
_RUN_COLUMNS = [c for c in _R.c if c.name != "html"]


def normalize_as_of(as_of: datetime) -> datetime:
    """``as_of`` as an aware UTC datetime (naive values are taken as UTC)."""
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def run_key(name: str, as_of: datetime) -> str:
    """The unique key of the run of report ``name`` at ``as_of``: ``name|<UTC ISO time>``."""
    return f"{name}|{normalize_as_of(as_of).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"


@dataclass(frozen=True)
class StoredDefinition:
    """A report definition with its storage timestamps."""

    definition: ReportDefinition
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ReportRun:
    """One run of a report (its HTML is read separately, see :meth:`ReportStore.get_html`).

    Attributes
    ----------
    run_id : str
        32 hex characters.
    status : {"running", "succeeded", "partial", "failed"}
        Current state.
    trigger : str
        What started it: ``schedule``, ``api``, ``cli`` or ``manual``.
    error, traceback : str or None
        For failed runs: the error message and a traceback summary.
    details : dict
        Per-series vintages and forecast ids, warnings, the output file if written.
    """

    run_id: str
    report_name: str
    run_key: str
    as_of: datetime
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    n_series: int
    n_failed: int
    error: str | None
    traceback: str | None
    details: dict[str, Any]
    lease_until: datetime | None = None


def _to_run(row: Row[Any]) -> ReportRun:
    m = row._mapping
    return ReportRun(
        run_id=m["id"],
        report_name=m["report_name"],
        run_key=m["run_key"],
        as_of=m["as_of"],
        trigger=m["trigger"],
        status=m["status"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        duration_s=m["duration_s"],
        n_series=m["n_series"],
        n_failed=m["n_failed"],
        error=m["error"],
        traceback=m["traceback"],
        details=dict(m["details"] or {}),
        lease_until=m["lease_until"],
    )


def _to_definition(row: Row[Any]) -> StoredDefinition:
    m = row._mapping
    return StoredDefinition(
        definition=ReportDefinition.from_dict(dict(m["spec"]), check_schedule=False),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class ReportStore:
    """Report definitions and runs on the series store's database.

    Parameters
    ----------
    db : Database
        The store's database (``store.db``), its schema at the Alembic head.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine

    @classmethod
    def for_store(cls, store: Store) -> ReportStore:
        """The report store sharing ``store``'s (a :class:`data.Store`) database."""
        return cls(store.db)

    # -- definitions ---------------------------------------------------------------------

    def create_definition(self, definition: ReportDefinition, *, now: datetime | None = None) -> StoredDefinition:
        """Store a new definition.

        Raises
        ------
        ReportExistsError
            If a report of that name exists.
        """
        now = normalize_as_of(now or datetime.now(UTC))
        values = {
            "name": definition.name,
            "title": definition.title,
            "schedule": definition.schedule,
            "timezone": definition.timezone,
            "enabled": definition.enabled,
            "spec": definition.to_dict(),
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.db.write() as conn:
                conn.execute(insert(_D).values(**values))
        except IntegrityError:
            raise ReportExistsError(
                f"a report named {definition.name!r} already exists; update it (PUT) or choose another name."
            ) from None
        return StoredDefinition(definition, now, now)

    def update_definition(self, definition: ReportDefinition, *, now: datetime | None = None) -> StoredDefinition:
        """Replace the stored definition of ``definition.name``.

        Raises
        ------
        ReportNotFoundError
            If no report of that name exists.
        """
        now = normalize_as_of(now or datetime.now(UTC))
        with self.db.write() as conn:
            result = conn.execute(
                update(_D)
                .where(_D.c.name == definition.name)
                .values(
                    title=definition.title,
                    schedule=definition.schedule,
                    timezone=definition.timezone,
                    enabled=definition.enabled,
                    spec=definition.to_dict(),
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                raise ReportNotFoundError(f"no report named {definition.name!r}.")
            created = conn.execute(select(_D.c.created_at).where(_D.c.name == definition.name)).scalar_one()
        return StoredDefinition(definition, created, now)

    def get_definition(self, name: str) -> StoredDefinition:
        """The definition of report ``name``.

        Raises
        ------
        ReportNotFoundError
            If there is none.
        """
        check_name(name)
        with self.db.read() as conn:
            row = conn.execute(select(_D).where(_D.c.name == name)).first()
        if row is None:
            raise ReportNotFoundError(f"no report named {name!r}; list them with GET /v1/reports.")
        return _to_definition(row)

    def has_definition(self, name: str) -> bool:
        """Whether a report named ``name`` exists."""
        with self.db.read() as conn:
            return conn.execute(select(_D.c.name).where(_D.c.name == name)).first() is not None

    def list_definitions(self) -> list[StoredDefinition]:
        """Every definition, ordered by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(_D).order_by(_D.c.name)).all()
        return [_to_definition(r) for r in rows]

    def delete_definition(self, name: str) -> None:
        """Delete report ``name`` and all its runs.

        Raises
        ------
        ReportNotFoundError
            If there is none.
        """
        with self.db.write() as conn:
            result = conn.execute(delete(_D).where(_D.c.name == name))
            if result.rowcount != 1:
                raise ReportNotFoundError(f"no report named {name!r}.")
            runs = select(_R.c.id).where(_R.c.report_name == name).scalar_subquery()
            conn.execute(delete(_P).where(_P.c.kind == REPORT_RUN, _P.c.job_id.in_(runs)))
            conn.execute(delete(_R).where(_R.c.report_name == name))
            conn.execute(delete(_L).where(_L.c.report_name == name))

    # -- runs -----------------------------------------------------------------------------

    def claim_run(
        self, name: str, as_of: datetime, *, trigger: str, lease_seconds: float = LEASE_SECONDS
    ) -> ReportRun | None:
        """Insert the run of ``name`` at ``as_of`` in state ``running``, leased for ``lease_seconds``.

        Returns
        -------
        ReportRun or None
            The new run, or ``None`` when a run with this key already exists (another
            process or an earlier call claimed it).
        """
        now = datetime.now(UTC)
        key = run_key(name, as_of)
        values = {
            "id": uuid.uuid4().hex,
            "report_name": name,
            "run_key": key,
            "as_of": normalize_as_of(as_of),
            "trigger": trigger,
            "status": RUNNING,
            "created_at": now,
            "started_at": now,
            "lease_until": Lease(lease_seconds).until(now),
            "n_series": 0,
            "n_failed": 0,
            "details": {},
        }
        try:
            with self.db.write() as conn:
                conn.execute(insert(_R).values(**values))
        except IntegrityError:
            return None
        return self.get_run_by_key(key)

    def reclaim_run(
        self,
        key: str,
        *,
        trigger: str,
        statuses: tuple[str, ...] = (FAILED,),
        lease_seconds: float = LEASE_SECONDS,
    ) -> ReportRun | None:
        """Set a run in one of ``statuses`` back to ``running`` (leased) to redo it.

        Returns ``None`` when the run is in another state. The conditional update lets
        only one caller win the redo.
        """
        now = datetime.now(UTC)
        with self.db.write() as conn:
            result = conn.execute(
                update(_R)
                .where(_R.c.run_key == key, _R.c.status.in_(statuses))
                .values(
                    status=RUNNING,
                    trigger=trigger,
                    started_at=now,
                    lease_until=Lease(lease_seconds).until(now),
                    finished_at=None,
                    duration_s=None,
                    error=None,
                    traceback=None,
                    html=None,
                )
            )
            won = result.rowcount == 1
        return self.get_run_by_key(key) if won else None

    def fail_stale_runs(
        self, older_than_seconds: float = STALE_AFTER_SECONDS, *, now: datetime | None = None
    ) -> list[str]:
        """Mark runs still ``running`` more than ``older_than_seconds`` after they started as
        failed (interrupted), so that they no longer block a redo; returns their ids.

        This age limit is the backstop (it also covers rows written before revision
        ``0006_run_lease``, which have no lease); a run whose process stopped is normally
        found much sooner by its expired lease (:meth:`take_over_expired_run`).

        A run whose process is in fact still working may still record its outcome later
        (:meth:`finish_run` overwrites the status).
        """
        now = normalize_as_of(now or datetime.now(UTC))
        cutoff = now - timedelta(seconds=older_than_seconds)
        error = (
            f"interrupted: still running {older_than_seconds:.0f} s after it started (its process probably "
            "stopped); run it again to redo it"
        )
        # Read first: the write (a lock on SQLite) is taken only when there is something stale.
        with self.db.read() as conn:
            stale = list(
                conn.execute(select(_R.c.id).where(_R.c.status == RUNNING, _R.c.started_at < cutoff)).scalars()
            )
        if stale:
            with self.db.write() as conn:
                conn.execute(
                    update(_R)
                    .where(_R.c.id.in_(stale), _R.c.status == RUNNING, _R.c.started_at < cutoff)
                    .values(status=FAILED, error=error, finished_at=now)
                )
        for run_id in stale:
            logger.warning("report run %s: %s", run_id, error)
        return stale

    def renew_lease(self, run_id: str, lease_seconds: float = LEASE_SECONDS) -> bool:
        """Extend the lease of running run ``run_id``; False when it is no longer this run's
        to produce (finished, or taken over after its lease expired)."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            result = conn.execute(
                update(_R)
                .where(_R.c.id == run_id, _R.c.status == RUNNING)
                .values(lease_until=Lease(lease_seconds).until(now))
            )
            return bool(result.rowcount == 1)

    def expired_runs(self, *, now: datetime | None = None) -> list[ReportRun]:
        """Runs still ``running`` whose lease has expired (their process stopped)."""
        now = normalize_as_of(now or datetime.now(UTC))
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_RUN_COLUMNS).where(_R.c.status == RUNNING, _R.c.lease_until < now).order_by(_R.c.as_of)
            ).all()
        return [_to_run(r) for r in rows]

    def take_over_expired_run(
        self, key: str, *, trigger: str, lease_seconds: float = LEASE_SECONDS, now: datetime | None = None
    ) -> ReportRun | None:
        """Restart the run ``key`` if its lease has expired; None when it has not (or another
        process took it first).

        One conditional UPDATE, so one process wins, as with the first claim. The run gets a
        new id: should the interrupted process come back, its :meth:`renew_lease` and
        :meth:`finish_run` no longer find their run and change nothing. Its earlier ids stay
        in ``details["previous_run_ids"]``: :meth:`get_run_by_id` still finds it by them.
        """
        now = normalize_as_of(now or datetime.now(UTC))
        new_id = uuid.uuid4().hex
        if (current := self.get_run_by_key(key)) is None:
            return None
        previous = [*current.details.get("previous_run_ids", []), current.run_id]
        with self.db.write() as conn:
            result = conn.execute(
                update(_R)
                .where(_R.c.id == current.run_id, _R.c.status == RUNNING, _R.c.lease_until < now)
                .values(
                    id=new_id,
                    trigger=trigger,
                    started_at=now,
                    lease_until=Lease(lease_seconds).until(now),
                    details={"previous_run_ids": previous},
                )
            )
            won = result.rowcount == 1
        if won:
            logger.warning("report run %s: lease expired (interrupted); re-running it as %s", key, new_id)
        return self.get_run_by_id(new_id) if won else None

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        html: str | None = None,
        error: str | None = None,
        traceback: str | None = None,
        n_series: int = 0,
        n_failed: int = 0,
        details: dict[str, Any] | None = None,
    ) -> ReportRun:
        """Record the outcome of a claimed run and return it."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            found = conn.execute(select(_R.c.started_at, _R.c.status, _R.c.details).where(_R.c.id == run_id)).first()
            if found is None:
                raise RunNotFoundError(
                    f"report run {run_id!r} no longer exists: its lease expired and another process re-ran it, "
                    "or its report was deleted"
                )
            started = found.started_at
            conn.execute(
                update(_R)
                .where(_R.c.id == run_id)
                .values(
                    status=status,
                    html=html,
                    error=error,
                    traceback=traceback,
                    n_series=n_series,
                    n_failed=n_failed,
                    details={**_earlier_ids(found.details), **(details or {})},
                    finished_at=now,
                    duration_s=(now - started).total_seconds() if started else None,
                    lease_until=None,
                )
            )
        return self.get_run_by_id(run_id)

    def get_run_by_key(self, key: str) -> ReportRun | None:
        """The run with this key, or ``None``."""
        with self.db.read() as conn:
            row = conn.execute(select(*_RUN_COLUMNS).where(_R.c.run_key == key)).first()
        return None if row is None else _to_run(row)

    def get_run_by_id(self, run_id: str) -> ReportRun:
        """The run with this id (any report).

        Raises
        ------
        RunNotFoundError
        """
        with self.db.read() as conn:
            row = conn.execute(select(*_RUN_COLUMNS).where(_R.c.id == run_id)).first()
            row = row if row is not None else _by_previous_id(conn, run_id)
        if row is None:
            raise RunNotFoundError(f"no report run with id {run_id!r}.")
        return _to_run(row)

    def get_run(self, name: str, run_id: str) -> ReportRun:
        """Run ``run_id`` of report ``name``.

        Raises
        ------
        RunNotFoundError
        """
        run = self.get_run_by_id(run_id)
        if run.report_name != name:
            raise RunNotFoundError(f"report {name!r} has no run with id {run_id!r}.")
        return run

    def latest_run(self, name: str) -> ReportRun:
        """The successful run of ``name`` with the latest as-of time (newest first on ties).

        Raises
        ------
        RunNotFoundError
            If no run of ``name`` has succeeded yet.
        """
        with self.db.read() as conn:
            row = conn.execute(
                select(*_RUN_COLUMNS)
                .where(_R.c.report_name == name, _R.c.status.in_(PRODUCED))
                .order_by(_R.c.as_of.desc(), _R.c.finished_at.desc())
                .limit(1)
            ).first()
        if row is None:
            raise RunNotFoundError(
                f"report {name!r} has no successful run yet; start one with POST /v1/reports/{name}/runs."
            )
        return _to_run(row)

    def get_html(self, run_id: str) -> str:
        """The HTML of a run.

        Raises
        ------
        RunNotFoundError
            If the run does not exist or produced no HTML (still running or failed).
        """
        with self.db.read() as conn:
            html = conn.execute(select(_R.c.html).where(_R.c.id == run_id)).scalar_one_or_none()
        if html is None:
            raise RunNotFoundError(f"report run {run_id!r} has no HTML (it is running, failed or unknown).")
        return str(html)

    def list_runs(self, name: str, *, limit: int = 50, offset: int = 0) -> tuple[list[ReportRun], int]:
        """One page of the runs of ``name``, newest first, and the total count."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_RUN_COLUMNS)
                .where(_R.c.report_name == name)
                .order_by(_R.c.created_at.desc(), _R.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
            total = conn.execute(select(func.count()).select_from(_R).where(_R.c.report_name == name)).scalar_one()
        return [_to_run(r) for r in rows], int(total)

    def count_runs(self, name: str, *, status: str | None = None) -> int:
        """Number of runs of ``name`` (optionally in one status)."""
        query = select(func.count()).select_from(_R).where(_R.c.report_name == name)
        if status is not None:
            query = query.where(_R.c.status == status)
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())
