"""Progress of long work (table ``job_progress``): one record shape for every kind of job.

Batch forecasts (``forecast_batch``), structure forecasts (``structure_forecast``), report
runs (``report_run``) and source refreshes (``source_refresh``) all record their progress
here, through one API: :meth:`ProgressRepository.begin` when the work knows how many items
it has, :meth:`ProgressRepository.advance` as each item ends (with its failure, if it
failed), :meth:`ProgressRepository.get` to read it. The work's own table keeps its status
and result; the REST job and run records join the two.

:class:`ProgressTracker` binds the repository to one job for the code doing the work, and
never lets a failure to *record* progress fail the work itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, delete, insert, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError

from data.codec import as_utc, parse_datetime, utcnow
from data.db import Database
from data.exceptions import DataError
from data.tables import JobProgressTable

__all__ = [
    "FORECAST_BATCH",
    "JOB_KINDS",
    "MAX_FAILURES",
    "ItemFailure",
    "Progress",
    "ProgressRepository",
    "ProgressTracker",
    "REPORT_RUN",
    "SOURCE_REFRESH",
    "STRUCTURE_FORECAST",
    "worker_database",
]

logger = logging.getLogger(__name__)

#: Kinds of long work, each with its own table of jobs (the progress record is keyed by kind and id).
FORECAST_BATCH: Final = "forecast_batch"  # api_jobs
STRUCTURE_FORECAST: Final = "structure_forecast"  # no table: keyed by the structure's name (its last forecast)
REPORT_RUN: Final = "report_run"  # report_runs
SOURCE_REFRESH: Final = "source_refresh"  # source_refreshes (the refresh's name: its last run)
#: The kinds of long work that record progress.
JOB_KINDS: Final = (FORECAST_BATCH, STRUCTURE_FORECAST, REPORT_RUN, SOURCE_REFRESH)

#: Failures kept per job (the count goes on): a 10 000-item batch of bad series must not
#: make a megabyte-sized row that every poll reads back.
MAX_FAILURES: Final = 100

_P = cast(Table, JobProgressTable.__table__)


@dataclass(frozen=True)
class ItemFailure:
    """One item of a job that failed.

    Attributes
    ----------
    item : str
        The item's label (a series id, a ``unique_id``, a refresh's series).
    code : str
        The error code (``insufficient_data``, ``worker_lost``...).
    message : str
        The error in words.
    """

    item: str
    code: str
    message: str


@dataclass(frozen=True)
class Progress:
    """How far one job got.

    Attributes
    ----------
    kind, job_id : str
        Which job (see :data:`JOB_KINDS`).
    n_total : int
        Items the job has.
    n_done : int
        Items finished, failed ones included.
    n_failed : int
        Items that failed.
    n_retried : int
        Items run a second time because the worker process running them died.
    started_at, updated_at : datetime
        When the job started its items, and the last change (UTC).
    failures : tuple of ItemFailure
        The first :data:`MAX_FAILURES` failures.
    """

    kind: str
    job_id: str
    n_total: int
    n_done: int
    n_failed: int
    n_retried: int
    started_at: datetime
    updated_at: datetime
    failures: tuple[ItemFailure, ...] = ()

    def eta_seconds(self, now: datetime | None = None) -> float | None:
        """Estimated seconds left: the mean time per finished item times the items left.

        ``None`` until one item has finished; ``0.0`` once all have.
        """
        if self.n_done >= self.n_total:
            return 0.0
        if self.n_done == 0:
            return None
        elapsed = ((now or utcnow()) - self.started_at).total_seconds()
        return max(0.0, elapsed / self.n_done * (self.n_total - self.n_done))


def _progress(row: Any) -> Progress:
    failures = tuple(ItemFailure(str(f["item"]), str(f["code"]), str(f["message"])) for f in row.failures or ())
    return Progress(
        kind=row.kind,
        job_id=row.job_id,
        n_total=int(row.n_total),
        n_done=int(row.n_done),
        n_failed=int(row.n_failed),
        n_retried=int(row.n_retried),
        started_at=as_utc(parse_datetime(row.started_at)),
        updated_at=as_utc(parse_datetime(row.updated_at)),
        failures=failures,
    )


class ProgressRepository:
    """Progress records of every kind of job.

    Parameters
    ----------
    db : Database
        The store's database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, kind: str, job_id: str, n_total: int, n_retried: int = 0) -> None:
        """Start (or restart, for a re-run) the progress of a job with ``n_total`` items.

        Parameters
        ----------
        kind : str
            One of :data:`JOB_KINDS`.
        job_id : str
            The job's id in its own table.
        n_total : int
            Items the job will go through.
        n_retried : int
            Items already sent to run again (a job run again whole after its worker died).
        """
        now = utcnow()
        values: dict[str, Any] = {"kind": kind, "job_id": job_id, "n_total": max(0, int(n_total))}
        values.update(n_done=0, n_failed=0, n_retried=max(0, int(n_retried)), failures=[])
        values.update(started_at=now, updated_at=now)
        with self.db.write() as conn:
            conn.execute(delete(_P).where(_P.c.kind == kind, _P.c.job_id == job_id))
            conn.execute(insert(_P).values(**values))

    def advance(
        self,
        kind: str,
        job_id: str,
        *,
        done: int = 1,
        failure: ItemFailure | None = None,
        retried: int = 0,
        added: int = 0,
    ) -> bool:
        """Count ``done`` more items finished (one of them failed, when ``failure`` is given).

        Parameters
        ----------
        kind, job_id : str
            The job.
        done : int
            Items finished by this call.
        failure : ItemFailure, optional
            The failure of one of them.
        retried : int
            Items sent to run again (their worker died); not counted as done.
        added : int
            Items the job found it has to do on top of ``n_total`` (a source refresh
            learns which reports to run once it has fetched).

        Returns
        -------
        bool
            Whether the job has a progress record (:meth:`begin` was called).
        """
        where = (_P.c.kind == kind, _P.c.job_id == job_id)
        values: dict[str, Any] = {
            "n_done": _P.c.n_done + done,
            "n_retried": _P.c.n_retried + retried,
            "n_total": _P.c.n_total + added,
            "updated_at": utcnow(),
        }
        with self.db.write() as conn:
            if failure is not None:
                kept = conn.execute(select(_P.c.failures).where(*where)).scalar_one_or_none()
                failures = list(kept or [])
                if len(failures) < MAX_FAILURES:
                    failures.append({"item": failure.item, "code": failure.code, "message": failure.message})
                values.update(n_failed=_P.c.n_failed + 1, failures=failures)
            return bool(conn.execute(update(_P).where(*where).values(**values)).rowcount)

    def get(self, kind: str, job_id: str) -> Progress | None:
        """The progress of one job, or ``None`` if it has not started its items."""
        with self.db.read() as conn:
            row = conn.execute(select(_P).where(_P.c.kind == kind, _P.c.job_id == job_id)).first()
        return None if row is None else _progress(row)

    def get_many(self, kind: str, job_ids: Iterable[str]) -> dict[str, Progress]:
        """The progress of several jobs of one kind, by id (those without one are left out)."""
        ids = list(dict.fromkeys(job_ids))
        if not ids:
            return {}
        with self.db.read() as conn:
            rows = conn.execute(select(_P).where(tuple_(_P.c.kind, _P.c.job_id).in_([(kind, i) for i in ids])))
            return {row.job_id: _progress(row) for row in rows}

    def delete(self, kind: str, job_ids: Iterable[str]) -> int:
        """Delete the progress of these jobs (their own rows were deleted); return how many."""
        ids = list(job_ids)
        if not ids:
            return 0
        with self.db.write() as conn:
            return int(conn.execute(delete(_P).where(_P.c.kind == kind, _P.c.job_id.in_(ids))).rowcount)


