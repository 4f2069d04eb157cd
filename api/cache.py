"""A small thread-safe LRU cache for fitted forecast results, and its key.

:func:`forecast_key` is the one place that builds the key, from everything that determines
a forecast: the data (a stored vintage or a hash of inline data, the kind asked for and the
treatment of missing values), model, transform, horizon, levels and the growth and
full-year options (a forecast with blocks is another result than one without). The event-loop fast
path and the fitting path both call it, so a forecast one stores the other finds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from data import VintageInfo

from forecasting.outlook import FullYearOptions, GrowthOptions

__all__ = ["ForecastKey", "LRUCache", "data_hash", "forecast_key"]

V = TypeVar("V")


class LRUCache(Generic[V]):
    """At most ``maxsize`` entries; the least recently used is evicted first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The cached value, marked as recently used, or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``; evict the oldest entries beyond ``maxsize``."""
        if self.maxsize <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def data_hash(payload: Any) -> str:
    """A stable sha256 of JSON-serialisable ``payload`` (inline data identity)."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class ForecastKey:
    """The cache key of one forecast (build it with :func:`forecast_key`)."""

    data: tuple[Hashable, ...]
    model: str
    transform: str
    horizon: int
    levels: tuple[int, ...]
    growth: GrowthOptions | None = None
    full_year: FullYearOptions | None = None
    extras: tuple[Hashable, ...] = ()


def forecast_key(
    *,
    series_id: str | None,
    vintage: VintageInfo | None,
    data_hash: str | None,
    frequency: str | None,
    kind: str | None,
    missing: str,
    model: str,
    transform: str,
    horizon: int,
    levels: tuple[int, ...],
    growth: GrowthOptions | None = None,
    full_year: FullYearOptions | None = None,
    extras: tuple[Hashable, ...] = (),
) -> ForecastKey:
    """The key of a forecast of a stored vintage (``series_id``) or of inline data (``data_hash``).

    ``kind`` is the kind the request asked for (``None``: the default), never the kind
    resolved from the store, so a request can be keyed before anything is read.

    A stored vintage is identified by its id *and* its creation time and checksum: an id
    alone could come back after a series is deleted (SQLite reused row ids before migration
    0004), and a cache, possibly in another service process, must never take the new
    vintage for the old one.

    ``extras`` holds what else changes the forecast (digests of drivers, events and
    scenarios; the break check), empty for a plain forecast.
    """
    data: tuple[Hashable, ...]
    if series_id is not None:
        # A vintage's stored kind never changes, so "stored" identifies it without reading
        # the series' metadata on the cached path.
        stamp = (vintage.vintage_id, vintage.created_at, vintage.checksum) if vintage is not None else None
        data = ("vintage", series_id, stamp, kind or "stored", missing)
    else:
        data = ("inline", data_hash, frequency, kind or "level", missing)
    return ForecastKey(data, model, transform, horizon, levels, growth, full_year, extras)
