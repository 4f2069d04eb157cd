"""The forecast archive: forecasts made, with their model, parameters and frame."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select

from data.codec import as_utc, frame_from_json, frame_to_json, json_default, parse_datetime, utcnow
from data.db import Database
from data.exceptions import ForecastNotFoundError, IngestError
from data.meta import ForecastRecord, check_series_id
from data.tables import ForecastsTable

__all__ = ["PRUNE_BATCH_SIZE", "ForecastArchive"]

logger = logging.getLogger(__name__)

_F = cast(Table, ForecastsTable.__table__)
#: Rows deleted per write transaction by :meth:`ForecastArchive.prune_forecasts`: short
#: transactions keep SQLite's single writer lock free for the service between batches.
PRUNE_BATCH_SIZE = 500


class ForecastArchive:
    """Repository of archived forecasts (table ``forecasts``).

    Parameters
    ----------
    db : Database
        The store's database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def save_forecast(self, record: ForecastRecord) -> str:
        """Archive a forecast.

        Parameters
        ----------
        record : ForecastRecord
            ``forecast_id`` and ``created_at`` are assigned here when unset.

        Returns
        -------
        str
            The forecast id (also written to ``record.forecast_id``).

        Raises
        ------
        IngestError
            If ``horizon`` is not a positive integer or params are not JSON-serialisable.
        """
        if record.series_id is not None:
            check_series_id(record.series_id)
        if int(record.horizon) < 1:
            raise IngestError(f"forecast horizon must be >= 1; got {record.horizon}.")
        record.forecast_id = record.forecast_id or uuid.uuid4().hex
        record.created_at = as_utc(record.created_at) if record.created_at else utcnow()
        try:
            params = json.loads(json.dumps(record.params, allow_nan=True, default=json_default))
        except (TypeError, ValueError) as exc:
            raise IngestError(f"forecast params are not JSON-serialisable: {exc}") from exc
        with self.db.write() as conn:
            conn.execute(
                insert(_F),
                {
                    "id": record.forecast_id,
                    "series_id": record.series_id,
                    "vintage_id": record.vintage_id,
                    "model": record.model,
                    "params": params,
                    "horizon": int(record.horizon),
                    "levels": [int(level) for level in record.levels],
                    "created_at": record.created_at,
                    "frame": frame_to_json(record.frame),
                },
            )
        return record.forecast_id

    def get_forecast(self, forecast_id: str) -> ForecastRecord:
        """One archived forecast.

        Raises
        ------
        ForecastNotFoundError
        """
        with self.db.read() as conn:
            row = conn.execute(select(_F).where(_F.c.id == forecast_id)).first()
        if row is None:
            raise ForecastNotFoundError(f"no archived forecast with id {forecast_id!r}.")
        return _forecast_from_row(row)

    def list_forecasts(
        self,
        series_id: str | None = None,
        *,
        model: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ForecastRecord]:
        """Archived forecasts, newest first.

        Parameters
        ----------
        series_id : str, optional
            Only forecasts of this series.
        model : str, optional
            Only forecasts by this model.
        since : datetime, optional
            Only forecasts created at or after this time (naive = UTC).
        limit, offset : int, optional
            A page of the result: at most ``limit`` records (default all) after skipping
            ``offset``. Paging happens in the database, so only the page is read and decoded.

        Raises
        ------
        IngestError
            A negative ``limit`` or ``offset``.
        """
        if (limit is not None and limit < 0) or offset < 0:
            raise IngestError(f"limit and offset must be >= 0; got limit={limit}, offset={offset}.")
        query = select(_F).where(*_forecast_filter(series_id, model, since))
        query = query.order_by(_F.c.created_at.desc(), _F.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [_forecast_from_row(r) for r in rows]

    def count_forecasts(
        self, series_id: str | None = None, *, model: str | None = None, since: datetime | None = None
    ) -> int:
        """How many archived forecasts :meth:`list_forecasts` would return without paging."""
        query = select(func.count()).select_from(_F).where(*_forecast_filter(series_id, model, since))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def prune_forecasts(self, older_than: timedelta, *, now: datetime | None = None, dry_run: bool = False) -> int:
        """Delete the forecasts created more than ``older_than`` before ``now``.

        Parameters
        ----------
        older_than : timedelta
            Age from which a forecast is deleted (at least one second).
        now : datetime, optional
            The reference time (default: the current time; naive = UTC).
        dry_run : bool
            Count what would be deleted, delete nothing.

        Returns
        -------
        int
            How many forecasts were (or, with ``dry_run``, would be) deleted.

        Raises
        ------
        IngestError
            If ``older_than`` is shorter than a second.

        Notes
        -----
        Deletes in batches of :data:`PRUNE_BATCH_SIZE` rows, each in its own transaction.
        Series, vintages and report runs are untouched; a report run's HTML keeps its
        numbers, but its archived forecasts may no longer be readable by id.
        """
        if not isinstance(older_than, timedelta) or older_than < timedelta(seconds=1):
            raise IngestError(f"older_than must be a duration of at least one second; got {older_than!r}.")
        cutoff = as_utc(now or utcnow()) - older_than
        if dry_run:
            with self.db.read() as conn:
                return int(
                    conn.execute(select(func.count()).select_from(_F).where(_F.c.created_at < cutoff)).scalar_one()
                )
        deleted = 0
        while True:
            with self.db.write() as conn:
                ids = select(_F.c.id).where(_F.c.created_at < cutoff).limit(PRUNE_BATCH_SIZE).scalar_subquery()
                count = conn.execute(delete(_F).where(_F.c.id.in_(ids))).rowcount
            deleted += count
            if count < PRUNE_BATCH_SIZE:
                break
        logger.info("pruned %d archived forecast(s) created before %s", deleted, cutoff.isoformat())
        return deleted


def _forecast_from_row(row: Any) -> ForecastRecord:
    return ForecastRecord(
        series_id=row.series_id,
        vintage_id=row.vintage_id,
        model=row.model,
        params=dict(row.params or {}),
        horizon=int(row.horizon),
        levels=tuple(int(level) for level in row.levels),
        frame=frame_from_json(row.frame),
        forecast_id=row.id,
        created_at=as_utc(parse_datetime(row.created_at)),
    )


def _forecast_filter(series_id: str | None, model: str | None, since: datetime | None) -> list[Any]:
    conditions: list[Any] = []
    if series_id is not None:
        conditions.append(_F.c.series_id == series_id)
    if model is not None:
        conditions.append(_F.c.model == model)
    if since is not None:
        conditions.append(_F.c.created_at >= as_utc(since))
    return conditions
