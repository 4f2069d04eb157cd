"""FFORMA-style meta-learner on the trade benchmark (issue 25): series features -> member weights.

For every case of the choosing origins (``bench.trade.CHOOSE``) it computes a few features of
the training part (as known at the origin) and each member's loss (the mean of its sMAPE and
MASE ratios to the members' equal-weight mean, i.e. to ``auto``'s point forecast, averaged over
the set's scored horizons), from the forecasts ``python -m bench.trade --extra`` cached (``m:*``:
each member of ``auto`` from the same fit). Learners, all scikit-learn or numpy:

- ``fforma_linear(a)``: weights = softmax(X W), W minimising the mean expected loss
  ``sum_m w_m loss_m`` (FFORMA's objective, with a linear score instead of boosted trees) plus a
  ridge penalty ``a``;
- ``rf_softmax(t)``: a random forest predicts each member's loss; weights = softmax(-loss / t);
  ``rf_select`` takes the member with the lowest predicted loss;
- ``rf_classifier``: a random forest classifies the best member; weights = its probabilities.

The variant is chosen by 5-fold cross-validation across series (GroupKFold) **within the
choosing origins**; the chosen variant is then refitted on all choosing cases and scored on the
reporting origins, which are read only after that choice. Each frequency has its own learner
(members differ): monthly from ``russia_monthly``, annual from ``imf_annual``.

Run: ``python -m bench.trade_meta --domain <folder>`` (seconds to a minute; needs the cache).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler
from statsmodels.tsa.filters.hp_filter import hpfilter
from statsmodels.tsa.seasonal import STL

from bench.trade import CACHE, Case, build_cases
from bench.trade_choose import Points, _errors, point_table

MEMBERS = {
    12: ("m:ets", "m:arima", "m:theta", "m:optimized_theta", "m:deseasonalized(ces)"),
    1: ("m:ets", "m:arima", "m:optimized_theta"),
}
R_MEMBERS = ("r_ets", "r_arima", "r_theta")
FEATURES = ("log_n", "trend", "seasonal", "acf1", "acf_season", "volatility", "growth", "entropy")
SETS = {"russia_monthly": 12, "imf_annual": 1}
Weigher = Callable[[np.ndarray], np.ndarray]  # features (n x k) -> weights (n x members)
Learner = Callable[[np.ndarray, np.ndarray], Weigher]  # (features, losses) -> weigher


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------- features
def _acf(x: np.ndarray, lag: int) -> float:
    if lag >= len(x) - 1:
        return 0.0
    x = x - x.mean()
    denom = float(np.dot(x, x))
    return float(np.dot(x[:-lag], x[lag:]) / denom) if denom > 0 else 0.0


def _strength(remainder: np.ndarray, component: np.ndarray) -> float:
    """Wang, Smith and Hyndman's strength: 1 - var(R) / var(component + R), floored at 0."""
    total = np.var(component + remainder)
    return float(max(0.0, 1.0 - np.var(remainder) / total)) if total > 0 else 0.0


def _entropy(x: np.ndarray) -> float:
    """Normalised spectral (Shannon) entropy of the periodogram: 1 for white noise, low when forecastable."""
    power = np.abs(np.fft.rfft(x - x.mean()))[1:] ** 2
    if power.sum() <= 0 or len(power) < 2:
        return 1.0
    p = power / power.sum()
    return float(-(p[p > 0] * np.log(p[p > 0])).sum() / np.log(len(p)))


def features(y: np.ndarray, season: int) -> dict[str, float]:
    """A few features of a positive series (on logs): length, trend and seasonal strength,
    autocorrelations and volatility of the growth rates, last season's growth, spectral entropy."""
    x = np.log(np.maximum(np.asarray(y, dtype=float), 1e-9))
    d = np.diff(x)
    if season > 1 and len(x) >= 2 * season + 1:
        fit = STL(x, period=season, robust=True).fit()
        trend, seasonal, remainder = fit.trend, fit.seasonal, fit.resid
    else:
        remainder, trend = hpfilter(x, lamb=100.0)
        seasonal = np.zeros_like(x)
    step = max(season, 1)
    growth = float(x[-step:].mean() - x[-2 * step : -step].mean()) if len(x) >= 2 * step else 0.0
    return {
        "log_n": float(np.log(len(x))),
        "trend": _strength(remainder, np.asarray(trend) - np.mean(trend)),
        "seasonal": _strength(remainder, seasonal) if season > 1 else 0.0,
        "acf1": _acf(d, 1),
        "acf_season": _acf(d, season) if season > 1 else 0.0,
        "volatility": float(np.std(d, ddof=1)),
        "growth": growth,
        "entropy": _entropy(d),
    }


def feature_matrix(cases: Sequence[Case]) -> np.ndarray:
    """One row of :data:`FEATURES` per case."""
    rows = [features(c.train.to_numpy(dtype=float), c.season_length) for c in cases]
    return np.array([[r[f] for f in FEATURES] for r in rows])


