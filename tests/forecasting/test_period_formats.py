"""Period spellings statistics offices publish, and number formats, in the one series parser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.exceptions import NonNumericValueError, UnreadablePeriodError
from forecasting.series import NumberFormat, parse_long, parse_series


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["201901", "201902", "201912"], ["2019-01", "2019-02", "2019-12"]),  # Comtrade
        (["2019M01", "2019M02", "2019M12"], ["2019-01", "2019-02", "2019-12"]),  # IMF
        (["2019-M01", "2019-M02", "2019-m12"], ["2019-01", "2019-02", "2019-12"]),
        (["Jan 2019", "February 2019", "Dec-2019"], ["2019-01", "2019-02", "2019-12"]),
        (["2019 Jan", "2019 Sept", "2019 Dec"], ["2019-01", "2019-09", "2019-12"]),
        (["2019.01", "2019.10", "2019.12"], ["2019-01", "2019-10", "2019-12"]),
        (["2019Q1", "2019-Q2", "Q4 2019"], ["2019Q1", "2019Q2", "2019Q4"]),
    ],
)
def test_published_period_spellings_parse(labels, expected):
    y = parse_series(labels, [1.0, 2.0, 3.0], allow_gaps=True)
    assert y.dropna().index.astype(str).tolist() == expected


def test_yyyymm_is_monthly_and_yyyy_annual():
    assert parse_series(["201901", "201902"], [1, 2]).index.freqstr == "M"
    assert parse_series(["2019", "2020"], [1, 2]).index.freqstr[0] == "Y"


@pytest.mark.parametrize("label", ["2019.1", "2019.5", "2019.123"])
def test_decimal_year_is_refused_with_the_reason(label):
    with pytest.raises(UnreadablePeriodError) as err:
        parse_series([label], [1.0])
    message = str(err.value)
    assert f"cannot read the period {label!r}: a year with a decimal part is ambiguous" in message
    assert message.startswith("y[0].ds: ") and err.value.value == label


@pytest.mark.parametrize("label", ["2019.13", "201913", "2019M13", "Jam 2019", "2019.00"])
def test_impossible_months_are_unreadable(label):
    with pytest.raises(UnreadablePeriodError, match=f"cannot read the period '{label}'"):
        parse_series([label], [1.0])


def test_thousands_separators_grouped_by_three():
    fmt = NumberFormat(".", ",")
    out = parse_long(
        ["a", "a", "a"],
        ["2019", "2020", "2021"],
        np.array(["3,695,000,000", "12.5", "1,234.5"], dtype=object),
        number_format=fmt,
    )
    assert out.y.tolist() == [3_695_000_000.0, 12.5, 1234.5]


def test_thousands_separator_in_the_wrong_place_names_row_and_value():
    with pytest.raises(NonNumericValueError) as err:
        parse_long(
            ["a", "a"],
            ["2019", "2020"],
            np.array(["1,000", "3,69"], dtype=object),
            number_format=NumberFormat(".", ","),
        )
    assert str(err.value).startswith("data[1].y: non-numeric value '3,69' for series 'a'")
    assert "decimal mark '.', thousands separators ','" in str(err.value)


def test_decimal_comma_with_dot_or_space_thousands():
    fmt = NumberFormat(",", ". \u00a0")
    cells = np.array(["4066,66643", "4.237,97395", "1 234,5", "-0,5", "7"], dtype=object)
    out = parse_long(["a"] * 5, ["2019", "2020", "2021", "2022", "2023"], cells, number_format=fmt)
    assert out.y.tolist() == [4066.66643, 4237.97395, 1234.5, -0.5, 7.0]


def test_decimal_comma_refuses_a_dot_decimal():
    # In a decimal-comma file "1.5" is neither 1.5 nor 15: refused, not guessed.
    with pytest.raises(NonNumericValueError, match="non-numeric value '1.5'"):
        parse_long(["a"], ["2019"], np.array(["1.5"], dtype=object), number_format=NumberFormat(",", "."))


def test_plain_format_still_refuses_separators():
    with pytest.raises(NonNumericValueError, match="use '.' for decimals, no thousands separators"):
        parse_series(["2019"], ["3,695"])


def test_typed_numbers_are_kept_under_any_format():
    out = parse_long(
        ["a", "a"], ["2019", "2020"], np.array([1.5, None], dtype=object), number_format=NumberFormat(",", ".")
    )
    assert out.y[0] == 1.5 and np.isnan(out.y[1])


def test_period_index_round_trip_unchanged():
    idx = pd.period_range("2019-01", periods=3, freq="M")
    assert parse_series(idx, [1, 2, 3]).index.equals(idx.rename("ds"))