@functools.lru_cache(maxsize=4)
def worker_database(url: str, busy_timeout_ms: int) -> Database:
    """One database per URL in a worker process (where a pickled :class:`ProgressTracker` records)."""
    return Database.from_url(url, busy_timeout_ms=busy_timeout_ms)


class ProgressTracker:
    """The progress of one job, as the code doing its work records it.

    Recording progress is a side line: a database hiccup is logged and the work goes on.

    Parameters
    ----------
    repository : ProgressRepository or None
        Where progress is recorded; ``None`` records nothing (work run outside a job).
    kind, job_id : str
        The job.
    """

    def __init__(self, repository: ProgressRepository | None, kind: str, job_id: str) -> None:
        self.repository = repository
        self.kind = kind
        self.job_id = job_id
        #: Items this tracker sent to run again: a restarted record (:meth:`begin`) keeps them.
        self.n_retried = 0

    def begin(self, n_total: int) -> None:
        """The job has ``n_total`` items and starts them now (a restart keeps the count of re-runs)."""
        self._safely(ProgressRepository.begin, self.kind, self.job_id, n_total, self.n_retried)

    def item_done(self, item: str, error: BaseException | None = None) -> None:
        """Item ``item`` finished, or failed with ``error``."""
        failure = None
        if error is not None:
            failure = ItemFailure(item, str(getattr(error, "code", "internal_error")), str(error))
        self._safely(ProgressRepository.advance, self.kind, self.job_id, failure=failure)

    def item_failed(self, item: str, code: str, message: str) -> None:
        """Item ``item`` failed with error ``code`` (``message`` in words)."""
        failure = ItemFailure(item, code or "internal_error", message)
        self._safely(ProgressRepository.advance, self.kind, self.job_id, failure=failure)

    def add_items(self, n: int) -> None:
        """The job has ``n`` more items than it said at :meth:`begin`."""
        self._safely(ProgressRepository.advance, self.kind, self.job_id, done=0, added=n)

    def item_retried(self, item: str) -> None:
        """Item ``item`` runs again (its worker died under it)."""
        self.n_retried += 1
        self._safely(ProgressRepository.advance, self.kind, self.job_id, done=0, retried=1)

    def count(self, n_done: int, n_total: int, item: str) -> None:
        """The library's progress callback (``forecasting`` structures): ``n_done`` of ``n_total``.

        ``n_done == 0`` begins the record with ``n_total`` items; each later call counts
        ``item`` done. Pass the bound method (``tracker.count``) as ``progress=``.
        """
        if n_done == 0:
            self.begin(n_total)
        else:
            self.item_done(item)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for a worker process: the database travels as its URL and is reopened there.

        An in-memory SQLite database cannot be reopened in another process: its copy records
        nothing. Neither does the copy of a tracker whose database URL holds a password: a
        pickled task may cross the network (a Dask cluster), and the password never travels;
        such a forecast's record shows its start and its end, not the series in between.
        """
        db = None if self.repository is None else self.repository.db
        url = None
        if db is not None and db.engine.url.database not in (None, "", ":memory:") and not db.engine.url.password:
            url = db.engine.url.render_as_string(hide_password=False)
        busy = 0 if db is None else db.busy_timeout_ms
        state = {"kind": self.kind, "job_id": self.job_id, "url": url, "busy_timeout_ms": busy}
        return {**state, "retried": self.n_retried}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.kind, self.job_id, self.n_retried = state["kind"], state["job_id"], state.get("retried", 0)
        url = state["url"]
        self.repository = None if url is None else ProgressRepository(worker_database(url, state["busy_timeout_ms"]))

    def _safely(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        if self.repository is None:
            return
        try:
            fn(self.repository, *args, **kwargs)
        except (DataError, SQLAlchemyError):
            logger.warning("%s %s: recording progress failed", self.kind, self.job_id, exc_info=True)
