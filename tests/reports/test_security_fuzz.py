"""Property-based fuzzing of the issue-35 shapes (bounded: a few seconds in all).

Each property draws the family an attacker would vary: an internal address in every spelling
the resolver accepts, a data row wider than its header in any separator and quoting, a cell
text that a spreadsheet would run, a title with any line break, a connector key with any
path trick.
"""

from __future__ import annotations

import io
import ipaddress
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from data.connectors import InvalidQueryError
from data.connectors.base import check_segments
from data.exceptions import IngestError
from data.ingest import UploadLimits, load_series
from forecasting.exceptions import InvalidParameterError
from reports.definitions import check_title
from reports.exceptions import WebhookAddressError
from reports.webhooks import address_rule, check_webhook_address
from reports.xlsx import append_row

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INTERNAL_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
]


@st.composite
def internal_ipv4(draw: st.DrawFn) -> ipaddress.IPv4Address:
    network = ipaddress.IPv4Network(draw(st.sampled_from(INTERNAL_V4)))
    return network[draw(st.integers(0, network.num_addresses - 1))]


def _spell(address: ipaddress.IPv4Address, how: str) -> str:
    n = int(address)
    octets = [int(o) for o in str(address).split(".")]
    return {
        "dotted": str(address),
        "decimal": str(n),
        "hex": hex(n),
        "octal_dotted": ".".join(f"0{o:o}" for o in octets),
        "hex_dotted": ".".join(hex(o) for o in octets),
        "short_a_b": f"{octets[0]}.{n & 0xFFFFFF}",
        "mapped_v6": f"[::ffff:{address}]",
        "nat64_v6": f"[64:ff9b::{n >> 16:x}:{n & 0xFFFF:x}]",
        "sixtofour_v6": f"[2002:{n >> 16:x}:{n & 0xFFFF:x}::1]",
    }[how]


SPELLINGS = ["dotted", "decimal", "hex", "octal_dotted", "hex_dotted", "short_a_b", "mapped_v6", "nat64_v6"]


@FUZZ
@given(
    address=internal_ipv4(),
    how=st.sampled_from([*SPELLINGS, "sixtofour_v6"]),
    port=st.one_of(st.none(), st.integers(1, 65535)),
    scheme=st.sampled_from(["http", "https"]),
    path=st.sampled_from(["", "/", "/latest/meta-data/", "/hook?token=x"]),
)
def test_internal_ipv4_in_any_spelling_is_refused(
    address: ipaddress.IPv4Address, how: str, port: int | None, scheme: str, path: str
) -> None:
    host = _spell(address, how)
    url = f"{scheme}://{host}{f':{port}' if port else ''}{path}"
    with pytest.raises(WebhookAddressError) as info:
        check_webhook_address(url)
    assert info.value.details["rule"] == address_rule(address)


@FUZZ
@given(bits=st.integers(0, 2**32 - 1))
def test_every_ipv4_is_refused_exactly_when_it_is_not_global(bits: int) -> None:
    address = ipaddress.IPv4Address(bits)
    try:
        check_webhook_address(f"http://{bits}/hook")
        refused = False
    except WebhookAddressError:
        refused = True
    assert refused == (not address.is_global or address.is_multicast)


@FUZZ
@given(
    header_width=st.integers(2, 6),
    extra=st.integers(1, 5_000),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoted=st.booleans(),
    lines_before=st.integers(0, 50),
)
def test_data_row_wider_than_its_header_is_refused_naming_the_line(
    header_width: int, extra: int, delimiter: str, quoted: bool, lines_before: int
) -> None:
    names = ["ds", *(f"s{i}" for i in range(header_width - 1))]
    good = delimiter.join(["2000", *["1"] * (header_width - 1)])
    cell = '""' if quoted else ""
    wide = delimiter.join(["2001", *[cell] * (header_width - 1 + extra)])
    text = "\n".join([delimiter.join(names), *[good] * lines_before, wide, good]) + "\n"
    started = time.perf_counter()
    with pytest.raises(IngestError) as info:
        load_series(io.BytesIO(text.encode()), format="csv")
    assert time.perf_counter() - started < 1.0
    assert info.value.line == lines_before + 2 and f"has {header_width + extra:,} fields" in str(info.value)


@settings(max_examples=50, deadline=None)  # a workbook saved and read per example
@given(
    prefix=st.sampled_from(["=", "+", "-", "@", "\t", "\r"]),
    rest=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30),
)
def test_cell_text_a_spreadsheet_would_run_is_written_as_quoted_text(prefix: str, rest: str) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    append_row(sheet, [prefix + rest, 1.5])
    buffer = io.BytesIO()
    book.save(buffer)
    read = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert read is not None
    cell, number = read["A1"], read["B1"]
    assert cell.data_type == "s" and cell.quotePrefix
    assert number.value == 1.5 and number.data_type == "n"


@FUZZ
@given(
    left=st.text(max_size=20),
    breaker=st.sampled_from(["\r", "\n", "\u2028", "\u2029", "\x85", "\x00", "\x1b", "\x7f", "\x0b"]),
    right=st.text(max_size=20),
)
def test_title_with_any_line_break_or_control_character_is_refused(left: str, breaker: str, right: str) -> None:
    with pytest.raises(InvalidParameterError, match="title must be one line"):
        check_title(left + breaker + right)


@FUZZ
@given(
    left=st.text(st.characters(codec="ascii"), max_size=10),
    trick=st.sampled_from(["..", "/", "?", "#", "%2e", "%2f", "\\", " ", "%"]),
    right=st.text(st.characters(codec="ascii"), max_size=10),
)
def test_connector_key_with_a_path_trick_is_refused(left: str, trick: str, right: str) -> None:
    segment = left + trick + right
    with pytest.raises(InvalidQueryError):
        check_segments("dbnomics", segment, [segment] if trick != ".." else [trick])


def test_header_wider_than_the_column_cap_is_still_refused() -> None:
    text = "ds," + ",".join(f"s{i}" for i in range(2_000)) + "\n2000" + ",1" * 2_000 + "\n"
    with pytest.raises(IngestError, match="TRADECAST_MAX_UPLOAD_COLUMNS"):
        load_series(io.BytesIO(text.encode()), format="csv", limits=UploadLimits())
