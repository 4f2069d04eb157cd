"""Stored structures: forecast a hierarchy or a composition by name (plain types, no FastAPI).

:func:`forecast_structure` reads every member series from the store as of a time, puts them
in one long frame and runs :func:`forecasting.forecast_hierarchy` or
:func:`forecasting.forecast_shares` on the service's executor. Library errors (gaps in a
member, misaligned periods, shares not summing to 1...) propagate unchanged and become 422s.
Given a :class:`~data.progress_repo.ProgressTracker`, the fit counts the series it has fitted
(kind ``structure_forecast``, keyed by the structure's name: its last or current forecast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from api.service.limits import Limits, check_forecast
from data import Store, StructureDefinition
from data.exceptions import NotInStructureError, UnknownStructureIdError
from data.progress_repo import STRUCTURE_FORECAST, Progress, ProgressTracker
from data.structures_repo import members_frame
from forecasting.exceptions import InvalidHierarchyError
from forecasting.executor import Executor, TaskResult, WarningNote
from reports.structures import forecast_stored_structure

__all__ = [
    "StructureFit",
    "StructureForecast",
    "check_structure_forecast",
    "delete_structure_and_progress",
    "fit_structure",
    "forecast_structure",
    "read_members",
    "resolved",
    "start_structure_forecast",
    "structure_nodes",
    "structure_progress",
    "structures_progress",
]


@dataclass(frozen=True)
class StructureForecast:
    """A structure's coherent forecast.

    Attributes
    ----------
    structure : StructureDefinition
        The stored definition that was forecast.
    frame : pd.DataFrame
        Long frame ``unique_id, ds, mean, lo_<L>, hi_<L>...`` of every node or component.
    horizon : int
    levels : tuple of int
    vintages : dict of str to int
        The vintage of each member series that was read.
    warnings : tuple of WarningNote
        Warnings raised while fitting.
    """

    structure: StructureDefinition
    frame: pd.DataFrame
    horizon: int
    levels: tuple[int, ...]
    vintages: dict[str, int]
    warnings: tuple[WarningNote, ...]


def resolved(store: Store, structure: StructureDefinition) -> StructureDefinition:
    """The structure with its members by ids; one by tags whose series no longer match keeps none."""
    try:
        return store.structures.resolve(structure)
    except (InvalidHierarchyError, UnknownStructureIdError):
        return structure  # listed with no members; forecasting it names the problem


def read_members(
    store: Store, structure: StructureDefinition, as_of: datetime | None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The long observations of a structure's members as known at ``as_of``, and their vintages.

    A hierarchy's aggregate that is not stored is left out (the library derives it); one that
    is stored is read, so that the library checks it against the sum of its parts.
    """
    ids = [i for i in structure.members if i in structure.data_ids or store.series.has_series(i)]
    read = {i: store.series.read_series(i, as_of=as_of) for i in ids}
    frame = members_frame(structure, {i: s.series for i, s in read.items()})
    return frame, {i: s.vintage.vintage_id for i, s in read.items()}


def fit_structure(
    structure: StructureDefinition,
    frame: pd.DataFrame,
    horizon: int,
    levels: tuple[int, ...],
    progress: ProgressTracker | None = None,
) -> pd.DataFrame:
    """Forecast one structure's frame (module level, so it runs in a worker process).

    ``progress`` counts the series fitted; pickled to a worker process, it records there
    through its own connection to the store's database (:class:`data.progress_repo.ProgressTracker`).
    """
    return forecast_stored_structure(structure, frame, horizon, levels, None if progress is None else progress.count)


@dataclass(frozen=True)
class StructureFit:
    """A structure forecast submitted to the executor: its members as read, and the future."""

    structure: StructureDefinition
    horizon: int
    levels: tuple[int, ...]
    vintages: dict[str, int]
    future: Future[TaskResult[pd.DataFrame]]
    progress: ProgressTracker | None = None

    def finish(self, outcome: TaskResult[pd.DataFrame]) -> StructureForecast:
        """The forecast from the finished fit (raises the fit's error if it failed)."""
        if outcome.error is not None and self.progress is not None:
            # The structure fails as a whole: its record says so, with the error's code.
            self.progress.item_done(self.structure.name, outcome.error)
        return StructureForecast(
            structure=self.structure,
            frame=outcome.unwrap(),
            horizon=self.horizon,
            levels=self.levels,
            vintages=self.vintages,
            warnings=outcome.notes,
        )


