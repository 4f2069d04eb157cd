"""Request and response schemas (pydantic) of the REST service.

Names follow STYLE §6: ``<Thing>Create`` for bodies, ``<Thing>Read`` for responses and
``<Things>Page{data, count}`` for lists. Column names of forecast rows come from
:mod:`forecasting.frames`. Limits that depend on settings (horizon, levels, series length)
are checked in :mod:`api.convert`, so the schema stays static and documented.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_serializer,
    model_validator,
)

from reports.definitions import DEFAULT_SCHEDULE

__all__ = [
    "AwareInstant",
    "BacktestCreate",
    "BacktestRead",
    "BacktestWindowRead",
    "BatchForecastCreate",
    "BatchForecastRead",
    "BatchItemCreate",
    "BatchItemRead",
    "DeliveryRead",
    "DriverCreate",
    "ErrorDetail",
    "ErrorRead",
    "EventCreate",
    "FetchCreate",
    "FetchRead",
    "FetchedSeriesRead",
    "ForecastCreate",
    "ForecastRead",
    "ForecastRowRead",
    "ForecastsPage",
    "FullYearCreate",
    "FullYearRead",
    "GrowthCreate",
    "GrowthRead",
    "GrowthRowRead",
    "HealthRead",
    "Instant",
    "ItemFailureRead",
    "JobRead",
    "JobsPage",
    "RefreshJobCreate",
    "StructureJobCreate",
    "ModelMetricsRead",
    "ModelRead",
    "ModelsPage",
    "ObservationCreate",
    "ObservationRead",
    "ProgressRead",
    "ReadyRead",
    "RefreshCreate",
    "RefreshRead",
    "RefreshRunRead",
    "RefreshesPage",
    "ReportCreate",
    "ReportDelivery",
    "ReportRead",
    "ReportRunBrief",
    "ReportRunCreate",
    "ReportRunLinksRead",
    "ReportRunRead",
    "ReportRunsPage",
    "ReportUpdate",
    "ReportsPage",
    "SeriesCreate",
    "SeriesMetaRead",
    "SeriesOptions",
    "SeriesPage",
    "SeriesRead",
    "SourceRead",
    "StructureCreate",
    "StructureForecastCreate",
    "StructureForecastRead",
    "StructureNodeRead",
    "StructureRead",
    "StructuresPage",
    "VintageChangeRead",
    "VintageDiffRead",
    "VintageRead",
    "VintageSourceRead",
    "VintagesPage",
    "WarningRead",
]

Frequency = Literal["annual", "quarterly", "monthly"]
Kind = Literal["level", "share"]
Transform = Literal["none", "log"]
#: Missing values: the same values in a forecast request and a report's series options.
Missing = Literal["error", "latest_stretch", "model"]
SeriesId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$", examples=["cn_ru_trade_total_annual"])]


def _level_in_percent(value: Any) -> Any:
    # 0.95 is the commonest slip (statsmodels' alpha and many libraries take fractions).
    if isinstance(value, float) and 0.0 < value < 1.0:
        raise ValueError(
            f"levels are percentages: use {round(value * 100, 6):g} for a {round(value * 100, 6):g}% interval, "
            f"not {value}"
        )
    return value


#: An interval level in percent (80, 95); a fraction such as 0.95 is refused with the hint.
Level = Annotated[int, BeforeValidator(_level_in_percent), Field(ge=1, le=99)]


def _refuse_bool(value: object) -> object:
    """Refuse ``true``/``false`` as a number: pydantic would store them as 1.0 and 0.0."""
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is a boolean, not a number")
    return value


FiniteFloat = Annotated[float, BeforeValidator(_refuse_bool), Field(allow_inf_nan=False)]
#: A horizon: ``true`` is not 1 (pydantic's lax mode would take it).
Horizon = Annotated[int, BeforeValidator(_refuse_bool)]
ModelName = Annotated[str, Field(min_length=1, max_length=64, examples=["auto", "naive2"])]


def _check_utc_range(value: datetime) -> datetime:
    """Refuse an instant that has no UTC equivalent (``0001-01-01T00:00:00+14:00`` is in year 0).

    The store compares instants in UTC; without this check the conversion overflows deep in
    a route and answers 500 instead of naming the field.
    """
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError(
                f"{value.isoformat()} is outside the range of datetimes (years 1-9999 once converted to UTC)"
            ) from None
    return value


def _refuse_numbers(value: object) -> object:
    """Refuse a bare number where an ISO 8601 instant is documented.

    pydantic reads numbers (and numeric strings, which is all a query string holds) as Unix
    seconds, so ``?since=2020`` silently meant 1970-01-01T00:33:40Z.
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, int | float) or (isinstance(text, str) and _NUMBER.fullmatch(text)):
        raise ValueError(f"{value!r} is a number; give an ISO 8601 date-time such as 2020-01-01T00:00:00Z")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

#: A point in time given by a client (naive = UTC); it must stay within years 1-9999 in UTC.
Instant = Annotated[datetime, BeforeValidator(_refuse_numbers), AfterValidator(_check_utc_range)]
#: An :data:`Instant` that must carry its UTC offset.
AwareInstant = Annotated[AwareDatetime, BeforeValidator(_refuse_numbers), AfterValidator(_check_utc_range)]

