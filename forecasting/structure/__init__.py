"""Coherent structures: hierarchies whose aggregates equal the sum of their parts, and
compositions whose shares sum to 1.

- :func:`forecast_hierarchy`: every node of a (nested or grouped) sum structure, reconciled
  (bottom-up, OLS, WLS, MinT-shrink), intervals from reconciled joint sample paths.
- :func:`forecast_shares`: a composition on log-ratio coordinates; means sum to 1, bounds in
  [0, 1].
- :func:`hierarchy_from_tags`: the grouped hierarchy of series by their tags.
- :func:`forecast_share_values`: share times total (e.g. exports settled in yuan) from joint
  paths of a composition and a total.

Design notes and the benchmark are in ``docs/structure.md``.
"""

from __future__ import annotations

from forecasting.structure._hierarchy import Hierarchy, build_hierarchy
from forecasting.structure.hierarchy import DEFAULT_METHOD, forecast_hierarchy
from forecasting.structure.reconcile import METHODS, reconciliation_matrix, shrunk_covariance
from forecasting.structure.shares import (
    SharePaths,
    closure,
    forecast_share_values,
    forecast_shares,
    replace_zeros,
    simulate_shares,
)
from forecasting.structure.tags import hierarchy_from_tags, tag_node_id

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Hierarchy",
    "SharePaths",
    "build_hierarchy",
    "closure",
    "forecast_hierarchy",
    "forecast_share_values",
    "forecast_shares",
    "hierarchy_from_tags",
    "reconciliation_matrix",
    "replace_zeros",
    "shrunk_covariance",
    "simulate_shares",
    "tag_node_id",
]
