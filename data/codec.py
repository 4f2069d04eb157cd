"""Codecs of the store: forecast frames <-> JSON text, observation checksums, UTC times.

Pure functions with no database access, shared by the repositories.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "as_utc",
    "checksum",
    "frame_from_json",
    "frame_to_json",
    "json_default",
    "parse_datetime",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, UTC and timezone-aware."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_datetime(value: Any) -> datetime:
    """A datetime from a database value (a datetime, or ISO text from some drivers)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def checksum(frequency: str, ordinals: np.ndarray, values: np.ndarray) -> str:
    """SHA-256 of one series' observations: equal data gives equal checksums.

    Parameters
    ----------
    frequency : str
        ``annual``, ``quarterly`` or ``monthly``.
    ordinals : np.ndarray
        Period ordinals of the non-missing observations.
    values : np.ndarray
        Their values (float).

    Returns
    -------
    str
        64 hex characters.
    """
    digest = hashlib.sha256(frequency.encode())
    digest.update(np.ascontiguousarray(ordinals, dtype=np.int64).tobytes())
    # ``+ 0.0`` folds -0.0 into 0.0 so equal numbers hash equally.
    digest.update(np.ascontiguousarray(values + 0.0, dtype=np.float64).tobytes())
    return digest.hexdigest()


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars, dates, periods and sets.

    Raises
    ------
    TypeError
        For any other type.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime | pd.Period | pd.Timestamp):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _float_or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def frame_to_json(frame: pd.DataFrame) -> str:
    """Serialise a forecast frame, keeping its index type and frequency.

    Parameters
    ----------
    frame : pd.DataFrame
        Float columns; a ``PeriodIndex``, ``DatetimeIndex`` or any other index (as text).

    Returns
    -------
    str
        JSON text; NaN becomes ``null``. Scalar ``frame.attrs`` are kept.
    """
    index = frame.index
    if isinstance(index, pd.PeriodIndex):
        kind, freq = "period", index.freqstr
    elif isinstance(index, pd.DatetimeIndex):
        kind, freq = "datetime", index.freqstr
    else:
        kind, freq = "other", None
    attrs = {k: v for k, v in frame.attrs.items() if isinstance(v, str | int | float | bool | type(None))}
    payload = {
        "index_kind": kind,
        "freq": freq,
        "index": [str(i) for i in index],
        "columns": [str(c) for c in frame.columns],
        "data": {str(c): [_float_or_none(v) for v in frame[c].to_numpy(dtype=float).tolist()] for c in frame.columns},
        "attrs": attrs,
    }
    return json.dumps(payload)


def frame_from_json(text: str) -> pd.DataFrame:
    """The frame :func:`frame_to_json` wrote, with its index named ``ds``.

    Parameters
    ----------
    text : str
        JSON text from :func:`frame_to_json`.

    Returns
    -------
    pd.DataFrame
    """
    payload = json.loads(text)
    index: pd.Index
    if payload["index_kind"] == "period":
        index = pd.PeriodIndex(payload["index"], freq=payload["freq"], name="ds")
    elif payload["index_kind"] == "datetime":
        index = pd.DatetimeIndex(payload["index"], name="ds")
        if payload["freq"]:
            index.freq = payload["freq"]
    else:
        index = pd.Index(payload["index"], name="ds")
    frame = pd.DataFrame(
        {
            c: np.array([np.nan if v is None else v for v in payload["data"][c]], dtype=float)
            for c in payload["columns"]
        },
        index=index,
    )
    frame.attrs.update(payload.get("attrs", {}))
    return frame
