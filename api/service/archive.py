"""Writing a forecast to the store's archive, and the result the caller gets back."""

from __future__ import annotations

from datetime import UTC, datetime

from api.service.fitting import FitOutcome
from api.service.types import ForecastResult, Prepared
from data import ForecastRecord, Store
from data.params import ForecastParams, frame_rows, outlook_params, vintage_params
from forecasting.executor import WarningNote

__all__ = ["archive_forecast", "frame_rows", "outlook_params", "vintage_params"]


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
    params = ForecastParams(
        frequency=prepared.frequency,
        kind=prepared.kind,
        transform=transform,
        vintage=prepared.vintage,
        data_hash=prepared.data_hash,
        interval_method=fit.interval_method,
        warnings=warnings,
        growth=fit.growth,
        full_year=fit.full_year,
        scenarios=fit.scenarios,
        coefficients=fit.coefficients,
    )
    record = ForecastRecord(
        series_id=prepared.series_id,
        vintage_id=prepared.vintage.vintage_id if prepared.vintage else None,
        model=model,
        params=params.to_params(),
        horizon=horizon,
        levels=levels,
        frame=fit.frame,
    )
    forecast_id = store.archive.save_forecast(record)
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
        coefficients=fit.coefficients,
    )
