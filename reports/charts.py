"""Fan charts as inline SVG (matplotlib, Agg/SVG backends; no display, no files).

Each chart shows the history, the forecast mean and the shaded interval fan, widest
level palest. The SVG is returned as a string ready to embed in HTML: no XML prolog,
no external references, text kept as text (``svg.fonttype = "none"``) so the page
stays small and searchable.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from reports.content import SeriesSection
from reports.structures import StructureSection

__all__ = ["axis_number", "chart_legend", "fan_chart_svg", "stacked_shares_svg"]

_HISTORY_COLOR = "#1f2937"
_FORECAST_COLOR = "#1d4ed8"
_FAN_ALPHAS = (0.35, 0.18, 0.10, 0.06)
_MAX_HISTORY_POINTS = 240
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "tradecast",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def fan_chart_svg(section: SeriesSection, *, width_in: float = 7.5, height_in: float = 3.0) -> str:
    """An SVG fan chart of ``section``'s history and forecast.

    Parameters
    ----------
    section : SeriesSection
        A section with a forecast (``section.ok``).
    width_in, height_in : float
        Figure size in inches (the SVG scales to its container in the page).

    Returns
    -------
    str
        An ``<svg>...</svg>`` element with ``role="img"`` and an accessible title.
    """
    hist_labels = section.history_periods[-_MAX_HISTORY_POINTS:]
    hist_values = section.history_values[-_MAX_HISTORY_POINTS:]
    fc_labels = [r.period for r in section.forecasts]
    n_hist = len(hist_labels)
    x_hist = list(range(n_hist))
    x_fc = list(range(n_hist, n_hist + len(fc_labels)))
    levels = sorted({lv for r in section.forecasts for lv in r.bounds}, reverse=True)

    with plt.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in))
        ax = fig.add_subplot()
        ax.plot(x_hist, hist_values, color=_HISTORY_COLOR, linewidth=1.4, label="history")
        # Join the fan to the last observation so the forecast visibly continues the data.
        x_join = ([n_hist - 1] if n_hist else []) + x_fc
        last = [hist_values[-1]] if n_hist else []
        alphas = _fan_alphas(levels)
        for level in levels:
            lo = last + [r.bounds[level][0] for r in section.forecasts]
            hi = last + [r.bounds[level][1] for r in section.forecasts]
            alpha = alphas[level]
            ax.fill_between(x_join, lo, hi, color=_FORECAST_COLOR, alpha=alpha, linewidth=0, label=f"{level}%")
        # Dashed as well as coloured, so history and forecast stay apart in greyscale print.
        ax.plot(
            x_join,
            last + [r.mean for r in section.forecasts],
            color=_FORECAST_COLOR,
            linewidth=1.6,
            linestyle=(0, (4, 2)),
            label="forecast",
        )
        labels = hist_labels + fc_labels
        ticks = _tick_positions(len(labels))
        ax.set_xticks(ticks, [labels[t] for t in ticks])
        ax.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
        _label_axes(ax, section, labels)
        ax.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        # Fixed margins instead of tight_layout(), which costs a whole extra draw per chart.
        fig.subplots_adjust(left=0.1, right=0.985, top=0.93, bottom=0.16)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _clean_svg(buf.getvalue(), f"Fan chart of {section.title}")


def _label_axes(ax: Any, section: SeriesSection, labels: Sequence[str]) -> None:
    """Axis titles (period, unit; shares in percent) and the base year marked, for print."""
    ax.set_xlabel({"monthly": "month", "quarterly": "quarter", "annual": "year"}.get(section.freq, "period"))
    if section.kind == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_ylabel("share of total")
    else:
        # Plain numbers with a scale word: never matplotlib's "1e9" offset above the axis,
        # which a reader of a mailed report cannot decode.
        ax.yaxis.set_major_formatter(FuncFormatter(axis_number))
        ax.set_ylabel(section.unit or "value")
    base_x = [i for i, label in enumerate(labels) if section.base and label.startswith(section.base)]
    if base_x:
        ax.axvspan(base_x[0] - 0.5, base_x[-1] + 0.5, color="#9ca3af", alpha=0.18, linewidth=0, hatch="//")
        ax.annotate(
            f"base year {section.base}",
            xy=(base_x[0] - 0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, 2),
            textcoords="offset points",
            fontsize=8,
            color="#374151",
            va="bottom",
        )


#: Scale words of the value axis, largest first (trade values run to billions).
_AXIS_SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))


def axis_number(value: float, _position: object = None) -> str:
    """A value-axis tick: at most four significant digits and a scale word (``64.1bn``, ``250k``)."""
    for size, word in _AXIS_SCALES:
        if abs(value) >= size:
            return f"{value / size:.4g}{word}"
    return f"{value:.4g}"


def _fan_alphas(levels: Sequence[int]) -> dict[int, float]:
    """Fill alpha per level; ``levels`` widest first, the widest palest."""
    ordered = sorted(levels, reverse=True)
    return {lv: _FAN_ALPHAS[min(len(ordered) - 1 - i, len(_FAN_ALPHAS) - 1)] for i, lv in enumerate(ordered)}


def chart_legend(levels: Sequence[int]) -> list[tuple[str, str, bool]]:
    """Legend entries ``(label, CSS colour, is_line)`` matching :func:`fan_chart_svg`.

    The legend is drawn in HTML once per page rather than in every chart: a matplotlib
    legend roughly doubles the time to draw a chart. Each band's colour is what the eye
    sees there, i.e. its own fill composited over the wider bands' fills.
    """
    alphas = _fan_alphas(levels)
    entries: list[tuple[str, str, bool]] = [("history", _HISTORY_COLOR, True), ("forecast", _FORECAST_COLOR, True)]
    r, g, b = (int(_FORECAST_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    transparency = 1.0
    for level in sorted(levels, reverse=True):
        transparency *= 1.0 - alphas[level]
        entries.append((f"{level}% interval", f"rgba({r}, {g}, {b}, {1.0 - transparency:.3f})", False))
    return entries


def _tick_positions(n: int, max_ticks: int = 8) -> Sequence[int]:
    if n <= 0:
        return []
    step = max(1, -(-n // max_ticks))
    return list(range(0, n, step))


def _clean_svg(svg: str, title: str) -> str:
    start = svg.find("<svg")
    svg = svg[start:]
    # The RDF metadata block names external vocabularies; the page needs none of it.
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return svg.replace(
        "<svg ", f'<svg role="img" aria-label="{safe_title.replace(chr(34), "&quot;")}" class="fan-chart" ', 1
    ).strip()


#: Fills of stacked components: distinct in colour and, for greyscale print, in lightness and hatch.
_STACK_FILLS = (
    ("#1d4ed8", ""),
    ("#93c5fd", "//"),
    ("#f59e0b", ".."),
    ("#d1d5db", "xx"),
    ("#065f46", "\\\\"),
    ("#fca5a5", "--"),
)


def stacked_shares_svg(section: StructureSection, *, width_in: float = 7.5, height_in: float = 3.6) -> str:
    """A stacked bar chart of a composition: observed shares, then the forecast means (100% tall).

    Parameters
    ----------
    section : StructureSection
        A composition section with a forecast (``section.ok``).

    Returns
    -------
    str
        An ``<svg>`` element with ``role="img"`` and the class ``share-chart``.
    """
    labels = section.history_periods + section.periods
    n_hist = len(section.history_periods)
    x = list(range(len(labels)))
    with plt.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in))
        ax = fig.add_subplot()
        bottom = [0.0] * len(labels)
        for i, member in enumerate(section.members):
            colour, hatch = _STACK_FILLS[i % len(_STACK_FILLS)]
            values = [v or 0.0 for v in section.history.get(member, [None] * n_hist)] + section.means[member]
            ax.bar(
                x, values, bottom=bottom, color=colour, hatch=hatch, edgecolor="#374151", linewidth=0.4,
                label=textwrap.shorten(section.labels.get(member, member), width=90, placeholder="..."),
            )  # fmt: skip
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        if n_hist:
            ax.axvline(n_hist - 0.5, color="#111827", linestyle="--", linewidth=1.0)
            ax.annotate("forecast →", xy=(n_hist - 0.4, 1.01), xycoords=("data", "axes fraction"), fontsize=8)
        ticks = _tick_positions(len(labels), max_ticks=6)
        ax.set_xticks(ticks, [labels[t] for t in ticks])
        ax.set_ylim(0, 1.0)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_ylabel("share of total")
        ax.set_xlabel("period")
        # Below the bars, one line per component: long series names stay whole on the page.
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2), fontsize=8, frameon=False, ncol=1)
        fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.16 + 0.065 * len(section.members))
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = _clean_svg(buf.getvalue(), f"Stacked shares of {section.title}")
    return svg.replace('class="fan-chart"', 'class="share-chart"', 1)
