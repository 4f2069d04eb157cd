"""The archive's ``params`` of a forecast: one typed record, built the same way by REST and reports.

A forecast archived by the REST service and one archived by a report run carry the same
keys (:meth:`ForecastParams.to_params`): how the series was read (frequency, kind,
transform, vintage or data hash), how the intervals were made, the warnings, the growth,
full-year and scenario blocks, the drivers' coefficients, and for a report run which run
made it. The model is the one fitted for that series (a report's per-series model, not
the report's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from data.meta import VintageInfo
from forecasting.executor import WarningNote
from forecasting.fit import DriverCoefficient
from forecasting.frames import DS
from forecasting.outlook import GrowthBlocks
from forecasting.paths import HEADLINE

__all__ = ["ForecastParams", "ReportRef", "frame_rows", "outlook_params", "vintage_params"]


def vintage_params(vintage: VintageInfo | None) -> dict[str, Any] | None:
    """A vintage as JSON-safe params of the archive (read back by the HTTP layer)."""
    if vintage is None:
        return None
    params = asdict(vintage)
    params["created_at"] = vintage.created_at.isoformat()
    return params


def frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame indexed by period → JSON-safe rows ``{ds, <column>: value}`` (NaN → None)."""
    return [
        {DS: str(ds), **{str(c): (float(v) if np.isfinite(v) else None) for c, v in row.items()}}
        for ds, row in zip(frame.index, frame.astype(float).to_dict("records"), strict=True)
    ]


def outlook_params(
    growth: GrowthBlocks | None, full_year: pd.DataFrame | None, scenarios: Mapping[str, pd.DataFrame] | None = None
) -> dict[str, Any]:
    """The growth, full-year and scenario blocks of a fit as JSON-safe archive params (those computed)."""
    params: dict[str, Any] = {}
    if scenarios is not None:
        params["scenarios"] = {name: frame_rows(frame) for name, frame in scenarios.items()}
    if growth is not None:
        g = growth
        params["growth"] = {
            "base": str(g.base),
            "how": g.how,
            "headline": HEADLINE,
            "yoy": frame_rows(g.yoy) if g.yoy is not None else None,
            "annual": frame_rows(g.annual),
            "vs_base": frame_rows(g.vs_base),
            "index": frame_rows(g.index),
        }
    if full_year is not None:
        params["full_year"] = {
            **frame_rows(full_year)[0],
            "how": full_year.attrs.get("how", "sum"),
            "headline": full_year.attrs.get("headline", HEADLINE),
        }
    return params


@dataclass(frozen=True)
class ReportRef:
    """The report run that archived a forecast (the keys a later run scores its past forecasts by)."""

    report: str
    run_id: str
    as_of: datetime


@dataclass(frozen=True)
class ForecastParams:
    """What the archive keeps with a forecast besides its frame, model, horizon and levels.

    Attributes
    ----------
    frequency, kind, transform : str
        How the series was read and fitted.
    vintage : VintageInfo or None
        The stored vintage forecast (None for inline data).
    data_hash : str or None
        The identity of inline data (None for a stored vintage).
    interval_method : str
        How the intervals were made.
    warnings : tuple of WarningNote
        The fit's warnings and notes, in order, without repeats.
    growth, full_year, scenarios
        The blocks computed (None when not asked).
    coefficients : tuple of DriverCoefficient
        The drivers' coefficients (empty without drivers).
    report : ReportRef or None
        The report run that made it (None for a REST or command-line forecast).
    """

    frequency: str
    kind: str
    transform: str = "none"
    vintage: VintageInfo | None = None
    data_hash: str | None = None
    interval_method: str = ""
    warnings: tuple[WarningNote, ...] = ()
    growth: GrowthBlocks | None = None
    full_year: pd.DataFrame | None = None
    scenarios: Mapping[str, pd.DataFrame] | None = None
    coefficients: tuple[DriverCoefficient, ...] = field(default=())
    report: ReportRef | None = None

    def to_params(self) -> dict[str, Any]:
        """The JSON-safe ``params`` of :class:`~data.ForecastRecord`."""
        params: dict[str, Any] = {}
        if self.report is not None:
            params |= {
                "report": self.report.report,
                "run_id": self.report.run_id,
                "as_of": self.report.as_of.isoformat(),
            }
        params |= {
            "frequency": self.frequency,
            "kind": self.kind,
            "transform": self.transform,
            "vintage": vintage_params(self.vintage),
            "data_hash": self.data_hash,
            "interval_method": self.interval_method,
            "warnings": [{"code": n.code, "message": n.message} for n in dict.fromkeys(self.warnings)],
            **outlook_params(self.growth, self.full_year, self.scenarios),
        }
        if self.coefficients:
            params["coefficients"] = [asdict(c) for c in self.coefficients]
        return params
