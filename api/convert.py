"""The only place JSON meets pandas: schemas ↔ series, frames and store records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Literal, cast, get_args

import pandas as pd

from api.errors import detailed
from api.schemas import (
    BacktestCreate,
    BacktestRead,
    BacktestWindowRead,
    BatchForecastCreate,
    BatchForecastRead,
    BatchItemRead,
    CoefficientRead,
    ErrorDetail,
    FetchedSeriesRead,
    ForecastCreate,
    ForecastRead,
    ForecastRowRead,
    Frequency,
    FullYearRead,
    GrowthRead,
    ItemFailureRead,
    Kind,
    ModelMetricsRead,
    ModelRead,
    ObservationRead,
    ProgressRead,
    RefreshRunRead,
    ReportRunBrief,
    SeriesMetaRead,
    SeriesRead,
    StructureCreate,
    StructureForecastRead,
    StructureMemberForecastRead,
    StructureNodeRead,
    StructureRead,
    Transform,
    VintageChangeRead,
    VintageDiffRead,
    VintageRead,
    WarningRead,
)
from api.service.archive import outlook_params
from api.service.drivers import DriverColumn, DriverInputs, ScenarioInputs
from api.service.structures import StructureForecast
from api.service.types import (
    BacktestRequest,
    BacktestResult,
    BatchItemResult,
    BatchRequest,
    ForecastRequest,
    ForecastResult,
    InlineSeries,
    SeriesSource,
)
from data import Store
from data.meta import FREQUENCIES, SeriesMeta, StoredSeries, VintageInfo
from data.progress_repo import Progress
from data.sources_repo import FetchOutcome
from data.structures_repo import StructureDefinition
from forecasting.exceptions import InvalidSeriesError, MissingPeriodsError
from forecasting.frames import CUTOFF, DS, MODEL, UNIQUE_ID
from forecasting.outlook import FullYearOptions, GrowthOptions
from forecasting.registry import REGISTRY, describe_model
from forecasting.series import ItemLocator, parse_series
from reports.refresh import RefreshResult

__all__ = [
    "fetched_series_to_read",
    "refresh_run_to_read",
    "backtest_request",
    "backtest_to_read",
    "batch_request",
    "batch_to_read",
    "error_detail",
    "forecast_request",
    "forecast_to_read",
    "frame_to_rows",
    "inline_to_series",
    "items_to_series",
    "meta_to_read",
    "model_to_read",
    "observations_to_series",
    "outlook_options",
    "outlook_to_read",
    "progress_to_read",
    "record_params_to_read",
    "rows_to_frame",
    "series_to_observations",
    "stored_to_read",
    "structure_create",
    "structure_forecast_to_read",
    "structure_member_to_read",
    "structure_to_read",
    "vintage_from_dict",
    "vintage_to_read",
]


def observations_to_series(
    data: Sequence[ObservationRead],
    frequency: str,
    *,
    name: str = "data",
    allow_gaps: bool = False,
    kind: str = "level",
    allow_negative: bool = True,
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
    return items_to_series(
        [o.ds for o in data],
        [o.y for o in data],
        frequency,
        name=name,
        allow_gaps=allow_gaps,
        kind=kind,
        allow_negative=allow_negative,
    )


def items_to_series(
    labels: Sequence[Any],
    values: Sequence[Any],
    frequency: str,
    *,
    name: str = "data",
    allow_gaps: bool = False,
    kind: str = "level",
    allow_negative: bool = True,
) -> pd.Series:
    """Period labels and values of a JSON body → a series, by the series parser (see
    :func:`observations_to_series`), errors naming the item ``data[i]``."""
    try:
        return parse_series(
            labels,
            values,
            frequency=frequency,
            kind=kind,
            name=name,
            allow_gaps=allow_gaps,
            allow_negative=allow_negative,
            locator=ItemLocator(name),
        )
    except MissingPeriodsError as exc:
        missing = (exc.value or "").split(", ")
        raise detailed(exc, {"field": name, "missing_periods": missing}) from None
    except InvalidSeriesError as exc:
        raise detailed(exc, {"field": exc.location, "value": exc.value}) from None


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
        published_at=v.published_at,
        created=v.created,
    )


def diff_to_read(series_id: str, old: VintageInfo, new: VintageInfo, frame: pd.DataFrame) -> VintageDiffRead:
    """A :meth:`data.series_repo.SeriesRepository.diff_vintages` frame → schema (NaN → null)."""
    rows = [
        VintageChangeRead(
            ds=str(ds),
            change=change,
            old=None if pd.isna(o) else float(o),
            new=None if pd.isna(n) else float(n),
        )
        for ds, change, o, n in zip(frame["ds"], frame["change"], frame["old"], frame["new"], strict=True)
    ]
    return VintageDiffRead(
        series_id=series_id,
        from_vintage=vintage_to_read(old),
        to_vintage=vintage_to_read(new),
        data=rows,
        count=len(rows),
    )


def vintage_from_dict(raw: Any) -> VintageRead | None:
    """A vintage kept in an archived forecast's params → schema."""
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
    """A registry entry → schema (its description and tags)."""
    tags = REGISTRY[name].tags
    return ModelRead(
        name=name,
        description=describe_model(name),
        supports_intervals=tags.supports_intervals,
        handles_missing=tags.handles_missing,
        requires_season_length=tags.requires_season_length,
        min_obs=tags.min_obs,
        is_default=name == default,
    )


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
        frequency=cast(Frequency, _archived_frequency(params, frame)),
        kind=cast(Kind, _recorded(params, "kind", get_args(Kind), "level")),
        transform=cast(Transform, _recorded(params, "transform", get_args(Transform), "none")),
        horizon=horizon,
        levels=list(levels),
        vintage=_archived_vintage(params.get("vintage")),
        data_hash=params.get("data_hash"),
        interval_method=str(params.get("interval_method", "")),
        forecast=[ForecastRowRead.model_validate(r) for r in frame_to_rows(frame)],
        warnings=[WarningRead.model_validate(w) for w in params.get("warnings", [])],
        created_at=created_at,
        coefficients=[CoefficientRead.model_validate(c) for c in params.get("coefficients", [])],
    )


