"""Scenario section of a report: a table of every scenario's forecast and a fan chart each.

Self-contained: :func:`build_scenario_section` turns the frames of
:func:`forecasting.forecast_scenarios` into a typed :class:`ScenarioSection`,
:func:`render_scenario_section` turns that into an HTML snippet (the table, then one fan
chart per scenario, drawn by :func:`reports.charts.fan_chart_svg`). A report adds the
snippet after a series' own section (the ``extra_html`` hook of
:class:`reports.content.SeriesSection`).

Also :func:`break_notes`: the structural-break warnings of a series as report notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from forecasting.frames import MEAN, hi_col, levels_in, lo_col
from reports.content import ForecastRow, SeriesSection, break_notes

__all__ = ["ScenarioSection", "break_notes", "build_scenario_section", "render_scenario_section"]

#: History points drawn before each scenario's fan (the full history is in the series' own chart).
HISTORY_POINTS = 36


@dataclass(frozen=True)
class ScenarioSection:
    """The forecasts of one series under named scenarios of its drivers.

    ``scenarios`` keeps the order given; every scenario has the same periods and levels.
    ``driver_uncertainty`` says whether the intervals carry the drivers' own errors.
    """

    series_id: str
    title: str
    unit: str
    levels: tuple[int, ...]
    history_periods: list[str]
    history_values: list[float]
    scenarios: dict[str, list[ForecastRow]] = field(default_factory=dict)
    driver_uncertainty: bool = False

    @property
    def periods(self) -> list[str]:
        """The forecast periods (those of the first scenario)."""
        first = next(iter(self.scenarios.values()), [])
        return [row.period for row in first]


def build_scenario_section(
    series_id: str,
    y: pd.Series,
    scenarios: Mapping[str, pd.DataFrame],
    *,
    title: str = "",
    unit: str = "",
) -> ScenarioSection:
    """The report data of ``scenarios`` (the output of :func:`forecasting.forecast_scenarios`).

    Raises
    ------
    ValueError
        No scenario, or scenarios with different periods.
    """
    if not scenarios:
        raise ValueError("a scenario section needs at least one scenario.")
    frames = list(scenarios.values())
    if any(not f.index.equals(frames[0].index) for f in frames[1:]):
        raise ValueError("every scenario must forecast the same periods.")
    levels = tuple(levels_in(list(frames[0].columns)))
    rows = {name: _rows(frame, levels) for name, frame in scenarios.items()}
    observed = y.dropna().iloc[-HISTORY_POINTS:]
    return ScenarioSection(
        series_id=series_id,
        title=title or series_id,
        unit=unit,
        levels=levels,
        history_periods=[str(p) for p in observed.index],
        history_values=[float(v) for v in observed.to_numpy()],
        scenarios=rows,
        driver_uncertainty=any(bool(f.attrs.get("driver_uncertainty")) for f in frames),
    )


def _rows(frame: pd.DataFrame, levels: Sequence[int]) -> list[ForecastRow]:
    return [
        ForecastRow(
            period=str(ds),
            mean=float(row[MEAN]),
            bounds={lv: (float(row[lo_col(lv)]), float(row[hi_col(lv)])) for lv in levels},
        )
        for ds, row in frame.iterrows()
    ]


def scenario_charts(section: ScenarioSection) -> dict[str, str]:
    """One SVG fan chart per scenario (history, then the scenario's forecast and intervals)."""
    from reports.charts import fan_chart_svg

    charts = {}
    for name, rows in section.scenarios.items():
        chart_section = SeriesSection(
            series_id=section.series_id,
            title=f"{section.title}: scenario {name}",
            unit=section.unit,
            freq="",
            model="",
            history_periods=section.history_periods,
            history_values=section.history_values,
            forecasts=rows,
        )
        charts[name] = fan_chart_svg(chart_section, height_in=2.4)
    return charts


_TEMPLATE = """\
<section class="scenarios" id="scenarios-{{ s.series_id }}">
  <h3>{{ s.title }}: scenarios</h3>
  <p class="note">One forecast per assumed path of the drivers, from the same fitted model.
  {%- if s.driver_uncertainty %} Intervals include the drivers' own forecast errors.
  {%- else %} Intervals take each path as certain; they leave out the drivers' own uncertainty.{% endif %}</p>
  <table class="scenario-table">
    <thead><tr><th>Period</th>
    {%- for name in s.scenarios %}<th>{{ name }}</th>{% endfor %}</tr></thead>
    <tbody>
    {%- for i in range(s.periods | length) %}
      <tr><td>{{ s.periods[i] }}</td>
      {%- for name, rows in s.scenarios.items() %}
        {%- set r = rows[i] %}
        <td>{{ fmt(r.mean) }}{% if wide in r.bounds %} <span class="interval">({{ fmt(r.bounds[wide][0]) }} to
        {{ fmt(r.bounds[wide][1]) }})</span>{% endif %}</td>
      {%- endfor %}</tr>
    {%- endfor %}
    </tbody>
  </table>
  {%- if wide %}<p class="note">In brackets: the {{ wide }}% interval.</p>{% endif %}
  {%- for name, svg in charts.items() %}
  <figure class="scenario-chart"><figcaption>{{ name }}</figcaption>{{ svg }}</figure>
  {%- endfor %}
</section>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def _fmt(value: Any) -> str:
    return f"{float(value):,.4g}" if abs(float(value)) < 1e4 else f"{float(value):,.0f}"


def render_scenario_section(section: ScenarioSection, *, charts: bool = True) -> Markup:
    """The scenario table and (with ``charts``) one fan chart per scenario, as safe HTML."""
    svgs = {name: Markup(svg) for name, svg in scenario_charts(section).items()} if charts else {}
    wide = max(section.levels) if section.levels else None
    html = _ENV.from_string(_TEMPLATE).render(s=section, charts=svgs, wide=wide, fmt=_fmt)
    return Markup(html)
