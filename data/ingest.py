"""CSV / JSON / Excel files → validated long frames (``unique_id, ds, y``) plus series metadata."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from data.meta import SeriesMeta

__all__ = ["IngestResult", "load_series"]

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """A validated upload.

    Attributes
    ----------
    frame : pd.DataFrame
        Long frame ``unique_id`` (str), ``ds`` (pandas Period), ``y`` (float, NaN for gaps).
    metas : dict of str to SeriesMeta
        Metadata of each series, by id.
    source : str
        File name or description of the input.
    """

    frame: pd.DataFrame
    metas: dict[str, SeriesMeta] = field(default_factory=dict)
    source: str = ""


def load_series(
    path_or_buffer: Any,
    *,
    format: str | None = None,
    frequency: str | None = None,
    kind: str | None = None,
    **options: Any,
) -> IngestResult:
    """Read and validate a CSV, JSON or Excel file of series (being implemented)."""
    raise NotImplementedError
