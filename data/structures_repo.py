"""Stored structures (table ``structures``): hierarchies and compositions over stored series.

A structure is defined once by name and forecast later by name (``POST
/v1/structures/{name}/forecasts``). A definition is checked when it is stored: a hierarchy
goes through :func:`forecasting.structure.build_hierarchy` (malformed maps and cycles raise
the library's :class:`~forecasting.exceptions.InvalidHierarchyError` and
:class:`~forecasting.exceptions.HierarchyCycleError`), and every id that must hold data
(a hierarchy's bottom ids, a composition's components and total) must name a stored series.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, cast

import pandas as pd
from sqlalchemy import Table, and_, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from data.codec import as_utc, utcnow
from data.db import Database
from data.exceptions import (
    InvalidStructureError,
    StructureExistsError,
    StructureNotFoundError,
    UnknownStructureIdError,
)
from data.tables import SeriesTable, SeriesTagsTable, StructuresTable
from forecasting.exceptions import UnknownHierarchyIdError
from forecasting.frames import DS, UNIQUE_ID, Y
from forecasting.registry import REGISTRY
from forecasting.structure import (
    DEFAULT_METHOD,
    METHODS,
    build_hierarchy,
    hierarchy_from_tags,
)

__all__ = [
    "KINDS",
    "StructureDefinition",
    "StructuresRepository",
    "check_structure",
    "members_frame",
]

StructureKind = Literal["hierarchy", "composition"]

#: The kinds of structure: sums (``hierarchy``) and shares summing to 1 (``composition``).
KINDS: tuple[str, ...] = ("hierarchy", "composition")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_S = cast(Table, StructuresTable.__table__)
_SERIES = cast(Table, SeriesTable.__table__)
_TAGS = cast(Table, SeriesTagsTable.__table__)


@dataclass(frozen=True)
class StructureDefinition:
    """A named structure over stored series.

    Attributes
    ----------
    name : str
        Lowercase letters, digits, ``_`` and ``-`` (at most 64), starting with a letter or digit.
    kind : {"hierarchy", "composition"}
        A sum structure, or shares summing to 1.
    hierarchy : mapping of str to tuple of str
        ``kind="hierarchy"``: each aggregate id and the ids it sums (nesting allowed). An
        aggregate need not be stored: it is derived as the sum of its parts.
    components : tuple of str
        ``kind="composition"``: the component series (shares, or values with ``total``).
    total : str or None
        ``kind="composition"``: the id of a stored total that the components (values, e.g.
        USD bn by currency) sum to; the shares are each component over it.
    method : str or None
        Reconciliation of a hierarchy (``forecasting.structure.METHODS``); None for a
        composition.
    model : str
        Registered model of the base forecasts.
    description : str
        Free text.
    created_at, updated_at : datetime or None
        UTC times, set by the store.
    select : mapping of str to str
        Defines the members by tags instead of ids: every stored series having all these tag
        values (e.g. ``{"reporter": "RU"}``), looked up each time the structure is used, so
        series stored later join it. A hierarchy also needs ``by``; a composition takes the
        matching series as its components.
    by : tuple of str
        With ``select``, ``kind="hierarchy"``: the tag keys to aggregate over (e.g.
        ``("partner", "flow")``); the total is named after the structure and each aggregate
        ``name:key=value`` (:func:`forecasting.structure.hierarchy_from_tags`).
    missing : {"error", "model"}
        ``"model"`` forecasts members with gaps or sparse months through a state-space model
        (see :func:`forecasting.forecast_hierarchy`, :func:`forecasting.forecast_shares`).
    tolerance : float or None
        Largest gap between a stated total (or 1, for shares) and the sum of the parts; None
        for the library's default.
    """

    name: str
    kind: StructureKind
    hierarchy: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    components: tuple[str, ...] = ()
    total: str | None = None
    method: str | None = None
    model: str = "auto"
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    select: Mapping[str, str] = field(default_factory=dict)
    by: tuple[str, ...] = ()
    missing: str = "error"
    tolerance: float | None = None

    @property
    def by_tags(self) -> bool:
        """Whether the members are the stored series whose tags match ``select`` (resolved when used)."""
        return bool(self.select)

    @property
    def members(self) -> tuple[str, ...]:
        """Every id named by the structure, aggregates first, without repeats."""
        if self.kind == "hierarchy":
            ids = [*self.hierarchy, *(c for kids in self.hierarchy.values() for c in kids)]
        else:
            ids = [*self.components, *([self.total] if self.total else [])]
        return tuple(dict.fromkeys(ids))

    @property
    def data_ids(self) -> tuple[str, ...]:
        """The ids that must hold stored data (a hierarchy's aggregates may be derived)."""
        if self.kind == "hierarchy":
            return tuple(i for i in self.members if i not in self.hierarchy)
        return self.members

    def spec(self) -> dict[str, Any]:
        """The members and options as stored in the ``spec`` JSON column."""
        out: dict[str, Any]
        if self.kind == "hierarchy":
            out = {"hierarchy": {k: list(v) for k, v in self.hierarchy.items()}}
        else:
            out = {"components": list(self.components), "total": self.total}
        if self.select:
            out.update(select=dict(self.select), by=list(self.by))
        if self.missing != "error":
            out["missing"] = self.missing
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
        return out


def _invalid(message: str, field_name: str, value: object) -> InvalidStructureError:
    exc = InvalidStructureError(message)
    exc.details = {"field": field_name, "value": value}  # type: ignore[attr-defined]
    return exc


def _check_options(definition: StructureDefinition) -> None:
    """The options shared by both kinds: ``missing``, ``tolerance``, ``select`` / ``by``."""
    if definition.missing not in ("error", "model"):
        raise _invalid(
            f"missing must be 'error' or 'model'; got {definition.missing!r}.", "missing", definition.missing
        )
    tol = definition.tolerance
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < 1):
        raise _invalid(f"tolerance must be a number in [0, 1); got {tol!r}.", "tolerance", tol)
    if not definition.select:
        if definition.by:
            raise _invalid("by aggregates the series chosen by select; give select too.", "by", list(definition.by))
        return
    if definition.hierarchy or definition.components:
        raise _invalid(
            f"structure {definition.name!r}: give the members either by ids (hierarchy/components) or by tags "
            "(select), not both.",
            "select",
            dict(definition.select),
        )
    if definition.kind == "hierarchy" and not definition.by:
        raise _invalid(
            f"structure {definition.name!r}: a hierarchy by tags needs by, the tag keys to aggregate over "
            "(e.g. ['partner', 'flow']).",
            "by",
            [],
        )
    if definition.kind == "composition" and definition.by:
        raise _invalid("by applies to hierarchies; a composition by tags takes every matching series.", "by", None)


