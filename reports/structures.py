"""Coherent structures in a report: a stored hierarchy or composition, forecast as one.

A hierarchy (exports + imports = total) is shown as one table whose columns add up; a
composition (currency shares) as a table of percentages summing to 100% and a stacked chart.
:func:`structure_section` turns a structure's member observations into a
:class:`StructureSection` (pure, testable with fixed frames); :func:`read_structure` reads
the members from the store as known at the report's as-of time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from data import Store, StructureDefinition
from data.exceptions import DataError
from data.structures_repo import members_frame
from forecasting.exceptions import ForecastingError, ForecastingWarning
from forecasting.executor import WarningNote, capture_warnings
from forecasting.frames import DS, MEAN, UNIQUE_ID, Y, hi_col, lo_col
from forecasting.structure import DEFAULT_METHOD, forecast_hierarchy, forecast_shares
from reports.wording import explain_error, id_in_words

__all__ = ["StructureSection", "forecast_stored_structure", "read_structure", "structure_section"]

logger = logging.getLogger(__name__)


def forecast_stored_structure(
    definition: StructureDefinition,
    frame: pd.DataFrame,
    horizon: int,
    levels: Sequence[int],
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Forecast a stored structure (resolved to ids) from :func:`data.structures_repo.members_frame`,
    with its own model, method, ``missing`` and ``tolerance`` (module level, so it runs in a
    worker process). The storage layer only reads and writes structures; forecasting them is here.
    ``progress``: the library's callback, ``(n_done, n_total, item)`` as each series is fitted."""
    options: dict[str, Any] = {"missing": definition.missing, "progress": progress}
    if definition.tolerance is not None:
        options["tolerance"] = definition.tolerance
    if definition.kind == "hierarchy":
        tree = {k: list(v) for k, v in definition.hierarchy.items()}
        method = definition.method or DEFAULT_METHOD
        return forecast_hierarchy(frame, horizon, tree, levels, definition.model, method, **options)
    values = definition.total is not None
    return forecast_shares(frame, horizon, levels, definition.model, values=values, total=definition.total, **options)


@dataclass(frozen=True)
class StructureSection:
    """A structure's coherent forecast, ready to render.

    ``members`` are in display order (a hierarchy's parts first, then its totals);
    ``means[id][i]`` and ``bounds[id][level][i]`` belong to ``periods[i]``. ``history`` holds
    the observed values of the last ``len(history_periods)`` periods (None where missing).
    """

    name: str
    title: str
    kind: str
    description: str = ""
    members: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    unit: str = ""
    periods: list[str] = field(default_factory=list)
    means: dict[str, list[float]] = field(default_factory=dict)
    bounds: dict[str, dict[int, list[tuple[float, float]]]] = field(default_factory=dict)
    history_periods: list[str] = field(default_factory=list)
    history: dict[str, list[float | None]] = field(default_factory=dict)
    totals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    error: str = ""
    error_code: str = ""
    explanation: str = ""
    #: Members that reconciliation moved outside their own base 80% band: id -> sentence.
    moved: dict[str, str] = field(default_factory=dict)
    #: Warnings of the structure's forecast (``reconciliation_moved`` among them).
    warnings: list[WarningNote] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the structure was forecast."""
        return not self.error

    @property
    def share(self) -> bool:
        """Whether the members are shares (a composition)."""
        return self.kind == "composition"

    @property
    def period_totals(self) -> list[float]:
        """The sum of every member's mean per period (a composition's is 1)."""
        return [sum(self.means[m][i] for m in self.members) for i in range(len(self.periods))]

    def sum_of_parts(self, aggregate: str) -> list[float]:
        """For a hierarchy's ``aggregate``: the sum of its parts' means per period."""
        parts = self.totals[aggregate]
        return [sum(self.means[p][i] for p in parts) for i in range(len(self.periods))]


def _display_order(definition: StructureDefinition) -> list[str]:
    if definition.kind == "hierarchy":
        totals = list(definition.hierarchy)
        parts = [m for m in definition.members if m not in definition.hierarchy]
        return parts + totals[::-1]  # leaves first, the grand total last
    return list(definition.components)


def _pairs(frame: pd.DataFrame, level: int) -> list[tuple[float, float]]:
    return [(float(lo), float(hi)) for lo, hi in zip(frame[lo_col(level)], frame[hi_col(level)], strict=True)]


def _title(definition: StructureDefinition) -> str:
    """The description's lead ("China-Russia trade (GACC...)" before a colon), else the name."""
    lead, colon, _ = definition.description.partition(":")
    return lead.strip() if colon and 0 < len(lead) <= 100 else id_in_words(definition.name)


