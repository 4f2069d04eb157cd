"""api.service.drivers.check_stored_coverage: what a stored driver must cover, and when scenarios do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from api.service.drivers import DriverColumn, DriverInputs, StoredDrivers, check_stored_coverage
from forecasting.exceptions import FutureDriversError, InvalidDriversError

IDX = pd.period_range("2000", periods=10, freq="Y")
INPUTS = DriverInputs((DriverColumn("oil", series_id="brent"),))


def _stored(n: int, gap: int | None = None) -> StoredDrivers:
    values = np.arange(float(n))
    if gap is not None:
        values[gap] = np.nan
    return StoredDrivers({"oil": pd.Series(values, index=pd.period_range("2000", periods=n, freq="Y"))})


def test_covering_driver_needs_no_extension() -> None:
    assert check_stored_coverage(INPUTS, _stored(13), IDX, 3) == ()


def test_history_gap_names_driver_series_and_period() -> None:
    with pytest.raises(InvalidDriversError, match=r"'oil' \(stored series 'brent'\).*2004"):
        check_stored_coverage(INPUTS, _stored(13, gap=4), IDX, 3)


def test_horizon_gap_is_an_error_unless_every_scenario_covers_it() -> None:
    with pytest.raises(FutureDriversError, match="2011"):
        check_stored_coverage(INPUTS, _stored(11), IDX, 3)
    future = pd.period_range("2010", periods=3, freq="Y")
    full = pd.DataFrame({"oil": [1.0, 2.0, 3.0]}, index=future)
    assert check_stored_coverage(INPUTS, _stored(11), IDX, 3, {"a": full, "b": full}) == ("oil",)
    partial = pd.DataFrame({"oil": [1.0, np.nan, 3.0]}, index=future)
    with pytest.raises(FutureDriversError, match="2011"):
        check_stored_coverage(INPUTS, _stored(11), IDX, 3, {"a": full, "b": partial})