_STRICT = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    """The ``error`` object of every 4xx/5xx body."""

    code: str = Field(examples=["invalid_series"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorRead(BaseModel):
    """Envelope of every error response."""

    error: ErrorDetail


class ObservationRead(BaseModel):
    """One observation: a period and its value (``null`` marks a missing value)."""

    model_config = _STRICT

    ds: str = Field(
        min_length=1,
        max_length=32,
        examples=["2023"],
        description="Period: '2023' (annual), '2023Q1' (quarterly), '2023-01' (monthly) or a date.",
    )
    y: FiniteFloat | None = Field(description="Value; null for a missing observation.")


class ObservationCreate(ObservationRead):
    """One posted observation: a period and its value (``null`` marks a missing value).

    The value may also be sent as text (``"12.5"``): the series parser reads it exactly as
    a cell of an uploaded file, so a value that is no number gets the same error code
    (``non_numeric_value``) whichever way the series comes in.
    """

    y: FiniteFloat | str | None = Field(  # type: ignore[assignment]
        description="Value (a number, or its text); null for a missing observation."
    )


class HealthRead(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"


class ReadyRead(BaseModel):
    """Readiness answer: the store is reachable and the fitting workers are warm."""

    status: Literal["ready"] = "ready"
    storage: Literal["ok"] = "ok"
    warm_up: str = Field(
        "", description="How the fitting workers were warmed, e.g. '2 of 2 fit worker process(es) warmed in 4.1 s'."
    )


class ModelRead(BaseModel):
    """A registered model and what it supports."""

    name: str
    description: str = Field(description="What the model is, in one sentence.")
    supports_intervals: bool
    handles_missing: bool
    requires_season_length: bool
    min_obs: int
    is_default: bool


class ModelsPage(BaseModel):
    """Registered models."""

    data: list[ModelRead]
    count: int


class WarningRead(BaseModel):
    """A caveat of a forecast that was made: its code and a sentence.

    Codes include ``thin_evidence`` (fewer published values than max(12, 2 x season
    length)), ``sparse_series`` (a quarter or more of the periods unpublished),
    ``backtest_coverage`` (a backtest's intervals covered more than two binomial standard
    errors away from their level), ``member_dropped`` (``auto`` left out a member that failed
    on this series), ``fallback``, ``convergence``, ``structural_break``, ``missing_values``.
    """

    code: str = Field(examples=["thin_evidence"], description="Snake_case code of the warning.")
    message: str = Field(description="What it means for this forecast, in one sentence.")


class VintageRead(BaseModel):
    """One stored upload of a series."""

    vintage_id: int
    series_id: str
    number: int
    created_at: datetime
    release: str | None
    n_obs: int
    checksum: str
    published_at: datetime | None = Field(None, description="When the figures were published, if given.")
    created: bool = Field(True, description="False when the upload held the data already current: nothing was stored.")


class VintagesPage(BaseModel):
    """Vintages of one series, oldest first."""

    data: list[VintageRead]
    count: int


class SeriesMetaRead(BaseModel):
    """Metadata of a stored series."""

    series_id: str
    name: str
    frequency: Frequency
    unit: str
    kind: Kind
    tags: dict[str, str]


class SeriesPage(BaseModel):
    """A page of stored series."""

    data: list[SeriesMetaRead]
    count: int = Field(description="Total number of series matching the filter (not just this page).")


class SeriesRead(SeriesMetaRead):
    """A stored series with the observations of one vintage."""

    vintage: VintageRead
    data: list[ObservationRead]


class SeriesCreate(BaseModel):
    """A series to store (a new one, or a new vintage of an existing one)."""

    model_config = _STRICT

    series_id: SeriesId
    name: str = Field("", max_length=200)
    frequency: Frequency
    unit: str = Field("", max_length=50)
    kind: Kind = "level"
    tags: dict[Annotated[str, Field(max_length=50)], Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=20
    )
    release: str | None = Field(None, max_length=100, description="Release label, e.g. 'GACC 2024-01-12'.")
    data: list[ObservationCreate] = Field(min_length=1)
    published_at: Instant | None = Field(
        None,
        description="When these figures were published (naive = UTC); reads 'as_of' a time go by it. "
        "Default: the time they are stored.",
    )
    allow_negative: StrictBool = Field(
        False,
        description="Accept negative values of a 'level' series (balances). Default false: trade values "
        "are >= 0, so a negative one is refused (422 negative_value), as in file uploads and 'tradecast load'.",
    )


DriverName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", examples=["oil"])]
ScenarioName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", examples=["oil_90"])]


class DriverCreate(BaseModel):
    """One driver (exogenous regressor): a name and its values by period, inline or stored.

    Its rows are aligned with the series by period label: the series' periods are the
    history the model is fitted on, and the ``horizon`` periods after them are the
    driver's known (or assumed) future. Rows outside that span are ignored. A stored
    driver (``series_id``) is read at the request's ``as_of`` (or its own); it must have a
    value at every period of the series and of the horizon (for the horizon, every
    scenario may give it instead), else 422 naming the driver and the first missing period.
    An unknown ``series_id`` answers 404 ``series_not_found``.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "oil", "data": [{"ds": "2024-01", "y": 78.2}]},
                {"name": "brent", "series_id": "brent_usd"},
            ]
        },
    )

    name: DriverName = Field(description="Column name of the driver (letters, digits, underscore).")
    data: list[ObservationCreate] | None = Field(
        None,
        min_length=1,
        description="The driver's values over the series' periods and the forecast horizon; excludes 'series_id'.",
    )
    series_id: SeriesId | None = Field(None, description="A stored series holding the driver; excludes 'data'.")
    as_of: Instant | None = Field(
        None, description="Read the stored driver as it was at this time (default: the request's 'as_of')."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Any:
        if (self.series_id is None) == (self.data is None):
            raise ValueError(f"driver {self.name!r}: give exactly one of 'data' (inline values) or 'series_id'")
        if self.data is not None and self.as_of is not None:
            raise ValueError(f"driver {self.name!r}: 'as_of' applies to a stored driver ('series_id') only")
        return self


class EventCreate(BaseModel):
    """A known event, turned into a driver column (needs a model that takes drivers)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ds": "2022-03", "type": "level_shift"}]}
    )

    ds: str = Field(min_length=1, max_length=20, description="Period of the event, e.g. '2022-03'.")
    type: Literal["level_shift", "pulse", "ramp", "seasonal_change"] = Field(
        description="'level_shift' (a step from ds on), 'pulse' (ds only), 'ramp' (a linear change from ds to "
        "'end', flat after), 'seasonal_change' (the seasonal pattern changes from ds on)."
    )
    end: str | None = Field(None, max_length=20, description="End of a ramp (ramps only).")
    name: DriverName | None = Field(None, description="Column name; default '<type>_<ds>'.")


class _SeriesSource(BaseModel):
    """Either a stored series (``series_id``, optional ``as_of``) or inline ``data``."""

    model_config = _STRICT

    series_id: SeriesId | None = Field(None, description="A stored series; excludes 'data'.")
    as_of: Instant | None = Field(None, description="Use the vintage current at this time (stored series).")
    data: list[ObservationCreate] | None = Field(
        None, min_length=1, description="Inline observations; needs 'frequency'; excludes 'series_id'."
    )
    frequency: Frequency | None = Field(None, description="Frequency of inline data.")
    kind: Kind | None = Field(
        None, description="'share' for values in [0, 1] (logit scale); default: the stored kind or 'level'."
    )
    missing: Missing = Field(
        "error",
        description="Missing values: 'error' refuses the series (422); 'latest_stretch' fits the latest "
        "unbroken stretch and says so in 'warnings'; 'model' fits a state-space model whose likelihood skips "
        "the gaps ('auto', 'structural' or 'regression_arima'; other models answer 422). Gaps are never filled.",
    )
    drivers: list[DriverCreate] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Drivers by period, covering the series' periods and the forecast horizon (a backtest needs "
        "the series' periods only: each origin uses the actual values). Needs a model that takes drivers: "
        "'auto' (chooses between the two by a holdout), 'regression_arima' or 'structural'; other models "
        "answer 422 'drivers_not_supported'.",
    )
    events: list[EventCreate] | None = Field(
        None, min_length=1, max_length=20, description="Known events, turned into drivers (same models)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Any:
        if (self.series_id is None) == (self.data is None):
            raise ValueError("give exactly one of 'series_id' (a stored series) or 'data' (inline observations)")
        if self.data is not None and self.frequency is None:
            raise ValueError("inline 'data' needs 'frequency' ('annual', 'quarterly' or 'monthly')")
        if self.data is not None and self.as_of is not None:
            raise ValueError("'as_of' applies to stored series only; drop it for inline 'data'")
        return self


How = Literal["sum", "mean"]
BaseYear = Annotated[int, Field(ge=1000, le=9999)] | Annotated[str, Field(pattern=r"^[0-9]{4}$")]


class GrowthCreate(BaseModel):
    """Growth blocks to add to a forecast, computed from 2,000 seeded sample paths."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"yoy": True, "base": "2023"}]})

    yoy: bool = Field(True, description="Each forecast period against the same period a year earlier (percent change).")
    base: BaseYear | None = Field(
        None,
        examples=["2023"],
        description="Base calendar year of the change and the index; it must be completely observed. "
        "Default: the last completely observed calendar year.",
    )
    how: How | None = Field(
        None,
        description="How a calendar year aggregates its periods: 'sum' (values) or 'mean' (shares, rates). "
        "Default: 'sum' for levels, 'mean' for shares.",
    )


class FullYearCreate(BaseModel):
    """The year-to-date to full-year block (monthly or quarterly series only)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"how": "sum"}]})

    how: How | None = Field(
        None,
        description="'sum' for the calendar-year total, 'mean' for the annual average. "
        "Default: 'sum' for levels, 'mean' for shares.",
    )


