"""The one series parser: parse_series / parse_long, their rules and error codes."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from forecasting.exceptions import (
    DuplicatePeriodError,
    EmptySeriesError,
    InvalidSeriesError,
    MissingPeriodsError,
    MixedFrequencyError,
    NegativeValueError,
    ShareOutOfRangeError,
    UnknownFrequencyError,
)
from forecasting.series import RowLocator, parse_long, parse_series


def test_parse_series_labels_give_a_sorted_period_series():
    y = parse_series(["2023Q2", "2023-Q1", "2023 q3"], ["2", 1.0, None], name="s")
    assert str(y.index.freqstr).startswith("Q") and y.index.name == "ds" and y.name == "s"
    assert [str(p) for p in y.index] == ["2023Q1", "2023Q2", "2023Q3"]
    assert y.iloc[:2].tolist() == [1.0, 2.0] and np.isnan(y.iloc[2])


def test_parse_series_accepts_period_and_datetime_indexes():
    periods = pd.period_range("2020-01", periods=3, freq="M")
    assert parse_series(periods, [1.0, 2.0, 3.0]).index.equals(periods.rename("ds"))
    dates = pd.DatetimeIndex(["2020-03-31", "2020-06-30", "2020-09-30"])
    assert [str(p) for p in parse_series(dates, [1, 2, 3], frequency="quarterly").index] == [
        "2020Q1",
        "2020Q2",
        "2020Q3",
    ]


def test_parse_series_gaps_raise_unless_allowed():
    with pytest.raises(MissingPeriodsError, match="1 gap"):
        parse_series(["2020", "2022"], [1.0, 2.0])
    assert parse_series(["2020", "2022"], [1.0, 2.0], allow_gaps=True).isna().tolist() == [False, True, False]


def test_parse_series_names_the_item_of_each_rule():
    with pytest.raises(DuplicatePeriodError, match=r"^data\[1\]\.ds: duplicate period 2020 .*first given at data\[0\]"):
        parse_series(["2020", "2020"], [1, 2], name="data")
    with pytest.raises(MixedFrequencyError, match=r"data\[1\]\.ds") as err:
        parse_series(["2020-01", "2020"], [1, 2], name="data")
    assert err.value.code == "mixed_frequency" and err.value.row == 1
    with pytest.raises(ShareOutOfRangeError, match=r"series 's', observation 2 \(y\): share 40"):
        parse_series(["2020", "2021"], [0.5, 40], kind="share", locator=RowLocator("s"))
    with pytest.raises(UnknownFrequencyError):
        parse_series(["2020"], [1.0], frequency="weekly")
    with pytest.raises(EmptySeriesError):
        parse_series([], [])


def test_negative_levels_are_refused_only_when_asked():
    with pytest.raises(NegativeValueError):
        parse_long(["a", "a"], ["2020", "2021"], [1.0, -1.0], allow_negative=False)
    assert parse_series(["2020", "2021"], [1.0, -1.0]).tolist() == [1.0, -1.0]


def test_parse_long_frame_has_one_row_per_observation_sorted_by_id():
    parsed = parse_long(["b", "a", "b"], ["2020-02", "2020", "2020-01"], ["2", "3", "1"])
    frame = parsed.frame()
    assert frame["unique_id"].tolist() == ["a", "b", "b"]
    assert [str(p) for p in frame["ds"]] == ["2020", "2020-01", "2020-02"]
    assert dict(zip(parsed.ids.tolist(), parsed.freq_of.tolist(), strict=True)) == {"b": "monthly", "a": "annual"}


def test_series_errors_survive_pickling_with_their_place():
    with pytest.raises(InvalidSeriesError) as err:
        parse_series(["2020", "2020"], [1, 2])
    copy = pickle.loads(pickle.dumps(err.value))
    assert type(copy) is DuplicatePeriodError and str(copy) == str(err.value)
    assert (copy.location, copy.row, copy.code) == ("y[1].ds", 1, "duplicate_period")


@pytest.mark.parametrize(
    ("labels", "frequency", "row"),
    [
        (["1994", "1995-03", "1996"], "annual", 1),
        (["1995-03", "1996-03"], "annual", 0),
        (["1994Q1", "1994-03", "1994Q3"], "quarterly", 1),
        (["1994-01", "1994Q2"], "monthly", 1),
    ],
)
def test_label_of_another_frequency_is_refused_naming_the_row(labels, frequency, row):
    with pytest.raises(MixedFrequencyError) as raised:
        parse_series(labels, [1.0] * len(labels), frequency=frequency, allow_gaps=True)
    assert raised.value.code == "mixed_frequency" and raised.value.row == row
    assert raised.value.location == f"y[{row}].ds" and labels[row] in str(raised.value)


def test_dates_read_as_the_period_containing_them():
    y = parse_series(["1994-12-31", "1995-12-31"], [1.0, 2.0], frequency="annual")
    assert [str(p) for p in y.index] == ["1994", "1995"]
    q = parse_series(["1994-02-15", "1994-05-15"], [1.0, 2.0], frequency="quarterly")
    assert [str(p) for p in q.index] == ["1994Q1", "1994Q2"]