def _archived_frequency(params: dict[str, Any], frame: pd.DataFrame) -> str:
    """The frequency of an archived forecast: as recorded, else read off its frame's index.

    Forecasts archived by report runs before issue 21 carry no ``frequency`` in their
    params; the frame's period index still says what it is.
    """
    recorded = params.get("frequency")
    if recorded in FREQUENCIES:
        return str(recorded)
    freqstr = str(getattr(frame.index, "freqstr", "") or "").upper()
    # "Y-DEC", "A-DEC", "QE-DEC", "M", "MS": the first letter names the period; the rest is an anchor.
    by_letter = {"Y": "annual", "A": "annual", "Q": "quarterly", "M": "monthly"}
    # A frame without a frequency (none is archived so today) is shown as annual rather than failing.
    return by_letter.get(freqstr[:1], "annual")


def _recorded(params: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    """``params[key]`` when it is one of ``allowed``, else ``default`` (older archive records)."""
    value = params.get(key)
    return value if isinstance(value, str) and value in allowed else default


def _archived_vintage(raw: Any) -> VintageRead | None:
    """The vintage kept in an archived forecast's params, or ``None`` when it is unreadable."""
    try:
        return vintage_from_dict(raw)
    except ValueError:
        # A pydantic ValidationError is a ValueError: an old or foreign record keeps the rest readable.
        return None


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
            mae=_number(row["mae"]),
            rmse=_number(row["rmse"]),
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
            mae=_number(row["mae"]),
            rmse=_number(row["rmse"]),
            smape=_number(row["smape"]),
            mase=_number(row["mase"]),
            rmsse=_number(row["rmsse"]),
            coverage={str(lv): _number(row[f"coverage_{lv}"]) for lv in levels},
            msis={str(lv): _number(row[f"msis_{lv}"]) for lv in levels},
        )
        for row in models.to_dict("records")
    ]
    return summary, per_window