class ForecastCreate(_SeriesSource):
    """A forecast request; ``growth`` and ``full_year`` add blocks computed from sample paths."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "data": [{"ds": f"{2020 + i // 12}-{i % 12 + 1:02d}", "y": 10.0 + i % 12} for i in range(42)],
                    "frequency": "monthly",
                    "horizon": 6,
                    "growth": {"yoy": True, "base": "2022"},
                    "full_year": {"how": "sum"},
                },
                {
                    "data": [
                        {"ds": str(year), "y": y}
                        for year, y in zip(
                            range(2015, 2024), (68.0, 69.5, 84.1, 107.1, 110.8, 107.8, 146.9, 190.3, 240.1), strict=True
                        )
                    ],
                    "frequency": "annual",
                    "horizon": 2,
                    "model": "structural",
                    "drivers": [
                        {
                            "name": "brent",
                            "data": [
                                {"ds": str(year), "y": y}
                                for year, y in zip(
                                    range(2015, 2026), (52, 44, 54, 71, 64, 42, 71, 99, 82, 80, 70), strict=True
                                )
                            ],
                        }
                    ],
                    "events": [{"ds": "2022", "type": "level_shift"}],
                    "check_breaks": True,
                    "scenarios": {"brent_60": {"brent": [{"ds": "2024", "y": 60.0}, {"ds": "2025", "y": 60.0}]}},
                },
            ]
        },
    )

    horizon: Horizon = Field(ge=1, le=10_000, examples=[5], description="Periods ahead (capped by settings).")
    levels: list[Level] = Field(
        default_factory=lambda: [80, 95], max_length=99, description="Interval levels in percent."
    )
    model: ModelName | None = Field(None, description="A registered model; default from settings ('auto').")
    transform: Transform = Field(
        "none", description="'log' fits on the log scale (positive data only); level series only."
    )
    growth: GrowthCreate | None = Field(
        None, description="Add growth blocks (year-on-year, against the year before and a base year, index)."
    )
    full_year: FullYearCreate | None = Field(
        None, description="Add the calendar-year total (or average) from the year-to-date; monthly or quarterly."
    )
    check_breaks: bool = Field(
        False,
        description="Scan the history for structural breaks and warn ('structural_break' in 'warnings') about "
        "each strong one that no event marks: the intervals may then be too narrow.",
    )
    scenarios: dict[ScenarioName, dict[DriverName, list[ObservationCreate]]] | None = Field(
        None,
        max_length=20,
        description="Named alternative future paths of the drivers: scenario name -> driver name -> values "
        "over the horizon. Drivers a scenario leaves out keep their values from 'drivers'. One forecast per "
        "scenario comes back in 'scenarios', from the same fitted model.",
    )
    driver_uncertainty: bool = Field(
        False,
        description="With scenarios: add each driver's own forecast errors to every path (drivers given and "
        "scenarios), so the intervals also carry the drivers' uncertainty (wider).",
    )


class ForecastRowRead(BaseModel):
    """One forecast period: ``ds``, ``mean`` and ``lo_<L>``/``hi_<L>`` for each level."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {"type": "number"}})

    ds: str
    mean: float


