"""The only place JSON meets pandas: schemas ↔ series, frames and store records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from api.errors import detailed
from api.schemas import (
    BacktestWindowRead,
    ForecastRead,
    ForecastRowRead,
    ModelMetricsRead,
    ModelRead,
    ObservationRead,
    SeriesMetaRead,
    SeriesRead,
    VintageRead,
    WarningRead,
)
from data.meta import FREQUENCIES, SeriesMeta, StoredSeries, VintageInfo
from forecasting import series as series_rules
from forecasting.exceptions import (
    InvalidParameterError,
    InvalidSeriesError,
    MissingPeriodsError,
    MissingValuesError,
)
from forecasting.frames import CUTOFF, DS, MODEL
from forecasting.registry import REGISTRY
from forecasting.series import ItemLocator, parse_series

__all__ = [
    "frame_to_rows",
    "meta_to_read",
    "model_to_read",
    "observations_to_series",
    "record_params_to_read",
    "rows_to_frame",
    "series_to_observations",
    "stored_to_read",
    "vintage_from_dict",
    "vintage_to_dict",
    "vintage_to_read",
]


def observations_to_series(
    data: Sequence[ObservationRead],
    frequency: str,
    *,
    name: str = "data",
    allow_gaps: bool = False,
    kind: str = "level",
) -> pd.Series:
    """Posted observations → a float series on a regular ``PeriodIndex``, by the series parser.

    With ``allow_gaps`` (storage), missing periods become NaN instead of an error. The
    rules and error codes are those of :func:`forecasting.series.parse_series`; this door
    names the item (``data[3].ds``) in the message and in ``details``.

    Raises
    ------
    InvalidSeriesError
        The parser's subclass for the rule broken (``unreadable_period``,
        ``duplicate_period``, ``share_out_of_range``, ``missing_periods``...).
    """
    try:
        return parse_series(
            [o.ds for o in data],
            [o.y for o in data],
            frequency=frequency,
            kind=kind,
            name=name,
            allow_gaps=allow_gaps,
            locator=ItemLocator(name),
        )
    except MissingPeriodsError as exc:
        missing = (exc.value or "").split(", ")
        raise detailed(exc, {"field": name, "missing_periods": missing}) from None
    except InvalidSeriesError as exc:
        raise detailed(exc, {"field": exc.location, "value": exc.value}) from None


def check_complete(y: pd.Series, *, field: str = "data") -> None:
    """Raise :class:`MissingValuesError` naming the first missing (null/NaN) value of ``y``."""
    try:
        series_rules.check_complete(y, name=field)
    except MissingValuesError as exc:
        n_missing = int(np.isnan(y.to_numpy(dtype=float)).sum())
        raise detailed(exc, {"field": field, "first_missing": exc.value, "n_missing": n_missing}) from None


def series_to_observations(y: pd.Series) -> list[ObservationRead]:
    """A period series → ``[{ds, y}]`` (NaN becomes ``null``)."""
    return [
        ObservationRead(ds=str(p), y=None if math.isnan(v) else float(v))
        for p, v in zip(y.index, y.to_numpy(dtype=float), strict=True)
    ]


def frame_to_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A forecast frame (index ``ds``) → JSON rows ``{ds, mean, lo_80, hi_80, ...}``."""
    cols = list(frame.columns)
    values = frame.to_numpy(dtype=float)
    return [
        {DS: str(ds), **{c: float(v) for c, v in zip(cols, row, strict=True)}}
        for ds, row in zip(frame.index, values, strict=True)
    ]


def rows_to_frame(rows: Sequence[dict[str, Any]], frequency: str) -> pd.DataFrame:
    """Inverse of :func:`frame_to_rows`."""
    frame = pd.DataFrame(list(rows))
    index = pd.PeriodIndex([pd.Period(v, freq=FREQUENCIES[frequency]) for v in frame.pop(DS)], name=DS)
    frame.index = index
    return frame.astype(float)


def vintage_to_read(v: VintageInfo) -> VintageRead:
    """Store vintage → schema."""
    return VintageRead(
        vintage_id=v.vintage_id,
        series_id=v.series_id,
        number=v.number,
        created_at=v.created_at,
        release=v.release,
        n_obs=v.n_obs,
        checksum=v.checksum,
    )