# ---------------------------------------------------------------------------- losses and weights
def member_errors(cases: Sequence[Case], points: Points, members: Sequence[str]) -> np.ndarray:
    """sMAPE and MASE of each member per case: shape (cases, members, 2)."""
    return np.array([[_errors(c, points[c.key][m]) for m in members] for c in cases])


def relative_loss(errors: np.ndarray, cases: Sequence[Case], points: Points, members: Sequence[str]) -> np.ndarray:
    """Each member's loss: mean of its sMAPE and MASE ratios to the members' equal-weight mean."""
    base = np.array([_errors(c, np.mean([points[c.key][m] for m in members], axis=0)) for c in cases])
    ratio = errors / np.maximum(base[:, None, :], 1e-9)
    return np.asarray(ratio.mean(axis=2))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def fforma_linear(alpha: float, use_features: bool = True) -> Learner:
    """FFORMA's objective (mean softmax-weighted loss) with a linear score and a ridge penalty;
    without features it learns one set of weights for every series (the baseline the features
    must beat)."""

    def design(scaler: StandardScaler, x: np.ndarray) -> np.ndarray:
        return np.c_[np.ones(len(x)), scaler.transform(x)] if use_features else np.ones((len(x), 1))

    def learn(x: np.ndarray, loss: np.ndarray) -> Weigher:
        scaler = StandardScaler().fit(x)
        xs = design(scaler, x)
        n, k, m = len(x), xs.shape[1], loss.shape[1]

        def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
            w = flat.reshape(k, m)
            p = _softmax(xs @ w)
            expected = (p * loss).sum(axis=1)
            grad_z = p * (loss - expected[:, None]) / n
            penalty = w.copy()
            penalty[0] = 0.0  # no penalty on the intercepts
            value = float(expected.mean() + 0.5 * alpha * (penalty**2).sum())
            return value, (xs.T @ grad_z + alpha * penalty).ravel()

        res = minimize(objective, np.zeros(k * m), jac=True, method="L-BFGS-B")
        coef = res.x.reshape(k, m)
        return lambda new: _softmax(design(scaler, new) @ coef)

    return learn


def rf_softmax(temperature: float | None) -> Learner:
    """Random forest of each member's loss; softmax(-loss / t) weights (None: pick the lowest)."""

    def learn(x: np.ndarray, loss: np.ndarray) -> Weigher:
        forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=5, random_state=0, n_jobs=1).fit(x, loss)

        def weigh(new: np.ndarray) -> np.ndarray:
            pred = np.asarray(forest.predict(new)).reshape(len(new), -1)
            if temperature is None:
                return np.asarray(np.eye(loss.shape[1])[pred.argmin(axis=1)])
            return _softmax(-pred / temperature)

        return weigh

    return learn


def rf_classifier(x: np.ndarray, loss: np.ndarray) -> Weigher:
    """Random forest classifying the best member; weights = predicted class probabilities."""
    best = loss.argmin(axis=1)
    forest = RandomForestClassifier(n_estimators=200, min_samples_leaf=5, random_state=0, n_jobs=1).fit(x, best)

    def weigh(new: np.ndarray) -> np.ndarray:
        out = np.zeros((len(new), loss.shape[1]))
        out[:, forest.classes_] = forest.predict_proba(new)
        return out

    return weigh


def variants() -> dict[str, Learner]:
    """Every learner the cross-validation chooses among."""
    out: dict[str, Learner] = {f"fforma_linear({a})": fforma_linear(a) for a in (0.01, 0.1, 1.0)}
    out |= {f"rf_softmax({t})": rf_softmax(t) for t in (0.02, 0.05, 0.1)}
    out["rf_select"] = rf_softmax(None)
    out["rf_classifier"] = rf_classifier
    out["constant weights"] = fforma_linear(0.0, use_features=False)
    return out