class GrowthRowRead(BaseModel):
    """One period or calendar year of a growth block: ``ds``, ``median`` (the headline),
    ``mean``, ``lo_<L>``/``hi_<L>``.

    ``null`` where no sample path has a positive comparison value (no growth rate exists).
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {"type": ["number", "null"]}})

    ds: str
    median: float | None = Field(
        default=None,
        description="The headline: the median over sample paths (null in forecasts archived before it was kept).",
    )
    mean: float | None = Field(
        description="The mean over sample paths; paths censored at zero or simulated on the log scale pull it."
    )


class GrowthRead(BaseModel):
    """Growth in percent (the index: base year = 100), with ``median``, ``mean``, ``lo_<L>``,
    ``hi_<L>`` per row.

    Computed path by path from the forecast's sample paths, so the intervals are those of
    the growth itself, not ratios of the forecast's bounds. The headline is the median of
    the paths (``headline``); the mean is given alongside.
    """

    headline: Literal["median"] = Field(
        default="median", description="Which statistic of the paths is the headline figure of each row."
    )
    base: str = Field(examples=["2023"], description="The base calendar year.")
    how: How = Field(description="How calendar years aggregate: 'sum' or 'mean'.")
    yoy: list[GrowthRowRead] | None = Field(
        description="Each forecast period against the same period a year earlier, percent (null if not asked)."
    )
    annual: list[GrowthRowRead] = Field(description="Each forecast calendar year against the year before, percent.")
    vs_base: list[GrowthRowRead] = Field(description="Each forecast calendar year against the base year, percent.")
    index: list[GrowthRowRead] = Field(description="Each forecast calendar year, base year = 100.")


class FullYearRead(BaseModel):
    """The calendar-year total (or average): what is observed plus the paths of the rest."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {"type": "number"}})

    ds: str = Field(examples=["2025"], description="The calendar year.")
    how: How
    headline: Literal["median"] = Field(
        default="median", description="Which statistic of the paths is the headline figure."
    )
    observed: float | None = Field(description="Year-to-date sum (or mean; null when nothing is observed).")
    periods_observed: int
    median: float | None = Field(
        default=None,
        description="The headline: median of the calendar-year total (or average) over the sample paths "
        "(null in forecasts archived before it was kept).",
    )
    mean: float = Field(description="Mean of the calendar-year total (or average); lo_<L>/hi_<L> follow.")


class CoefficientRead(BaseModel):
    """One driver's fitted coefficient (a forecast with drivers or events)."""

    name: str = Field(description="The driver (or event column).")
    estimate: float = Field(description="The coefficient, on the model's scale (logit for shares, log with transform).")
    std_error: float | None = Field(description="Its standard error (null when the model gives none).")
    elasticity_at_mean: float | None = Field(
        description="Percent change of the series for a 1% change of the driver, at the sample means."
    )


class ForecastRead(BaseModel):
    """An archived forecast."""

    id: str
    series_id: str | None
    model: str = Field(description="The model asked for (the registry name).")
    frequency: Frequency
    kind: Kind
    transform: Transform
    horizon: int
    levels: list[int]
    vintage: VintageRead | None = Field(description="The stored vintage fitted (null for inline data).")
    data_hash: str | None = Field(description="sha256 of inline data (null for stored series).")
    interval_method: str
    forecast: list[ForecastRowRead]
    warnings: list[WarningRead]
    created_at: datetime
    growth: GrowthRead | None = Field(default=None, description="Growth blocks, when the request asked for them.")
    full_year: FullYearRead | None = Field(
        default=None, description="The full-year block, when the request asked for it."
    )
    scenarios: dict[str, list[ForecastRowRead]] | None = Field(
        default=None, description="One forecast per scenario of the request, by scenario name."
    )
    coefficients: list[CoefficientRead] = Field(
        default_factory=list, description="The drivers' fitted coefficients (empty for a forecast without drivers)."
    )


class ForecastsPage(BaseModel):
    """A page of archived forecasts."""

    data: list[ForecastRead]
    count: int = Field(description="Total number of archived forecasts matching the filter (not just this page).")


