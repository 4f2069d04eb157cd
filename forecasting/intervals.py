"""Level↔quantile helpers and the width calibration applied to ``auto``'s intervals.

Calibration
-----------
Model-based intervals assume the model is right and its parameters known; on short annual
series that makes them too narrow (M4: R's ets covered ~84% at 95%). :class:`WidthCalibration`
holds multiplicative factors on each side's half-width, per season length, series-length
bucket (and, for some season lengths, volatility bucket), step ahead and level. This module is
the runtime half only: the shipped table ``forecasting/calibration/auto.json`` and its lookup.
How the table is learned is a developer matter, documented in ``docs/intervals.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BANDS",
    "MIXTURE",
    "POOLED",
    "WidthCalibration",
    "add_trend_uncertainty",
    "apply_width_factors",
    "cap_member_sds",
    "level_to_quantiles",
    "load_calibration",
    "volatility",
]


MIXTURE = "mixture"
POOLED = "pooled"
#: The base bands a factor table can scale: quantiles of the equal-weight mixture of the
#: members' normal distributions (member disagreement widens it), or a normal band around the
#: point forecast with the members' pooled sd (root mean square; disagreement does not widen it).
BANDS = (MIXTURE, POOLED)


def volatility(y: np.ndarray | pd.Series) -> float | None:
    """Standard deviation of the period-on-period log changes of ``y``: the feature of the
    volatility buckets of :class:`WidthCalibration`.

    None when it has no scale-free meaning: fewer than three values, or a value that is not
    strictly positive (including shares, which ``auto`` sees on the logit scale). Such series
    use the middle volatility bucket.
    """
    values = np.asarray(y, dtype=float)
    if values.size < 3 or not np.all(np.isfinite(values)) or not np.all(values > 0):
        return None
    return float(np.std(np.diff(np.log(values)), ddof=1))


def cap_member_sds(sds: np.ndarray, cap: float | None) -> np.ndarray:
    """Members' standard deviations (shape (members, horizon)) limited to ``cap`` times their
    median at each step; unchanged when ``cap`` is None.

    Capping leaves the median itself unchanged (for ``cap >= 1``), so applying it twice gives
    the same result as once.
    """
    if cap is None:
        return sds
    return np.asarray(np.minimum(sds, cap * np.median(sds, axis=0)))


def add_trend_uncertainty(sds: np.ndarray, n_obs: int, multiple: float | None, below: int) -> np.ndarray:
    r"""Members' standard deviations (shape (members, horizon)) widened by the sampling error of
    a trend estimated from ``n_obs`` observations, for fits under ``below`` observations;
    unchanged for longer fits or when ``multiple`` is None.

    Notes
    -----
    A random walk with drift whose drift is the mean of ``n - 1`` changes with sd
    :math:`\sigma` has a drift error of variance :math:`\sigma^2 / (n - 1)`, which adds
    :math:`h^2 \sigma^2 / (n - 1)` to the error variance ``h`` steps ahead. The members'
    own intervals leave this out (their parameters are taken as known), which matters only on
    short fits. Each member's step-``h`` variance gets :math:`(c\, h\, s_1)^2 / (n - 1)`, with
    :math:`s_1` its own one-step sd and :math:`c` = ``multiple`` (1 is the formula above).
    """
    if multiple is None or n_obs >= below or sds.shape[1] == 0:
        return sds
    steps = np.arange(1, sds.shape[1] + 1, dtype=float)
    extra = multiple * steps[None, :] * sds[:, :1] / np.sqrt(max(n_obs - 1, 1))
    return np.asarray(np.sqrt(np.square(sds) + np.square(extra)))


def level_to_quantiles(level: int) -> tuple[float, float]:
    """The (lower, upper) probabilities of a central ``level`` percent interval."""
    return 0.5 - level / 200.0, 0.5 + level / 200.0


@dataclass(frozen=True)
class WidthCalibration:
    """Half-width factors by (season length, length bucket[, volatility bucket]) → step
    ahead × level.

    Attributes
    ----------
    levels : tuple of int
        The grid of levels the factors were learned at (ascending).
    length_edges : tuple of int
        Series-length bucket edges: bucket ``i`` holds ``edges[i-1] <= n < edges[i]``.
    edges_by_season : mapping of int to tuple of int
        Bucket edges for particular season lengths, overriding ``length_edges``.
    factors : mapping
        ``"m<season_length>_b<bucket>"`` (``"..._v<bucket>"`` where volatility buckets
        apply) → array of shape (steps, len(levels)).
    source : str
        What the factors depend on, in words; shown to users in ``interval_method``.
    meta : mapping
        Provenance and diagnostics of the learning (for developers; not shown to users).
    volatility_edges : mapping of int to tuple of float
        Volatility bucket edges (of :func:`volatility`) for the season lengths whose tables
        are also split by volatility; bucket ``i`` holds ``edges[i-1] <= v < edges[i]``.
    bands : mapping of str to str
        Table key → the base band its factors scale, where it is not the default
        ``"mixture"``: ``"pooled"`` (see :data:`BANDS`).
    sd_cap : float or None
        Before the base band is built, each member's standard deviation is limited to
        ``sd_cap`` times the median of the members' standard deviations at that step
        (:func:`cap_member_sds`); None leaves them as they are. One member with an explosive
        variance (a multiplicative-trend ETS on a volatile annual series, say) otherwise sets
        the width of the whole band.
    trend_term : float or None
        For fits under ``trend_term_below`` observations, each member's variance gets the
        sampling error of an estimated trend, ``trend_term`` times the random-walk-with-drift
        formula (:func:`add_trend_uncertainty`), after the cap and before the base band is
        built; None leaves it out.
    trend_term_below : int
        The fit length from which the trend term is no longer added.
    """

    levels: tuple[int, ...]
    length_edges: tuple[int, ...]
    factors: Mapping[str, np.ndarray]
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    edges_by_season: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    volatility_edges: Mapping[int, tuple[float, ...]] = field(default_factory=dict)
    bands: Mapping[str, str] = field(default_factory=dict)
    sd_cap: float | None = None
    trend_term: float | None = None
    trend_term_below: int = 16

    def member_sds(self, sds: np.ndarray, n_obs: int, trend: bool = True) -> np.ndarray:
        """The members' sds the base band is built from: capped (:attr:`sd_cap`), then
        widened on short fits (:attr:`trend_term`) unless ``trend`` is False (members whose
        variance already includes the trend's estimation error)."""
        capped = cap_member_sds(sds, self.sd_cap)
        return add_trend_uncertainty(capped, n_obs, self.trend_term if trend else None, self.trend_term_below)

    def bucket(self, n_obs: int, season_length: int | None = None) -> int:
        """Index of the length bucket holding ``n_obs`` (for ``season_length``'s edges)."""
        edges = self.edges_by_season.get(season_length, self.length_edges) if season_length else self.length_edges
        return int(np.searchsorted(np.asarray(edges), n_obs, side="right"))

    def key(self, season_length: int, n_obs: int, vol: float | None = None) -> str:
        """The table key of a series: ``"m<season>_b<length bucket>"``, plus
        ``"_v<volatility bucket>"`` when its season length has volatility buckets (a series
        whose volatility is not given falls in the middle bucket)."""
        key = f"m{season_length}_b{self.bucket(n_obs, season_length)}"
        edges = self.volatility_edges.get(season_length)
        if edges:
            v = len(edges) // 2 if vol is None else int(np.searchsorted(np.asarray(edges), vol, side="right"))
            key += f"_v{v}"
        return key

    def table_key(self, season_length: int, n_obs: int, vol: float | None = None) -> str | None:
        """The key of the table a series uses: its own cell if one was learned, otherwise the
        nearest learned cell (length, then volatility bucket) of its season length; None when
        nothing was learned for its season length."""
        key = self.key(season_length, n_obs, vol)
        if key in self.factors:
            return key

        def cell(k: str) -> tuple[int, int]:
            parts = dict((p[0], int(p[1:])) for p in k.split("_")[1:])
            return parts.get("b", 0), parts.get("v", 0)

        b, v = cell(key)
        same = sorted(
            (abs(cell(k)[0] - b), abs(cell(k)[1] - v), k) for k in self.factors if k.startswith(f"m{season_length}_")
        )
        return same[0][2] if same else None

    def table(self, season_length: int, n_obs: int, vol: float | None = None) -> np.ndarray | None:
        """The factor table for a series, or None when nothing was learned for its kind."""
        key = self.table_key(season_length, n_obs, vol)
        return None if key is None else np.asarray(self.factors[key])

    def band(self, season_length: int, n_obs: int, vol: float | None = None) -> str:
        """The base band the factors of a series' table scale: ``"mixture"`` (quantiles of
        the members' mixture) or ``"pooled"`` (normal with the members' pooled sd)."""
        key = self.table_key(season_length, n_obs, vol)
        return self.bands.get(key, MIXTURE) if key is not None else MIXTURE

    def factor(
        self, season_length: int, n_obs: int, horizon: int, level: int, vol: float | None = None
    ) -> np.ndarray | None:
        """Factors for steps 1..horizon at ``level`` (interpolated between grid levels).

        Steps beyond the learned ones reuse the last learned step; levels outside the grid
        use the nearest grid level. ``vol`` is the series' :func:`volatility`.
        """
        table = self.table(season_length, n_obs, vol)
        if table is None:
            return None
        steps = np.minimum(np.arange(horizon), table.shape[0] - 1)
        grid = np.asarray(self.levels, dtype=float)
        per_step = table[steps]
        return np.array([np.interp(float(level), grid, row) for row in per_step])

    def to_json(self) -> str:
        """Serialise (the inverse of :func:`load_calibration` on a path)."""
        return json.dumps(
            {
                "levels": list(self.levels),
                "length_edges": list(self.length_edges),
                "edges_by_season": {str(m): list(e) for m, e in self.edges_by_season.items()},
                "volatility_edges": {str(m): [round(float(v), 6) for v in e] for m, e in self.volatility_edges.items()},
                "bands": dict(self.bands),
                **({"sd_cap": self.sd_cap} if self.sd_cap is not None else {}),
                **(
                    {"trend_term": self.trend_term, "trend_term_below": self.trend_term_below}
                    if self.trend_term is not None
                    else {}
                ),
                "factors": {k: np.round(np.asarray(v), 4).tolist() for k, v in self.factors.items()},
                "source": self.source,
                "meta": dict(self.meta),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> WidthCalibration:
        raw = json.loads(text)
        return cls(
            levels=tuple(int(v) for v in raw["levels"]),
            length_edges=tuple(int(v) for v in raw["length_edges"]),
            edges_by_season={int(m): tuple(int(v) for v in e) for m, e in raw.get("edges_by_season", {}).items()},
            volatility_edges={int(m): tuple(float(v) for v in e) for m, e in raw.get("volatility_edges", {}).items()},
            factors={k: np.asarray(v, dtype=float) for k, v in raw["factors"].items()},
            bands={str(k): str(v) for k, v in raw.get("bands", {}).items()},
            sd_cap=None if raw.get("sd_cap") is None else float(raw["sd_cap"]),
            trend_term=None if raw.get("trend_term") is None else float(raw["trend_term"]),
            trend_term_below=int(raw.get("trend_term_below", 16)),
            source=str(raw.get("source", "")),
            meta=dict(raw.get("meta", {})),
        )


_CACHE: dict[str, WidthCalibration | None] = {}


def load_calibration(name: str = "auto") -> WidthCalibration | None:
    """The packaged calibration ``forecasting/calibration/<name>.json``, or None if absent."""
    if name not in _CACHE:
        path = resources.files("forecasting.calibration").joinpath(f"{name}.json")
        _CACHE[name] = WidthCalibration.from_json(path.read_text()) if path.is_file() else None
    return _CACHE[name]


def apply_width_factors(
    mean: np.ndarray,
    intervals: Mapping[int, tuple[np.ndarray, np.ndarray]],
    factors: Mapping[int, np.ndarray],
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Scale each side's half-width by its factor; keep wider levels containing narrower ones."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    prev_lo, prev_hi = mean, mean
    for level in sorted(intervals):
        lo, hi = intervals[level]
        k = factors.get(level)
        if k is not None:
            lo = mean - k * (mean - lo)
            hi = mean + k * (hi - mean)
        lo, hi = np.minimum(lo, prev_lo), np.maximum(hi, prev_hi)
        out[level] = (lo, hi)
        prev_lo, prev_hi = lo, hi
    return out