def _check_composition(definition: StructureDefinition) -> None:
    comps = definition.components
    if definition.select:
        comps = ("select", "by tags")  # resolved when used; checked then
    if len(comps) < 2 or len(set(comps)) != len(comps):
        raise _invalid(
            f"structure {definition.name!r}: a composition needs at least two distinct components; "
            f"got {list(comps)!r}.",
            "components",
            list(comps),
        )
    if definition.total is not None and definition.total in comps:
        raise _invalid(
            f"structure {definition.name!r}: the total {definition.total!r} is also a component.",
            "total",
            definition.total,
        )
    if definition.hierarchy:
        raise _invalid(f"structure {definition.name!r}: a composition takes no hierarchy.", "hierarchy", None)
    if definition.method is not None:
        raise _invalid(
            f"structure {definition.name!r}: method applies to hierarchies only; omit it for a composition.",
            "method",
            definition.method,
        )


def check_structure(definition: StructureDefinition) -> StructureDefinition:
    """Validate a definition (not its ids' existence); return it with defaults filled in.

    Raises
    ------
    InvalidStructureError
        Bad name, kind, model, method or composition members.
    InvalidHierarchyError, HierarchyCycleError
        The hierarchy is not a map of aggregates to non-empty id lists, or is cyclic.
    """
    if not isinstance(definition.name, str) or not _NAME.match(definition.name):
        raise _invalid(
            f"structure name {definition.name!r} must be 1-64 lowercase letters, digits, '_' or '-', "
            "starting with a letter or digit.",
            "name",
            definition.name,
        )
    if definition.kind not in KINDS:
        raise _invalid(f"kind must be one of {KINDS}; got {definition.kind!r}.", "kind", definition.kind)
    if definition.model not in REGISTRY:
        raise _invalid(
            f"model {definition.model!r} is not registered; choose one of: {', '.join(REGISTRY)}.",
            "model",
            definition.model,
        )
    _check_options(definition)
    if definition.kind == "composition":
        _check_composition(definition)
        return definition
    if definition.components or definition.total is not None:
        raise _invalid(f"structure {definition.name!r}: a hierarchy takes no components or total.", "components", None)
    method = definition.method or DEFAULT_METHOD
    if method not in METHODS:
        raise _invalid(f"method must be one of {METHODS}; got {method!r}.", "method", method)
    children = (
        {} if definition.select else {k: tuple(v) for k, v in build_hierarchy(definition.hierarchy).children.items()}
    )
    return replace(definition, hierarchy=children, method=method)