def structure_nodes(store: Store, name: str) -> tuple[StructureDefinition, tuple[str, ...]]:
    """The stored structure ``name`` (by tags: resolved now) and the series its forecast gives."""
    structure = store.structures.resolve(store.structures.get(name))
    # A composition's stated total is read to check the values but not forecast itself.
    return structure, tuple(structure.members if structure.kind == "hierarchy" else structure.components)


def check_structure_forecast(store: Store, limits: Limits, name: str, horizon: int, levels: Sequence[int]) -> int:
    """Check a structure forecast before it is queued as a job; return how many series it forecasts.

    Raises at once what would fail the job at its start: no such structure (404), a horizon
    or levels above the limits (422). The members are read and checked when the job runs.
    """
    _, nodes = structure_nodes(store, name)
    check_forecast(horizon, levels, limits)
    return len(nodes)


def start_structure_forecast(
    store: Store,
    submit: Callable[..., Future[TaskResult[pd.DataFrame]]],
    limits: Limits,
    name: str,
    *,
    horizon: int,
    levels: Sequence[int],
    as_of: datetime | None = None,
    member: str | None = None,
    progress: ProgressTracker | None = None,
) -> StructureFit:
    """Check and read the structure ``name``, then submit its fit with ``submit``.

    ``submit`` is ``executor.submit``, or the service's ``submit_fit``, which admits the fit
    to the bounded fitting queue first (and raises ``OverloadedError`` when it is full).
    ``member``: the one series the caller wants; checked before anything is fitted
    (:class:`NotInStructureError` when it is not a node or component of the structure).
    ``progress``: where the fit counts its series (begun with their number once the checks
    pass, then one per series fitted; a failed fit adds its error). Raises what
    :func:`forecast_structure` raises.
    """
    structure, nodes = structure_nodes(store, name)
    if member is not None and member not in nodes:
        raise NotInStructureError(
            f"series {member!r} is not forecast by the structure {name!r}; it forecasts {', '.join(nodes)}."
        )
    unique_levels = check_forecast(horizon, levels, limits)
    frame, vintages = read_members(store, structure, as_of)
    if progress is not None:
        # Begun here so that a fit failing before its first series still leaves a record; the
        # library begins it again with the exact count once its checks pass.
        progress.begin(len(nodes))
    future = submit(fit_structure, structure, frame, horizon, unique_levels, progress)
    return StructureFit(structure, horizon, unique_levels, vintages, future, progress)


def forecast_structure(
    store: Store,
    executor: Executor,
    limits: Limits,
    name: str,
    *,
    horizon: int,
    levels: Sequence[int],
    as_of: datetime | None = None,
    progress: ProgressTracker | None = None,
) -> StructureForecast:
    """Forecast the stored structure ``name`` from its members as known at ``as_of``.

    ``progress`` as :func:`start_structure_forecast`.

    Raises
    ------
    StructureNotFoundError
        No structure of that name (404).
    InvalidParameterError
        Horizon or levels above the service's limits (422).
    SeriesNotFoundError, VintageNotFoundError
        A member was deleted, or has no vintage at ``as_of`` (404).
    InvalidSeriesError, InvalidHierarchyError, CompositionSumError, IncoherentTotalError...
        The members do not form the structure (gaps, misaligned periods, sums): 422.
    """
    fit = start_structure_forecast(
        store, executor.submit, limits, name, horizon=horizon, levels=levels, as_of=as_of, progress=progress
    )
    return fit.finish(fit.future.result())


def structure_progress(store: Store, name: str) -> ProgressTracker:
    """Where a forecast of the structure ``name`` records its progress (one record per structure)."""
    return ProgressTracker(store.progress, STRUCTURE_FORECAST, name)


def structures_progress(store: Store, names: Sequence[str]) -> dict[str, Progress]:
    """The last or current forecast's progress of each structure in ``names`` that has one."""
    return store.progress.get_many(STRUCTURE_FORECAST, names)


def delete_structure_and_progress(store: Store, name: str) -> None:
    """Delete the stored structure ``name`` (its series stay) and its forecasts' progress record,
    so that a structure defined again under that name starts with none. Raises
    ``StructureNotFoundError``."""
    store.structures.delete(name)
    store.progress.delete(STRUCTURE_FORECAST, [name])
