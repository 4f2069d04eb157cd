"""Report content: frames in, a typed :class:`ReportData` out (pure, no I/O).

:func:`compute_section` fits the forecast and the backtest for one series;
:func:`build_section` only assembles frames that were computed elsewhere, so tests can
feed it fixed frames. Neither touches a database, the clock or the file system.

The archived forecasts used for "how did we do" come as a long frame with the columns
of :data:`ARCHIVE_COLUMNS` (``issued_at, model, ds, mean`` plus ``lo_<L>``/``hi_<L>``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

import forecasting
from data.params import ForecastParams
from forecasting import metrics
from forecasting.breaks import break_warnings
from forecasting.core import latest_complete_stretch, score_backtest
from forecasting.exceptions import ForecastingError, InsufficientDataError, InvalidSeriesError
from forecasting.executor import WarningNote, capture_warnings
from forecasting.fit import FittedForecast
from forecasting.frames import CUTOFF, DS, MEAN, MEDIAN, MODEL, hi_col, lo_col
from forecasting.outlook import FullYearOptions, GrowthBlocks, GrowthOptions, check_base, outlook_history
from forecasting.paths import OBSERVED, PERIODS_OBSERVED, full_year_target, periods_per_year, to_periods
from forecasting.series import RowLocator, parse_series
from reports.structures import StructureSection
from reports.wording import describe_model, explain_error, id_in_words

__all__ = [
    "forecast_failure",
    "prepare_series",
    "ARCHIVE_COLUMNS",
    "ISSUED_AT",
    "Accuracy",
    "ContentBlock",
    "ForecastRow",
    "break_notes",
    "FullYearLine",
    "PastForecastRow",
    "PastSummary",
    "ReportData",
    "SeriesSection",
    "accuracy_from_backtest",
    "build_report",
    "backtest_fitted",
    "build_section",
    "compute_section",
    "outlook_options",
    "section_fit",
    "section_notes",
    "with_params",
    "failed_section",
    "score_past_forecasts",
    "summary_sentence",
]

logger = logging.getLogger(__name__)

ISSUED_AT = "issued_at"
ARCHIVE_COLUMNS = (ISSUED_AT, MODEL, DS, MEAN)


@dataclass(frozen=True)
class ForecastRow:
    """One future period: the point forecast and its interval bounds by level."""

    period: str
    mean: float
    bounds: dict[int, tuple[float, float]]
    #: Percent change against the same period a year earlier (for annual data: the year
    #: before), the median over sample paths (the headline); None when not computed.
    yoy: float | None = None
    #: Percent change of this calendar year against the base year (annual data only).
    vs_base: float | None = None


@dataclass(frozen=True)
class FullYearLine:
    """The calendar-year total (``how="sum"``) or average of a monthly or quarterly series.

    ``observed`` is the year-to-date over ``periods_observed`` of ``periods_per_year``
    periods; ``median`` (the headline), ``mean`` and ``bounds`` describe the whole year
    over the sample paths; ``vs_previous`` and ``vs_base`` are the median percent changes
    against the year before and the base year.
    """

    year: str
    how: str
    observed: float | None
    periods_observed: int
    periods_per_year: int
    mean: float
    bounds: dict[int, tuple[float, float]]
    vs_previous: float | None = None
    vs_base: float | None = None
    median: float | None = None

    @property
    def headline(self) -> float:
        """The figure to quote: the median over the paths (the mean when it was not kept)."""
        return self.mean if self.median is None else self.median


@dataclass(frozen=True)
class Accuracy:
    """Rolling-origin backtest accuracy of the report's model on one series.

    ``smape`` is in percent; ``mase`` is scaled by the in-sample seasonal naive error;
    ``mae`` and ``rmse`` are in the series' units; ``coverage`` maps level → share of
    actuals inside that interval (0..1).
    """

    model: str
    horizon: int
    windows: int
    smape: float
    mase: float
    coverage: dict[int, float]
    mae: float = float("nan")
    rmse: float = float("nan")


@dataclass(frozen=True)
class PastForecastRow:
    """An archived forecast for a period whose actual value has since arrived."""

    issued_at: str
    model: str
    period: str
    forecast: float
    actual: float
    error: float
    pct_error: float
    inside: dict[int, bool]
    bounds: dict[int, tuple[float, float]]


@dataclass(frozen=True)
class PastSummary:
    """Totals over :class:`PastForecastRow` rows of one series."""

    n: int
    mae: float
    smape: float
    coverage: dict[int, float]


@dataclass(frozen=True)
class ContentBlock:
    """An extra table of a section (scenarios, drivers...): shown in HTML, PDF and Excel.

    The hook for content other modules add to a series: ``rows`` hold strings or numbers
    (numbers are formatted by ``kind``: shares as percentages).
    """

    title: str
    columns: list[str]
    rows: list[list[str | float | None]]
    note: str = ""
    kind: str = "level"


@dataclass(frozen=True)
class SeriesSection:
    """Everything the report shows for one series."""

    series_id: str
    title: str
    unit: str
    freq: str
    model: str
    history_periods: list[str] = field(default_factory=list)
    history_values: list[float] = field(default_factory=list)
    forecasts: list[ForecastRow] = field(default_factory=list)
    interval_method: str = ""
    accuracy: Accuracy | None = None
    accuracy_note: str = ""
    past: list[PastForecastRow] = field(default_factory=list)
    past_summary: PastSummary | None = None
    vintage: str = ""
    last_period: str = ""
    last_value: float | None = None
    error: str = ""
    warnings: list[WarningNote] = field(default_factory=list)
    #: The code of the error (``share_out_of_range``...), as the REST API would give it.
    error_code: str = ""
    kind: str = "level"
    #: The base year of the growth columns and its observed total (or average).
    base: str = ""
    base_value: float | None = None
    full_year: FullYearLine | None = None
    #: One plain sentence an analyst can paste (the forecast year against the base year).
    sentence: str = ""
    #: Where the figures come from (the series' ``source`` tag).
    source: str = ""
    #: For a reader: why there is no forecast and how to fix it (empty when there is one).
    explanation: str = ""
    #: For a reader: what the model does.
    model_description: str = ""
    #: The missing-value policy the section was forecast with (``"error"`` or ``"model"``).
    missing: str = "error"
    #: Extra tables (scenarios, drivers...) added by other modules.
    blocks: list[ContentBlock] = field(default_factory=list)
    #: Trusted HTML blocks shown after the section (scenario tables and fan charts,
    #: ``reports.scenarios.render_scenario_section``); empty by default.
    extra_html: list[str] = field(default_factory=list)
    #: The structure whose coherent figures the table shows (see :mod:`reports.coherence`).
    coherent_with: str = ""
    coherent_note: str = ""
    #: Scenario name -> its forecast rows (drivers' scenarios, :mod:`reports.driven`); the
    #: workbook's ``scenarios`` sheet. Empty without scenarios.
    scenarios: dict[str, list[ForecastRow]] = field(default_factory=dict)
    #: What the archive keeps with the section's forecast (None for a failed section).
    params: ForecastParams | None = None

    @property
    def ok(self) -> bool:
        """Whether a forecast was produced for this series."""
        return not self.error


@dataclass(frozen=True)
class ReportData:
    """A whole report, ready for :func:`reports.render.render_html`."""

    name: str
    title: str
    description: str
    as_of: datetime
    generated_at: datetime
    horizon: int
    levels: tuple[int, ...]
    model: str
    sections: list[SeriesSection]
    #: Coherent structures (hierarchies, compositions), shown after the series.
    structures: list[StructureSection] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        """Number of series for which no forecast could be made."""
        return sum(1 for s in self.sections if not s.ok)


def _frequency_name(index: pd.Index) -> str:
    freqstr = str(getattr(index, "freqstr", "") or "").upper()
    for prefix, name in (("M", "monthly"), ("Q", "quarterly"), ("Y", "annual"), ("A", "annual")):
        if freqstr.startswith(prefix):
            return name
    return freqstr


def accuracy_from_backtest(backtest: pd.DataFrame, y: pd.Series, levels: Sequence[int], *, model: str) -> Accuracy:
    """MAE, RMSE, average sMAPE and MASE, and interval coverage over the windows of ``backtest``.

    Parameters
    ----------
    backtest : pd.DataFrame
        Output of :func:`forecasting.backtest` for one model.
    y : pd.Series
        The series the backtest ran on (for the MASE scale of each window).
    levels : sequence of int
        Levels whose coverage is reported (those present in ``backtest``).
    model : str
        Model name shown in the report.

    Returns
    -------
    Accuracy
    """
    _windows, models = score_backtest(backtest, y)
    scores = models.iloc[0] if len(models) else pd.Series(dtype=float)
    coverage = {
        int(level): float(scores[f"coverage_{level}"]) for level in levels if f"coverage_{level}" in scores.index
    }
    horizon = int(backtest.groupby(CUTOFF).size().max()) if len(backtest) else 0
    return Accuracy(
        model=model,
        horizon=horizon,
        windows=int(backtest[CUTOFF].nunique()),
        smape=float(scores.get("smape", float("nan"))),
        mase=float(scores.get("mase", float("nan"))),
        coverage=coverage,
        mae=float(scores.get("mae", float("nan"))),
        rmse=float(scores.get("rmse", float("nan"))),
    )


def score_past_forecasts(
    archived: pd.DataFrame | None, y: pd.Series, levels: Sequence[int]
) -> tuple[list[PastForecastRow], PastSummary | None]:
    """Score archived forecasts against the actuals in ``y`` ("how did we do").

    Rows whose period has no actual in ``y`` yet are left out; the newest issue first.

    Parameters
    ----------
    archived : pd.DataFrame or None
        Long frame with :data:`ARCHIVE_COLUMNS` and ``lo_<L>``/``hi_<L>`` columns; ``ds``
        holds periods (or anything :class:`pandas.Period` accepts at ``y``'s frequency).
    y : pd.Series
        Actuals with a ``PeriodIndex``.
    levels : sequence of int
        Levels to check; levels missing from ``archived`` are skipped.
    """
    if archived is None or archived.empty:
        return [], None
    actuals = y.dropna()
    freq = getattr(y.index, "freq", None)
    rows: list[PastForecastRow] = []
    present = [int(lv) for lv in levels if lo_col(lv) in archived and hi_col(lv) in archived]
    ordered = archived.sort_values([ISSUED_AT, DS], ascending=[False, True])
    for rec in ordered.to_dict("records"):
        period = rec[DS]
        if freq is not None and not isinstance(period, pd.Period):
            period = pd.Period(period, freq=freq)
        if period not in actuals.index:
            continue
        actual = float(actuals.loc[period])
        fc = float(rec[MEAN])
        bounds = {lv: (float(rec[lo_col(lv)]), float(rec[hi_col(lv)])) for lv in present}
        rows.append(
            PastForecastRow(
                issued_at=_format_issued(rec[ISSUED_AT]),
                model=str(rec.get(MODEL, "")),
                period=str(period),
                forecast=fc,
                actual=actual,
                error=actual - fc,
                pct_error=100.0 * (actual - fc) / abs(actual) if actual != 0 else float("nan"),
                inside={lv: bool(lo <= actual <= hi) for lv, (lo, hi) in bounds.items()},
                bounds=bounds,
            )
        )
    if not rows:
        return [], None
    act = [r.actual for r in rows]
    fcs = [r.forecast for r in rows]
    summary = PastSummary(
        n=len(rows),
        mae=metrics.mae(act, fcs),
        smape=metrics.smape(act, fcs),
        coverage={lv: float(np.mean([r.inside[lv] for r in rows])) for lv in present},
    )
    return rows, summary


def _format_issued(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def build_section(
    series_id: str,
    y: pd.Series,
    forecast_frame: pd.DataFrame,
    *,
    levels: Sequence[int],
    model: str,
    title: str = "",
    unit: str = "",
    vintage: str = "",
    backtest_frame: pd.DataFrame | None = None,
    accuracy_note: str = "",
    archived: pd.DataFrame | None = None,
    warnings_: Sequence[WarningNote] = (),
    kind: str = "level",
    growth: GrowthBlocks | None = None,
    full_year: pd.DataFrame | None = None,
    source: str = "",
    missing: str = "error",
) -> SeriesSection:
    """Assemble one series' section from precomputed frames.

    Parameters
    ----------
    series_id : str
        Store id of the series.
    y : pd.Series
        History with a regular ``PeriodIndex`` (NaN gaps allowed).
    forecast_frame : pd.DataFrame
        Output of :func:`forecasting.forecast` (``mean``, ``lo_<L>``, ``hi_<L>``, index ``ds``).
    levels : sequence of int
        Interval levels to show.
    model : str
        Model name asked for.
    backtest_frame : pd.DataFrame or None
        Output of :func:`forecasting.backtest` for the accuracy table.
    archived : pd.DataFrame or None
        Past forecasts for "how did we do" (see :func:`score_past_forecasts`).
    kind : {"level", "share"}
        Shares are shown as percentages.
    growth : GrowthBlocks or None
        From :func:`forecasting.forecast_outlook`: the growth columns and the base year.
    full_year : pd.DataFrame or None
        From :func:`forecasting.forecast_outlook`: the full-year line (monthly, quarterly).
    source : str
        Where the figures come from, shown under the title.
    missing : {"error", "model"}
        How gaps were treated (``"model"``: skipped by the model, not filled).
    """
    levels = tuple(sorted(int(lv) for lv in levels))
    observed = y.dropna()
    # Gaps stay in the history (as NaN) so the chart keeps the time axis true.
    hist = y.loc[observed.index[0] : observed.index[-1]] if len(observed) else observed
    rows = _forecast_rows(forecast_frame, levels, growth, annual=_frequency_name(y.index) == "annual")
    line = _full_year_line(y, full_year, levels, growth)
    base_value = _base_value(observed, growth) if growth is not None else None
    accuracy = _accuracy(backtest_frame, y, levels, model)
    past, summary = score_past_forecasts(archived, y, levels)
    attrs = forecast_frame.attrs
    return SeriesSection(
        series_id=series_id,
        title=section_title(series_id, title),
        unit=unit,
        freq=_frequency_name(y.index),
        model=model,
        history_periods=[str(p) for p in hist.index],
        history_values=[float(v) for v in hist.to_numpy()],
        forecasts=rows,
        interval_method=str(attrs.get("interval_method", "")),
        accuracy=accuracy,
        accuracy_note=accuracy_note,
        past=past,
        past_summary=summary,
        vintage=vintage,
        last_period=str(observed.index[-1]) if len(observed) else "",
        last_value=float(observed.iloc[-1]) if len(observed) else None,
        warnings=list(warnings_),
        kind=kind,
        base=str(growth.base) if growth is not None else "",
        base_value=base_value,
        full_year=line,
        sentence=_section_sentence(section_title(series_id, title), unit, kind, rows, line, growth, base_value),
        source=source,
        model_description=describe_model(
            _model_name(attrs, model), missing=missing, share=kind == "share", frequency=_frequency_name(y.index)
        ),
        missing=missing,
    )


def _accuracy(
    backtest_frame: pd.DataFrame | None, y: pd.Series, levels: tuple[int, ...], model: str
) -> Accuracy | None:
    if backtest_frame is None or backtest_frame.empty:
        return None
    return accuracy_from_backtest(backtest_frame, y, levels, model=model)


def section_title(series_id: str, name: str = "") -> str:
    """A section's title: the series' name; for a series stored without one, its id in words
    (``cn_ru_exports`` reads ``CN RU exports``, :func:`reports.wording.id_in_words`); the id
    itself stays under the title, so nothing is lost."""
    return name if name and name != series_id else id_in_words(series_id)


def _model_name(attrs: dict[str, object], asked: str) -> str:
    """The model that made the forecast: ``auto`` with gaps is the structural model."""
    if asked == "auto" and "state-space" in str(attrs.get("interval_method", "")):
        return "structural"
    return asked


def _bounds(row: pd.Series, levels: Sequence[int]) -> dict[int, tuple[float, float]]:
    return {lv: (float(row[lo_col(lv)]), float(row[hi_col(lv)])) for lv in levels}


def _headlines(frame: pd.DataFrame | None) -> dict[str, float]:
    """A block's headline (the median over paths) by period label (rows without a finite one left out)."""
    if frame is None:
        return {}
    column = MEDIAN if MEDIAN in frame.columns else MEAN
    return {str(ds): float(v) for ds, v in frame[column].items() if np.isfinite(v)}


def _forecast_rows(
    frame: pd.DataFrame, levels: Sequence[int], growth: GrowthBlocks | None, *, annual: bool
) -> list[ForecastRow]:
    yoy = _headlines(growth.yoy) if growth is not None else {}
    # Against the base year per row only where a row is a calendar year.
    vs_base = _headlines(growth.vs_base) if growth is not None and annual else {}
    return [
        ForecastRow(
            period=str(ds),
            mean=float(row[MEAN]),
            bounds=_bounds(row, levels),
            yoy=yoy.get(str(ds)),
            vs_base=vs_base.get(str(ds)),
        )
        for ds, row in frame.iterrows()
    ]


def _full_year_line(
    y: pd.Series, frame: pd.DataFrame | None, levels: Sequence[int], growth: GrowthBlocks | None
) -> FullYearLine | None:
    if frame is None or frame.empty:
        return None
    row, year = frame.iloc[0], str(frame.index[0])
    observed = float(row[OBSERVED])
    return FullYearLine(
        year=year,
        how=str(frame.attrs.get("how", "sum")),
        observed=observed if np.isfinite(observed) else None,
        periods_observed=int(row[PERIODS_OBSERVED]),
        periods_per_year=periods_per_year(y.index),
        mean=float(row[MEAN]),
        median=float(row[MEDIAN]) if MEDIAN in row.index else None,
        bounds=_bounds(row, levels),
        vs_previous=_headlines(growth.annual).get(year) if growth is not None else None,
        vs_base=_headlines(growth.vs_base).get(year) if growth is not None else None,
    )


def _base_value(y: pd.Series, growth: GrowthBlocks) -> float | None:
    """The observed total (or average) of the base year."""
    values = y[to_periods(y.index).year == growth.base.year]
    if values.empty:
        return None
    return float(values.sum() if growth.how == "sum" else values.mean())


def _section_sentence(
    title: str,
    unit: str,
    kind: str,
    rows: Sequence[ForecastRow],
    line: FullYearLine | None,
    growth: GrowthBlocks | None,
    base_value: float | None,
) -> str:
    """The sentence of a section: its full year (monthly, quarterly) or its first forecast year."""
    base = str(growth.base) if growth is not None else ""
    how = growth.how if growth is not None else ("mean" if kind == "share" else "sum")
    if line is not None:
        year, mean, bounds, change, how = line.year, line.headline, line.bounds, line.vs_base, line.how
    elif rows and rows[0].period.isdigit():
        year, mean, bounds, change = rows[0].period, rows[0].mean, rows[0].bounds, rows[0].vs_base
    elif rows:
        # No calendar year to quote (gaps, or a year not yet begun): the horizon's last period.
        year, mean, bounds, change = rows[-1].period, rows[-1].mean, rows[-1].bounds, None
    else:
        return ""
    return summary_sentence(
        title, unit, kind, year=year, mean=mean, bounds=bounds, change=change, base=base, base_value=base_value, how=how
    )


def _plain(value: float) -> str:
    """A number for prose: three or more significant digits, thousands separated."""
    size = abs(value)
    decimals = 0 if size >= 100 else 1 if size >= 10 else 2
    return f"{value:,.{decimals}f}"


def _amount(value: float, unit: str, kind: str) -> str:
    """``value`` with its unit for prose: ``$240 bn`` for USD units, ``23.4%`` for shares."""
    if kind == "share":
        return f"{100.0 * value:.1f}%"
    currency, _, scale = unit.partition(" ")
    if currency == "USD":
        return f"${_plain(value)}" + (f" {scale}" if scale else "")
    return f"{_plain(value)} {unit}".strip()


def summary_sentence(
    title: str,
    unit: str,
    kind: str,
    *,
    year: str,
    mean: float,
    bounds: dict[int, tuple[float, float]],
    change: float | None,
    base: str,
    base_value: float | None,
    how: str = "sum",
) -> str:
    """One plain sentence an analyst can paste, for example "Trade is forecast at $262 bn in
    2025 (80%: 236–289), 9.2% above the 2023 base of $240 bn."

    Parameters
    ----------
    title, unit, kind
        The series' title, its unit (``"USD bn"`` reads as ``$… bn``) and kind (shares read
        as percentages).
    year : str
        The calendar year of the forecast.
    mean, bounds
        The forecast of that year and its bounds by level (the 80% interval is quoted when
        present, else the narrowest).
    change : float or None
        Mean percent change against the base year (None: no base clause).
    base, base_value
        The base year and its observed total (or average).
    how : {"sum", "mean"}
        ``"mean"`` reads "forecast to average".

    Returns
    -------
    str
    """
    verb = "is forecast to average" if how == "mean" else "is forecast at"
    text = f"{title} {verb} {_amount(mean, unit, kind)} in {year}"
    if bounds:
        level = 80 if 80 in bounds else min(bounds)
        lo, hi = bounds[level]
        scale = 100.0 if kind == "share" else 1.0
        suffix = "%" if kind == "share" else ""
        text += f" ({level}%: {_plain(scale * lo)}–{_plain(scale * hi)}{suffix})"
    if change is not None and base and base_value is not None:
        side = "above" if change >= 0 else "below"
        text += f", {abs(change):.1f}% {side} the {base} base of {_amount(base_value, unit, kind)}"
    return text + "."


def failed_section(
    series_id: str, error: str, *, title: str = "", model: str = "", code: str = "", unit: str = "", source: str = ""
) -> SeriesSection:
    """A section that reports why no forecast could be made for ``series_id``.

    ``error`` is the developer's message (kept in the run record); the reader sees
    ``explanation``, the same problem in words with its fix (:func:`reports.wording.explain_error`).
    """
    return SeriesSection(
        series_id=series_id,
        title=section_title(series_id, title),
        unit=unit,
        freq="",
        model=model,
        error=error,
        error_code=code,
        source=source,
        explanation=explain_error(code, error),
    )


def _parsed(series_id: str, y: pd.Series, kind: str) -> pd.Series:
    """The observations of a section through the one series parser (as every door does).

    Stored series were parsed on the way in; parsing again here keeps a report honest about
    data written by other means (an older version, a hand edit), with the same error codes.
    Labels or dates in the index are accepted, like :meth:`data.series_repo.SeriesRepository.save_series` does.
    """
    if y.empty:
        return y
    ds = y.index if isinstance(y.index, pd.PeriodIndex | pd.DatetimeIndex) else y.index.to_numpy(dtype=object)
    return parse_series(ds, y.to_numpy(), kind=kind, name=series_id, allow_gaps=True, locator=RowLocator(series_id))


def prepare_series(series_id: str, y: pd.Series, kind: str, missing: str) -> tuple[pd.Series, pd.Series, str | None]:
    """A section's observations, parsed, and the part that is fitted: ``(y, fit_y, gap_note)``.

    With ``missing="model"`` the whole history is fitted; otherwise its latest complete
    stretch, and ``gap_note`` says what was left out. Raises ``InvalidSeriesError``.
    """
    y = _parsed(series_id, y, kind)
    fit_y, gap_note = (y, "") if missing == "model" else latest_complete_stretch(y)
    return y, fit_y, gap_note


def forecast_failure(
    series_id: str, exc: ForecastingError, gap_note: str | None, described: Mapping[str, str]
) -> SeriesSection:
    """The section of a series whose observations or fit failed: the error, explained, not an exception."""
    logger.warning("series %s: no forecast (%s)", series_id, exc)
    error = f"{type(exc).__name__}: {exc}" + (f" ({gap_note})" if gap_note else "")
    return failed_section(series_id, error, code=str(getattr(exc, "code", "")), **described)


def compute_section(
    series_id: str,
    y: pd.Series,
    *,
    horizon: int,
    levels: Sequence[int],
    model: str = "auto",
    kind: str = "level",
    backtest_windows: int = 3,
    title: str = "",
    unit: str = "",
    vintage: str = "",
    archived: pd.DataFrame | None = None,
    source: str = "",
    missing: str = "error",
    check_breaks: bool = False,
    transform: str = "none",
) -> SeriesSection:
    """Forecast and backtest ``y`` and assemble its section.

    Forecasting errors (too short a series, a failed fit) become a section carrying the
    error instead of an exception, so one bad series does not sink the whole report. The
    backtest uses up to ``backtest_windows`` windows and falls back to fewer when the
    series is short; when even one window does not fit, the section says so.

    With ``missing="error"`` (the default) a series with gaps is forecast from its latest
    complete stretch (a note says what was left out); with ``missing="model"`` the whole
    history goes to a model that skips the gaps (:func:`forecasting.forecast`), and the
    backtest runs that model through the gaps too (periods whose actual is missing are not
    scored).
    ``check_breaks`` adds a warning per structural break found in the history; ``transform="log"``
    fits a level series' model on the log scale (as REST's ``transform``).
    """
    described = {"title": title, "model": model, "unit": unit, "source": source}
    try:
        y, fit_y, gap_note = prepare_series(series_id, y, kind, missing)
    except InvalidSeriesError as exc:
        return forecast_failure(series_id, exc, "", described)
    try:
        with capture_warnings() as caught:
            fitted = section_fit(
                fit_y,
                horizon=horizon,
                levels=levels,
                model=model,
                kind=kind,
                missing=missing,
                check_breaks=check_breaks,
                transform=transform,
            )
            bt, note = backtest_fitted(fitted, backtest_windows)
    except ForecastingError as exc:
        return forecast_failure(series_id, exc, gap_note, described)
    section = build_section(
        series_id,
        y,
        fitted.forecast,
        levels=levels,
        model=model,
        title=title,
        unit=unit,
        vintage=vintage,
        backtest_frame=bt,
        accuracy_note=note,
        archived=archived,
        warnings_=section_notes(caught, gap_note),
        kind=kind,
        growth=fitted.growth,
        full_year=fitted.full_year,
        source=source,
        missing=missing,
    )
    return with_params(section, fitted)


def with_params(section: SeriesSection, fitted: FittedForecast) -> SeriesSection:
    """``section`` with the archive record of its fit (the report run adds the vintage and the run)."""
    params = ForecastParams(
        frequency="",
        kind=section.kind,
        transform=fitted.plan.transform,
        interval_method=fitted.interval_method,
        warnings=tuple(section.warnings),
        growth=fitted.growth,
        full_year=fitted.full_year,
        scenarios=fitted.scenarios or None,
        coefficients=tuple(fitted.coefficients),
    )
    return dataclasses.replace(section, params=params)


def section_fit(
    y: pd.Series,
    *,
    horizon: int,
    levels: Sequence[int],
    model: str,
    kind: str,
    missing: str = "error",
    check_breaks: bool = False,
    transform: str = "none",
    drivers: pd.DataFrame | None = None,
    extend: Sequence[str] = (),
    events: Sequence[Mapping[str, Any]] | None = None,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    driver_uncertainty: bool = False,
) -> FittedForecast:
    """The one fit of a section (:func:`forecasting.fit_forecast`): with the growth and full-year
    blocks its history allows, and the scenarios that do not cover the horizon left out (their
    note is :attr:`~forecasting.FittedForecast.skipped_scenarios`). ``y`` is the part to fit
    (:func:`prepare_series`): with ``missing="latest_stretch"`` it is already that stretch."""
    try:
        growth, full_year = outlook_options(outlook_history(y))
    except ForecastingError:
        growth, full_year = None, None
    return forecasting.fit_forecast(
        y,
        horizon,
        levels,
        model,
        kind,
        transform=transform,
        drivers=drivers,
        extend=extend,
        events=events,
        missing="model" if missing == "model" else "error",
        check_breaks=check_breaks,
        growth=growth,
        full_year=full_year,
        scenarios=scenarios,
        driver_uncertainty=driver_uncertainty,
        skip_incomplete_scenarios=True,
    )


def section_notes(caught: Sequence[WarningNote], gap_note: str | None) -> list[WarningNote]:
    """The fit's warnings (break warnings among them), after the gap note (the code the REST service gives it)."""
    return [*([WarningNote("missing_values", gap_note)] if gap_note else []), *caught]


def break_notes(y: pd.Series, events: Sequence[Mapping[str, Any]] | None = None) -> list[WarningNote]:
    """The structural breaks of ``y`` not marked by an event, as report notes.

    What a report shows next to a series ("a break near 2022-03; intervals may be too
    narrow"), from :func:`forecasting.breaks.break_warnings`; empty for a series too short
    to scan or without a strong break. Missing values are skipped (the scan runs on the
    latest unbroken stretch). A section's own fit warns of its breaks (``check_breaks``).
    """
    stretch, _ = latest_complete_stretch(y)
    return [WarningNote(w.code, str(w)) for w in break_warnings(stretch, events)]


def outlook_options(y: pd.Series) -> tuple[GrowthOptions | None, FullYearOptions | None]:
    """Growth when the series has a complete calendar year; full year for monthly and quarterly
    series whose year-to-date is complete. A series without them still gets its forecast."""
    try:
        check_base(y, None)
        growth = GrowthOptions()
    except ForecastingError:
        growth = None
    try:
        full_year_target(y)
        full_year = FullYearOptions()
    except ForecastingError:
        full_year = None
    return growth, full_year


def backtest_fitted(fitted: FittedForecast, windows: int) -> tuple[pd.DataFrame | None, str]:
    """The fitted forecast's backtest with up to ``windows`` windows (fewer when short), and a note.

    The same model, kind, drivers (known at each origin), events and gap policy as the fit;
    with ``missing="model"`` windows whose actuals are missing are not scored.
    """
    horizon = fitted.plan.horizon
    for n_windows in range(max(windows, 1), 0, -1):
        try:
            frame = fitted.backtest(n_windows)
        except InsufficientDataError:
            continue
        except ForecastingError as exc:
            return None, f"backtest failed: {exc}"
        note = "" if n_windows == windows else f"only {n_windows} backtest window(s) fit this series"
        return frame, note
    return None, f"too short for a backtest at horizon {horizon}"


def build_report(
    *,
    name: str,
    title: str,
    sections: Sequence[SeriesSection],
    as_of: datetime,
    generated_at: datetime,
    horizon: int,
    levels: Sequence[int],
    model: str,
    description: str = "",
    structures: Sequence[StructureSection] = (),
) -> ReportData:
    """Wrap ``sections`` (and ``structures``, coherent structure sections) with the report's identity and times."""
    return ReportData(
        name=name,
        title=title,
        description=description,
        as_of=as_of,
        generated_at=generated_at,
        horizon=horizon,
        levels=tuple(sorted(int(lv) for lv in levels)),
        model=model,
        sections=list(sections),
        structures=list(structures),
    )