def _common_span(series: Mapping[str, pd.Series]) -> dict[str, pd.Series]:
    """Each series cut to the periods every one of them spans (first and last observed value).

    Members often start in different years (a total published before its breakdown); the
    library asks for one span, so the common one is used. Gaps inside it are not filled:
    the library names them.
    """
    observed = {k: s.dropna() for k, s in series.items()}
    if any(s.empty for s in observed.values()):
        return dict(series)
    start = max(s.index[0] for s in observed.values())
    end = min(s.index[-1] for s in observed.values())
    if start > end:
        return dict(series)  # no overlap: the library's misaligned-periods error names each span
    return {k: s.loc[start:end] for k, s in series.items()}


def members_frame(definition: StructureDefinition, series: Mapping[str, pd.Series]) -> pd.DataFrame:
    """The long frame (``unique_id, ds, y``) a structure is forecast from, given its members' series.

    A hierarchy's members are cut to their common span, unless ``missing="model"`` (the
    library then takes the union of the spans); a composition drops the periods a component
    was not published (a zero share there, or a gap under ``missing="model"``).
    """
    if definition.kind == "hierarchy" and definition.missing == "error":
        series = _common_span(series)
    frames = [pd.DataFrame({UNIQUE_ID: i, DS: s.index, Y: s.to_numpy(dtype=float)}) for i, s in series.items()]
    frame = pd.concat(frames, ignore_index=True)
    return frame.dropna(subset=[Y]) if definition.kind == "composition" else frame


def _record(row: Any) -> StructureDefinition:
    spec: dict[str, Any] = row.spec
    return StructureDefinition(
        name=row.name,
        kind=cast(StructureKind, row.kind),
        hierarchy={k: tuple(v) for k, v in spec.get("hierarchy", {}).items()},
        components=tuple(spec.get("components", ())),
        total=spec.get("total"),
        method=row.method,
        model=row.model,
        description=row.description,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        select=dict(spec.get("select", {})),
        by=tuple(spec.get("by", ())),
        missing=str(spec.get("missing", "error")),
        tolerance=spec.get("tolerance"),
    )