class BatchItemCreate(_SeriesSource):
    """One series of a batch; ``unique_id`` labels inline data in the results."""

    unique_id: str | None = Field(None, max_length=100)


class BatchForecastCreate(BaseModel):
    """Many series forecast with the same settings."""

    model_config = _STRICT

    series: list[BatchItemCreate] = Field(min_length=1)
    horizon: Horizon = Field(ge=1, le=10_000)
    levels: list[Level] = Field(default_factory=lambda: [80, 95], max_length=99)
    model: ModelName | None = None
    transform: Transform = "none"


class BatchItemRead(BaseModel):
    """The outcome of one series of a batch: a forecast or an error."""

    index: int
    unique_id: str | None
    status: Literal["ok", "error"]
    forecast: ForecastRead | None = None
    error: ErrorDetail | None = None


class BatchForecastRead(BaseModel):
    """Results of a batch, in request order."""

    data: list[BatchItemRead]
    count: int
    failed: int


class ItemFailureRead(BaseModel):
    """One item of a job that failed."""

    item: str = Field(description="The item: a series id or the series' unique_id.")
    code: str = Field(description="Error code, e.g. insufficient_data or worker_lost.")
    message: str


class ProgressRead(BaseModel):
    """How far a job (batch, structure forecast, report run, source refresh) got, while it runs."""

    n_total: int = Field(description="Items (series) the job goes through.")
    n_done: int = Field(description="Items finished so far, failed ones included.")
    n_failed: int = Field(description="Items that failed.")
    n_retried: int = Field(0, description="Items run a second time because the worker process running them died.")
    started_at: datetime = Field(description="When the job started its items.")
    updated_at: datetime = Field(description="Last change of the progress.")
    eta_seconds: float | None = Field(
        description="Estimated seconds left (mean time per finished item times items left); null until one item "
        "has finished, 0 once all have."
    )
    failures: list[ItemFailureRead] = Field(
        default_factory=list, description="Items that failed, with their error (the first 100)."
    )


class BacktestCreate(_SeriesSource):
    """A rolling-origin evaluation request."""

    horizon: Horizon = Field(ge=1, le=10_000)
    windows: int = Field(3, ge=1, le=1_000, description="Number of forecast origins (capped by settings).")
    step: int = Field(1, ge=1, le=1_000, description="Periods between successive origins.")
    models: list[ModelName] | None = Field(
        None, min_length=1, max_length=50, description="Models to compare; default: the default model."
    )
    levels: list[Level] = Field(default_factory=lambda: [80, 95], max_length=99)
    transform: Transform = "none"


class BacktestWindowRead(BaseModel):
    """Errors of one model at one forecast origin."""

    model: str
    cutoff: str
    mae: float | None = Field(description="Mean absolute error, in the series' units.")
    rmse: float | None = Field(description="Root mean squared error, in the series' units.")
    smape: float | None
    mase: float | None
    rmsse: float | None
    coverage: dict[str, float | None] = Field(description="Share of actuals inside each interval, by level.")


class ModelMetricsRead(BaseModel):
    """Errors of one model averaged over every window and step."""

    model: str
    mae: float | None = Field(description="Mean absolute error over every scored step, in the series' units.")
    rmse: float | None = Field(description="Root mean squared error over every scored step, in the series' units.")
    smape: float | None
    mase: float | None
    rmsse: float | None
    coverage: dict[str, float | None]
    msis: dict[str, float | None] = Field(description="Mean scaled interval score, by level.")


class BacktestRead(BaseModel):
    """Backtest results: metrics per model, errors per window, and the rows behind them."""

    series_id: str | None
    frequency: Frequency
    horizon: int
    windows: int
    step: int
    levels: list[int]
    metrics: list[ModelMetricsRead]
    best: dict[str, str] = Field(
        description="The best model by each metric (lower is better; coverage_<L>: closest to L%), when "
        "several models were backtested; empty for one model.",
        examples=[{"mae": "ets", "rmse": "ets", "smape": "theta", "coverage_80": "arima"}],
    )
    per_window: list[BacktestWindowRead]
    rows: list[dict[str, str | float | int | None]]
    warnings: list[WarningRead]


# --------------------------------------------------------------------------- structures

StructureName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["cn-ru-trade"])]
TagKey = Annotated[str, Field(min_length=1, max_length=50)]
TagValue = Annotated[str, Field(max_length=200)]


class StructureCreate(BaseModel):
    """A hierarchy (aggregate id -> the ids it sums) or a composition (component ids) over stored series."""

    model_config = ConfigDict(extra="forbid")

    name: StructureName
    kind: Literal["hierarchy", "composition"]
    hierarchy: dict[SeriesId, list[SeriesId]] = Field(
        default_factory=dict,
        max_length=500,
        description=(
            "kind=hierarchy: each aggregate id and the ids it sums; nesting and shared children allowed. "
            "An aggregate need not be stored (it is derived); a stored one is checked against its parts."
        ),
        examples=[{"cn_ru_trade_total_annual": ["cn_ru_exports_annual", "cn_ru_imports_annual"]}],
    )
    components: list[SeriesId] = Field(
        default_factory=list, max_length=100, description="kind=composition: the component series (shares)."
    )
    total: SeriesId | None = Field(
        default=None,
        description=(
            "kind=composition: a stored total that the components (money values) sum to; shares = part / total."
        ),
    )
    method: Literal["bottom_up", "ols", "wls_struct", "mint_shrink"] | None = Field(
        default=None, description="kind=hierarchy: reconciliation (default mint_shrink); omit for a composition."
    )
    model: str = Field(
        "auto",
        description=(
            "Registered model of the base forecasts (GET /v1/models). With `auto` on a monthly or"
            " quarterly structure, each node's point forecast is that of AutoETS (the most accurate base"
            " for structures, measured) and its band keeps `auto`'s calibrated spread."
        ),
    )
    description: str = Field("", max_length=2000)
    select: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        max_length=20,
        description=(
            "Members by tags instead of ids: every stored series with all these tag values, looked up at each "
            "forecast (series stored later join). A hierarchy also needs `by`; a composition takes the matching "
            "series as components."
        ),
        examples=[{"reporter": "RU"}],
    )
    by: list[TagKey] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "kind=hierarchy with select: tag keys to aggregate over; the total is named after the structure and "
            "each aggregate `name:key=value` (e.g. `ru-trade:partner=CN`)."
        ),
        examples=[["partner", "flow"]],
    )
    missing: Literal["error", "model"] = Field(
        "error",
        description=(
            "`model`: forecast members with gaps or sparse months through a state-space model (nothing is filled "
            "in); `error` refuses gaps."
        ),
    )
    tolerance: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        description=(
            "Largest gap between a stated total and its parts (relative) or between shares' sum and 1 (absolute); "
            "default 0.001 for hierarchies, 0.005 for compositions."
        ),
    )


