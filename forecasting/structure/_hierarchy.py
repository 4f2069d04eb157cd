"""The summing structure of a hierarchy: validation, node order and the summing matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from forecasting.exceptions import HierarchyCycleError, InvalidHierarchyError

__all__ = ["Hierarchy", "build_hierarchy"]


@dataclass(frozen=True)
class Hierarchy:
    """A validated hierarchy.

    Attributes
    ----------
    nodes : tuple of str
        Every id: the aggregates first (each before the aggregates it sums), then the bottom
        ids in the order given.
    bottom : tuple of str
        Ids that sum nothing (the series a bottom-up forecast adds up).
    children : dict of str to tuple of str
        Each aggregate and the ids it sums, as given.
    summing : ndarray of shape (len(nodes), len(bottom))
        The summing matrix ``S``: row ``i`` counts how often each bottom id enters node ``i``.
    """

    nodes: tuple[str, ...]
    bottom: tuple[str, ...]
    children: dict[str, tuple[str, ...]]
    summing: np.ndarray

    @property
    def aggregates(self) -> tuple[str, ...]:
        """The ids that are sums of other ids."""
        return self.nodes[: len(self.nodes) - len(self.bottom)]


def _check_mapping(hierarchy: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(hierarchy, Mapping) or not hierarchy:
        raise InvalidHierarchyError(
            f"hierarchy must be a non-empty mapping of aggregate id -> list of the ids it sums; got {hierarchy!r}."
        )
    children: dict[str, tuple[str, ...]] = {}
    for parent, kids in hierarchy.items():
        if not isinstance(parent, str) or not parent:
            raise InvalidHierarchyError(f"hierarchy keys must be non-empty ids (str); got {parent!r}.")
        if isinstance(kids, str) or not isinstance(kids, Iterable):
            raise InvalidHierarchyError(
                f"hierarchy[{parent!r}] must be a list of the ids it sums; got {kids!r} (wrap a single id in a list)."
            )
        kids = tuple(kids)
        if not kids or not all(isinstance(k, str) and k for k in kids):
            raise InvalidHierarchyError(
                f"hierarchy[{parent!r}] must list at least one id, every one a non-empty str; got {list(kids)!r}."
            )
        children[parent] = kids
    return children


def _topological(children: dict[str, tuple[str, ...]]) -> list[str]:
    """Aggregates ordered parents first; raises on a cycle, naming it."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2 or node not in children:
            return
        if state.get(node) == 1:
            cycle = [*path[path.index(node) :], node]
            raise HierarchyCycleError(
                f"hierarchy has a cycle: {' -> '.join(cycle)}; an aggregate cannot sum itself, directly or not."
            )
        state[node] = 1
        for kid in children[node]:
            visit(kid, [*path, node])
        state[node] = 2
        order.append(node)

    for parent in children:
        visit(parent, [])
    return order[::-1]


def build_hierarchy(hierarchy: Mapping[str, Sequence[str]]) -> Hierarchy:
    """Validate ``hierarchy`` (aggregate id -> ids it sums) and build its summing matrix.

    Nesting (an aggregate of aggregates) and shared children (an id summed by several
    aggregates, as in a grouped structure: partner totals and flow totals over the same
    partner-by-flow series) are allowed.

    Raises
    ------
    InvalidHierarchyError
        Not a mapping of ids to non-empty lists of ids.
    HierarchyCycleError
        An id sums itself, directly or through other aggregates (the cycle is named).
    """
    children = _check_mapping(hierarchy)
    aggregates = _topological(children)
    bottom: list[str] = []
    for kids in children.values():
        bottom.extend(k for k in kids if k not in children and k not in bottom)
    col = {b: j for j, b in enumerate(bottom)}
    rows: dict[str, np.ndarray] = {}
    for node in bottom:
        rows[node] = np.eye(len(bottom))[col[node]]
    for node in reversed(aggregates):  # children before parents
        rows[node] = np.sum([rows[k] for k in children[node]], axis=0)
    nodes = (*aggregates, *bottom)
    summing = np.vstack([rows[n] for n in nodes])
    return Hierarchy(nodes=nodes, bottom=tuple(bottom), children=children, summing=summing)
