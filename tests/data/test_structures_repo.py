"""Stored structures: defined once (validated against the library and the stored series),
listed, read and deleted through ``store.structures``."""

from __future__ import annotations

import pandas as pd
import pytest

from data import (
    InvalidStructureError,
    SeriesMeta,
    Store,
    StructureDefinition,
    StructureExistsError,
    StructureNotFoundError,
    UnknownStructureIdError,
)
from forecasting.exceptions import HierarchyCycleError, InvalidHierarchyError, UnknownHierarchyIdError


def _save(store: Store, *ids: str) -> None:
    index = pd.period_range("2020-01", periods=6, freq="M")
    for i, sid in enumerate(ids):
        store.series.save_series(SeriesMeta(sid, frequency="monthly"), pd.Series(1.0 + i, index=index))


def test_define_hierarchy_round_trips_with_default_method(store: Store) -> None:
    _save(store, "x", "m")
    saved = store.structures.define(
        StructureDefinition(name="cn-ru", kind="hierarchy", hierarchy={"total": ("x", "m")})
    )
    assert saved.method == "mint_shrink"
    assert saved.created_at is not None
    got = store.structures.get("cn-ru")
    assert got.hierarchy == {"total": ("x", "m")}
    assert got.members == ("total", "x", "m")
    assert got.data_ids == ("x", "m")
    page, count = store.structures.list()
    assert count == 1
    assert [s.name for s in page] == ["cn-ru"]


def test_define_composition_round_trips(store: Store) -> None:
    _save(store, "a", "b", "t")
    saved = store.structures.define(
        StructureDefinition(name="mix", kind="composition", components=("a", "b"), total="t", model="naive")
    )
    assert (saved.components, saved.total, saved.method, saved.model) == (("a", "b"), "t", None, "naive")


def test_define_refuses_cycle_with_library_error(sqlite_store: Store) -> None:
    _save(sqlite_store, "c")
    with pytest.raises(HierarchyCycleError):
        sqlite_store.structures.define(
            StructureDefinition(name="loop", kind="hierarchy", hierarchy={"a": ("b", "c"), "b": ("a", "c")})
        )
    assert not sqlite_store.structures.has("loop")


def test_define_refuses_unknown_hierarchy_id(sqlite_store: Store) -> None:
    _save(sqlite_store, "x")
    with pytest.raises(UnknownHierarchyIdError, match="'m'") as info:
        sqlite_store.structures.define(StructureDefinition(name="h", kind="hierarchy", hierarchy={"total": ("x", "m")}))
    assert info.value.details["missing"] == ["m"]  # type: ignore[attr-defined]


def test_define_refuses_unknown_component(sqlite_store: Store) -> None:
    _save(sqlite_store, "a")
    with pytest.raises(UnknownStructureIdError, match="'b'"):
        sqlite_store.structures.define(StructureDefinition(name="c", kind="composition", components=("a", "b")))


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (StructureDefinition(name="Bad Name", kind="composition", components=("a", "b")), "name"),
        (StructureDefinition(name="k", kind="pyramid", components=("a", "b")), "kind"),  # type: ignore[arg-type]
        (StructureDefinition(name="k", kind="composition", components=("a",)), "components"),
        (StructureDefinition(name="k", kind="composition", components=("a", "b"), total="a"), "total"),
        (StructureDefinition(name="k", kind="composition", components=("a", "b"), method="ols"), "method"),
        (StructureDefinition(name="k", kind="composition", components=("a", "b"), model="nope"), "model"),
        (StructureDefinition(name="k", kind="hierarchy", hierarchy={"t": ("a", "b")}, method="magic"), "method"),
    ],
)
def test_define_refuses_bad_definition_naming_field(
    sqlite_store: Store, definition: StructureDefinition, field: str
) -> None:
    _save(sqlite_store, "a", "b")
    with pytest.raises(InvalidStructureError) as info:
        sqlite_store.structures.define(definition)
    assert info.value.details["field"] == field  # type: ignore[attr-defined]
    assert info.value.code == "invalid_structure"


def test_define_refuses_empty_hierarchy(sqlite_store: Store) -> None:
    with pytest.raises(InvalidHierarchyError):
        sqlite_store.structures.define(StructureDefinition(name="e", kind="hierarchy", hierarchy={}))


def test_define_twice_conflicts_and_delete_frees_name(sqlite_store: Store) -> None:
    _save(sqlite_store, "a", "b")
    definition = StructureDefinition(name="s", kind="composition", components=("a", "b"))
    sqlite_store.structures.define(definition)
    with pytest.raises(StructureExistsError):
        sqlite_store.structures.define(definition)
    sqlite_store.structures.delete("s")
    with pytest.raises(StructureNotFoundError):
        sqlite_store.structures.get("s")
    with pytest.raises(StructureNotFoundError):
        sqlite_store.structures.delete("s")
    assert sqlite_store.structures.define(definition).name == "s"
