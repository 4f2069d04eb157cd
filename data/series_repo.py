"""Series and their vintages: the versioned half of the store.

Vintages are append-only. An upload writes its vintage rows and every observation row in
one transaction, so a crash mid-upload leaves the previous vintages untouched. Each vintage
gets the next per-series ``number`` under a unique constraint ``(series_id, number)``: two
concurrent writers either both land (one after the other) or, after
:data:`WRITE_ATTEMPTS` collisions, the loser gets :class:`~data.exceptions.ConflictError`.

Building a batch (checking the values, formatting period strings, checksums) is plain
numpy/pandas work in module functions; :class:`SeriesRepository` holds the SQL.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from data.codec import as_utc, checksum, parse_datetime, utcnow
from data.db import Database
from data.exceptions import (
    ConflictError,
    IngestError,
    SeriesNotFoundError,
    StorageUnavailableError,
    VintageNotFoundError,
)
from data.meta import SeriesMeta, StoredSeries, VintageInfo, current_vintage
from data.tables import ObservationsTable, SeriesTable, SeriesTagsTable, VintagesTable
from forecasting.exceptions import InvalidSeriesError
from forecasting.periods import frequency_of, period_ordinals, period_strings
from forecasting.series import RowLocator, check_values, parse_series, parse_values

if TYPE_CHECKING:
    from data.ingest import IngestResult

__all__ = ["OBSERVATION_CHUNK", "WRITE_ATTEMPTS", "SeriesRepository"]

logger = logging.getLogger(__name__)

#: How many times a write is retried after losing a race for a vintage number.
WRITE_ATTEMPTS = 5
#: Rows per bulk INSERT of observations (bounds memory; one transaction regardless).
OBSERVATION_CHUNK = 50_000
#: SQLite allows 32766 bound parameters per statement; IN lists stay well below.
_IN_CHUNK = 500
_T = cast(Table, SeriesTable.__table__)
_TAGS = cast(Table, SeriesTagsTable.__table__)
_V = cast(Table, VintagesTable.__table__)
_O = cast(Table, ObservationsTable.__table__)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Batch:
    """Observations of one or more series, sorted by series then period, NaN rows dropped."""

    metas: list[SeriesMeta]
    bounds: list[tuple[int, int]]  # row slice of each series in ds/y
    checksums: list[str]
    ds: np.ndarray  # period strings (object)
    y: np.ndarray  # float64


def _check_values(meta: SeriesMeta, periods: pd.PeriodIndex, values: np.ndarray) -> None:
    # The series parser's value rules (finite; shares in [0, 1]), named by period.
    class _AtPeriod:
        def where(self, row: int, field: str) -> str:
            return f"series {meta.series_id!r} at {periods[row]}"

        def at(self, row: int) -> str:
            return str(periods[row])

    uid = np.full(len(values), meta.series_id, dtype=object)
    try:
        parse_values(values, uid, _AtPeriod())
        check_values(values, meta.kind, uid, _AtPeriod())
    except InvalidSeriesError as exc:
        raise IngestError(str(exc), value=exc.value, code=exc.code) from None


def _observations_to_series(observations: pd.DataFrame | pd.Series, meta: SeriesMeta) -> pd.Series:
    """A float series indexed by periods at ``meta.frequency`` from a Series or a ds/y frame.

    The one series parser (:func:`forecasting.series.parse_series`) validates it; its
    errors come back as :class:`IngestError` carrying the parser's code.
    """

    if isinstance(observations, pd.DataFrame):
        if "ds" in observations.columns and "y" in observations.columns:
            ds_values: Any = observations["ds"].to_numpy(dtype=object)
            y_values = observations["y"].to_numpy()
        elif "y" in observations.columns:
            ds_values, y_values = observations.index, observations["y"].to_numpy()
        else:
            raise IngestError(
                f"series {meta.series_id!r}: the observations frame needs columns 'ds' and 'y'; "
                f"got {list(observations.columns)}."
            )
    else:
        ds_values, y_values = observations.index, observations.to_numpy()
    if not isinstance(ds_values, pd.PeriodIndex | pd.DatetimeIndex):
        ds_values = np.asarray(ds_values, dtype=object)
    try:
        series = parse_series(
            ds_values,
            y_values,
            frequency=meta.frequency,
            kind=meta.kind,
            name=meta.series_id,
            allow_gaps=True,
            locator=RowLocator(meta.series_id),
        )
    except InvalidSeriesError as exc:
        raise IngestError(str(exc), value=exc.value, code=exc.code) from None
    return series.dropna()


def _build_batch_single_frequency(result: IngestResult, ids: np.ndarray) -> _Batch:
    """:func:`_build_batch` for a frame with one period frequency, vectorised over all series."""
    frame = result.frame
    periods = pd.PeriodIndex(frame["ds"].array)
    ordinals = periods.asi8
    y = frame["y"].to_numpy(dtype=float)
    keep = ~np.isnan(y)
    ids_kept, ordinals, y = ids[keep], ordinals[keep], y[keep]
    order = np.lexsort((ordinals, ids_kept))
    ids_kept, ordinals, y = ids_kept[order], ordinals[order], y[order]
    present = set(np.unique(ids_kept).tolist())
    empty = [sid for sid in np.unique(ids).tolist() if sid not in present]
    if empty:
        raise IngestError(f"series {empty[0]!r} has no values (every period is empty).")
    same = (ids_kept[1:] == ids_kept[:-1]) & (ordinals[1:] == ordinals[:-1])
    if same.any():
        i = int(np.flatnonzero(same)[0]) + 1
        dup = pd.PeriodIndex.from_ordinals([ordinals[i]], freq=periods.freq)[0]
        raise IngestError(f"series {ids_kept[i]!r}: duplicate period {dup}.", value=str(dup))
    uniq, starts = np.unique(ids_kept, return_index=True)
    stops = [*starts[1:].tolist(), len(ids_kept)]
    metas = [result.metas.get(sid) or SeriesMeta(sid) for sid in uniq.tolist()]
    frequencies = {m.frequency for m in metas}
    if len(frequencies) != 1 or frequency_of(periods) not in frequencies:
        raise IngestError(
            f"the metadata frequencies {sorted(frequencies)} do not match the periods ({frequency_of(periods)})."
        )
    counts = np.diff([*starts.tolist(), len(ids_kept)])
    row_share = np.repeat(np.array([m.kind == "share" for m in metas]), counts)
    bad = ~np.isfinite(y) | (row_share & ((y < 0) | (y > 1)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        j = int(np.searchsorted(starts, i, side="right")) - 1
        sl = slice(int(starts[j]), int(stops[j]))
        _check_values(metas[j], pd.PeriodIndex.from_ordinals(ordinals[sl], freq=periods.freq), y[sl])
    frequency = metas[0].frequency
    checksums = [checksum(frequency, ordinals[a:b], y[a:b]) for a, b in zip(starts.tolist(), stops, strict=True)]
    codes, uniques = pd.factorize(ordinals)
    texts = period_strings(pd.PeriodIndex.from_ordinals(uniques, freq=periods.freq))
    return _Batch(
        metas=metas,
        bounds=list(zip(starts.tolist(), stops, strict=True)),
        checksums=checksums,
        ds=texts[codes],
        y=y,
    )


def _build_batch(items: list[tuple[SeriesMeta, pd.Series]]) -> _Batch:
    """Check the series of one upload and lay their non-missing observations out in one batch."""
    metas: list[SeriesMeta] = []
    bounds: list[tuple[int, int]] = []
    checksums: list[str] = []
    ordinal_parts: list[np.ndarray] = []
    y_parts: list[np.ndarray] = []
    freq_of_part: list[str] = []
    seen: set[str] = set()
    row = 0
    for meta, series in items:
        if meta.series_id in seen:
            raise IngestError(f"series {meta.series_id!r} appears twice in one upload.")
        seen.add(meta.series_id)
        series = series.sort_index()
        values = series.to_numpy(dtype=float)
        keep = ~np.isnan(values)
        periods = pd.PeriodIndex(series.index)[keep]
        values = values[keep]
        if len(values) == 0:
            raise IngestError(f"series {meta.series_id!r} has no values (every period is empty).")
        if periods.has_duplicates:
            dup = periods[periods.duplicated()][0]
            raise IngestError(f"series {meta.series_id!r}: duplicate period {dup}.", value=str(dup))
        _check_values(meta, periods, values)
        ordinals = periods.asi8
        metas.append(meta)
        bounds.append((row, row + len(values)))
        checksums.append(checksum(meta.frequency, ordinals, values))
        ordinal_parts.append(ordinals)
        y_parts.append(values)
        freq_of_part.append(meta.pandas_freq)
        row += len(values)
    # Period strings: format each distinct (frequency, ordinal) once, then index.
    ds = np.empty(row, dtype=object)
    for freq in set(freq_of_part):
        rows = [i for i, f in enumerate(freq_of_part) if f == freq]
        sel = np.concatenate([np.arange(*bounds[i]) for i in rows])
        ords = np.concatenate([ordinal_parts[i] for i in rows])
        codes, uniques = pd.factorize(ords)
        texts = period_strings(pd.PeriodIndex.from_ordinals(uniques, freq=freq))
        ds[sel] = texts[codes]
    y = np.concatenate(y_parts) if y_parts else np.empty(0)
    return _Batch(metas=metas, bounds=bounds, checksums=checksums, ds=ds, y=y)


def _build_batch_mixed(result: IngestResult, ids: np.ndarray) -> _Batch:
    """:func:`_build_batch` for an upload with several frequencies: one PeriodIndex per series."""
    frame = result.frame
    order = np.argsort(ids, kind="stable")
    ids_sorted = ids[order]
    ds_array = frame["ds"].array
    y_sorted = frame["y"].to_numpy(dtype=float)[order]
    uniq, starts = np.unique(ids_sorted, return_index=True)
    stops = [*starts[1:].tolist(), len(ids_sorted)]
    items: list[tuple[SeriesMeta, pd.Series]] = []
    for sid, start, stop in zip(uniq.tolist(), starts.tolist(), stops, strict=True):
        meta = result.metas.get(sid) or SeriesMeta(sid)
        index = pd.PeriodIndex(list(ds_array[order[start:stop]]))
        items.append((meta, pd.Series(y_sorted[start:stop], index=index, name=sid)))
    return _build_batch(items)


def _current_checksums(conn: Connection, ids: list[str], at: datetime) -> dict[str, VintageInfo]:
    """The vintage of each series current at ``at`` (by publication date, else stored time)."""
    current: dict[str, VintageInfo] = {}
    effective = func.coalesce(_V.c.published_at, _V.c.created_at)
    for part in _chunks(ids, _IN_CHUNK):
        rows = conn.execute(select(_V).where(_V.c.series_id.in_(part), effective <= at)).all()
        by_series: dict[str, list[VintageInfo]] = {}
        for row in rows:
            by_series.setdefault(row.series_id, []).append(SeriesRepository._vintage_from_row(row))
        for sid, vintages in by_series.items():
            chosen = current_vintage(vintages, at)
            if chosen is not None:
                current[sid] = chosen
    return current


def _drop_unchanged(conn: Connection, batch: _Batch, published_at: datetime | None) -> tuple[_Batch, list[VintageInfo]]:
    """The part of ``batch`` whose data differs from each series' vintage current at its
    publication date (now when none), and the current vintages of the others."""
    at = as_utc(published_at) if published_at is not None else utcnow()
    current = _current_checksums(conn, [m.series_id for m in batch.metas], at)
    same = {
        i: current[m.series_id]
        for i, m in enumerate(batch.metas)
        if m.series_id in current and current[m.series_id].checksum == batch.checksums[i]
    }
    unchanged = [replace(v, created=False) for v in same.values()]
    keep = [i for i in range(len(batch.metas)) if i not in same]
    if len(keep) == len(batch.metas):
        return batch, unchanged
    slices = [np.arange(*batch.bounds[i]) for i in keep]
    rows_kept = np.concatenate(slices) if slices else np.zeros(0, dtype=np.int64)
    lengths = [len(sl) for sl in slices]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(int).tolist()
    kept = _Batch(
        metas=[batch.metas[i] for i in keep],
        bounds=[(starts[j], starts[j + 1]) for j in range(len(keep))],
        checksums=[batch.checksums[i] for i in keep],
        ds=batch.ds[rows_kept],
        y=batch.y[rows_kept],
    )
    return kept, unchanged


def _insert_batch(
    conn: Connection, batch: _Batch, release: str | None, published_at: datetime | None = None
) -> list[VintageInfo]:
    """Upsert the series rows, then insert one vintage per series and its observations."""
    existing, last = _current_state(conn, [m.series_id for m in batch.metas])
    now = utcnow()
    _upsert_series(conn, batch.metas, existing, now)
    vintage_rows = _vintage_rows(batch, last, release, now)
    published = as_utc(published_at) if published_at is not None else None
    for row in vintage_rows:
        row["published_at"] = published
    result = conn.execute(insert(_V).returning(_V.c.id, sort_by_parameter_order=True), vintage_rows).all()
    vintage_ids = np.array([r[0] for r in result], dtype=np.int64)
    counts = np.array([stop - start for start, stop in batch.bounds], dtype=np.int64)
    per_row = np.repeat(vintage_ids, counts)
    if conn.dialect.name == "postgresql":
        _copy_observations(conn, per_row, batch)
    else:
        _insert_observations(conn, per_row, batch)
    infos = [
        VintageInfo(
            vintage_id=int(vid),
            series_id=row["series_id"],
            number=row["number"],
            created_at=row["created_at"],
            release=release,
            n_obs=row["n_obs"],
            checksum=row["checksum"],
            published_at=published,
        )
        for vid, row in zip(vintage_ids.tolist(), vintage_rows, strict=True)
    ]
    logger.info("stored %d vintage(s), %d observations", len(infos), len(per_row))
    return infos


def _current_state(conn: Connection, ids: list[str]) -> tuple[dict[str, Any], dict[str, tuple[int, datetime]]]:
    """The stored rows of these series, and each one's last vintage number and time."""
    existing: dict[str, Any] = {}
    last: dict[str, tuple[int, datetime]] = {}
    for part in _chunks(ids, _IN_CHUNK):
        for r in conn.execute(select(_T).where(_T.c.series_id.in_(part))):
            existing[r.series_id] = r
        rows = conn.execute(
            select(_V.c.series_id, func.max(_V.c.number), func.max(_V.c.created_at))
            .where(_V.c.series_id.in_(part))
            .group_by(_V.c.series_id)
        )
        for sid, number, created in rows:
            last[sid] = (int(number), as_utc(parse_datetime(created)))
    return existing, last