def structure_section(
    definition: StructureDefinition,
    frame: pd.DataFrame,
    *,
    horizon: int,
    levels: Sequence[int],
    labels: Mapping[str, str] | None = None,
    unit: str = "",
    history_periods: int = 6,
) -> StructureSection:
    """Forecast the structure ``definition`` from its members' long observations ``frame``.

    A forecasting error (gaps, periods that do not sum, too short) becomes a section that
    explains it in words, so one structure does not sink the report.
    """
    levels = tuple(sorted(int(lv) for lv in levels))
    members = _display_order(definition)
    base = StructureSection(
        name=definition.name,
        title=_title(definition),
        kind=definition.kind,
        description=definition.description,
        members=members,
        labels={m: (labels or {}).get(m, m) for m in members},
        unit=unit,
        totals={k: tuple(v) for k, v in definition.hierarchy.items()},
    )
    try:
        with capture_warnings(ForecastingWarning) as notes:
            out = forecast_stored_structure(definition, frame, horizon, levels)
    except (ForecastingError, DataError) as exc:
        logger.warning("structure %s: no forecast (%s)", definition.name, exc)
        code = str(getattr(exc, "code", ""))
        error = f"{type(exc).__name__}: {exc}"
        return replace(base, error=error, error_code=code, explanation=explain_error(code, error, structure=True))
    by_id = {str(k): g.sort_values(DS) for k, g in out.groupby(UNIQUE_ID, sort=False)}
    periods = [str(p) for p in by_id[members[0]][DS]]
    observed = frame.pivot_table(index=DS, columns=UNIQUE_ID, values=Y, aggfunc="first").sort_index()
    observed = observed.iloc[-history_periods:] if history_periods else observed.iloc[:0]
    return replace(
        base,
        periods=periods,
        moved=dict(out.attrs.get("moved", {})),
        warnings=notes,
        means={m: [float(v) for v in by_id[m][MEAN]] for m in members},
        bounds={m: {lv: _pairs(by_id[m], lv) for lv in levels} for m in members},
        history_periods=[str(p) for p in observed.index],
        history={
            m: [None if pd.isna(v) else float(v) for v in observed.get(m, pd.Series(index=observed.index))]
            for m in members
        },
    )


def read_structure(
    store: Store, name: str, read: Callable[[str], tuple[pd.Series, str, str]]
) -> tuple[StructureDefinition, pd.DataFrame, dict[str, str], str]:
    """A stored structure, its members' long observations, their titles and unit.

    ``read(series_id)`` gives a member's observations as the report sees them (at its as-of
    time), its title and its unit. A hierarchy's aggregate that is not stored is left out (the
    library derives it); for a hierarchy each member is cut to the span all of them cover.

    Raises
    ------
    StructureNotFoundError
        No structure of that name (and whatever ``read`` raises for a member).
    """
    definition: StructureDefinition = store.structures.resolve(store.structures.get(name))
    ids = [i for i in definition.members if i in definition.data_ids or store.series.has_series(i)]
    read_ = {i: read(i) for i in ids}
    frame = members_frame(definition, {i: r[0] for i, r in read_.items()})
    units = [r[2] for r in read_.values() if r[2]]
    return definition, frame, {i: r[1] for i, r in read_.items()}, units[0] if units else ""
