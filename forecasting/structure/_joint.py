"""Joint sample paths of several series: base forecasts on the executor, coupled by a copula.

Each series gets its own model, point forecast and sample paths (``BaseForecaster.sample_paths``:
the model's dependence across steps and exactly the marginals ``forecast`` reports). Paths of
different series are then paired so that they co-move as the series' in-sample one-step
residuals did: a Gaussian copula with the shrunk residual correlation, applied by reordering
whole paths (the Iman-Conover / Schaake-shuffle idea), so no path of any series is changed,
only which path of one series goes with which path of another.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.base import BaseForecaster
from forecasting.core import build_gap_model, build_model
from forecasting.exceptions import FallbackWarning, ForecastingError, InvalidParameterError
from forecasting.executor import get_executor, warning_class
from forecasting.models.statespace import Structural
from forecasting.structure.reconcile import shrunk_correlation
from forecasting.validation import infer_season_length

#: ``progress(n_done, n_total, item)``: told how many series of a structure are fitted, and which
#: one just was (``item`` is empty on the first call, before any fit). A plain callable, so that
#: callers record progress wherever they keep it (the service: its job table).
ProgressCallback = Callable[[int, int, str], None]

__all__ = ["NodeDraws", "ProgressCallback", "couple_paths", "draw_nodes", "in_sample_residuals", "residual_matrix"]

_FALLBACKS = ("naive2", "naive")


def _gap_fallbacks() -> tuple[str | BaseForecaster, ...]:
    """Under ``missing="model"``: ``structural``, then its simplest form (a local level, no
    seasonal), whose filter stays finite where the full model's can diverge on short, sparse
    series."""
    return ("structural", Structural(seasonal=False, trend="local level"))


@dataclass(frozen=True)
class NodeDraws:
    """One series' base forecast: point forecast, sample paths, in-sample residuals, model used."""

    mean: np.ndarray  # (horizon,)
    paths: np.ndarray  # (horizon, n_paths)
    residuals: np.ndarray  # (n_obs,), NaN where the model has no fitted value
    model: str


def _engine_fitted(model: BaseForecaster, arr: np.ndarray) -> np.ndarray | None:
    found = getattr(getattr(model, "engine_", None), "model_", None)
    if not isinstance(found, dict):
        return None
    if "fitted" in found:
        return np.asarray(np.asarray(found["fitted"], dtype=float).ravel())
    if "residuals" in found:  # ARIMA keeps additive residuals only
        return np.asarray(arr - np.asarray(found["residuals"], dtype=float).ravel())
    return None


def _fitted_values(model: BaseForecaster, arr: np.ndarray) -> np.ndarray | None:
    if hasattr(model, "residuals_"):
        return np.asarray(arr - np.asarray(model.residuals_, dtype=float))
    fitted = _engine_fitted(model, arr)
    if fitted is not None and fitted.shape == arr.shape:
        return fitted
    members = getattr(model, "members_", None)
    if members:
        found = [f for f in (_fitted_values(m, arr) for _, m in members) if f is not None]
        if found:
            return np.asarray(np.nanmean(np.vstack(found), axis=0), dtype=float)
    return None


def in_sample_residuals(model: BaseForecaster, y: pd.Series) -> np.ndarray:
    """One-step in-sample residuals of a fitted model (NaN where undefined).

    Read from the model where it keeps them (naive family ``residuals_``, statsforecast
    engines' fitted values; for a combination, the mean of its members' fitted values).
    Otherwise the seasonal-naive one-step errors of ``y``, a model-free proxy of the same
    scale and cross-series correlation.
    """
    arr = y.to_numpy(dtype=float)
    fitted = _fitted_values(model, arr)
    if fitted is None or fitted.shape != arr.shape:
        lag = max(infer_season_length(y.index), 1)
        fitted = np.r_[np.full(lag, np.nan), arr[:-lag]] if len(arr) > lag else np.full(len(arr), np.nan)
    resid = arr - fitted
    resid[~np.isfinite(resid)] = np.nan
    return np.asarray(resid)


def _build(candidate: str | BaseForecaster, missing: str, kind: str) -> BaseForecaster:
    return build_gap_model(candidate, kind) if missing == "model" else build_model(candidate, kind)


def _draw_one(
    y: pd.Series,
    horizon: int,
    n_paths: int,
    model: str | BaseForecaster,
    seed: int,
    missing: str = "error",
    kind: str = "level",
    centre: tuple[str, BaseForecaster] | None = None,
) -> NodeDraws:
    """Fit one series (falling back to naive2, then naive) and draw its paths (runs in a worker).

    Under ``missing="model"`` the series may have gaps: the model is the state-space one
    :func:`forecasting.forecast` would fit, falling back to ``structural``, then to a local
    level. With ``centre``,
    the point forecast and residuals of ``model`` are replaced by ``centre``'s (see
    :func:`_centred`).
    """
    fallbacks = _gap_fallbacks() if missing == "model" else _FALLBACKS
    chain: list[str | BaseForecaster] = [model, *[m for m in fallbacks if m != model]]
    last: Exception | None = None
    for candidate in chain:
        try:
            fitted = _build(candidate, missing, kind).fit(y)
            mean = fitted.predict(horizon).to_numpy()[:, 0]
            paths = fitted.sample_paths(horizon, n_paths, random_state=seed).to_numpy()
        except InvalidParameterError:
            raise
        except (ForecastingError, ArithmeticError, ValueError) as exc:
            last = exc
            continue
        name = candidate if isinstance(candidate, str) else type(candidate).__name__
        if candidate is not model:
            warnings.warn(
                f"series {y.name!r}: model {model!r} failed ({last}); used {name!r}.", FallbackWarning, stacklevel=2
            )
        draws = NodeDraws(mean, paths, in_sample_residuals(fitted, y), name)
        return _centred(draws, fitted, y, horizon, centre) if centre is not None and candidate is model else draws
    assert last is not None
    raise last