def _upsert_series(conn: Connection, metas: list[SeriesMeta], existing: dict[str, Any], now: datetime) -> None:
    """Insert new series rows, update known ones, and rewrite their tag rows."""
    new_rows, updates, tag_rows = [], [], []
    for meta in metas:
        old = existing.get(meta.series_id)
        if old is None:
            new_rows.append(
                {
                    "series_id": meta.series_id,
                    "name": meta.name,
                    "frequency": meta.frequency,
                    "unit": meta.unit,
                    "kind": meta.kind,
                    "tags": dict(meta.tags),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            tags = dict(meta.tags)
        else:
            if old.frequency != meta.frequency:
                raise ConflictError(
                    f"series {meta.series_id!r} is stored as {old.frequency}; an upload of "
                    f"{meta.frequency} data cannot become a vintage of it. Use another series id."
                )
            # Defaults in a re-upload (name = id, empty unit, no tags) keep what is stored.
            tags = {**(old.tags or {}), **meta.tags}
            updates.append(
                {
                    "b_id": meta.series_id,
                    "name": meta.name if meta.name != meta.series_id else old.name,
                    "unit": meta.unit or old.unit,
                    "kind": meta.kind,
                    "tags": tags,
                    "updated_at": now,
                }
            )
        tag_rows += [{"series_id": meta.series_id, "key": k, "value": v} for k, v in tags.items()]
    if new_rows:
        conn.execute(insert(_T), new_rows)
    if updates:
        conn.execute(
            update(_T).where(_T.c.series_id == bindparam("b_id")),
            updates,
            execution_options={"synchronize_session": False},
        )
        for part in _chunks([u["b_id"] for u in updates], _IN_CHUNK):
            conn.execute(delete(_TAGS).where(_TAGS.c.series_id.in_(part)))
    if tag_rows:
        conn.execute(insert(_TAGS), tag_rows)


def _vintage_rows(
    batch: _Batch, last: dict[str, tuple[int, datetime]], release: str | None, now: datetime
) -> list[dict[str, Any]]:
    """One new vintage row per series of ``batch``, numbered after its last vintage."""
    vintage_rows: list[dict[str, Any]] = []
    for meta, (start, stop), digest in zip(batch.metas, batch.bounds, batch.checksums, strict=True):
        number, previous = last.get(meta.series_id, (0, None))
        # Keep created_at strictly increasing per series even if clocks or racing
        # writers would give an equal or earlier time: as_of reads rely on it.
        created = now if previous is None or now > previous else previous + timedelta(microseconds=1)
        vintage_rows.append(
            {
                "series_id": meta.series_id,
                "number": number + 1,
                "created_at": created,
                "release": release,
                "n_obs": stop - start,
                "checksum": digest,
            }
        )
    return vintage_rows


def _insert_observations(conn: Connection, per_row: np.ndarray, batch: _Batch) -> None:
    """SQLite (and other non-PostgreSQL backends): bulk INSERT in chunks."""
    # Plain DBAPI executemany: building SQLAlchemy parameter dicts for a million
    # rows costs more than the inserts themselves.
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO observations (vintage_id, ds, y) VALUES ({placeholder}, {placeholder}, {placeholder})"
    for start in range(0, len(per_row), OBSERVATION_CHUNK):
        stop = start + OBSERVATION_CHUNK
        params = list(
            zip(
                per_row[start:stop].tolist(),
                batch.ds[start:stop].tolist(),
                batch.y[start:stop].tolist(),
                strict=True,
            )
        )
        conn.exec_driver_sql(sql, params)


def _copy_observations(conn: Connection, per_row: np.ndarray, batch: _Batch) -> None:
    """PostgreSQL: stream the observation rows with COPY, inside the open transaction."""
    driver = conn.connection.driver_connection
    if driver is None or not hasattr(driver, "cursor"):  # pragma: no cover - psycopg is the only driver
        raise StorageUnavailableError("the PostgreSQL connection is closed.")
    with driver.cursor() as cursor, cursor.copy("COPY observations (vintage_id, ds, y) FROM STDIN") as copy:
        for start in range(0, len(per_row), OBSERVATION_CHUNK):
            stop = start + OBSERVATION_CHUNK
            # Tab-separated text; repr(float) round-trips exactly, NaN rows were dropped.
            copy.write(
                "".join(
                    f"{v}\t{d}\t{y!r}\n"
                    for v, d, y in zip(
                        per_row[start:stop].tolist(),
                        batch.ds[start:stop].tolist(),
                        batch.y[start:stop].tolist(),
                        strict=True,
                    )
                )
            )


class SeriesRepository:
    """Repository of series, their vintages and observations (SQLite or PostgreSQL).

    Parameters
    ----------
    db : Database
        The store's database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def save_series(
        self,
        meta: SeriesMeta,
        observations: pd.DataFrame | pd.Series,
        *,
        release: str | None = None,
        skip_unchanged: bool = False,
        published_at: datetime | None = None,
    ) -> VintageInfo:
        """Store a new vintage of one series (its metadata upserted) in one transaction.

        Parameters
        ----------
        meta : SeriesMeta
            Metadata; ``frequency`` must match the stored series, if any.
        observations : pd.Series or pd.DataFrame
            A series indexed by periods or dates, or a frame with ``ds`` and ``y`` columns
            (``ds`` as periods, dates or period strings such as ``2023-Q1``). NaN marks a gap.
        release : str, optional
            Release label, e.g. ``"GACC 2024-01-12"``.
        skip_unchanged : bool
            If the vintage current at ``published_at`` (default: now) holds exactly these
            values, write nothing and return it with ``created=False``.
        published_at : datetime, optional
            When the figures were published (naive = UTC); ``as_of`` reads go by it.

        Returns
        -------
        VintageInfo

        Raises
        ------
        IngestError
            On duplicate periods, non-numeric or non-finite values, shares outside [0, 1],
            or a series with no values.
        ConflictError
            If the stored series has another frequency, or the write lost too many races.
        StorageUnavailableError
            If the database cannot be reached.
        """
        series = _observations_to_series(observations, meta)
        return self._write_batch(_build_batch([(meta, series)]), release, skip_unchanged, published_at)[0]

    def save_ingested(
        self,
        result: IngestResult,
        *,
        release: str | None = None,
        skip_unchanged: bool = False,
        published_at: datetime | None = None,
    ) -> list[VintageInfo]:
        """Store one new vintage of every series of a validated upload, all in one transaction.

        Parameters
        ----------
        result : IngestResult
            From :func:`data.load_series`.
        release : str, optional
            Release label applied to every vintage.
        skip_unchanged : bool
            Write nothing for series whose vintage current at ``published_at`` (default:
            now) holds exactly the same values; their current vintage is returned with
            ``created=False``.
        published_at : datetime, optional
            When the figures were published (naive = UTC), for every vintage written.

        Returns
        -------
        list of VintageInfo
            One per series, in the order of ``result.metas``: written (``created=True``), or
            found unchanged (``created=False``).

        Raises
        ------
        ConflictError, StorageUnavailableError, IngestError
        """
        frame = result.frame
        ids = frame["unique_id"].astype(str).to_numpy()
        if isinstance(frame["ds"].dtype, pd.PeriodDtype):
            batch = _build_batch_single_frequency(result, ids)
        else:  # several frequencies in one upload
            batch = _build_batch_mixed(result, ids)
        written = self._write_batch(batch, release, skip_unchanged, published_at)
        by_id = {info.series_id: info for info in written}
        return [by_id[sid] for sid in result.metas if sid in by_id]

    def _write_batch(
        self, batch: _Batch, release: str | None, skip_unchanged: bool, published_at: datetime | None
    ) -> list[VintageInfo]:
        """The vintages written, then those found unchanged (``created=False``)."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.db.write() as conn:
                    todo, unchanged = _drop_unchanged(conn, batch, published_at) if skip_unchanged else (batch, [])
                    if not todo.metas:
                        return unchanged
                    return _insert_batch(conn, todo, release, published_at) + unchanged
            except IntegrityError as exc:
                # Another writer took the vintage number (or created the series) first.
                if attempt == WRITE_ATTEMPTS:
                    ids = ", ".join(m.series_id for m in batch.metas[:5])
                    raise ConflictError(
                        f"could not store a new vintage of {ids} after {WRITE_ATTEMPTS} attempts: "
                        "other uploads of the same series kept winning; retry."
                    ) from exc
                logger.info("vintage number race lost (attempt %d); retrying", attempt)
                time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _meta_from_row(row: Any) -> SeriesMeta:
        return SeriesMeta(
            series_id=row.series_id,
            name=row.name,
            frequency=row.frequency,
            unit=row.unit,
            kind=row.kind,
            tags=dict(row.tags or {}),
        )

    @staticmethod
    def _vintage_from_row(row: Any) -> VintageInfo:
        return VintageInfo(
            vintage_id=int(row.id),
            series_id=row.series_id,
            number=int(row.number),
            created_at=as_utc(parse_datetime(row.created_at)),
            release=row.release,
            n_obs=int(row.n_obs),
            checksum=row.checksum,
            published_at=as_utc(parse_datetime(row.published_at)) if row.published_at is not None else None,
        )

    def _get_meta(self, conn: Connection, series_id: str) -> SeriesMeta:
        row = conn.execute(select(_T).where(_T.c.series_id == series_id)).first()
        if row is None:
            raise SeriesNotFoundError(f"no series with id {series_id!r} is stored.")
        return self._meta_from_row(row)

    def _values(self, conn: Connection, vintage_id: int, meta: SeriesMeta) -> pd.Series:
        rows = conn.execute(select(_O.c.ds, _O.c.y).where(_O.c.vintage_id == vintage_id)).all()
        freq = meta.pandas_freq
        if not rows:
            return pd.Series([], index=pd.PeriodIndex([], freq=freq, name="ds"), name=meta.series_id, dtype=float)
        ds, y = zip(*rows, strict=True)
        ordinals = period_ordinals(ds, meta.frequency)
        first = int(ordinals.min())
        # Gaps between the first and last observed period are NaN; nothing is invented.
        values = np.full(int(ordinals.max()) - first + 1, np.nan)
        values[ordinals - first] = np.asarray(y, dtype=float)
        index = pd.PeriodIndex.from_ordinals(np.arange(first, first + len(values)), freq=freq)
        return pd.Series(values, index=index.rename("ds"), name=meta.series_id)

    def read_series(
        self, series_id: str, *, as_of: datetime | None = None, vintage_id: int | None = None
    ) -> StoredSeries:
        """The series as it was known at ``as_of`` (default: now), or at one vintage.

        Parameters
        ----------
        series_id : str
            The series.
        as_of : datetime, optional
            Returns the vintage current at this time (naive = UTC): the latest published at
            or before it, a vintage without ``published_at`` counting from the time it was
            stored. Default: the latest by the same order.
        vintage_id : int, optional
            Returns this vintage instead (must belong to the series).

        Returns
        -------
        StoredSeries
            ``.series`` is a float series on a regular ``PeriodIndex`` named ``ds`` from the
            first to the last observed period, NaN for gaps.

        Raises
        ------
        SeriesNotFoundError
            If no such series is stored.
        VintageNotFoundError
            If the series has no vintage at ``as_of`` or no vintage ``vintage_id``.

        Notes
        -----
        A vintage's ``created_at`` is taken when its upload obtains the next vintage number,
        inside the upload's transaction; it becomes visible when that transaction commits,
        which for the largest uploads (a million rows) is some seconds later. Reads at an
        ``as_of`` inside that window made before the commit do not see it; later reads do.
        """
        with self.db.read() as conn:
            meta = self._get_meta(conn, series_id)
            query = select(_V).where(_V.c.series_id == series_id)
            effective = func.coalesce(_V.c.published_at, _V.c.created_at)
            if vintage_id is not None:
                query = query.where(_V.c.id == int(vintage_id))
            elif as_of is not None:
                query = query.where(effective <= as_utc(as_of))
            row = conn.execute(query.order_by(effective.desc(), _V.c.number.desc()).limit(1)).first()
            if row is None:
                if vintage_id is not None:
                    raise VintageNotFoundError(f"series {series_id!r} has no vintage with id {vintage_id}.")
                raise VintageNotFoundError(
                    f"series {series_id!r} has no vintage at or before {as_of}; the first upload came later."
                )
            vintage = self._vintage_from_row(row)
            values = self._values(conn, vintage.vintage_id, meta)
        return StoredSeries(meta=meta, series=values, vintage=vintage)

    def get_meta(self, series_id: str) -> SeriesMeta:
        """Metadata of one series.

        Raises
        ------
        SeriesNotFoundError
        """
        with self.db.read() as conn:
            return self._get_meta(conn, series_id)

    def has_series(self, series_id: str) -> bool:
        """Whether a series is stored under ``series_id``."""
        with self.db.read() as conn:
            return conn.execute(select(_T.c.series_id).where(_T.c.series_id == series_id)).first() is not None

    def list_series(
        self, *, tags: dict[str, str] | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[SeriesMeta], int]:
        """One page of series metadata ordered by id, and the total number matching.

        Parameters
        ----------
        tags : dict of str to str, optional
            Keep series having every one of these tag values.
        limit, offset : int
            Page size (>= 0) and start.

        Returns
        -------
        (list of SeriesMeta, int)
        """
        if limit < 0 or offset < 0:
            raise IngestError(f"limit and offset must be >= 0; got limit={limit}, offset={offset}.")
        conditions = [
            exists().where(and_(_TAGS.c.series_id == _T.c.series_id, _TAGS.c.key == k, _TAGS.c.value == v))
            for k, v in (tags or {}).items()
        ]
        with self.db.read() as conn:
            total = conn.execute(select(func.count()).select_from(_T).where(*conditions)).scalar_one()
            rows = conn.execute(
                select(_T).where(*conditions).order_by(_T.c.series_id).limit(limit).offset(offset)
            ).all()
        return [self._meta_from_row(r) for r in rows], int(total)

    def list_vintages(self, series_id: str) -> list[VintageInfo]:
        """Every vintage of a series, oldest first.

        Raises
        ------
        SeriesNotFoundError
        """
        with self.db.read() as conn:
            self._get_meta(conn, series_id)
            rows = conn.execute(select(_V).where(_V.c.series_id == series_id).order_by(_V.c.number)).all()
        return [self._vintage_from_row(r) for r in rows]

    def revisions(self, series_id: str, from_vintage: int, to_vintage: int) -> pd.DataFrame:
        """Periods whose value differs between two vintages of a series.

        Parameters
        ----------
        series_id : str
            The series.
        from_vintage, to_vintage : int
            Vintage ids (``VintageInfo.vintage_id``) of that series.

        Returns
        -------
        pd.DataFrame
            Columns ``ds`` (period), ``old``, ``new``; NaN where a period was missing in one
            of the vintages. Periods with equal values are left out.

        Raises
        ------
        SeriesNotFoundError, VintageNotFoundError
        """
        old = self.read_series(series_id, vintage_id=from_vintage).series
        new = self.read_series(series_id, vintage_id=to_vintage).series
        both = pd.concat({"old": old, "new": new}, axis=1).sort_index()
        changed = ~((both["old"] == both["new"]) | (both["old"].isna() & both["new"].isna())).to_numpy(dtype=bool)
        out = both[changed].rename_axis("ds").reset_index()
        return out[["ds", "old", "new"]]

    def vintage_history(self, series_id: str) -> list[StoredSeries]:
        """Every vintage of a series with its values, in publication order.

        Ordered by publication date (``published_at``, else the time stored), then number:
        the order in which the figures became known, which real-time backtests
        (:func:`forecasting.realtime.realtime_backtest`) replay.

        Raises
        ------
        SeriesNotFoundError
        """
        vintages = sorted(self.list_vintages(series_id), key=lambda v: (v.effective_at, v.number))
        with self.db.read() as conn:
            meta = self._get_meta(conn, series_id)
            return [StoredSeries(meta=meta, series=self._values(conn, v.vintage_id, meta), vintage=v) for v in vintages]

    def resolve_vintage(self, series_id: str, vintage: int) -> int:
        """The vintage id meant by a user's vintage reference to one series.

        Parameters
        ----------
        series_id : str
            The series.
        vintage : int
            The series' own vintage number (1, 2, ... in upload order, as ``GET
            /v1/series/{id}/vintages`` and ``tradecast series show`` list them) or a global
            vintage id (``vintage_id``) of that series. The number is tried first: a reader
            who has uploaded a series twice means its vintages 1 and 2.

        Returns
        -------
        int
            The global vintage id (``VintageInfo.vintage_id``).

        Raises
        ------
        SeriesNotFoundError
            If no such series is stored.
        VintageNotFoundError
            If the series has neither a vintage numbered ``vintage`` nor one with that id.
        """
        with self.db.read() as conn:
            self._get_meta(conn, series_id)
            rows = conn.execute(select(_V.c.id, _V.c.number).where(_V.c.series_id == series_id)).all()
        by_number = {int(number): int(vid) for vid, number in rows}
        if int(vintage) in by_number:
            return by_number[int(vintage)]
        if int(vintage) in by_number.values():
            return int(vintage)
        raise VintageNotFoundError(
            f"series {series_id!r} has no vintage {vintage}: give its number 1..{len(by_number)} "
            "(or a vintage id of this series; list them with GET /v1/series/{id}/vintages)."
        )

    def diff_vintages(self, series_id: str, from_vintage: int, to_vintage: int) -> pd.DataFrame:
        """What changed from one vintage of a series to another.

        Parameters
        ----------
        series_id : str
            The series.
        from_vintage, to_vintage : int
            Vintage ids of that series (either order; ``old`` is ``from_vintage``).

        Returns
        -------
        pd.DataFrame
            Columns ``ds``, ``change`` (``added``: a value only in ``to_vintage``;
            ``removed``: only in ``from_vintage``; ``changed``: a different value), ``old``,
            ``new`` (NaN where absent), sorted by period. Equal periods are left out.

        Raises
        ------
        SeriesNotFoundError, VintageNotFoundError
        """
        out = self.revisions(series_id, from_vintage, to_vintage)
        old, new = out["old"].isna().to_numpy(), out["new"].isna().to_numpy()
        change = np.where(old, "added", np.where(new, "removed", "changed"))
        out.insert(1, "change", change.astype(object))
        return out

    def delete_series(self, series_id: str) -> None:
        """Delete a series with all its vintages and observations.

        Archived forecasts of the series are kept: they are history.

        Raises
        ------
        SeriesNotFoundError
        """
        with self.db.write() as conn:
            vintage_ids = select(_V.c.id).where(_V.c.series_id == series_id).scalar_subquery()
            conn.execute(delete(_O).where(_O.c.vintage_id.in_(vintage_ids)))
            deleted = conn.execute(delete(_T).where(_T.c.series_id == series_id)).rowcount
            if not deleted:
                raise SeriesNotFoundError(f"no series with id {series_id!r} is stored.")
