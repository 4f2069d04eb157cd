"""Forecast reconciliation: the projection ``G`` that maps base forecasts of every node onto
bottom-level forecasts, so that ``S @ G @ y_hat`` is coherent.

Methods (Wickramasuriya, Athanasopoulos & Hyndman 2019; Hyndman & Athanasopoulos, FPP3 §11.3):

- ``bottom_up``: ``G = [0 | I]``, only the bottom series' base forecasts count.
- ``ols``: ``G = (S'S)^-1 S'``, every node's base forecast with equal weight.
- ``wls_struct``: ``W = diag(S 1)``, weight by the number of bottom series in a node.
- ``mint_shrink``: ``W`` the in-sample one-step residual covariance shrunk towards its
  diagonal with the Schafer-Strimmer intensity (the estimator of hierarchicalforecast's
  ``MinTrace(method="mint_shrink")`` and of R fable's ``min_trace("mint_shrink")``).
  When fewer than ``MIN_COMPLETE_ROWS`` periods have a residual for every node (short
  annual series, gaps) no covariance is estimable, and :func:`forecasting.forecast_hierarchy`
  weights each node by the variance of its own base forecast at each step instead
  (:func:`step_variance_matrix`), which also knows that a node whose data stop earlier
  forecasts from further away.

References
----------
Wickramasuriya, S. L., Athanasopoulos, G. & Hyndman, R. J. (2019). Optimal forecast
reconciliation for hierarchical and grouped time series through trace minimization. JASA 114.
Schafer, J. & Strimmer, K. (2005). A shrinkage approach to large-scale covariance matrix
estimation. Statistical Applications in Genetics and Molecular Biology 4(1).
"""

from __future__ import annotations

import numpy as np

from forecasting.exceptions import InvalidParameterError, ModelFitError

__all__ = [
    "METHODS",
    "MIN_COMPLETE_ROWS",
    "count_complete_rows",
    "reconciliation_matrix",
    "shrunk_correlation",
    "shrunk_covariance",
    "step_variance_matrix",
]

METHODS = ("bottom_up", "ols", "wls_struct", "mint_shrink")

# Below this many complete residual rows a covariance is not estimable: shrunk_covariance
# returns its diagonal, and forecast_hierarchy weights by per-step forecast variances instead.
MIN_COMPLETE_ROWS = 8


def _complete_rows(residuals: np.ndarray) -> np.ndarray:
    keep = np.all(np.isfinite(residuals), axis=1)
    return residuals[keep]


def count_complete_rows(residuals: np.ndarray) -> int:
    """Number of periods at which every node has an in-sample residual."""
    return int(np.all(np.isfinite(residuals), axis=1).sum())


def step_variance_matrix(summing: np.ndarray, paths: np.ndarray) -> np.ndarray:
    """Per-step ``G`` weighted by each node's own base forecast variance at that step.

    Parameters
    ----------
    summing : ndarray (n_nodes, n_bottom)
    paths : ndarray (n_nodes, horizon, n_paths)
        Every node's base sample paths.

    Returns
    -------
    ndarray (horizon, n_bottom, n_nodes)
        ``G_h = (S' W_h^-1 S)^-1 S' W_h^-1`` with ``W_h`` the diagonal of the paths' variances
        at step ``h`` (a node with a degenerate band gets the smallest positive variance).
    """
    var = paths.var(axis=2)  # (n_nodes, horizon)
    positive = var[var > 0]
    floor = float(positive.min()) if positive.size else 1.0
    var = np.where(var > 0, var, floor)
    return np.stack([_gls(summing, np.diag(var[:, h])) for h in range(var.shape[1])])