# ---------------------------------------------------------------------------- evaluation
def combined_errors(cases: Sequence[Case], points: Points, members: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """sMAPE and MASE per case of the members' point forecasts weighted by ``weights`` (cases x members)."""
    out = []
    for case, w in zip(cases, weights, strict=True):
        point = np.sum([wi * points[case.key][m] for wi, m in zip(w, members, strict=True)], axis=0)
        out.append(_errors(case, point))
    return np.array(out)


def method_errors(cases: Sequence[Case], points: Points, method: str) -> np.ndarray:
    """sMAPE and MASE per case of one cached method."""
    return np.array([_errors(c, points[c.key][method]) for c in cases])


def gap_row(cases: Sequence[Case], errs: np.ndarray, base: np.ndarray) -> dict[str, float]:
    """Mean sMAPE / MASE over series (each averaged over its origins) and the gap to ``base``
    paired over series, with its standard error; ``owa``: mean of the two ratios to ``base``."""
    frame = pd.DataFrame(np.c_[errs, base], columns=["smape", "mase", "b_smape", "b_mase"])
    per = frame.groupby([c.series_id for c in cases]).mean()
    gap_s, gap_m = per["smape"] - per["b_smape"], per["mase"] - per["b_mase"]
    n = np.sqrt(len(per))
    return {
        "smape": per["smape"].mean(),
        "mase": per["mase"].mean(),
        "d_smape": gap_s.mean(),
        "d_smape_se": gap_s.std(ddof=1) / n,
        "d_mase": gap_m.mean(),
        "d_mase_se": gap_m.std(ddof=1) / n,
        "owa": 0.5 * (per["smape"].mean() / per["b_smape"].mean() + per["mase"].mean() / per["b_mase"].mean()),
    }


def cross_validate(
    cases: Sequence[Case], x: np.ndarray, loss: np.ndarray, learner: Learner, folds: int = 5
) -> np.ndarray:
    """Out-of-fold weights: folds of whole series (a series is never in its own training fold)."""
    groups = np.array([c.series_id for c in cases])
    weights = np.zeros_like(loss)
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    for train, test in splitter.split(x, loss, groups):
        weights[test] = learner(x[train], loss[train])(x[test])
    return weights


def choose_learner(
    choose: Sequence[Case], x: np.ndarray, points: Points, members: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Cross-validated table of every variant on the choosing origins (gaps to ``auto``), best first."""
    loss = relative_loss(member_errors(choose, points, members), choose, points, members)
    base = method_errors(choose, points, "auto")
    equal = np.full(loss.shape, 1.0 / len(members))
    rows = {"equal weights": gap_row(choose, combined_errors(choose, points, members, equal), base)}
    for name, learner in variants().items():
        weights = cross_validate(choose, x, loss, learner)
        rows[name] = gap_row(choose, combined_errors(choose, points, members, weights), base)
    return pd.DataFrame(rows).T.sort_values("owa"), loss


def report_chosen(
    name: str, choose: Sequence[Case], report: Sequence[Case], xs: tuple[np.ndarray, np.ndarray], loss: np.ndarray,
    points: Points, members: Sequence[str],
) -> pd.DataFrame:  # fmt: skip
    """Refit the chosen variant on every choosing case; its reporting-origin gaps to auto and the references."""
    weights = variants()[name](xs[0], loss)(xs[1])
    errs = combined_errors(report, points, members, weights)
    refs = [m for m in ("auto", "sf_ets", "sf_theta", "sf_mean", "r_ets", "r_mean") if m in points[report[0].key]]
    rows = {f"{name} - {ref}": gap_row(report, errs, method_errors(report, points, ref)) for ref in refs}
    _say(
        "mean weights on the reporting cases: "
        + ", ".join(f"{m} {w:.3f}" for m, w in zip(members, weights.mean(axis=0), strict=True))
    )
    return pd.DataFrame(rows).T


def run_set(set_name: str, cases: Sequence[Case], cache: Path) -> None:
    """Choose a learner on the choosing origins of one set, then read its reporting figures."""
    season = SETS[set_name]
    mine = [c for c in cases if c.set_name == set_name]
    points = point_table(mine, cache)
    rows = dict(zip([c.key for c in mine], feature_matrix(mine), strict=True))
    pools = {"auto members": MEMBERS[season], "auto members + R": (*MEMBERS[season], *R_MEMBERS)}
    for label, members in pools.items():
        usable = [c for c in mine if all(m in points[c.key] for m in (*members, "auto"))]
        choose = [c for c in usable if c.split == "choose"]
        report = [c for c in usable if c.split == "report"]
        if not choose or not report:
            _say(f"[{set_name}, {label}] not every member cached: skipped")
            continue
        xs = (np.array([rows[c.key] for c in choose]), np.array([rows[c.key] for c in report]))
        table, loss = choose_learner(choose, xs[0], points, members)
        _say(f"\n[{set_name}, {label}] choosing origins, 5-fold CV across series ({len(choose)} cases):")
        _say(table.round(4).to_string())
        best = str(table.index[0])
        if best == "equal weights":
            best = str(table.index[1])  # still read the best learner's reporting figures
        _say(f"[{set_name}, {label}] reporting origins ({len(report)} cases), chosen: {best}")
        _say(report_chosen(best, choose, report, xs, loss, points, members).round(4).to_string())
        if best != "constant weights":  # the control: do the features add anything on the reporting origins?
            _say(report_chosen("constant weights", choose, report, xs, loss, points, members).round(4).to_string())


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m bench.trade_meta``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    cases = build_cases(args.domain, list(SETS))
    for set_name in SETS:
        run_set(set_name, cases, args.cache)


if __name__ == "__main__":
    main()
