"""Render :class:`~reports.content.ReportData` to one self-contained HTML page (pure).

Charts are inline SVG, styles are inline, and the page loads nothing from anywhere:
no scripts, fonts, images or stylesheets by URL, so it can be mailed or archived as is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from importlib import metadata

import jinja2
from markupsafe import Markup

from reports.charts import chart_legend, fan_chart_svg, stacked_shares_svg
from reports.content import ContentBlock, ReportData, SeriesSection
from reports.structures import StructureSection
from reports.wording import describe_intervals, describe_warning

__all__ = [
    "format_change",
    "format_minute",
    "format_number",
    "format_value",
    "render_html",
    "table_decimals",
]

#: Significant digits of the largest figure of a table; the others get its decimals.
TABLE_DIGITS = 4
#: No table shows more decimals than this, however small its figures.
MAX_DECIMALS = 6

_MISSING = "\u2013"  # en dash


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["pct"] = _format_pct
    env.filters["val"] = format_value
    env.filters["chg"] = format_change
    env.filters["minute"] = format_minute
    env.globals["describe_warning"] = describe_warning
    env.globals["forecast_decimals"] = forecast_decimals
    env.globals["past_decimals"] = past_decimals
    env.globals["structure_decimals"] = structure_decimals
    env.globals["block_decimals"] = block_decimals
    return env


def format_number(value: float | None, digits: int = 4, decimals: int | None = None) -> str:
    """``value`` to ``digits`` significant digits with thousands separators; a dash if missing.

    ``decimals`` (from :func:`table_decimals`) fixes the decimals instead, so that every
    figure of one table is written alike (``1.148``, ``0.747``, ``0.060``).
    """
    if value is None or not math.isfinite(float(value)):
        return _MISSING
    value = float(value)
    if decimals is not None:
        return f"{value + 0.0:,.{decimals}f}"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def table_decimals(values: Iterable[float | None], digits: int = TABLE_DIGITS) -> int:
    """One number of decimals for a whole table: ``digits`` significant digits of its largest figure.

    Figures in the billions get none, figures around 1 get three; so a table never mixes
    ``1.148`` with ``0.7469`` and ``0.05985``.
    """
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v)) and float(v) != 0.0]
    if not finite:
        return 0
    magnitude = math.floor(math.log10(max(finite)))
    return min(max(0, digits - 1 - magnitude), MAX_DECIMALS)


def forecast_decimals(section: SeriesSection) -> int:
    """The decimals of a section's forecast table (means, bounds and the full-year line)."""
    values: list[float | None] = []
    for row in section.forecasts:
        values.append(row.mean)
        values.extend(v for pair in row.bounds.values() for v in pair)
    line = section.full_year
    if line is not None:
        values.extend([line.headline, *(v for pair in line.bounds.values() for v in pair)])
    return table_decimals(values)


def past_decimals(section: SeriesSection) -> int:
    """The decimals of a section's "how did we do" table (forecasts, actuals, errors)."""
    return table_decimals(v for p in section.past for v in (p.forecast, p.actual, p.error))


def structure_decimals(section: StructureSection) -> int:
    """The decimals of a structure's table (its members' means and bounds)."""
    values = [v for means in section.means.values() for v in means]
    values += [v for by_level in section.bounds.values() for pairs in by_level.values() for pair in pairs for v in pair]
    return table_decimals(values)


def block_decimals(block: ContentBlock) -> int:
    """The decimals of a content block's table (its numeric cells)."""
    return table_decimals(v for row in block.rows for v in row if isinstance(v, int | float))


def format_minute(value: datetime) -> str:
    """A timestamp to the minute, with its zone (``2024-01-15 12:05 UTC``): no seconds or microseconds."""
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def format_value(value: float | None, kind: str = "level", decimals: int | None = None) -> str:
    """A series value: shares as percentages (0.234 → ``23.4%``), levels by :func:`format_number`."""
    if kind != "share":
        return format_number(value, decimals=decimals)
    if value is None or not math.isfinite(float(value)):
        return _MISSING
    return f"{100.0 * float(value):.1f}%"


def format_change(value: float | None) -> str:
    """A percent change with its sign (``+4.2%``, ``−1.0%``); a dash if missing."""
    if value is None or not math.isfinite(float(value)):
        return _MISSING
    # round first so that -0.04 shows as +0.0%, not as a negative zero
    rounded = round(float(value), 1) + 0.0
    return f"{rounded:+.1f}%".replace("-", "\u2212")


def _format_pct(value: float | None, decimals: int = 0) -> str:
    if value is None or not math.isfinite(float(value)):
        return _MISSING
    return f"{100.0 * float(value):.{decimals}f}%"


@lru_cache(maxsize=1)
def _version() -> str:
    try:
        return metadata.version("tradecast")
    except metadata.PackageNotFoundError:
        return "unknown"


def render_html(data: ReportData) -> str:
    """The report as a complete HTML document.

    Parameters
    ----------
    data : ReportData
        Output of :func:`reports.content.build_report`.

    Returns
    -------
    str
        UTF-8 HTML with one inline SVG fan chart per series that has a forecast.
    """
    charts = {s.series_id: Markup(fan_chart_svg(s)) for s in data.sections if s.ok}
    share_charts = {st.name: Markup(stacked_shares_svg(st)) for st in data.structures if st.ok and st.share}
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=data,
        charts=charts,
        share_charts=share_charts,
        legend=chart_legend(data.levels),
        version=_version(),
        intervals_text=describe_intervals(data.levels),
    )