def _member_like(fitted: BaseForecaster, centre: BaseForecaster) -> BaseForecaster | None:
    """The fitted member of a combination that is ``centre`` (same class and parameters but the season length)."""
    wanted = {k: v for k, v in centre.get_params().items() if k != "season_length"}
    for _, member in getattr(fitted, "members_", ()):
        params = {k: v for k, v in member.get_params().items() if k != "season_length"}
        if type(member) is type(centre) and params == wanted:
            return member
    return None


def _centred(
    draws: NodeDraws, fitted: BaseForecaster, y: pd.Series, horizon: int, centre: tuple[str, BaseForecaster]
) -> NodeDraws:
    """``draws`` with the point forecast and in-sample residuals of ``centre`` (label, model), the paths kept.

    ``centre`` is taken from ``fitted``'s members when it is one of them (``auto`` fits the
    untested AutoETS on monthly data), so it costs no second fit; otherwise it is fitted
    here. The paths are re-centred on the new point forecast by the reconciliation. If
    ``centre`` cannot take the series (too short, a failed fit) the draws stay as they were.
    """
    label, wanted = centre
    model = _member_like(fitted, wanted)
    try:
        model = model if model is not None else clone(wanted).fit(y)
        mean = model.predict(horizon).to_numpy()[:, 0]
    except (ForecastingError, ArithmeticError, ValueError):
        return draws
    if not np.all(np.isfinite(mean)):
        return draws
    return NodeDraws(mean, draws.paths, in_sample_residuals(model, y), f"{label}@{draws.model}")


def draw_nodes(
    series: Mapping[str, pd.Series],
    horizon: int,
    n_paths: int,
    model: str | BaseForecaster,
    seed: int | None,
    n_jobs: int,
    backend: str | None = None,
    *,
    missing: str = "error",
    kind: str = "level",
    centre: tuple[str, BaseForecaster] | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, NodeDraws]:
    """Base forecasts and sample paths of every series, on the executor.

    Warnings raised in the workers are re-emitted here; the first failure (no model of the
    fallback chain could take a series) is raised. ``missing`` and ``kind`` are as for
    :func:`forecasting.forecast`. With ``centre`` (a label and a model), each series' point
    forecast and in-sample residuals are that model's and its paths ``model``'s, labelled
    ``"<label>@<model>"``; a series the centre model cannot take keeps ``model``'s.
    ``progress(n_done, n_total, item)`` is called with ``(0, n_total, "")`` before the first
    fit and once after each series is fitted (in this process, in the order they finish).
    """
    seeds = np.random.SeedSequence(seed).generate_state(len(series))
    out: dict[str, NodeDraws] = {}
    if progress is not None:
        progress(0, len(series), "")
    with get_executor(n_jobs, n_tasks=len(series), backend=backend) as executor:
        tasks = (
            (uid, functools.partial(_draw_one, y.rename(uid), horizon, n_paths, model, int(s), missing, kind, centre))
            for (uid, y), s in zip(series.items(), seeds, strict=True)
        )
        for uid, result in executor.stream(tasks):
            for note in result.notes:
                warnings.warn(note.message, warning_class(note.code), stacklevel=3)
            out[uid] = result.unwrap()
            if progress is not None:
                progress(len(out), len(series), uid)
    return {uid: out[uid] for uid in series}


def residual_matrix(series: Mapping[str, pd.Series], draws: Mapping[str, NodeDraws]) -> np.ndarray:
    """Residuals of every series aligned on their periods (n_periods, n_series), NaN where absent."""
    aligned = pd.concat([pd.Series(draws[uid].residuals, index=y.index, name=uid) for uid, y in series.items()], axis=1)
    return np.asarray(aligned.to_numpy(dtype=float))


def couple_paths(paths: list[np.ndarray], residuals: np.ndarray, seed: int | None) -> list[np.ndarray]:
    """Reorder each series' paths so that series co-move like their residuals.

    Parameters
    ----------
    paths : list of ndarray (horizon, n_paths)
        One array per series.
    residuals : ndarray (n_obs, n_series)
        In-sample residuals, NaN where unknown.
    seed : int or None
        Seed of the copula draws.

    Returns
    -------
    list of ndarray
        The same paths, columns permuted: a path's average standardized position over the
        steps has, across series, the rank correlation of a Gaussian copula with the shrunk
        residual correlation.
    """
    n_series = len(paths)
    if n_series < 2:
        return paths
    corr = shrunk_correlation(residuals)
    n_paths = paths[0].shape[1]
    rng = np.random.default_rng(None if seed is None else seed + 7919)
    z = rng.multivariate_normal(np.zeros(n_series), corr, size=n_paths, method="eigh")
    out = []
    for i, p in enumerate(paths):
        sd = p.std(axis=1, keepdims=True)
        score = ((p - p.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)).mean(axis=0)
        by_score = np.argsort(score, kind="stable")
        target_rank = np.argsort(np.argsort(z[:, i], kind="stable"), kind="stable")
        out.append(p[:, by_score[target_rank]])
    return out
