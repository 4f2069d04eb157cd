"""Value types of the series store: series metadata, vintages, stored series, forecasts.

Plain dataclasses, so the API layer converts them to its own response schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from data.exceptions import IngestError
from forecasting.exceptions import InvalidSeriesError
from forecasting.series import FREQUENCIES, KINDS, SERIES_ID_PATTERN, check_frequency, check_kind_name
from forecasting.series import check_series_id as _check_series_id

__all__ = [
    "FREQUENCIES",
    "KINDS",
    "SERIES_ID_PATTERN",
    "ForecastRecord",
    "SeriesMeta",
    "StoredSeries",
    "VintageInfo",
    "check_series_id",
    "current_vintage",
]

# FREQUENCIES, KINDS and SERIES_ID_PATTERN live with the series parser in forecasting and
# are re-exported here, where the store and the API have always imported them.


def check_series_id(series_id: object) -> str:
    """Return ``series_id`` if it is a valid id, else raise :class:`IngestError`.

    Raises
    ------
    IngestError
        If the id is not 1-100 characters of ``A-Z a-z 0-9 _ . -`` (code
        ``invalid_series_id``, the parser's rule).
    """
    try:
        return _check_series_id(series_id)
    except InvalidSeriesError as exc:
        raise IngestError(str(exc), value=exc.value, code=exc.code) from None


@dataclass(frozen=True)
class SeriesMeta:
    """Metadata of one series.

    Parameters
    ----------
    series_id : str
        URL-safe id, ``[A-Za-z0-9_.-]{1,100}``.
    name : str
        Human-readable name (defaults to the id).
    frequency : {"annual", "quarterly", "monthly"}
        Frequency of the observations.
    unit : str
        Unit of the values, e.g. ``"USD bn"`` or ``"fraction"``.
    kind : {"level", "share"}
        ``share`` series hold fractions in [0, 1].
    tags : dict of str to str
        Free tags such as ``reporter``, ``partner``, ``flow``, ``currency``, ``source``.

    Raises
    ------
    IngestError
        On an invalid id, frequency or kind.
    """

    series_id: str
    name: str = ""
    frequency: str = "monthly"
    unit: str = ""
    kind: str = "level"
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_series_id(self.series_id)
        try:
            check_frequency(self.frequency, series_id=self.series_id)
            check_kind_name(self.kind, series_id=self.series_id)
        except InvalidSeriesError as exc:
            raise IngestError(str(exc), value=exc.value, code=exc.code) from None
        if not self.name:
            object.__setattr__(self, "name", self.series_id)
        object.__setattr__(self, "tags", {str(k): str(v) for k, v in self.tags.items()})

    @property
    def pandas_freq(self) -> str:
        """The pandas period alias: ``"Y"``, ``"Q"`` or ``"M"``."""
        return FREQUENCIES[self.frequency]


@dataclass(frozen=True)
class VintageInfo:
    """One upload of one series.

    Attributes
    ----------
    vintage_id : int
        Store-wide id of the vintage (use it in :meth:`~data.series_repo.SeriesRepository.revisions` and forecasts).
    series_id : str
        The series.
    number : int
        1, 2, 3... per series, in upload order.
    created_at : datetime
        When the vintage was stored (UTC, timezone-aware, microseconds).
    release : str or None
        Optional release label, e.g. ``"GACC 2024-01-12"``.
    n_obs : int
        Number of non-missing observations.
    checksum : str
        SHA-256 of the stored observations; equal data gives equal checksums.
    published_at : datetime or None
        When the figures were published (UTC), if known.
    created : bool
        False when an upload found the same data already current and stored nothing: this
        is the vintage that holds them.
    """

    vintage_id: int
    series_id: str
    number: int
    created_at: datetime
    release: str | None
    n_obs: int
    checksum: str = ""
    published_at: datetime | None = None
    created: bool = True

    @property
    def effective_at(self) -> datetime:
        """The time ``as_of`` reads go by: ``published_at``, else ``created_at``."""
        return self.published_at if self.published_at is not None else self.created_at


@dataclass(frozen=True)
class StoredSeries:
    """A series as read from the store.

    Attributes
    ----------
    meta : SeriesMeta
        Its metadata.
    series : pd.Series
        Float values on a regular ``PeriodIndex`` named ``ds`` (NaN for gaps), named by the id.
    vintage : VintageInfo
        The vintage these values come from.
    """

    meta: SeriesMeta
    series: pd.Series
    vintage: VintageInfo


@dataclass
class ForecastRecord:
    """An archived forecast.

    Attributes
    ----------
    series_id : str or None
        The stored series forecast, or ``None`` for an inline forecast (data posted with
        the request; keep a hash of that data in ``params``).
    vintage_id : int or None
        The vintage the model was fitted on (``None`` for inline forecasts).
    model : str
        Registered model name.
    params : dict
        Model parameters and request details (JSON-serialisable).
    horizon : int
        Number of periods forecast.
    levels : tuple of int
        Interval levels in percent.
    frame : pd.DataFrame
        The forecast frame (index ``ds``; ``mean, lo_<L>, hi_<L>``...).
    forecast_id : str or None
        Assigned by :meth:`~data.archive.ForecastArchive.save_forecast` (32 hex characters).
    created_at : datetime or None
        Assigned by :meth:`~data.archive.ForecastArchive.save_forecast` (UTC).
    """

    series_id: str | None
    vintage_id: int | None
    model: str
    params: dict[str, Any]
    horizon: int
    levels: tuple[int, ...]
    frame: pd.DataFrame
    forecast_id: str | None = None
    created_at: datetime | None = None

    @property
    def id(self) -> str | None:
        """Alias of :attr:`forecast_id`."""
        return self.forecast_id


def current_vintage(vintages: Sequence[VintageInfo], as_of: datetime | None = None) -> VintageInfo | None:
    """The vintage current at ``as_of`` (default: now): the latest by publication date.

    Vintages are ordered by :attr:`VintageInfo.effective_at` (``published_at``, else the
    time stored), then by number; the last one at or before ``as_of`` is current. None when
    every vintage came later.
    """
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    eligible = [v for v in vintages if as_of is None or v.effective_at <= as_of]
    return max(eligible, key=lambda v: (v.effective_at, v.number), default=None)
