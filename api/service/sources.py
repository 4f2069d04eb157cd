"""Reading a request's series: from the store or inline, with the missing-value policy.

Also the memory of each stored series' vintage list, which lets the cache be checked
without a database round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import pandas as pd

from api.service.drivers import driver_table, read_stored_drivers
from api.service.limits import Limits, check_complete, check_series_length
from api.service.types import InlineSeries, Prepared, SeriesSource
from data import Store, VintageInfo
from data.meta import current_vintage
from forecasting.core import latest_complete_stretch
from forecasting.executor import WarningNote

__all__ = ["InlineParser", "VintageMemory", "prepare", "vintage_at"]

#: Turns posted observations into a period-indexed float series (NaN for ``null``),
#: raising :class:`~forecasting.InvalidSeriesError` for bad input.
InlineParser = Callable[[InlineSeries], pd.Series]


def _complete(y: pd.Series, missing: str, field: str) -> tuple[pd.Series, tuple[WarningNote, ...]]:
    """Refuse missing values, or keep the latest unbroken stretch with a note, as asked."""
    if missing == "model":  # the gaps stay: the model's likelihood skips them (nothing filled)
        return y, ()
    if missing == "latest_stretch":
        stretch, note = latest_complete_stretch(y)
        return stretch, ((WarningNote("missing_values", note),) if note else ())
    check_complete(y, field=field)
    return y, ()


def prepare(
    source: SeriesSource,
    store: Store,
    limits: Limits,
    parse: InlineParser,
    *,
    vintage_id: int | None = None,
    driver_vintages: Mapping[str, int] | None = None,
) -> Prepared:
    """Read and validate the series of ``source`` against the limits.

    A stored series is read at ``vintage_id`` when given (already resolved from the
    vintage list), else at ``source.as_of``; stored drivers likewise at
    ``driver_vintages`` (by driver name), else at their ``as_of`` or ``source.as_of``.
    """
    if source.series_id is not None:
        if vintage_id is not None:
            stored = store.series.read_series(source.series_id, vintage_id=vintage_id)
        else:
            stored = store.series.read_series(source.series_id, as_of=source.as_of)
        y, notes = _complete(stored.series, source.missing, f"series {source.series_id!r}")
        kind = source.kind or stored.meta.kind
        prepared = Prepared(y, stored.meta.frequency, kind, source.series_id, stored.vintage, None, notes)
    elif source.inline is not None:
        y, notes = _complete(parse(source.inline), source.missing, "data")
        inline = source.inline
        prepared = Prepared(y, inline.frequency, source.kind or "level", None, None, inline.digest, notes)
    else:
        raise ValueError("a SeriesSource needs a series_id or inline data")
    check_series_length(len(prepared.y), limits)
    if source.drivers is not None:
        stored_drivers = read_stored_drivers(
            source.drivers, store, prepared.frequency, source.as_of, vintage_ids=driver_vintages
        )
        drivers = driver_table(source.drivers, prepared.frequency, stored_drivers)
        prepared = replace(prepared, drivers=drivers, stored_drivers=stored_drivers)
    return prepared


def vintage_at(vintages: Sequence[VintageInfo], as_of: datetime | None) -> VintageInfo | None:
    """The vintage current at ``as_of``: latest by publication date, else stored time (None: let the store decide)."""
    return current_vintage(vintages, as_of)


class VintageMemory:
    """The vintage list of each stored series, remembered for ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lists: dict[str, tuple[float, list[VintageInfo]]] = {}
        self._refreshing: set[str] = set()

    def recall(self, series_id: str, as_of: datetime | None) -> VintageInfo | None:
        """The vintage from memory only (no database), or None when unknown or expired."""
        remembered = self._lists.get(series_id)
        if remembered is None:
            return None
        if remembered[0] < time.monotonic() and series_id not in self._refreshing:
            # Expired: this request refreshes the list (in the threadpool) while the
            # requests arriving meanwhile keep using the old one, so an expiry does not
            # send every concurrent client to the database at once.
            self._refreshing.add(series_id)
            return None
        return vintage_at(remembered[1], as_of)

    def lookup(self, store: Store, series_id: str, as_of: datetime | None) -> VintageInfo | None:
        """The vintage from the store's current list (remembered for next time)."""
        try:
            vintages = store.series.list_vintages(series_id)
            if self.ttl > 0:
                self._lists[series_id] = (time.monotonic() + self.ttl, vintages)
        finally:
            self._refreshing.discard(series_id)
        return vintage_at(vintages, as_of)

    def forget(self, series_id: str) -> None:
        """Drop the remembered list of a series (after this process wrote to it)."""
        self._lists.pop(series_id, None)
        self._refreshing.discard(series_id)