class StructureRead(BaseModel):
    """A stored structure."""

    name: str
    kind: Literal["hierarchy", "composition"]
    hierarchy: dict[str, list[str]]
    components: list[str]
    total: str | None
    method: str | None
    model: str
    description: str
    select: dict[str, str]
    by: list[str]
    missing: str
    tolerance: float | None
    members: list[str] = Field(
        description="Every id the structure names, aggregates first (for a structure by tags, as matched now)."
    )
    created_at: datetime | None
    updated_at: datetime | None
    progress: ProgressRead | None = Field(
        None,
        description="Series fitted / total of the structure's last (or current) forecast, with its failure; "
        "null before the first.",
    )


class StructuresPage(BaseModel):
    """Stored structures, by name."""

    data: list[StructureRead]
    count: int


class StructureForecastCreate(BaseModel):
    """What to forecast a stored structure for."""

    model_config = ConfigDict(extra="forbid")

    horizon: Horizon = Field(6, ge=1, description="Periods ahead (capped by TRADECAST_MAX_HORIZON).")
    levels: list[Level] = Field(default_factory=lambda: [80, 95], max_length=99, description="Interval levels.")
    as_of: AwareInstant | None = Field(
        default=None, description="Read every member as it was known at this time (default: now)."
    )


class StructureNodeRead(BaseModel):
    """The coherent forecast of one node (hierarchy) or component (composition)."""

    unique_id: str
    role: Literal["aggregate", "bottom", "component"]
    vintage_id: int | None = Field(description="The stored vintage read (null for a derived aggregate).")
    forecast: list[ForecastRowRead]


class StructureForecastRead(BaseModel):
    """A structure's coherent forecast: aggregates equal the sums of their parts, or shares sum to 1."""

    name: str
    kind: Literal["hierarchy", "composition"]
    method: str | None
    model: str
    horizon: int
    levels: list[int]
    nodes: list[StructureNodeRead]
    warnings: list[WarningRead]


class StructureMemberForecastRead(BaseModel):
    """One series' forecast as its structure shows it: the coherent figures, labelled as such."""

    series_id: str
    structure: str = Field(description="The stored structure whose coherent forecast this is.")
    kind: Literal["hierarchy", "composition"]
    role: Literal["aggregate", "bottom", "component"]
    method: str | None
    model: str
    horizon: int
    levels: list[int]
    coherent: Literal[True] = Field(
        True, description="Always true: these are the structure's reconciled figures, not the series' own forecast."
    )
    label: str = Field(description="A sentence saying whose figures these are, for display next to them.")
    vintage_id: int | None = Field(description="The stored vintage read (null for a derived aggregate).")
    forecast: list[ForecastRowRead]
    warnings: list[WarningRead] = Field(description="Warnings of the structure's fit (reconciliation moves...).")


class VintageChangeRead(BaseModel):
    """One period that differs between two vintages."""

    ds: str
    change: Literal["added", "removed", "changed"]
    old: float | None
    new: float | None


class VintageDiffRead(BaseModel):
    """What changed from one vintage of a series to another."""

    series_id: str
    from_vintage: VintageRead
    to_vintage: VintageRead
    data: list[VintageChangeRead]
    count: int


# ---------------------------------------------------------------------------- reports
class ReportDelivery(BaseModel):
    """Where each successful run is sent."""

    model_config = _STRICT

    emails: list[Annotated[str, Field(max_length=254)]] = Field(
        default_factory=list,
        max_length=50,
        description="Recipients of an e-mail with the report as HTML body and attachment (needs TRADECAST_SMTP_HOST).",
    )
    webhook_url: str | None = Field(
        None,
        max_length=2000,
        description="http(s) URL that receives a signed JSON POST per run (needs TRADECAST_WEBHOOK_SECRET); "
        "verify X-Tradecast-Signature as the README explains.",
    )