class StructuresRepository:
    """Stored structures: define (validated), list, read, delete.

    Parameters
    ----------
    db : Database
        The store's database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def tagged_series(self, wanted: Mapping[str, str]) -> dict[str, dict[str, str]]:
        """Every stored series having all the tag values of ``wanted``, with all its tags."""
        matches = [
            exists().where(and_(_TAGS.c.series_id == _SERIES.c.series_id, _TAGS.c.key == k, _TAGS.c.value == v))
            for k, v in wanted.items()
        ]
        with self.db.read() as conn:
            ids = list(conn.execute(select(_SERIES.c.series_id).where(*matches)).scalars())
            rows = conn.execute(select(_TAGS).where(_TAGS.c.series_id.in_(ids))).all() if ids else []
        out: dict[str, dict[str, str]] = {i: {} for i in ids}
        for row in rows:
            out[row.series_id][row.key] = row.value
        return out

    def resolve(self, definition: StructureDefinition) -> StructureDefinition:
        """A structure with its members by ids: one defined by tags gets today's matching series.

        Raises
        ------
        InvalidHierarchyError
            No series matches, one lacks a ``by`` tag, or two share a combination.
        UnknownStructureIdError
            A composition by tags matches fewer than two series.
        """
        if not definition.by_tags:
            return definition
        found = self.tagged_series(definition.select)
        if definition.kind == "hierarchy":
            tree = hierarchy_from_tags(found, definition.by, definition.name)
            return replace(definition, hierarchy={k: tuple(v) for k, v in tree.items()})
        comps = tuple(sorted(i for i in found if i != definition.total))
        if len(comps) < 2:
            exc = UnknownStructureIdError(
                f"structure {definition.name!r}: select {dict(definition.select)!r} matches {list(comps)!r}; a "
                "composition needs at least two stored component series with those tags."
            )
            exc.details = {"field": "select", "value": dict(definition.select)}  # type: ignore[attr-defined]
            raise exc
        return replace(definition, components=comps)

    def _check_ids(self, definition: StructureDefinition) -> None:
        definition = self.resolve(definition)
        wanted = list(definition.data_ids)
        with self.db.read() as conn:
            found = set(conn.execute(select(_SERIES.c.series_id).where(_SERIES.c.series_id.in_(wanted))).scalars())
        missing = [i for i in wanted if i not in found]
        if not missing:
            return
        message = (
            f"structure {definition.name!r} names {missing[:5]!r}{' ...' if len(missing) > 5 else ''}, "
            "but no series is stored under "
            f"{'that id' if len(missing) == 1 else 'those ids'}; store the series first (POST /v1/series)."
        )
        exc: Exception = (
            UnknownHierarchyIdError(message) if definition.kind == "hierarchy" else UnknownStructureIdError(message)
        )
        exc.details = {"field": "members", "missing": missing}  # type: ignore[attr-defined]
        raise exc

    def define(self, definition: StructureDefinition) -> StructureDefinition:
        """Validate and store a new structure.

        Raises
        ------
        InvalidStructureError, InvalidHierarchyError, HierarchyCycleError
            The definition is malformed (see :func:`check_structure`).
        UnknownHierarchyIdError, UnknownStructureIdError
            A member that must hold data has no stored series.
        StructureExistsError
            A structure of that name is stored already.
        """
        checked = check_structure(definition)
        self._check_ids(checked)
        now = utcnow()
        row = {
            "name": checked.name,
            "kind": checked.kind,
            "spec": checked.spec(),
            "method": checked.method,
            "model": checked.model,
            "description": checked.description,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.db.write() as conn:
                conn.execute(insert(_S).values(**row))
        except IntegrityError as exc:
            raise StructureExistsError(
                f"a structure named {checked.name!r} is stored already; delete it first to redefine it."
            ) from exc
        return self.get(checked.name)

    def get(self, name: str) -> StructureDefinition:
        """The stored structure ``name``; :class:`StructureNotFoundError` if there is none."""
        with self.db.read() as conn:
            row = conn.execute(select(_S).where(_S.c.name == name)).first()
        if row is None:
            raise StructureNotFoundError(f"no structure is stored under the name {name!r}.")
        return _record(row)

    def has(self, name: str) -> bool:
        """Whether a structure named ``name`` is stored."""
        with self.db.read() as conn:
            return conn.execute(select(_S.c.name).where(_S.c.name == name)).first() is not None

    def list(self, *, limit: int = 100, offset: int = 0) -> tuple[Sequence[StructureDefinition], int]:
        """One page of structures by name, and how many are stored."""
        with self.db.read() as conn:
            rows = conn.execute(select(_S).order_by(_S.c.name).limit(limit).offset(offset)).all()
            count = int(conn.execute(select(func.count()).select_from(_S)).scalar_one())
        return [_record(r) for r in rows], count

    def delete(self, name: str) -> None:
        """Delete a structure (its series stay); :class:`StructureNotFoundError` if there is none."""
        with self.db.write() as conn:
            deleted = conn.execute(delete(_S).where(_S.c.name == name)).rowcount
        if not deleted:
            raise StructureNotFoundError(f"no structure is stored under the name {name!r}.")
