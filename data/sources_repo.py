"""Fetched data in the store: vintages with their source, and source queries refreshed on a schedule.

:meth:`SourcesRepository.store_fetch` writes each series of a
:class:`~data.connectors.FetchResult` as a vintage **only when its data changed** (the
store's checksum against the latest vintage), labels it with the source and query, and
records the source, query, retrieval time and the source's dates in ``source_fetches``.

Refresh definitions (``source_refreshes``) are plain rows here; their cron schedule is
checked and fired by :mod:`reports.refresh`, which may use the report scheduler's cron code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from data.codec import utcnow
from data.connectors.base import FetchResult, check_query
from data.connectors.exceptions import InvalidQueryError
from data.connectors.registry import SourceOptions, fetch_source, list_sources
from data.db import Database
from data.exceptions import ConflictError, DataError, VintageNotFoundError
from data.meta import SeriesMeta, VintageInfo, check_series_id
from data.progress_repo import SOURCE_REFRESH
from data.series_repo import SeriesRepository
from data.tables import JobProgressTable, SourceFetchesTable, SourceRefreshesTable
from forecasting.exceptions import InvalidParameterError, NotFoundError

__all__ = [
    "FetchOutcome",
    "InvalidRefreshError",
    "RefreshDefinition",
    "RefreshExistsError",
    "RefreshNotFoundError",
    "SourceFetch",
    "SourcesRepository",
    "StoredRefresh",
    "check_refresh",
]

logger = logging.getLogger(__name__)

_F = cast(Table, SourceFetchesTable.__table__)
_R = cast(Table, SourceRefreshesTable.__table__)
_P = cast(Table, JobProgressTable.__table__)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MAX_ERROR_CHARS = 2000


class RefreshNotFoundError(NotFoundError, DataError):
    """No refresh is stored under this name."""

    code = "refresh_not_found"


class RefreshExistsError(ConflictError):
    """A refresh of this name is already stored (delete it first to redefine it)."""

    code = "refresh_exists"


class InvalidRefreshError(InvalidParameterError, DataError):
    """A refresh definition is malformed (name, source, query, schedule)."""

    code = "invalid_refresh"


@dataclass(frozen=True)
class SourceFetch:
    """The origin of one vintage written by a connector."""

    vintage_id: int
    series_id: str
    source: str
    query: str
    retrieved_at: datetime
    published_at: datetime | None = None
    last_updated: datetime | None = None


@dataclass(frozen=True)
class FetchOutcome:
    """What storing one fetched series did: ``created`` is false when the data had not changed."""

    series_id: str
    vintage: VintageInfo
    created: bool
    fetch: SourceFetch | None


@dataclass(frozen=True)
class RefreshDefinition:
    """A source query fetched on a cron schedule.

    Attributes
    ----------
    name : str
        ``[A-Za-z0-9_.-]{1,64}``.
    source, query : str
        As for :func:`data.connectors.fetch_source`.
    schedule : str
        Five-field cron expression (``0 6 * * 1``: Mondays 06:00), checked by :mod:`reports.refresh`.
    timezone : str
        IANA zone of the schedule.
    enabled : bool
        Disabled refreshes are kept but not fired.
    series_id : str or None
        Store under this id (the query must return one series); default: from the source's key.
    """

    name: str
    source: str
    query: str
    schedule: str
    timezone: str = "UTC"
    enabled: bool = True
    series_id: str | None = None


@dataclass(frozen=True)
class StoredRefresh:
    """A refresh definition with its bookkeeping."""

    definition: RefreshDefinition
    created_at: datetime
    updated_at: datetime
    last_fire: datetime | None = None
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    last_result: dict[str, Any] = field(default_factory=dict)


def check_refresh(definition: RefreshDefinition) -> RefreshDefinition:
    """Check name, source and query (not the schedule: :mod:`reports.refresh` owns cron).

    Raises
    ------
    InvalidRefreshError
    """
    if not isinstance(definition.name, str) or not _NAME.match(definition.name):
        raise InvalidRefreshError(f"refresh name {definition.name!r} must be 1-64 characters of A-Z a-z 0-9 _ . -.")
    if str(definition.source).lower() not in list_sources():
        raise InvalidRefreshError(
            f"refresh {definition.name!r}: unknown source {definition.source!r}; "
            f"choose one of {', '.join(sorted(list_sources()))}."
        )
    try:
        check_query(definition.source, definition.query)
        if definition.series_id is not None:
            check_series_id(definition.series_id)
    except (InvalidQueryError, ValueError) as exc:
        raise InvalidRefreshError(f"refresh {definition.name!r}: {exc}") from None
    return definition


def _to_stored(row: Any) -> StoredRefresh:
    definition = RefreshDefinition(
        row.name, row.source, row.query, row.schedule, row.timezone, bool(row.enabled), row.series_id
    )
    return StoredRefresh(
        definition,
        row.created_at,
        row.updated_at,
        row.last_fire,
        row.last_run_at,
        row.last_status,
        row.last_error,
        dict(row.last_result or {}),
    )


class SourcesRepository:
    """Vintages from official sources and the refresh definitions.

    Parameters
    ----------
    db : Database
        The store's database.
    series : SeriesRepository
        Where the vintages go.
    """

    def __init__(self, db: Database, series: SeriesRepository) -> None:
        self.db = db
        self.series = series

    # -- fetched vintages --------------------------------------------------------------------

    def store_fetch(self, result: FetchResult, *, series_id: str | None = None) -> list[FetchOutcome]:
        """Store each series of ``result`` as a new vintage when its data changed.

        Parameters
        ----------
        result : FetchResult
            From :func:`data.connectors.fetch_source`.
        series_id : str, optional
            Store under this id instead of the one made from the source's key (only when
            the result holds one series).

        Returns
        -------
        list of FetchOutcome
            One per series; ``created`` false means the latest vintage already held these values.

        Raises
        ------
        InvalidQueryError
            If ``series_id`` is given for a result of several series.
        ConflictError
            If a stored series of that id has another frequency.
        """
        if series_id is not None and len(result.series) != 1:
            raise InvalidQueryError(
                f"source {result.source!r}: query {result.query!r} returned {len(result.series)} series; "
                "a series id can only name one. Narrow the query or leave the id out."
            )
        release = f"{result.source} {result.query}"[:160] + f" @ {result.retrieved_at:%Y-%m-%dT%H:%MZ}"
        outcomes = []
        for fetched in result.series:
            meta = fetched.meta
            if series_id is not None:
                meta = SeriesMeta(
                    check_series_id(series_id), meta.name, meta.frequency, meta.unit, meta.kind, meta.tags
                )
            vintage = self.series.save_series(
                meta, fetched.values, release=release, skip_unchanged=True, published_at=result.published_at
            )
            created = vintage.created  # False: the current vintage already held these values
            record = None
            if created:
                record = SourceFetch(
                    vintage.vintage_id,
                    meta.series_id,
                    result.source,
                    result.query,
                    result.retrieved_at,
                    result.published_at,
                    fetched.last_updated,
                )
                self._record(record)
            logger.info(
                "fetched %s from %s: %s", meta.series_id, result.source, "new vintage" if created else "unchanged"
            )
            outcomes.append(
                FetchOutcome(meta.series_id, vintage, created, record or self.fetch_record(vintage.vintage_id))
            )
        return outcomes

    def fetch_and_store(
        self,
        source: str,
        query: str,
        *,
        options: SourceOptions | None = None,
        series_id: str | None = None,
        client: httpx.Client | None = None,
    ) -> tuple[FetchResult, list[FetchOutcome]]:
        """Fetch ``query`` from ``source`` and store it (:meth:`store_fetch`): what ``tradecast fetch`` does.

        Raises
        ------
        UnknownSourceError, InvalidQueryError, EmptyResultError, SourceError, ConflictError
        """
        result = fetch_source(source, query, options=options, client=client)
        return result, self.store_fetch(result, series_id=series_id)

    def _record(self, record: SourceFetch) -> None:
        with self.db.write() as conn:
            conn.execute(
                insert(_F).values(
                    vintage_id=record.vintage_id,
                    series_id=record.series_id,
                    source=record.source,
                    query=record.query,
                    retrieved_at=record.retrieved_at,
                    published_at=record.published_at,
                    last_updated=record.last_updated,
                )
            )

    def fetch_record(self, vintage_id: int) -> SourceFetch | None:
        """The source, query and retrieval time of a vintage, or ``None`` for an upload."""
        with self.db.read() as conn:
            row = conn.execute(select(_F).where(_F.c.vintage_id == int(vintage_id))).first()
        if row is None:
            return None
        return SourceFetch(
            row.vintage_id, row.series_id, row.source, row.query, row.retrieved_at, row.published_at, row.last_updated
        )

    def get_fetch_record(self, vintage_id: int) -> SourceFetch:
        """:meth:`fetch_record`, or :class:`~data.exceptions.VintageNotFoundError` when there is none."""
        record = self.fetch_record(vintage_id)
        if record is None:
            raise VintageNotFoundError(
                f"vintage {vintage_id} was not fetched from an official source (or does not exist)."
            )
        return record

    # -- refresh definitions -----------------------------------------------------------------

    def create_refresh(self, definition: RefreshDefinition) -> StoredRefresh:
        """Store a new refresh definition (its schedule already checked by the caller).

        Raises
        ------
        InvalidRefreshError, RefreshExistsError
        """
        check_refresh(definition)
        now = utcnow()
        values = {**asdict(definition), "source": definition.source.lower(), "query": definition.query.strip()}
        try:
            with self.db.write() as conn:
                conn.execute(insert(_R).values(**values, created_at=now, updated_at=now, last_result={}))
        except IntegrityError:
            raise RefreshExistsError(
                f"a refresh named {definition.name!r} is stored; delete it first to redefine it."
            ) from None
        return self.get_refresh(definition.name)

    def get_refresh(self, name: str) -> StoredRefresh:
        """One refresh. Raises :class:`RefreshNotFoundError`."""
        with self.db.read() as conn:
            row = conn.execute(select(_R).where(_R.c.name == name)).first()
        if row is None:
            raise RefreshNotFoundError(f"no refresh named {name!r} is stored.")
        return _to_stored(row)

    def list_refreshes(self) -> list[StoredRefresh]:
        """Every refresh, by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(_R).order_by(_R.c.name)).all()
        return [_to_stored(r) for r in rows]

    def delete_refresh(self, name: str) -> None:
        """Delete a refresh (the vintages it fetched stay). Raises :class:`RefreshNotFoundError`."""
        with self.db.write() as conn:
            if not conn.execute(delete(_R).where(_R.c.name == name)).rowcount:
                raise RefreshNotFoundError(f"no refresh named {name!r} is stored.")
            # Its progress record (data.progress_repo), kept under the refresh's name.
            conn.execute(delete(_P).where(_P.c.kind == SOURCE_REFRESH, _P.c.job_id == name))

    def claim_fire(self, name: str, fire: datetime) -> bool:
        """Claim the scheduled fire at ``fire``: true for exactly one caller across processes."""
        with self.db.write() as conn:
            moved = conn.execute(
                update(_R)
                .where(_R.c.name == name, or_(_R.c.last_fire.is_(None), _R.c.last_fire < fire))
                .values(last_fire=fire)
            ).rowcount
        return bool(moved)

    def record_run(
        self, name: str, status: str, *, error: str | None = None, result: dict[str, Any] | None = None
    ) -> None:
        """Note the outcome of a refresh run (a deleted refresh is ignored)."""
        with self.db.write() as conn:
            conn.execute(
                update(_R)
                .where(_R.c.name == name)
                .values(
                    last_run_at=utcnow(),
                    last_status=status,
                    last_error=None if error is None else error[:_MAX_ERROR_CHARS],
                    last_result=result or {},
                )
            )
