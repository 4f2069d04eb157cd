"""Cells of an upload as text, one row per observation, with where each came from.

Shared by the file readers (:mod:`data.ingest`) and the publication layouts
(:mod:`data.publications`), so that every error can name the line, the column and the
value as the file shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Raw", "where"]


@dataclass
class Raw:
    """Cells as text, one row per observation, with where each came from.

    ``ds_loc``/``ds_cols``/``ds_names`` are set when the periods are not in one column of
    each row (a wide publication whose header line holds the periods).
    """

    uid: np.ndarray  # object
    ds: np.ndarray  # object
    y: np.ndarray  # object
    loc: np.ndarray  # int64 line / row / record number
    uid_col: np.ndarray  # int64 1-based column of the id (0 = none)
    uid_loc: np.ndarray  # int64 line where the id is written (header line for wide files)
    ds_col: int
    y_col: np.ndarray  # int64
    y_name: np.ndarray  # object: header of the value column
    ds_name: str
    uid_name: str
    loc_word: str  # "line", "row" or "record"
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    ds_loc: np.ndarray | None = None  # int64 line where each period is written
    ds_cols: np.ndarray | None = None  # int64 1-based column of each period
    ds_names: np.ndarray | None = None  # object: header name shown for each period


def where(raw: Raw, i: int, col: int | None, name: str) -> str:
    """``line 3, column 2 (ds)``: row ``i`` of ``raw`` at column ``col`` named ``name``."""
    loc = f"{raw.loc_word} {int(raw.loc[i])}"
    return f"{loc}, column {col} ({name})" if col else f"{loc} ({name})"