# ---------------------------------------------------------------- service requests and results
def inline_to_series(inline: InlineSeries) -> pd.Series:
    """Posted observations → a period series (what the service parses inline data with).

    Missing periods are refused naming what the request can do: send them with ``"y": null``
    and ``"missing": "model"``.
    """
    try:
        return items_to_series(inline.labels, inline.values, inline.frequency)
    except MissingPeriodsError as exc:
        hint = 'Or send those periods with "y": null and "missing": "model" to fit through the gaps.'
        hinted = MissingPeriodsError(f"{exc} {hint}", location=exc.location, value=exc.value)
        raise detailed(hinted, getattr(exc, "details", {})) from None


def _source(body: Any, label: str | None = None) -> SeriesSource:
    """The series part of a forecast, batch item or backtest body."""
    inline = None
    if body.data is not None:
        inline = InlineSeries(tuple(o.ds for o in body.data), tuple(o.y for o in body.data), body.frequency)
    return SeriesSource(body.series_id, body.as_of, inline, body.kind, body.missing, label, driver_inputs(body))


def _column(name: str, data: Sequence[Any]) -> DriverColumn:
    return DriverColumn(name, tuple(o.ds for o in data), tuple(o.y for o in data))


def driver_inputs(body: Any) -> DriverInputs | None:
    """The ``drivers`` and ``events`` of a body → service inputs (None when it has neither)."""
    if body.drivers is None and body.events is None:
        return None
    columns = tuple(
        DriverColumn(d.name, series_id=d.series_id, as_of=d.as_of) if d.data is None else _column(d.name, d.data)
        for d in body.drivers or ()
    )
    events = tuple(tuple((k, v) for k, v in e.model_dump(exclude_none=True).items()) for e in body.events or ())
    return DriverInputs(columns, events)


def scenario_inputs(body: ForecastCreate) -> ScenarioInputs | None:
    """The ``scenarios`` of a forecast body → service inputs."""
    if body.scenarios is None:
        return None
    paths = tuple(
        (name, tuple(_column(driver, rows) for driver, rows in drivers.items()))
        for name, drivers in body.scenarios.items()
    )
    return ScenarioInputs(paths, body.driver_uncertainty)


def outlook_options(body: ForecastCreate) -> tuple[GrowthOptions | None, FullYearOptions | None]:
    """The ``growth`` and ``full_year`` parts of a body → library options (base year as text,
    so ``2023`` and ``"2023"`` share one cache entry)."""
    growth = None
    if body.growth is not None:
        base = str(body.growth.base) if body.growth.base is not None else None
        growth = GrowthOptions(yoy=body.growth.yoy, base=base, how=body.growth.how)
    full_year = FullYearOptions(how=body.full_year.how) if body.full_year is not None else None
    return growth, full_year


def forecast_request(body: ForecastCreate) -> ForecastRequest:
    """``POST /v1/forecasts`` body → service request."""
    growth, full_year = outlook_options(body)
    return ForecastRequest(
        _source(body),
        body.horizon,
        tuple(body.levels),
        body.model,
        body.transform,
        growth,
        full_year,
        body.check_breaks,
        scenario_inputs(body),
    )


def outlook_to_read(params: dict[str, Any]) -> dict[str, Any]:
    """The growth and full-year blocks kept in archive params → ``{growth, full_year}`` schemas."""
    growth = params.get("growth")
    full_year = params.get("full_year")
    scenarios = params.get("scenarios")
    return {
        "growth": GrowthRead.model_validate(growth) if growth else None,
        "full_year": FullYearRead.model_validate(full_year) if full_year else None,
        "scenarios": (
            {name: [ForecastRowRead.model_validate(r) for r in rows] for name, rows in scenarios.items()}
            if scenarios
            else None
        ),
    }


def batch_request(body: BatchForecastCreate) -> BatchRequest:
    """``POST /v1/forecasts/batch`` body → service request (items labelled by unique_id or series_id)."""
    sources = tuple(_source(item, item.unique_id or item.series_id) for item in body.series)
    return BatchRequest(sources, body.horizon, tuple(body.levels), body.model, body.transform)


