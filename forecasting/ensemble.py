"""Combinations of models and their intervals.

The combined point forecast is the mean (or median) of the members' point forecasts. The
combined intervals are quantiles of the equal-weight mixture of the members' forecast
distributions (each taken as normal, with the spread implied by its own 80% interval), so
that disagreement between members widens the band; bounds are never averaged.

A member that fails on a series (its fit or its forecast raises, or its forecast frame fails
the base checks: non-finite values, an interval that does not contain its mean) is dropped
for that series with a :class:`~forecasting.exceptions.MemberDroppedWarning`, and the
combination is taken over the members left (equal weights). Only when every member fails
does the combination raise :class:`~forecasting.exceptions.ModelFitError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sklearn.base import clone

from forecasting.base import BaseForecaster, Intervals, ModelTags
from forecasting.exceptions import ForecastingError, InvalidParameterError, MemberDroppedWarning, ModelFitError
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.models.catalog import build_member
from forecasting.seasonality import z_value
from forecasting.validation import check_horizon, check_is_fitted

__all__ = ["Ensemble", "mixture_intervals", "mixture_quantiles", "pooled_intervals"]

_SPREAD_LEVEL = 80
_COMBINES = ("mean", "median")


def mixture_quantiles(means: np.ndarray, sds: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Quantiles of an equal-weight mixture of normals, per column.

    Parameters
    ----------
    means, sds : ndarray of shape (k, horizon)
        Member means and standard deviations.
    probs : sequence of float
        Probabilities in (0, 1).

    Returns
    -------
    ndarray of shape (len(probs), horizon)
    """
    sds = np.maximum(sds, 1e-12 * (1.0 + np.abs(means)))
    p = np.asarray(probs, dtype=float)[:, None]
    # All probabilities and steps at once: bracket of shape (len(probs), horizon).
    lo = np.broadcast_to((means - 10.0 * sds).min(axis=0), (len(p), means.shape[1])).copy()
    hi = np.broadcast_to((means + 10.0 * sds).max(axis=0), (len(p), means.shape[1])).copy()
    for _ in range(60):  # bisection: 60 halvings of a 20-sd bracket reach float precision
        mid = 0.5 * (lo + hi)
        cdf = ndtr((mid[:, None, :] - means[None]) / sds[None]).mean(axis=1)
        below = cdf < p
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return np.asarray(0.5 * (lo + hi))


class Ensemble(BaseForecaster):
    """Equal-weight combination of registered models.

    Members that need more observations than the series has are left out; a member that
    fails to fit or to forecast (see the module docstring) is dropped with a
    :class:`MemberDroppedWarning`. At least one must forecast.

    Parameters
    ----------
    members : tuple of str or BaseForecaster
        Registered model names or model instances. Default ETS, ARIMA on seasonally
        adjusted data (``sa_arima``: seasonal ARIMA costs seconds per monthly series and
        measured no better) and dynamic optimised Theta.
    combine : {"mean", "median"}
        How point forecasts are combined.
    season_length : int or None
        Passed to every member that takes it; None lets each infer it from the index.
    """

    tags: ClassVar[ModelTags] = replace(BaseForecaster.tags, supports_intervals=True, min_obs=4)
    interval_method: ClassVar[str] = "quantiles of the equal-weight mixture of the members' distributions"

    def __init__(
        self,
        members: tuple[str | BaseForecaster, ...] = ("ets", "sa_arima", "optimized_theta"),
        combine: str = "mean",
        season_length: int | None = None,
    ) -> None:
        self.members = members
        self.combine = combine
        self.season_length = season_length

    def _member_names(self) -> tuple[str | BaseForecaster, ...]:
        return tuple(self.members)

    def _build_members(self) -> list[tuple[str, BaseForecaster]]:
        names = self._member_names()
        if not names or isinstance(names, str):
            raise InvalidParameterError(f"{type(self).__name__}(members={names!r}): give a tuple of model names.")
        built = []
        for entry in names:
            name, model = build_member(entry)
            if "season_length" in model.get_params() and self.season_length is not None:
                model.set_params(season_length=self.season_length)
            built.append((name, model))
        return built

    def min_obs(self) -> int:
        try:
            members = self._build_members()
        except ForecastingError:
            return self.tags.min_obs
        return max(self.tags.min_obs, min(_member_min_obs(m, self) for _, m in members))

    def _fit(self, y: pd.Series) -> None:
        if self.combine not in _COMBINES:
            raise InvalidParameterError(f"{type(self).__name__}(combine={self.combine!r}): choose one of {_COMBINES}.")
        fitted: list[tuple[str, BaseForecaster]] = []
        skipped: dict[str, str] = {}
        for name, model in self._build_members():
            if len(y) < _member_min_obs(model, self):
                skipped[name] = "series too short"
                continue
            try:
                fitted.append((name, model.fit(y)))
            # Any failure of one member (statsforecast raises AttributeError on some flat
            # series) must not fail the combination while another member can forecast.
            except Exception as exc:
                skipped[name] = _reason(exc)
                _warn_dropped(self, name, "could not be fitted", skipped[name])
        if not fitted:
            reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
            raise ModelFitError(f"{type(self).__name__}: no member could be fitted ({reasons}).")
        self.members_ = fitted
        self.params_ = {
            "members": {name: getattr(m, "params_", {}) for name, m in fitted},
            "skipped": skipped,
            "combine": self.combine,
        }

    def member_moments(self, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The combined point forecast and the members' means (shifted so that their mean is
        the point forecast) and standard deviations (from their own 80% intervals), each of
        shape (members, horizon).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidParameterError
            A horizon that is not a positive integer within the allowed range.
        """
        check_is_fitted(self)
        horizon = check_horizon(horizon)
        _, frames = self.member_forecasts(horizon)
        return _moments(frames, self.combine)

    def member_forecasts(self, horizon: int) -> tuple[list[tuple[str, BaseForecaster]], list[pd.DataFrame]]:
        """The members that forecast ``horizon`` steps with their 80% frames, and those frames.

        A member whose ``predict`` raises (including the base checks of its frame) is
        dropped with a :class:`MemberDroppedWarning`.

        Raises
        ------
        ModelFitError
            When no member can forecast.
        """
        check_is_fitted(self)
        kept: list[tuple[str, BaseForecaster]] = []
        frames: list[pd.DataFrame] = []
        failed: dict[str, str] = {}
        for name, member in self.members_:
            try:
                frames.append(member.predict(horizon, levels=(_SPREAD_LEVEL,)))
            except Exception as exc:  # see _fit: one member never fails the combination
                failed[name] = _reason(exc)
                _warn_dropped(self, name, "could not forecast", failed[name])
                continue
            kept.append((name, member))
        if not kept:
            reasons = "; ".join(f"{k}: {v}" for k, v in failed.items())
            raise ModelFitError(f"{type(self).__name__}: no member could forecast this series ({reasons}).")
        return kept, frames

    def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, Intervals]:
        point, shifted, sds = self.member_moments(horizon)
        if not levels:
            return point, {}
        return point, mixture_intervals(shifted, sds, levels)

    def _raw_paths(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Each path follows one member's own paths from start to end (shifted like the
        members' means in :meth:`member_moments`), members taking equal shares of the paths:
        the equal-weight mixture, with each member's dependence across steps."""
        members, frames = self.member_forecasts(check_horizon(horizon))
        while True:
            _, shifted, _ = _moments(frames, self.combine)
            try:
                return _member_paths(members, shifted, frames, horizon, n_paths, rng)
            except _MemberPathsError as exc:
                if len(members) == 1:
                    raise ModelFitError(f"{type(self).__name__}: no member could simulate paths ({exc}).") from exc
                _warn_dropped(self, members[exc.position][0], "could not simulate paths", str(exc))
                del members[exc.position], frames[exc.position]


