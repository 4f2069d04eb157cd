"""Hierarchies and compositions: coherence, bounds and the errors of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecasting
from forecasting.exceptions import (
    CompositionSumError,
    FallbackWarning,
    FrequencyMismatchError,
    HierarchyCycleError,
    IncoherentTotalError,
    InvalidHierarchyError,
    InvalidParameterError,
    InvalidSeriesError,
    MisalignedPeriodsError,
    MissingValuesError,
    ModelFitError,
    NegativeValueError,
    UnknownHierarchyIdError,
)
from forecasting.structure import (
    METHODS,
    build_hierarchy,
    closure,
    forecast_hierarchy,
    forecast_share_values,
    forecast_shares,
    hierarchy_from_tags,
    reconciliation_matrix,
    replace_zeros,
    shrunk_covariance,
)
from forecasting.structure._joint import couple_paths

GROUPED = {
    "total": ["cn", "de"],
    "cn": ["cn_x", "cn_m"],
    "de": ["de_x", "de_m"],
    "exports": ["cn_x", "de_x"],
    "imports": ["cn_m", "de_m"],
}


def _long(series: dict[str, np.ndarray], start: str = "2010-01", freq: str = "M") -> pd.DataFrame:
    parts = []
    for uid, values in series.items():
        index = pd.period_range(start, periods=len(values), freq=freq)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": index, "y": values}))
    return pd.concat(parts, ignore_index=True)


def _bottom(
    n: int = 60, seed: int = 0, ids: tuple[str, ...] = ("cn_x", "cn_m", "de_x", "de_m")
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 1.0, n))
    return {uid: 50.0 + 5 * i + common + np.cumsum(rng.normal(0.1, 1.0, n)) for i, uid in enumerate(ids)}


def _wide(out: pd.DataFrame, column: str = "mean") -> pd.DataFrame:
    return out.pivot(index="ds", columns="unique_id", values=column)


def _check_bounds(out: pd.DataFrame) -> None:
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["mean"]).all()
    assert (out["mean"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()


def _check_coherent(out: pd.DataFrame, hierarchy: dict[str, list[str]]) -> None:
    means = _wide(out)
    for parent, kids in hierarchy.items():
        gap = (means[parent] - means[kids].sum(axis=1)).abs()
        assert (gap <= 1e-9 * means[parent].abs().clip(lower=1.0)).all(), parent


# ----------------------------------------------------------------------------- hierarchy
def test_summing_matrix_nested_and_shared_children() -> None:
    tree = build_hierarchy(GROUPED)
    assert set(tree.bottom) == {"cn_x", "cn_m", "de_x", "de_m"}
    rows = dict(zip(tree.nodes, tree.summing, strict=True))
    assert rows["total"].tolist() == [1, 1, 1, 1]
    assert rows["exports"] @ np.array([tree.bottom.index(b) == tree.bottom.index("cn_x") for b in tree.bottom]) == 1
    assert tree.nodes.index("total") < tree.nodes.index("cn")  # parents before the aggregates they sum


@pytest.mark.parametrize("method", METHODS)
def test_reconciliation_matrix_keeps_coherent_forecasts_unchanged(method: str) -> None:
    tree = build_hierarchy(GROUPED)
    rng = np.random.default_rng(1)
    residuals = rng.normal(size=(40, len(tree.nodes))) @ rng.normal(size=(len(tree.nodes),) * 2)
    g = reconciliation_matrix(tree.summing, method, residuals)
    # Unbiasedness: S G S = S, so a base forecast that is already coherent is returned as is.
    assert np.allclose(tree.summing @ g @ tree.summing, tree.summing)


def test_shrunk_covariance_keeps_variances_and_shrinks_correlations() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 6))
    x[:, 1] += x[:, 0]
    shrunk = shrunk_covariance(x)
    sample = x.T @ x / len(x)
    assert np.allclose(np.diag(shrunk), np.diag(sample))
    off = ~np.eye(6, dtype=bool)
    assert np.all(np.abs(shrunk[off]) <= np.abs(sample[off]) + 1e-12)
    assert abs(shrunk[0, 1]) > 0.5 * abs(sample[0, 1])  # a strong correlation survives


@pytest.mark.parametrize("method", METHODS)
def test_forecast_hierarchy_means_coherent_every_method(method: str) -> None:
    frame = _long(_bottom())
    out = forecast_hierarchy(frame, 6, GROUPED, model="naive", method=method, n_paths=300)
    assert set(out["unique_id"]) == set(build_hierarchy(GROUPED).nodes)
    assert list(out.columns) == ["unique_id", "ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(out) == 6 * 9 and out.attrs["method"] == method
    _check_coherent(out, GROUPED)
    _check_bounds(out)


def test_forecast_hierarchy_aggregate_bound_is_not_sum_of_bounds() -> None:
    out = forecast_hierarchy(_long(_bottom()), 6, GROUPED, model="naive", n_paths=2000)
    hi, mean = _wide(out, "hi_95"), _wide(out)
    summed_width = (hi[["cn", "de"]].sum(axis=1) - mean[["cn", "de"]].sum(axis=1)).iloc[-1]
    own_width = (hi["total"] - mean["total"]).iloc[-1]
    # Not perfectly correlated, so the total's band is narrower than the sum of the parts' bands.
    assert own_width < 0.99 * summed_width


def test_forecast_hierarchy_derives_missing_aggregates_and_uses_stated_ones() -> None:
    bottom = _bottom()
    stated = {**bottom, "cn": bottom["cn_x"] + bottom["cn_m"]}
    with pytest.warns(forecasting.ForecastingWarning, match=r"\['de_x', 'de_m'\] are not in the hierarchy"):
        out = forecast_hierarchy(_long(stated), 3, {"cn": ["cn_x", "cn_m"]}, model="naive", method="bottom_up")
    means = _wide(out)
    assert np.allclose(means["cn"], bottom["cn_x"][-1] + bottom["cn_m"][-1])


def test_forecast_hierarchy_same_seed_same_frame() -> None:
    frame = _long(_bottom())
    one = forecast_hierarchy(frame, 4, GROUPED, model="naive", n_paths=200, seed=3)
    two = forecast_hierarchy(frame, 4, GROUPED, model="naive", n_paths=200, seed=3)
    pd.testing.assert_frame_equal(one, two)


def test_forecast_hierarchy_reports_progress_per_node_and_keeps_the_frame() -> None:
    frame = _long(_bottom())
    calls: list[tuple[int, int, str]] = []
    out = forecast_hierarchy(frame, 4, GROUPED, model="naive", n_paths=200, seed=3, progress=lambda *c: calls.append(c))
    nodes = build_hierarchy(GROUPED).nodes
    assert calls[0] == (0, len(nodes), "")
    assert [c[0] for c in calls[1:]] == list(range(1, len(nodes) + 1))
    assert {c[2] for c in calls[1:]} == set(nodes) and all(c[1] == len(nodes) for c in calls)
    pd.testing.assert_frame_equal(out, forecast_hierarchy(frame, 4, GROUPED, model="naive", n_paths=200, seed=3))


def test_forecast_shares_reports_progress_per_fitted_coordinate() -> None:
    calls: list[tuple[int, int, str]] = []
    forecast_shares(_long(_composition()), 3, model="naive", n_paths=200, progress=lambda *c: calls.append(c))
    n_coordinates = len(_composition()) - 1  # log-ratios against the reference component
    assert calls[0] == (0, n_coordinates, "") and calls[-1][:2] == (n_coordinates, n_coordinates)


def test_forecast_hierarchy_process_pool_matches_in_process() -> None:
    frame = _long(_bottom())
    one = forecast_hierarchy(frame, 3, GROUPED, model="naive", n_paths=200, n_jobs=1)
    two = forecast_hierarchy(frame, 3, GROUPED, model="naive", n_paths=200, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


@st.composite
def _hierarchies(draw: st.DrawFn) -> tuple[dict[str, list[str]], list[str]]:
    n_bottom = draw(st.integers(2, 6))
    bottom = [f"b{i}" for i in range(n_bottom)]
    tree: dict[str, list[str]] = {}
    pool = list(bottom)
    for k in range(draw(st.integers(1, 4))):
        kids = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
        tree[f"a{k}"] = kids
        pool.append(f"a{k}")  # later aggregates may sum earlier ones: nesting and sharing
    return tree, bottom


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hierarchies(), st.sampled_from(METHODS), st.integers(0, 10_000))
def test_property_hierarchy_coherent_and_bounds_nested(
    case: tuple[dict[str, list[str]], list[str]], method: str, seed: int
) -> None:
    tree, bottom = case
    used = set(build_hierarchy(tree).bottom)
    frame = _long({k: v for k, v in _bottom(30, seed, tuple(bottom)).items() if k in used})
    out = forecast_hierarchy(frame, 3, tree, levels=(50, 80, 95), model="naive", method=method, n_paths=200)
    _check_coherent(out, tree)
    _check_bounds(out)
    assert (out["lo_50"] >= out["lo_80"]).all() and (out["hi_50"] <= out["hi_80"]).all()


def test_hierarchy_cycle_is_named() -> None:
    with pytest.raises(HierarchyCycleError, match="a -> b -> a") as info:
        build_hierarchy({"a": ["b", "x"], "b": ["a", "y"]})
    assert info.value.code == "hierarchy_cycle"
    with pytest.raises(HierarchyCycleError):
        build_hierarchy({"a": ["a"]})


@pytest.mark.parametrize("bad", [{}, {"a": "b"}, {"a": []}, {"a": [1]}, ["a"], {"": ["b"]}])
def test_hierarchy_malformed_raises_invalid_hierarchy(bad: object) -> None:
    with pytest.raises(InvalidHierarchyError) as info:
        build_hierarchy(bad)  # type: ignore[arg-type]
    assert info.value.code == "invalid_hierarchy" and isinstance(info.value, InvalidParameterError)


def test_hierarchy_unknown_bottom_id_is_named() -> None:
    with pytest.raises(UnknownHierarchyIdError, match="cn_z") as info:
        forecast_hierarchy(_long(_bottom()), 3, {"cn": ["cn_x", "cn_z"]}, model="naive")
    assert info.value.code == "unknown_hierarchy_id"


def test_hierarchy_stated_total_not_sum_of_parts_is_refused() -> None:
    bottom = _bottom(ids=("cn_x", "cn_m"))
    wrong = {**bottom, "cn": bottom["cn_x"] + bottom["cn_m"] + np.r_[np.zeros(59), 10.0]}
    with pytest.raises(IncoherentTotalError, match=r"'cn' is not the sum.*2014-12") as info:
        forecast_hierarchy(_long(wrong), 3, {"cn": ["cn_x", "cn_m"]}, model="naive")
    assert info.value.code == "incoherent_total"


def test_hierarchy_children_of_different_frequencies_are_refused() -> None:
    frame = pd.concat(
        [_long({"cn_x": np.arange(1.0, 41.0)}), _long({"cn_m": np.arange(1.0, 15.0)}, "2010Q1", "Q")],
        ignore_index=True,
    )
    with pytest.raises(FrequencyMismatchError, match="cn_x: monthly, cn_m: quarterly") as info:
        forecast_hierarchy(frame, 3, {"cn": ["cn_x", "cn_m"]}, model="naive")
    assert info.value.code == "frequency_mismatch"


def test_hierarchy_children_on_different_periods_are_refused() -> None:
    frame = pd.concat(
        [_long({"cn_x": np.arange(1.0, 41.0)}), _long({"cn_m": np.arange(1.0, 41.0)}, "2010-03")], ignore_index=True
    )
    with pytest.raises(MisalignedPeriodsError, match="cn_m: 2010-03..2013-06") as info:
        forecast_hierarchy(frame, 3, {"cn": ["cn_x", "cn_m"]}, model="naive")
    assert info.value.code == "misaligned_periods"


def test_hierarchy_unknown_method_and_bad_tolerance_are_refused() -> None:
    frame = _long(_bottom())
    with pytest.raises(InvalidParameterError, match="method must be one of"):
        forecast_hierarchy(frame, 3, GROUPED, model="naive", method="mint")
    with pytest.raises(InvalidParameterError, match="tolerance"):
        forecast_hierarchy(frame, 3, GROUPED, model="naive", tolerance=-1)


def test_couple_paths_follows_residual_correlation() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(size=(200, 1))
    residuals = np.hstack([base, base + 0.1 * rng.normal(size=(200, 1))])
    paths = [np.cumsum(rng.normal(size=(5, 2000)), axis=0) for _ in range(2)]
    coupled = couple_paths(paths, residuals, seed=0)
    # Whole paths are paired by their average position, so the last step is strongly but
    # not perfectly correlated.
    assert np.corrcoef(coupled[0].mean(axis=0), coupled[1].mean(axis=0))[0, 1] > 0.8
    assert np.corrcoef(coupled[0][-1], coupled[1][-1])[0, 1] > 0.6
    assert abs(np.corrcoef(paths[0][-1], paths[1][-1])[0, 1]) < 0.1
    assert np.allclose(np.sort(coupled[0], axis=1), np.sort(paths[0], axis=1))  # only re-paired


# ----------------------------------------------------------------------------- shares
def _composition(n: int = 48, k: int = 4, seed: int = 0, zeros: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = np.cumsum(rng.normal(0, 0.1, (n, k)), axis=0) + rng.normal(0, 1, k)
    shares = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if zeros:
        shares[: n // 3, 0] = 0.0
        shares = shares / shares.sum(axis=1, keepdims=True)
    return {f"c{i}": shares[:, i] for i in range(k)}


def _check_shares(out: pd.DataFrame) -> None:
    sums = out.groupby("ds")["mean"].sum()
    assert np.allclose(sums, 1.0, atol=1e-9, rtol=0)
    bounds = out[[c for c in out.columns if c.startswith(("lo_", "hi_"))]]
    assert ((bounds >= 0) & (bounds <= 1)).all().all()
    _check_bounds(out)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 5), st.integers(0, 10_000), st.booleans())
def test_property_shares_sum_to_one_bounds_in_unit_interval(k: int, seed: int, zeros: bool) -> None:
    out = forecast_shares(_long(_composition(36, k, seed, zeros)), 6, model="naive", n_paths=300, seed=seed)
    assert len(out) == 6 * k
    _check_shares(out)


def test_shares_with_auto_model_stay_coherent() -> None:
    out = forecast_shares(_long(_composition()), 12, n_paths=400)
    _check_shares(out)
    assert out.attrs["reference"] in {"c0", "c1", "c2", "c3"}


def test_shares_missing_component_rows_count_as_zero() -> None:
    frame = _long(_composition(zeros=True))
    frame = frame[~((frame["unique_id"] == "c0") & (frame["y"] == 0.0))]
    out = forecast_shares(frame, 6, model="naive", n_paths=300)
    _check_shares(out)
    assert set(out["unique_id"]) == {"c0", "c1", "c2", "c3"}


def test_replace_zeros_keeps_rows_summing_to_one_and_ratios() -> None:
    shares = pd.DataFrame({"a": [0.0, 0.5], "b": [0.6, 0.25], "c": [0.4, 0.25]})
    out = replace_zeros(shares)
    assert np.allclose(out.sum(axis=1), 1.0) and (out > 0).all().all()
    assert out.loc[0, "b"] / out.loc[0, "c"] == pytest.approx(1.5)


def test_shares_not_summing_to_one_are_refused_with_hint() -> None:
    series = _composition()
    series["c0"] = series["c0"] + 0.02
    with pytest.raises(CompositionSumError, match="sum to 1.02.*not 1") as info:
        forecast_shares(_long(series), 3, model="naive")
    assert info.value.code == "composition_not_summing_to_one"
    percent = {k: 100 * v for k, v in _composition().items()}
    with pytest.raises(CompositionSumError, match="percentages"):
        forecast_shares(_long(percent), 3, model="naive")


def test_shares_from_values_and_a_stated_total() -> None:
    values = {k: 20.0 * v for k, v in _composition().items()}
    total = sum(values.values())
    frame = _long({**values, "all": total})
    out = forecast_shares(frame, 3, model="naive", values=True, total="all", n_paths=300)
    assert set(out["unique_id"]) == set(values)
    _check_shares(out)
    wrong = _long({**values, "all": total * 1.01})
    with pytest.raises(IncoherentTotalError, match="stated total 'all'"):
        forecast_shares(wrong, 3, model="naive", values=True, total="all")
    with pytest.raises(InvalidParameterError, match="values=True"):
        forecast_shares(frame, 3, model="naive", total="all")


def test_closure_refuses_negative_values() -> None:
    wide = pd.DataFrame({"a": [1.0, -1.0], "b": [1.0, 2.0]}, index=pd.period_range("2020-01", periods=2, freq="M"))
    with pytest.raises(NegativeValueError, match="'a' is -1"):
        closure(wide, values=True)
    with pytest.raises(InvalidSeriesError, match="at least two components"):
        closure(wide[["a"]].abs())


def test_share_values_sum_to_the_total_path_by_path() -> None:
    shares = _long(_composition())
    rng = np.random.default_rng(5)
    total = pd.Series(
        200 + np.cumsum(rng.normal(1, 3, 60)), index=pd.period_range("2009-01", periods=60, freq="M"), name="exports"
    )
    out = forecast_share_values(shares, total, 6, model="naive", n_paths=500)
    means = _wide(out)
    assert np.allclose(means[["c0", "c1", "c2", "c3"]].sum(axis=1), means["exports"], rtol=1e-12)
    _check_bounds(out)
    only = forecast_share_values(shares, total, 6, model="naive", n_paths=500, components=["c1"])
    assert set(only["unique_id"]) == {"c1", "exports"}
    # Bounds come from the product's paths: narrower than share bound x total bound at the top.
    widest = (
        _wide(forecast_shares(shares, 6, model="naive", n_paths=500), "hi_95")["c1"] * _wide(out, "hi_95")["exports"]
    )
    assert (_wide(only, "hi_95")["c1"] <= widest).all()


def test_share_values_total_ending_elsewhere_is_refused() -> None:
    total = pd.Series(np.arange(1.0, 50.0), index=pd.period_range("2009-01", periods=49, freq="M"), name="exports")
    with pytest.raises(MisalignedPeriodsError, match="ends at 2013-01"):
        forecast_share_values(_long(_composition()), total, 3, model="naive")


def test_structure_functions_are_public() -> None:
    assert forecasting.forecast_hierarchy is forecast_hierarchy
    assert forecasting.forecast_shares is forecast_shares
    assert forecasting.forecast_share_values is forecast_share_values


# ----------------------------------------------------------------------------- gaps and tags
def _with_gaps(series: dict[str, np.ndarray], share: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for uid, values in series.items():
        holes = rng.random(len(values)) < share
        holes[-1] = holes[0] = False
        out[uid] = np.where(holes, np.nan, values)
    return out


def test_forecast_hierarchy_missing_model_is_coherent_through_gaps() -> None:
    hierarchy = {"t": ["cn_x", "cn_m"]}
    frame = _long(_with_gaps(_bottom(48, ids=("cn_x", "cn_m")), 0.25, 1), freq="Y", start="1970")
    out = forecast_hierarchy(frame, 3, hierarchy, model="structural", missing="model", n_paths=300)
    _check_coherent(out, hierarchy)
    _check_bounds(out)
    assert out.attrs["models"]["t"] == "structural"


def test_forecast_hierarchy_with_gaps_refused_without_missing_model_naming_it() -> None:
    frame = _long(_with_gaps(_bottom(30, ids=("cn_x", "cn_m")), 0.2, 2), freq="Y", start="1990")
    with pytest.raises(MissingValuesError, match="missing='model'"):
        forecast_hierarchy(frame, 2, {"t": ["cn_x", "cn_m"]}, model="naive")


def test_forecast_hierarchy_missing_model_refuses_a_model_without_gap_likelihood() -> None:
    frame = _long(_with_gaps(_bottom(30, ids=("cn_x", "cn_m")), 0.2, 2), freq="Y", start="1990")
    with pytest.raises(forecasting.exceptions.MissingNotSupportedError):
        forecast_hierarchy(frame, 2, {"t": ["cn_x", "cn_m"]}, model="naive", missing="model")


def test_forecast_hierarchy_missing_policy_is_checked() -> None:
    with pytest.raises(InvalidParameterError, match="missing"):
        forecast_hierarchy(_long(_bottom(20)), 2, {"t": ["cn_x", "cn_m"]}, model="naive", missing="fill")


def test_forecast_hierarchy_missing_model_derived_aggregate_missing_where_a_part_is() -> None:
    # A stated total is checked only where every part is observed; a wrong one is still refused.
    series = _with_gaps(_bottom(30, ids=("cn_x", "cn_m")), 0.2, 3)
    total = np.nansum([series["cn_x"], series["cn_m"]], axis=0) + 50.0
    frame = _long({**series, "t": total}, freq="Y", start="1990")
    with pytest.raises(IncoherentTotalError):
        forecast_hierarchy(frame, 2, {"t": ["cn_x", "cn_m"]}, model="structural", missing="model")


# A share whose full structural model diverges falls back to a local level, with a warning (an
# answer, not a failure); the property is about the answer.
@pytest.mark.filterwarnings("ignore::forecasting.exceptions.FallbackWarning")
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 4), st.integers(0, 10_000))
def test_property_sparse_shares_sum_to_one_and_nest(k: int, seed: int) -> None:
    """Shares published at different months (gaps): means sum to 1, bounds in [0, 1] and nested."""
    sparse = _with_gaps(_composition(30, k, seed), 0.4, seed)
    out = forecast_shares(_long(sparse), 4, model="structural", missing="model", n_paths=200, seed=seed)
    assert len(out) == 4 * k
    _check_shares(out)


def test_sparse_shares_fall_back_to_a_local_level_when_structural_diverges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A share whose full structural model forecasts non-finite values still gets paths (a local level)."""
    from forecasting.models.statespace import Structural

    real = Structural._forecast

    def diverging(self: Structural, horizon: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        if self.trend == "local linear trend":
            raise ModelFitError("Structural produced non-finite forecasts on this series.")
        return real(self, horizon, X_future)

    monkeypatch.setattr(Structural, "_forecast", diverging)
    sparse = _with_gaps(_composition(30, 3, 1), 0.4, 1)
    with pytest.warns(FallbackWarning, match="used 'Structural'"):
        out = forecast_shares(_long(sparse), 4, model="structural", missing="model", n_paths=200, seed=1)
    _check_shares(out)


def test_sparse_shares_still_check_complete_periods_sum_to_one() -> None:
    comp = _composition(24, 3, 0)
    comp["c0"] = comp["c0"] * 1.2  # every fully published period now sums above 1
    with pytest.raises(CompositionSumError):
        forecast_shares(_long(_with_gaps(comp, 0.3, 0)), 2, model="structural", missing="model")


def test_sparse_shares_refuse_values() -> None:
    with pytest.raises(InvalidParameterError, match="shares"):
        forecast_shares(_long(_composition(24, 3, 0)), 2, model="structural", missing="model", values=True)


def test_hierarchy_from_tags_groups_every_key_under_the_root() -> None:
    tags = {
        "cn_x": {"partner": "CN", "flow": "export"},
        "cn_m": {"partner": "CN", "flow": "import"},
        "de_x": {"partner": "DE", "flow": "export"},
    }
    tree = hierarchy_from_tags(tags, ["partner", "flow"], "ru")
    assert tree["ru"] == ["ru:partner=CN", "ru:partner=DE"]
    assert tree["ru:partner=CN"] == ["cn_x", "cn_m"]  # ordered by their tag values
    assert tree["ru:flow=export"] == ["cn_x", "de_x"]
    frame = _long(_bottom(30, ids=("cn_x", "cn_m", "de_x")))
    out = forecast_hierarchy(frame, 2, tree, model="naive", n_paths=200)
    _check_coherent(out, tree)


@pytest.mark.parametrize(
    ("tags", "by", "match"),
    [
        ({}, ["flow"], "no series matches"),
        ({"a": {"flow": "x"}, "b": {"partner": "CN"}}, ["flow"], "has no 'flow' tag"),
        ({"a": {"flow": "x"}, "b": {"flow": "x"}}, ["flow"], "same"),
        ({"a": {"flow": "x"}}, [], "by must list"),
        ({"a": {"flow": "x"}}, ["flow", "flow"], "by must list"),
    ],
)
def test_hierarchy_from_tags_refuses_bad_input_naming_it(tags: dict, by: list[str], match: str) -> None:
    with pytest.raises(InvalidHierarchyError, match=match):
        hierarchy_from_tags(tags, by, "root")