def backtest_request(body: BacktestCreate) -> BacktestRequest:
    """``POST /v1/backtests`` body → service request."""
    models = tuple(body.models) if body.models else None
    return BacktestRequest(
        _source(body), body.horizon, body.windows, body.step, models, tuple(body.levels), body.transform
    )


def forecast_to_read(result: ForecastResult) -> ForecastRead:
    """A forecast made by the service → schema (the same as reading it back from the archive)."""
    return ForecastRead(
        id=result.forecast_id,
        series_id=result.series_id,
        model=result.model,
        frequency=result.frequency,  # type: ignore[arg-type]
        kind=result.kind,  # type: ignore[arg-type]
        transform=result.transform,  # type: ignore[arg-type]
        horizon=result.horizon,
        levels=list(result.levels),
        vintage=vintage_to_read(result.vintage) if result.vintage is not None else None,
        data_hash=result.data_hash,
        interval_method=result.interval_method,
        forecast=[ForecastRowRead.model_validate(r) for r in frame_to_rows(result.frame)],
        warnings=[WarningRead(code=n.code, message=n.message) for n in result.warnings],
        created_at=result.created_at,
        **outlook_to_read(outlook_params(result.growth, result.full_year, result.scenarios)),
        coefficients=[CoefficientRead.model_validate(asdict(c)) for c in result.coefficients],
    )


def error_detail(exc: BaseException) -> ErrorDetail:
    """A library exception → the ``{code, message, details}`` of an error item."""
    details = getattr(exc, "details", None)
    if callable(details):
        details = details()
    return ErrorDetail(
        code=str(getattr(exc, "code", "error")),
        message=str(exc),
        details=details if isinstance(details, dict) else {},
    )


def _batch_item_to_read(item: BatchItemResult) -> BatchItemRead:
    if item.result is not None:
        read = forecast_to_read(item.result)
        return BatchItemRead(index=item.index, unique_id=item.label, status="ok", forecast=read)
    error = error_detail(item.error or RuntimeError("no result"))
    return BatchItemRead(index=item.index, unique_id=item.label, status="error", error=error)


def batch_to_read(items: Sequence[BatchItemResult]) -> BatchForecastRead:
    """Batch results → schema, in request order."""
    data = [_batch_item_to_read(it) for it in items]
    return BatchForecastRead(data=data, count=len(data), failed=sum(1 for it in data if it.status == "error"))


def _backtest_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (str(v) if isinstance(v, pd.Period) else v) for k, v in rec.items()}
        for rec in frame.to_dict(orient="records")
    ]


def backtest_to_read(result: BacktestResult) -> BacktestRead:
    """A backtest made by the service → schema."""
    metrics, per_window = backtest_scores_to_read(result.window_scores, result.model_scores, result.levels)
    return BacktestRead(
        series_id=result.series_id,
        frequency=result.frequency,  # type: ignore[arg-type]
        horizon=result.horizon,
        windows=result.windows,
        step=result.step,
        levels=list(result.levels),
        metrics=metrics,
        best=dict(result.best),
        per_window=per_window,
        rows=_backtest_rows(result.frame),
        warnings=[WarningRead(code=n.code, message=n.message) for n in result.warnings],
    )


# -- structures ----------------------------------------------------------------------------


def structure_create(body: StructureCreate) -> StructureDefinition:
    """A structure body → the store's plain definition (validated by the store)."""
    return StructureDefinition(
        name=body.name,
        kind=body.kind,
        hierarchy={k: tuple(v) for k, v in body.hierarchy.items()},
        components=tuple(body.components),
        total=body.total,
        method=body.method,
        model=body.model,
        description=body.description,
        select=dict(body.select),
        by=tuple(body.by),
        missing=body.missing,
        tolerance=body.tolerance,
    )


def structure_to_read(structure: StructureDefinition, progress: Progress | None = None) -> StructureRead:
    """A stored definition (and the progress of its last forecast) → its response schema."""
    return StructureRead(
        name=structure.name,
        kind=structure.kind,
        hierarchy={k: list(v) for k, v in structure.hierarchy.items()},
        components=list(structure.components),
        total=structure.total,
        method=structure.method,
        model=structure.model,
        description=structure.description,
        select=dict(structure.select),
        by=list(structure.by),
        missing=structure.missing,
        tolerance=structure.tolerance,
        members=list(structure.members),
        created_at=structure.created_at,
        updated_at=structure.updated_at,
        progress=progress_to_read(progress),
    )