def _shrinkage(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Sample correlation of the columns of ``x`` and the Schafer-Strimmer intensity."""
    n = x.shape[0]
    sd = x.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    xs = (x - x.mean(axis=0)) / sd
    w = xs[:, :, None] * xs[:, None, :]
    w_mean = w.mean(axis=0)
    corr = w_mean * n / (n - 1)
    var_r = n / (n - 1) ** 3 * ((w - w_mean) ** 2).sum(axis=0)
    off = ~np.eye(x.shape[1], dtype=bool)
    denom = float((corr[off] ** 2).sum())
    lam = 1.0 if denom <= 0 else float(np.clip(var_r[off].sum() / denom, 0.0, 1.0))
    return corr, lam


def shrunk_covariance(residuals: np.ndarray) -> np.ndarray:
    """Schafer-Strimmer shrinkage of the residual covariance towards its diagonal.

    Parameters
    ----------
    residuals : ndarray (n_obs, n_series)
        In-sample one-step residuals; rows with any NaN are left out.

    Returns
    -------
    ndarray (n_series, n_series)
        ``lambda * diag(S) + (1 - lambda) * S`` off the diagonal, ``S`` the uncentred sample
        covariance (as hierarchicalforecast), ``lambda`` the estimated intensity. With fewer
        than 8 complete rows, the diagonal of each series' own residual variance.
    """
    x = _complete_rows(residuals)
    if x.shape[0] < MIN_COMPLETE_ROWS:
        var = np.nanmean(residuals**2, axis=0)
        return np.diag(np.where(np.isfinite(var) & (var > 0), var, 1.0))
    cov = x.T @ x / x.shape[0]
    _, lam = _shrinkage(x)
    shrunk = (1.0 - lam) * cov
    np.fill_diagonal(shrunk, np.diag(cov))
    return np.asarray(shrunk)


def shrunk_correlation(residuals: np.ndarray) -> np.ndarray:
    """Schafer-Strimmer shrunk correlation of the residuals (identity when not estimable)."""
    x = _complete_rows(residuals)
    n_series = residuals.shape[1]
    if x.shape[0] < MIN_COMPLETE_ROWS:
        return np.eye(n_series)
    corr, lam = _shrinkage(x)
    shrunk = (1.0 - lam) * corr
    np.fill_diagonal(shrunk, 1.0)
    # A correlation estimated from fewer rows than series can be indefinite: clip its spectrum.
    vals, vecs = np.linalg.eigh(shrunk)
    fixed = vecs @ np.diag(np.maximum(vals, 1e-6)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return np.asarray(fixed / np.outer(d, d))


def _gls(summing: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``G = (S' W^-1 S)^-1 S' W^-1`` without forming inverses."""
    w = weights + np.eye(len(weights)) * 1e-10 * float(np.trace(weights)) / len(weights)
    try:
        w_inv_s = np.linalg.solve(w, summing)
        return np.asarray(np.linalg.solve(summing.T @ w_inv_s, w_inv_s.T))
    except np.linalg.LinAlgError as exc:
        raise ModelFitError(f"reconciliation failed: the weight matrix is singular ({exc}).") from exc


def reconciliation_matrix(summing: np.ndarray, method: str, residuals: np.ndarray | None = None) -> np.ndarray:
    """The matrix ``G`` (n_bottom x n_nodes) of a reconciliation method.

    Parameters
    ----------
    summing : ndarray (n_nodes, n_bottom)
        The summing matrix; the bottom nodes are its last ``n_bottom`` rows.
    method : {"bottom_up", "ols", "wls_struct", "mint_shrink"}
        See the module docstring.
    residuals : ndarray (n_obs, n_nodes), optional
        In-sample residuals of every node (needed by ``mint_shrink``).

    Returns
    -------
    ndarray
        ``G``; the reconciled forecasts are ``S @ G @ y_hat``.

    Raises
    ------
    InvalidParameterError
        Unknown method, or ``mint_shrink`` without residuals.
    ModelFitError
        A singular weight matrix.
    """
    n_nodes, n_bottom = summing.shape
    if method == "bottom_up":
        return np.hstack([np.zeros((n_bottom, n_nodes - n_bottom)), np.eye(n_bottom)])
    if method == "ols":
        return _gls(summing, np.eye(n_nodes))
    if method == "wls_struct":
        return _gls(summing, np.diag(summing.sum(axis=1)))
    if method == "mint_shrink":
        if residuals is None or residuals.shape[1] != n_nodes:
            raise InvalidParameterError("method 'mint_shrink' needs the in-sample residuals of every node.")
        return _gls(summing, shrunk_covariance(residuals))
    raise InvalidParameterError(f"method must be one of {METHODS}; got {method!r}.")
