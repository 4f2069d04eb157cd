"""Render :class:`~reports.content.ReportData` to one self-contained HTML page (pure).

Charts are inline SVG, styles are inline, and the page loads nothing from anywhere:
no scripts, fonts, images or stylesheets by URL, so it can be mailed or archived as is.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import metadata

import jinja2
from markupsafe import Markup

from reports.charts import chart_legend, fan_chart_svg, stacked_shares_svg
from reports.content import ReportData
from reports.wording import describe_intervals, describe_warning

__all__ = ["format_change", "format_number", "format_value", "render_html"]

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
    env.globals["describe_warning"] = describe_warning
    return env


def format_number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits with thousands separators; a dash if missing."""
    if value is None or not math.isfinite(float(value)):
        return _MISSING
    value = float(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def format_value(value: float | None, kind: str = "level") -> str:
    """A series value: shares as percentages (0.234 → ``23.4%``), levels by :func:`format_number`."""
    if kind != "share":
        return format_number(value)
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
