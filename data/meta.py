"""Value types of the series store: series metadata, vintages, stored series, forecasts.

Plain dataclasses, so the API layer converts them to its own response schemas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from data.exceptions import IngestError

__all__ = [
    "FREQUENCIES",
    "KINDS",
    "SERIES_ID_PATTERN",
    "ForecastRecord",
    "SeriesMeta",
    "StoredSeries",
    "VintageInfo",
    "check_series_id",
]

#: Frequency names used in the store, the API and files, mapped to pandas period aliases.
FREQUENCIES: dict[str, str] = {"annual": "Y", "quarterly": "Q", "monthly": "M"}
#: ``level``: amounts such as trade values (non-negative unless allowed); ``share``: in [0, 1].
KINDS: tuple[str, ...] = ("level", "share")
#: Series ids appear in URLs, so they are restricted to URL-safe characters.
SERIES_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def check_series_id(series_id: object) -> str:
    """Return ``series_id`` if it is a valid id, else raise :class:`IngestError`.

    Raises
    ------
    IngestError
        If the id is not 1-100 characters of ``A-Z a-z 0-9 _ . -``.
    """
    if not isinstance(series_id, str) or SERIES_ID_PATTERN.fullmatch(series_id) is None:
        raise IngestError(
            f"invalid series id {series_id!r}: use 1-100 characters from A-Z, a-z, 0-9, '_', '.', '-'.",
            value=str(series_id),
        )
    return series_id


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
        if self.frequency not in FREQUENCIES:
            raise IngestError(
                f"series {self.series_id!r}: unknown frequency {self.frequency!r}; "
                f"expected one of {', '.join(FREQUENCIES)}.",
                value=str(self.frequency),
            )
        if self.kind not in KINDS:
            raise IngestError(
                f"series {self.series_id!r}: unknown kind {self.kind!r}; expected 'level' or 'share'.",
                value=str(self.kind),
            )
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
        Store-wide id of the vintage (use it in :meth:`Store.revisions` and forecasts).
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
    """

    vintage_id: int
    series_id: str
    number: int
    created_at: datetime
    release: str | None
    n_obs: int
    checksum: str = ""


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
        Assigned by :meth:`Store.save_forecast` (32 hex characters).
    created_at : datetime or None
        Assigned by :meth:`Store.save_forecast` (UTC).
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
