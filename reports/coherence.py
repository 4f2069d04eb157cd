"""One number per series: a series section shows its structure's coherent figures.

A report that shows a structure (say total = exports + imports) and also a section for one of
its members would otherwise print two forecasts of the same series: the member's own and the
structure's reconciled one. :func:`align_with_structures` makes the section show the coherent
figures (table and chart), labels them, and carries the structure's warning when the
reconciliation moved the series outside its own 80% band. Pure: sections in, sections out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from forecasting.executor import WarningNote
from reports.content import ForecastRow, SeriesSection, summary_sentence
from reports.structures import StructureSection

__all__ = ["align_with_structures"]


def _lag(period: str) -> str | None:
    """The same period a year earlier, as a label (None when the label is not a period)."""
    try:
        p = pd.Period(period)
    except ValueError:
        return None
    per_year = {"M": 12, "Q": 4}.get(p.freqstr[0], 1)
    return str(p - per_year)


def _coherent_rows(section: SeriesSection, st: StructureSection) -> list[ForecastRow]:
    sid = section.series_id
    known = dict(zip(section.history_periods, section.history_values, strict=False))
    rows = []
    for row in section.forecasts:
        if row.period not in st.periods:
            rows.append(row)
            continue
        i = st.periods.index(row.period)
        mean = st.means[sid][i]
        bounds = {lv: st.bounds[sid][lv][i] for lv in row.bounds if lv in st.bounds[sid]}
        known[row.period] = mean
        before = known.get(_lag(row.period) or "")
        yoy = None if row.yoy is None or not before else 100.0 * (mean / before - 1.0)
        vs_base = None
        if row.vs_base is not None and section.base_value:
            vs_base = 100.0 * (mean / section.base_value - 1.0)
        rows.append(replace(row, mean=mean, bounds={**row.bounds, **bounds}, yoy=yoy, vs_base=vs_base))
    return rows


def _sentence(section: SeriesSection, rows: list[ForecastRow]) -> str:
    """The section's summary sentence, quoted from the coherent rows."""
    if not rows or not section.sentence:
        return section.sentence
    first = rows[0] if rows[0].period.isdigit() else rows[-1]
    return summary_sentence(
        section.title,
        section.unit,
        section.kind,
        year=first.period,
        mean=first.mean,
        bounds=first.bounds,
        change=first.vs_base if first is rows[0] else None,
        base=section.base,
        base_value=section.base_value,
        how="mean" if section.kind == "share" else "sum",
    )


def _label(st: StructureSection, moved: bool) -> str:
    text = (
        f"The forecasts are those of the structure \u201c{st.title}\u201d, forecast together with the other "
        "series in it so that the parts add up to the totals; growth is computed from these figures."
    )
    if moved:
        text += " Reconciliation moved this series outside its own forecast's 80% band (see the structure)."
    return text


def align_with_structures(
    sections: Sequence[SeriesSection], structures: Sequence[StructureSection]
) -> list[SeriesSection]:
    """Sections whose series belongs to a shown structure, with that structure's figures.

    The first forecast structure that holds the series and shares a forecast period with the
    section is used. The section's full-year line, made from its own paths, is dropped there
    (it would disagree with the coherent months) and its note says so.
    """
    out = []
    for section in sections:
        st = next(
            (
                st
                for st in structures
                if st.ok and section.series_id in st.means and set(st.periods) & {r.period for r in section.forecasts}
            ),
            None,
        )
        if not section.ok or st is None:
            out.append(section)
            continue
        moved = section.series_id in st.moved
        notes = list(section.warnings)
        if moved:
            notes.append(WarningNote("reconciliation_moved", st.moved[section.series_id]))
        rows = _coherent_rows(section, st)
        out.append(
            replace(
                section,
                forecasts=rows,
                sentence=_sentence(section, rows),
                full_year=None,
                coherent_with=st.name,
                coherent_note=_label(st, moved),
                warnings=notes,
            )
        )
    return out