class SeriesOptions(BaseModel):
    """Options of one series in a report; every field is optional (unset fields are left out).

    ``missing``, ``kind`` and ``transform`` take the values of the same fields of a forecast
    request, and a bad one is refused the same way (422 ``validation_error``), by REST and by
    ``tradecast report create``. The rest is checked by the report definition's own validation
    (422 ``invalid_parameter`` naming ``series_options[<id>].<option>``), also on both.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "auto",
                    "drivers": {"brent": "brent_usd"},
                    "events": [{"ds": "2022-03", "type": "level_shift"}],
                    "scenarios": {"oil_60": {"brent": "brent_60"}, "oil_90": {"brent": "brent_90"}},
                    "driver_uncertainty": False,
                }
            ]
        },
    )

    missing: Missing | None = Field(
        None,
        description="'error' (default; in a report, a series with gaps is forecast from its latest complete stretch"
        " and a note says what was left out), 'latest_stretch' (the same, asked explicitly) or 'model': fit through"
        " gaps with a model that skips them.",
    )
    kind: Kind | None = Field(None, description="'level' or 'share', instead of the stored kind.")
    model: str | None = Field(None, description="A registered model, instead of the report's.")
    transform: Transform | None = Field(
        None,
        description="'log' fits the model on the log scale (positive data only; level series only), as the "
        "transform of POST /v1/forecasts; default 'none'.",
    )
    check_breaks: str | None = Field(None, description="'true': a note when the history has a structural break.")
    drivers: list[str] | dict[str, str] | None = Field(
        None,
        description="Stored series used as drivers (regressors), read at the run's as-of time: a list of ids "
        "(each driver named by its id) or driver name -> series id. They must cover the series' history; over "
        "the horizon, a driver whose stored values stop early is forecast by its own model ('auto') and the "
        "report says so. Needs a model that takes drivers ('auto', 'regression_arima', 'structural').",
    )
    events: list[dict[str, Any]] | None = Field(
        None,
        description="Known events as in POST /v1/forecasts: {'ds': '2022-03', 'type': 'level_shift'} (types "
        "level_shift, pulse, ramp with 'end', seasonal_change; optional 'name').",
    )
    scenarios: dict[str, dict[str, str]] | None = Field(
        None,
        description="Scenario name -> {driver name -> stored series holding that driver's path over the horizon}: "
        "the report shows a scenario table, one fan chart per scenario and an Excel 'scenarios' sheet.",
    )
    driver_uncertainty: bool | None = Field(
        None, description="With scenarios: add the drivers' own forecast errors to the intervals (wider)."
    )

    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: Any) -> Any:
        return {k: v for k, v in handler(self).items() if v is not None}


class ReportUpdate(BaseModel):
    """A report definition (everything but its name)."""

    model_config = _STRICT

    title: str = Field("", max_length=300)
    description: str = Field("", max_length=2000)
    series_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]] = Field(
        default_factory=list, max_length=200
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Series carrying all these tags are included.")
    horizon: Horizon = Field(6, ge=1, le=120)
    levels: list[Annotated[int, Field(ge=1, le=99)]] = Field(default_factory=lambda: [80, 95], min_length=1)
    model: str = Field("auto", description="Registered model name (GET /v1/models).")
    schedule: str | None = Field(
        DEFAULT_SCHEDULE,
        description=(
            "Cron: 'minute hour day month day_of_week' (0/7 = Sunday; six fields put seconds first), "
            "or null for on-demand only. As in Vixie cron, when both day and day_of_week are restricted "
            "a day matching either fires ('0 7 1 * 1' = the 1st of each month and every Monday); when "
            "one starts with '*' both must match. A schedule that matches no date ('0 0 30 2 *') is "
            "refused with 422 schedule_never_fires."
        ),
    )
    timezone: str = Field("UTC", description="IANA time zone of the schedule.")
    formats: list[str] = Field(
        default_factory=lambda: ["html"],
        description="Files written per run to the report directory: 'html' (always), 'pdf', 'xlsx'.",
    )
    enabled: bool = Field(True, strict=True)  # 0 or "no" is refused, not read as false
    delivery: ReportDelivery | None = Field(None, description="E-mail recipients and/or a webhook; null: none.")
    series_options: dict[str, SeriesOptions] = Field(
        default_factory=dict,
        description=(
            "Per-series options by series id: 'missing', 'kind', 'model', 'transform', 'check_breaks', and stored "
            "series as 'drivers' with known 'events' and 'scenarios' of the drivers (see the SeriesOptions schema)."
        ),
    )
    structures: list[str] = Field(
        default_factory=list,
        description="Stored structures (/v1/structures) shown after the series as coherent tables and charts.",
    )


class ReportCreate(ReportUpdate):
    """A new report definition."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)


class ReportRead(ReportCreate):
    """A stored report definition with its timestamps and next scheduled run."""

    model_config = ConfigDict(extra="ignore")

    created_at: datetime
    updated_at: datetime
    last_scheduled_at: datetime | None = Field(None, description="Latest cron time at or before now.")
    next_run_at: datetime | None = Field(None, description="Next cron time, if scheduled and enabled.")


class ReportsPage(BaseModel):
    """All report definitions."""

    data: list[ReportRead]
    count: int


class ReportRunCreate(BaseModel):
    """Run a report now, with the data known at ``as_of`` (default: now)."""

    model_config = _STRICT

    as_of: AwareInstant | None = None
    force: bool = Field(False, description="Redo a run that already succeeded for this as-of time.")


class DeliveryRead(BaseModel):
    """One delivery of a run on one channel (the webhook URL without its query)."""

    channel: str = Field(description="email or webhook")
    target: str
    status: str = Field(description="pending (the run is working), sent, failed, or skipped (the run failed)")
    attempts: int
    error: str | None
    created_at: datetime


class ReportRunLinksRead(BaseModel):
    """Where a run's report can be downloaded (once produced): HTML, PDF and, if written, the workbook."""

    html: str | None = Field(None, description="The report as one HTML page.")
    pdf: str | None = Field(None, description="The report as PDF (the file written, else rendered from the HTML).")
    xlsx: str | None = Field(
        None, description="The workbook (XLSX), when the report's formats include 'xlsx'; else null."
    )