class _MemberPathsError(Exception):
    """One member's simulation failed (``position`` in the member list)."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position


def _member_paths(
    members: list[tuple[str, BaseForecaster]],
    shifted: np.ndarray,
    frames: list[pd.DataFrame],
    horizon: int,
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    owner = rng.permutation(np.arange(n_paths) % len(members))
    raw = np.empty((horizon, n_paths))
    for i, (_, member) in enumerate(members):
        mine = np.flatnonzero(owner == i)
        if mine.size:
            offset = shifted[i] - frames[i][MEAN].to_numpy()
            try:
                drawn = member._sample_paths(horizon, mine.size, rng)
            except Exception as exc:  # see Ensemble._fit
                raise _MemberPathsError(i, _reason(exc)) from exc
            raw[:, mine] = drawn + offset[:, None]
    return raw


def _moments(frames: Sequence[pd.DataFrame], combine: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point forecast, shifted member means and member sds from the members' 80% frames."""
    means = np.vstack([f[MEAN].to_numpy() for f in frames])
    width = [(f[hi_col(_SPREAD_LEVEL)] - f[lo_col(_SPREAD_LEVEL)]).to_numpy() for f in frames]
    sds = np.vstack(width) / (2 * z_value(_SPREAD_LEVEL))
    point = np.median(means, axis=0) if combine == "median" else means.mean(axis=0)
    # Centre the mixture on the combined point forecast so intervals contain it.
    return point, means - means.mean(axis=0) + point, sds


def _reason(exc: BaseException) -> str:
    """A member's failure as one line: our typed errors speak for themselves, others get their type."""
    text = str(exc).strip() or "no message"
    return text if isinstance(exc, ForecastingError) else f"{type(exc).__name__}: {text}"


def _warn_dropped(parent: BaseForecaster, name: str, what: str, reason: str) -> None:
    warnings.warn(
        f"{type(parent).__name__}: member {name!r} {what} on this series and was dropped; the other members "
        f"were combined with equal weights ({reason}).",
        MemberDroppedWarning,
        stacklevel=4,
    )


def mixture_intervals(
    means: np.ndarray, sds: np.ndarray, levels: Sequence[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Central intervals of the equal-weight mixture of normals (``means``, ``sds`` of shape
    (members, horizon)) at each level."""
    probs = [p for lv in levels for p in (0.5 - lv / 200.0, 0.5 + lv / 200.0)]
    q = mixture_quantiles(means, sds, probs)
    return {lv: (q[2 * i], q[2 * i + 1]) for i, lv in enumerate(levels)}


def pooled_intervals(
    point: np.ndarray, sds: np.ndarray, levels: Sequence[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Normal intervals around ``point`` with the members' pooled standard deviation
    (root mean square of ``sds``, shape (members, horizon)): the mixture's spread without
    the part that comes from the members' disagreement."""
    sd = np.sqrt(np.mean(np.square(sds), axis=0))
    return {lv: (point - z_value(lv) * sd, point + z_value(lv) * sd) for lv in levels}


def _member_min_obs(model: BaseForecaster, parent: BaseForecaster) -> int:
    probe = clone(model)
    given = getattr(probe, "season_length", None)
    probe.season_length_ = given if given is not None else getattr(parent, "season_length_", 1)
    return int(probe.min_obs())
