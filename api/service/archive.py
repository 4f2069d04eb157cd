"""Writing a forecast to the store's archive, and the result the caller gets back."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from api.service.fitting import FitOutcome
from api.service.types import ForecastResult, Prepared
from data import ForecastRecord, Store, VintageInfo
from forecasting.executor import WarningNote
from forecasting.frames import DS
from forecasting.outlook import GrowthBlocks
from forecasting.paths import HEADLINE

__all__ = ["archive_forecast", "frame_rows", "outlook_params", "vintage_params"]


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
    growth: GrowthBlocks | None, full_year: pd.DataFrame | None, scenarios: dict[str, pd.DataFrame] | None = None
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


def archive_forecast(
    store: Store,
    prepared: Prepared,
    *,
    model: str,
    transform: str,
    horizon: int,
    levels: tuple[int, ...],
    fit: FitOutcome,
    notes: tuple[WarningNote, ...],
) -> ForecastResult:
    """Save the forecast with what it was made from; return it as a :class:`ForecastResult`."""
    warnings = tuple(dict.fromkeys((*prepared.notes, *notes)))
    params = {
        "frequency": prepared.frequency,
        "kind": prepared.kind,
        "transform": transform,
        "vintage": vintage_params(prepared.vintage),
        "data_hash": prepared.data_hash,
        "interval_method": fit.interval_method,
        "warnings": [{"code": n.code, "message": n.message} for n in warnings],
        **outlook_params(fit.growth, fit.full_year, fit.scenarios),
    }
    record = ForecastRecord(
        series_id=prepared.series_id,
        vintage_id=prepared.vintage.vintage_id if prepared.vintage else None,
        model=model,
        params=params,
        horizon=horizon,
        levels=levels,
        frame=fit.frame,
    )
    forecast_id = store.save_forecast(record)
    return ForecastResult(
        forecast_id=forecast_id,
        series_id=prepared.series_id,
        model=model,
        frequency=prepared.frequency,
        kind=prepared.kind,
        transform=transform,
        horizon=horizon,
        levels=levels,
        vintage=prepared.vintage,
        data_hash=prepared.data_hash,
        interval_method=fit.interval_method,
        frame=fit.frame,
        warnings=warnings,
        created_at=record.created_at or datetime.now(UTC),
        growth=fit.growth,
        full_year=fit.full_year,
        scenarios=fit.scenarios,
    )