class ReportRunRead(BaseModel):
    """One run of a report: status, progress while it runs, timings, error, deliveries and download links."""

    run_id: str
    report_name: str
    as_of: datetime
    trigger: str
    status: str = Field(
        description="running, then succeeded (every series forecast), partial (some series or structures could "
        "not be forecast: n_failed, progress.failures) or failed."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    n_series: int = Field(description="Series in the report, once it is produced (progress.n_total while running).")
    n_failed: int
    progress: ProgressRead | None = Field(
        None, description="Series (and structures) done / total, failures and time left; null before it starts."
    )
    links: ReportRunLinksRead = Field(
        default_factory=lambda: ReportRunLinksRead(html=None, pdf=None, xlsx=None),
        description="Download links of the produced report.",
    )
    error: str | None = Field(description="Why the run failed, in words; details stay in the server log.")
    details: dict[str, Any]
    deliveries: list[DeliveryRead] = Field(default_factory=list, description="The delivery log of this run.")


class ReportRunsPage(BaseModel):
    """One page of a report's runs, newest first, and the total count."""

    data: list[ReportRunRead]
    count: int


# ---------------------------------------------------------------------------- sources
class FetchCreate(BaseModel):
    """A query to fetch from an official source."""

    model_config = _STRICT

    source: str = Field(max_length=32, description="imf, ecb, comtrade or dbnomics (GET /v1/sources).")
    query: str = Field(
        min_length=1, max_length=500, description="The source's key.", examples=["IMF/DOT/A.CN.TXG_FOB_USD.RU"]
    )
    series_id: SeriesId | None = Field(
        default=None, description="Store under this id (one series only); default: made from the source's key."
    )


class FetchedSeriesRead(BaseModel):
    """One series fetched: the vintage holding it, and whether that vintage is new."""

    series_id: str
    name: str
    frequency: str
    unit: str
    vintage_id: int
    vintage_number: int
    created: bool = Field(description="False when the data equal the latest vintage's: no new vintage was made.")
    n_obs: int
    last_updated: datetime | None = Field(description="When the source last updated the series, if it says.")


class FetchRead(BaseModel):
    """What a fetch stored."""

    source: str
    query: str
    retrieved_at: datetime | None
    published_at: datetime | None = Field(description="The release time the source gives, if any.")
    series: list[FetchedSeriesRead]


class VintageSourceRead(BaseModel):
    """Where a vintage came from: the source, the query and when it was retrieved."""

    vintage_id: int
    series_id: str
    source: str
    query: str
    retrieved_at: datetime
    published_at: datetime | None
    last_updated: datetime | None


class SourceRead(BaseModel):
    """A source and its query syntax."""

    name: str
    description: str


class RefreshCreate(BaseModel):
    """A source query fetched on a cron schedule."""

    model_config = _STRICT

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", max_length=64)
    source: str = Field(max_length=32)
    query: str = Field(min_length=1, max_length=500)
    schedule: str = Field(max_length=100, description="Cron 'minute hour day month day_of_week', e.g. '0 6 * * 1'.")
    timezone: str = Field("UTC", max_length=64, description="IANA time zone of the schedule.")
    # strict: the schema says boolean, so 0 or "no" is refused rather than read as false.
    enabled: bool = Field(True, strict=True)
    series_id: SeriesId | None = Field(
        default=None, description="Store under this id (one series only); default: made from the source's key."
    )


class RefreshRead(BaseModel):
    """A stored refresh, its last outcome and the progress of its last (or current) run."""

    name: str
    source: str
    query: str
    schedule: str
    timezone: str
    enabled: bool
    series_id: str | None
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    last_status: str | None = Field(
        description="succeeded, partial (fetched and stored, but a report run it triggered failed) or failed."
    )
    last_error: str | None
    last_result: dict[str, Any]
    progress: ProgressRead | None = Field(
        None, description="The fetch and the report runs it triggers: done / total and failures."
    )


class RefreshesPage(BaseModel):
    """Every stored refresh, by name."""

    data: list[RefreshRead]
    count: int


class ReportRunBrief(BaseModel):
    """A report run a refresh triggered."""

    name: str
    run_id: str
    status: str


class RefreshRunRead(BaseModel):
    """What one refresh run did."""

    name: str
    series: list[FetchedSeriesRead]
    reports: list[ReportRunBrief]


class StructureJobCreate(BaseModel):
    """A structure forecast run as a job: the request stored on the job's row."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)
    forecast: StructureForecastCreate


class RefreshJobCreate(BaseModel):
    """A refresh run as a job: the request stored on the job's row."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)


class JobRead(BaseModel):
    """A durable job (a batch forecast, a structure forecast, a source refresh) and how far it got.

    ``kind`` says which: ``forecast_batch`` (its result is the batch's), ``structure_forecast``
    (the structure's forecast) or ``source_refresh`` (what the refresh fetched and ran).
    """

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "partial", "failed"] = Field(
        description="queued, running, then succeeded (every item done), partial (some items failed: see "
        "progress.failures and the result) or failed (the job as a whole)."
    )
    created_at: datetime
    updated_at: datetime
    attempts: int
    n_items: int
    progress: ProgressRead | None = Field(None, description="Items done / total and failures; null until it starts.")
    result: BatchForecastRead | StructureForecastRead | RefreshRunRead | None = Field(
        None, description="When done: the same body the request answers without a job."
    )
    error: ErrorDetail | None = None


class JobsPage(BaseModel):
    """One page of jobs, newest first, and how many match; each without its result (read the job)."""

    data: list[JobRead]
    count: int