def _node_role(structure: StructureDefinition, node: str) -> Literal["aggregate", "bottom", "component"]:
    if structure.kind == "composition":
        return "component"
    return "aggregate" if node in structure.hierarchy else "bottom"


def structure_forecast_to_read(result: StructureForecast) -> StructureForecastRead:
    """A structure's long forecast frame → one block of rows per node, in the frame's order."""
    structure = result.structure
    nodes = []
    for node, block in result.frame.groupby(UNIQUE_ID, sort=False):
        frame = block.drop(columns=[UNIQUE_ID]).set_index(DS)
        nodes.append(
            StructureNodeRead(
                unique_id=str(node),
                role=_node_role(structure, str(node)),
                vintage_id=result.vintages.get(str(node)),
                forecast=[ForecastRowRead(**row) for row in frame_to_rows(frame)],
            )
        )
    return StructureForecastRead(
        name=structure.name,
        kind=structure.kind,
        method=structure.method,
        model=structure.model,
        horizon=result.horizon,
        levels=list(result.levels),
        nodes=nodes,
        warnings=[WarningRead(code=n.code, message=n.message) for n in result.warnings],
    )


def structure_member_to_read(result: StructureForecast, series_id: str) -> StructureMemberForecastRead:
    """One node's block of a structure's forecast, labelled as the structure's coherent figures."""
    read = structure_forecast_to_read(result)
    node = next(n for n in read.nodes if n.unique_id == series_id)  # the route checked membership
    how = "add up with the structure's other series" if read.kind == "hierarchy" else "sum to 1 with the other shares"
    label = (
        f"Coherent forecast of {series_id} within the structure {read.name} ({read.method or read.kind}): "
        f"these figures {how}, so they can differ from the series' own forecast."
    )
    return StructureMemberForecastRead(
        series_id=series_id,
        structure=read.name,
        kind=read.kind,
        role=node.role,
        method=read.method,
        model=read.model,
        horizon=read.horizon,
        levels=read.levels,
        coherent=True,
        label=label,
        vintage_id=node.vintage_id,
        forecast=node.forecast,
        warnings=read.warnings,
    )


def progress_to_read(progress: Progress | None) -> ProgressRead | None:
    """A job's progress record as clients read it, with the estimated time left."""
    if progress is None:
        return None
    eta = progress.eta_seconds()
    return ProgressRead(
        n_total=progress.n_total,
        n_done=progress.n_done,
        n_failed=progress.n_failed,
        n_retried=progress.n_retried,
        started_at=progress.started_at,
        updated_at=progress.updated_at,
        eta_seconds=None if eta is None else round(eta, 1),
        failures=[ItemFailureRead(item=f.item, code=f.code, message=f.message) for f in progress.failures],
    )


def fetched_series_to_read(outcome: FetchOutcome, store: Store) -> FetchedSeriesRead:
    """One series a source fetch stored (or found unchanged), with its metadata."""
    meta = store.series.get_meta(outcome.series_id)
    return FetchedSeriesRead(
        series_id=outcome.series_id,
        name=meta.name,
        frequency=meta.frequency,
        unit=meta.unit,
        vintage_id=outcome.vintage.vintage_id,
        vintage_number=outcome.vintage.number,
        created=outcome.created,
        n_obs=outcome.vintage.n_obs,
        last_updated=outcome.fetch.last_updated if outcome.fetch else None,
    )


def refresh_run_to_read(result: RefreshResult, store: Store) -> RefreshRunRead:
    """What one refresh run did: the series it fetched and the report runs it triggered."""
    return RefreshRunRead(
        name=result.name,
        series=[fetched_series_to_read(o, store) for o in result.fetched],
        reports=[ReportRunBrief(name=r.report_name, run_id=r.run_id, status=r.status) for r in result.reports],
    )
