"""Report sections carry warnings as {code, message}, and run on the executor."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from forecasting import registry
from forecasting.base import ModelTags
from forecasting.exceptions import ConvergenceWarning
from forecasting.executor import WarningNote
from forecasting.models.naive import Naive
from reports import jobs
from reports.content import compute_section
from tests.reports.conftest import monthly_series


class _WarningNaive(Naive):
    """Naive that warns like a model whose optimiser stopped early."""

    tags: ClassVar[ModelTags] = Naive.tags

    def _fit(self, y):
        warnings.warn("optimiser stopped after 50 iterations", ConvergenceWarning, stacklevel=2)
        super()._fit(y)


def test_section_warnings_are_code_and_message_once_each(monkeypatch) -> None:
    monkeypatch.setitem(registry.REGISTRY, "warning_naive", _WarningNaive)
    y = monthly_series(40)
    y.iloc[5] = np.nan
    section = compute_section("s", y, horizon=3, levels=(80,), model="warning_naive", backtest_windows=2)
    assert section.ok
    assert section.warnings[0].code == "missing_values" and "missing value" in section.warnings[0].message
    # Fitted once for the forecast and again per backtest window: reported once.
    assert section.warnings[1:] == [WarningNote("convergence", "optimiser stopped after 50 iterations")]


def test_unexpected_section_failure_fails_that_series_only(monkeypatch) -> None:
    def broken(series_id, y, **kwargs):
        if series_id == "bad":
            raise RuntimeError("disk on fire")
        return compute_section(series_id, y, **kwargs)

    monkeypatch.setattr(jobs, "compute_section", broken)
    kwargs = {"horizon": 2, "levels": (80,), "model": "naive", "backtest_windows": 1}
    tasks = [(0, "good", monthly_series(30), kwargs), (1, "bad", monthly_series(30), kwargs)]
    sections = dict(jobs._compute_sections(tasks, n_jobs=1))
    assert sections[0].ok
    assert not sections[1].ok and sections[1].error == "RuntimeError: disk on fire"
    assert sections[1].model == "naive"


@pytest.mark.parametrize("n_jobs", [0, 1])
def test_sections_in_process_keep_task_order(n_jobs) -> None:
    kwargs = {"horizon": 2, "levels": (80,), "model": "naive", "backtest_windows": 1}
    tasks = [(i, f"s{i}", monthly_series(30, seed=i), kwargs) for i in range(3)]
    got = jobs._compute_sections(tasks, n_jobs=n_jobs)
    assert [pos for pos, _ in got] == [0, 1, 2]
    assert [s.series_id for _, s in got] == ["s0", "s1", "s2"]


def test_check_breaks_option_adds_a_break_warning_to_the_section() -> None:
    from reports.content import compute_section

    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(100.0, 1.0, 40), rng.normal(60.0, 1.0, 20)]
    y = pd.Series(values, index=pd.period_range("2017-01", periods=60, freq="M"), name="y")
    plain = compute_section("y", y, horizon=3, levels=(80,), model="naive", backtest_windows=1)
    checked = compute_section("y", y, horizon=3, levels=(80,), model="naive", backtest_windows=1, check_breaks=True)
    assert "structural_break" not in [w.code for w in plain.warnings]
    breaks = [w for w in checked.warnings if w.code == "structural_break"]
    assert len(breaks) == 1 and "2020-05" in breaks[0].message


@pytest.mark.parametrize("value", ["yes", "1"])
def test_check_breaks_option_must_be_true_or_false(value: str) -> None:
    from forecasting.exceptions import InvalidParameterError
    from reports.definitions import ReportDefinition, check_definition

    definition = ReportDefinition(name="r", title="R", series_ids=("a",), series_options={"a": {"check_breaks": value}})
    with pytest.raises(InvalidParameterError, match="check_breaks"):
        check_definition(definition)