def vintage_to_dict(v: VintageInfo | None) -> dict[str, Any] | None:
    """Vintage → JSON-safe dict (kept in the forecast archive's params)."""
    return None if v is None else vintage_to_read(v).model_dump(mode="json")


def vintage_from_dict(raw: Any) -> VintageRead | None:
    """Inverse of :func:`vintage_to_dict`."""
    return None if not raw else VintageRead.model_validate(raw)


def meta_to_read(meta: SeriesMeta) -> SeriesMetaRead:
    """Store metadata → schema."""
    return SeriesMetaRead(
        series_id=meta.series_id,
        name=meta.name,
        frequency=meta.frequency,  # type: ignore[arg-type]
        unit=meta.unit,
        kind=meta.kind,  # type: ignore[arg-type]
        tags=dict(meta.tags),
    )


def stored_to_read(stored: StoredSeries) -> SeriesRead:
    """A stored series (one vintage) → schema with its observations."""
    return SeriesRead(
        **meta_to_read(stored.meta).model_dump(),
        vintage=vintage_to_read(stored.vintage),
        data=series_to_observations(stored.series),
    )


def model_to_read(name: str, default: str) -> ModelRead:
    """A registry entry → schema (its tags)."""
    tags = REGISTRY[name].tags
    return ModelRead(
        name=name,
        supports_intervals=tags.supports_intervals,
        handles_missing=tags.handles_missing,
        requires_season_length=tags.requires_season_length,
        min_obs=tags.min_obs,
        is_default=name == default,
    )


def check_model_name(name: str, field: str = "model") -> str:
    """A registered model name, else :class:`InvalidParameterError` (422, not 404: the body is wrong)."""
    if name not in REGISTRY:
        raise detailed(
            InvalidParameterError(f"{field}: unknown model {name!r}; choose one of: {', '.join(REGISTRY)}."),
            {"field": field, "value": name, "choices": list(REGISTRY)},
        )
    return name


def record_params_to_read(
    forecast_id: str,
    series_id: str | None,
    model: str,
    horizon: int,
    levels: Sequence[int],
    frame: pd.DataFrame,
    params: dict[str, Any],
    created_at: Any,
) -> ForecastRead:
    """An archived forecast (frame + the params we stored with it) → schema."""
    return ForecastRead(
        id=forecast_id,
        series_id=series_id,
        model=model,
        frequency=params["frequency"],
        kind=params.get("kind", "level"),
        transform=params.get("transform", "none"),
        horizon=horizon,
        levels=list(levels),
        vintage=vintage_from_dict(params.get("vintage")),
        data_hash=params.get("data_hash"),
        interval_method=str(params.get("interval_method", "")),
        forecast=[ForecastRowRead.model_validate(r) for r in frame_to_rows(frame)],
        warnings=[WarningRead.model_validate(w) for w in params.get("warnings", [])],
        created_at=created_at,
    )


def _number(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def backtest_scores_to_read(
    windows: pd.DataFrame, models: pd.DataFrame, levels: Sequence[int]
) -> tuple[list[ModelMetricsRead], list[BacktestWindowRead]]:
    """The frames of :func:`forecasting.core.score_backtest` → response schemas (NaN → null)."""
    per_window = [
        BacktestWindowRead(
            model=str(row[MODEL]),
            cutoff=str(row[CUTOFF]),
            smape=_number(row["smape"]),
            mase=_number(row["mase"]),
            rmsse=_number(row["rmsse"]),
            coverage={str(lv): _number(row[f"coverage_{lv}"]) for lv in levels},
        )
        for row in windows.to_dict("records")
    ]
    summary = [
        ModelMetricsRead(
            model=str(row[MODEL]),
            smape=_number(row["smape"]),
            mase=_number(row["mase"]),
            rmsse=_number(row["rmsse"]),
            coverage={str(lv): _number(row[f"coverage_{lv}"]) for lv in levels},
            msis={str(lv): _number(row[f"msis_{lv}"]) for lv in levels},
        )
        for row in models.to_dict("records")
    ]
    return summary, per_window
