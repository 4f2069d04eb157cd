"""Rows of durable jobs (table ``api_jobs``): the storage half of the job runner.

The service's job runner (``api/jobs.py``) keeps the threads and decides what to run; this
repository holds every SQL statement on the table. A job belongs to the instance named in
``owner``, which renews its lease (``lease_until``, see :mod:`data.leases`) while the job is
active. A job whose lease has passed is taken over with :meth:`JobsRepository.claim`, a
conditional UPDATE, so two instances never both take one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, func, insert, select, update

from data.codec import as_utc, parse_datetime, utcnow
from data.db import Database
from data.tables import JobsTable

__all__ = ["ACTIVE", "JobRecord", "JobStatus", "JobsRepository"]

JobStatus = Literal["queued", "running", "succeeded", "partial", "failed"]

#: Statuses of a job that is not finished yet.
ACTIVE: tuple[str, ...] = ("queued", "running")

_J = cast(Table, JobsTable.__table__)


@dataclass(frozen=True)
class JobRecord:
    """One job row.

    Attributes
    ----------
    job_id : str
        32 hex characters.
    kind : str
        What the job does, e.g. ``forecast_batch``.
    status : str
        ``queued``, ``running``, ``succeeded``, ``partial`` (some items failed) or ``failed``.
    request, result, error : str or None
        JSON text written by the service (``request`` always set).
    n_items : int
        Number of items (series) in the request.
    attempts : int
        How many times a run was started.
    owner : str or None
        The instance that runs (or last ran) the job.
    created_at, updated_at, lease_until : datetime
        UTC times; ``lease_until`` is pushed on by the owner while the job is active.
    """

    job_id: str
    kind: str
    status: JobStatus
    request: str
    result: str | None
    error: str | None
    n_items: int
    attempts: int
    owner: str | None
    created_at: datetime
    updated_at: datetime
    lease_until: datetime


def _record(row: Any) -> JobRecord:
    return JobRecord(
        job_id=row.id,
        kind=row.kind,
        status=cast(JobStatus, row.status),
        request=row.request,
        result=row.result,
        error=row.error,
        n_items=int(row.n_items),
        attempts=int(row.attempts),
        owner=row.owner,
        created_at=as_utc(parse_datetime(row.created_at)),
        updated_at=as_utc(parse_datetime(row.updated_at)),
        lease_until=as_utc(parse_datetime(row.lease_until)),
    )


class JobsRepository:
    """Repository of job rows.

    Parameters
    ----------
    db : Database
        The store's database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, job_id: str, *, kind: str, request: str, n_items: int, owner: str, lease_until: datetime) -> None:
        """Insert a ``queued`` job owned by ``owner``.

        Parameters
        ----------
        job_id : str
            New unique id (32 characters).
        kind : str
            What the job does.
        request : str
            The request as JSON text.
        n_items : int
            Number of items in the request.
        owner : str
            The instance that will run it.
        lease_until : datetime
            When the owner's claim ends unless renewed.
        """
        now = utcnow()
        values: dict[str, Any] = {
            "id": job_id,
            "kind": kind,
            "status": "queued",
            "request": request,
            "n_items": n_items,
            "attempts": 0,
            "owner": owner,
            "created_at": now,
            "updated_at": now,
            "lease_until": as_utc(lease_until),
        }
        with self.db.write() as conn:
            conn.execute(insert(_J).values(**values))

    def get(self, job_id: str) -> JobRecord | None:
        """The job ``job_id``, or ``None`` if there is none."""
        with self.db.read() as conn:
            row = conn.execute(select(_J).where(_J.c.id == job_id)).first()
        return None if row is None else _record(row)

    def page(
        self, *, kind: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[JobRecord], int]:
        """One page of jobs, newest first, of ``kind`` and ``status`` when given, and how many match."""
        where = []
        if kind is not None:
            where.append(_J.c.kind == kind)
        if status is not None:
            where.append(_J.c.status == status)
        query = select(_J).where(*where).order_by(_J.c.created_at.desc(), _J.c.id).limit(limit).offset(offset)
        with self.db.read() as conn:
            rows = [_record(row) for row in conn.execute(query)]
            count = int(conn.execute(select(func.count()).select_from(_J).where(*where)).scalar_one())
        return rows, count

    def update(self, job_id: str, *, owner: str | None = None, **values: Any) -> bool:
        """Set columns of one job (``lease_until`` among them, to renew it) and its ``updated_at``.

        Parameters
        ----------
        job_id : str
            The job.
        owner : str, optional
            Only if the job still belongs to this owner (another instance may have taken it).
        **values
            Columns to set: ``status``, ``attempts``, ``result``, ``error``, ``lease_until``...

        Returns
        -------
        bool
            Whether a row was updated.
        """
        now = utcnow()
        stmt = update(_J).where(_J.c.id == job_id)
        if owner is not None:
            stmt = stmt.where(_J.c.owner == owner)
        with self.db.write() as conn:
            done = conn.execute(stmt.values(updated_at=now, **values)).rowcount
        return bool(done)

    def renew(self, owner: str, until: datetime) -> int:
        """Push the lease of every active job of ``owner`` on to ``until``; return how many."""
        with self.db.write() as conn:
            stmt = update(_J).where(_J.c.owner == owner, _J.c.status.in_(ACTIVE)).values(lease_until=as_utc(until))
            return int(conn.execute(stmt).rowcount)

    def list_expired(self, now: datetime | None = None) -> list[JobRecord]:
        """Active jobs whose lease ended before ``now``: their owner stopped."""
        query = select(_J).where(_J.c.status.in_(ACTIVE), _J.c.lease_until < as_utc(now or utcnow()))
        with self.db.read() as conn:
            return [_record(row) for row in conn.execute(query.order_by(_J.c.created_at, _J.c.id))]

    def claim(self, job: JobRecord, owner: str, until: datetime, **values: Any) -> bool:
        """Take over an expired ``job`` for ``owner``, leased to ``until``, unless someone did first.

        ``values``: other columns to set (``status``...).

        Returns
        -------
        bool
            Whether this call won the job.

        Notes
        -----
        The UPDATE is conditional on the lease read by :meth:`list_expired`: if another
        instance claimed the job first, the lease changed and this UPDATE matches nothing.
        """
        now = utcnow()
        stmt = (
            update(_J)
            .where(_J.c.id == job.job_id, _J.c.lease_until == job.lease_until, _J.c.status.in_(ACTIVE))
            .values(owner=owner, updated_at=now, lease_until=as_utc(until), **values)
        )
        with self.db.write() as conn:
            return bool(conn.execute(stmt).rowcount)
