"""The layouts statistics offices publish → observation rows, and unit scales read from headers.

Recognised layouts (``layout="auto"`` picks them from the header; or name one):

- ``comtrade``: a UN Comtrade export, one row per reporter × partner × flow × period, the
  period in ``Period`` (``201901`` monthly, ``2019`` annual), the value in ``Trade Value
  (US$)`` (legacy exports) or ``primaryValue`` (the current API's CSV), often quoted with
  thousands separators (``"3,695,000,000"``). The series id is
  ``<reporter>_<partner>_<flow>`` (ISO codes when given, lower case), plus
  ``_<commodity>`` when the commodity is not the total.
- ``imf``: the IMF's wide CSV (Direction of Trade Statistics and other IMF data
  downloads): ``Country Name, Country Code, Indicator Name, Indicator Code, Counterpart
  Country Name, Counterpart Country Code[, Attribute]`` then one column per period (``1948``,
  ``2019M01``, ``2019Q1``). Rows whose ``Attribute`` is not ``Value`` (status flags) are
  skipped. The id is ``imf_<country code>_<indicator code>_<counterpart code>``.
- ``eurostat``: Eurostat's tab-separated bulk download, whose first header cell lists the
  dimensions (``freq,unit,partner,geo\\TIME_PERIOD``) and whose first column holds them
  comma-joined per row, then one column per period; ``:`` is a missing value and flags
  after a value (``123 p``) are dropped. Also Eurostat's SDMX-CSV (``TIME_PERIOD``,
  ``OBS_VALUE``, ``OBS_FLAG`` columns). The id is the dimension values joined by ``.``.

- ``fcs``: the Russian customs (FCS) table "foreign trade with the main countries" as Rosstat
  publishes it in Excel (``96stran.xlsx``): one sheet per flow (``Экспорт``, ``Импорт``), a
  header row of partner names (its first cell empty), then a row holding only the year and
  one row per month named in Russian (``январь`` ... ``декабрь``); ``…`` is missing. Choose
  the sheet and the header row (``sheet="Экспорт", header_row=5``) and the scale the title
  states (``scale="millions"`` for "млн долларов США"). The id is
  ``ru_<flow>_<partner, transliterated>`` (``ru_export_kitai``).

Unit scales: a value header such as ``Value (USD millions)``, ``value_musd`` or ``USD bn``
names a scale (thousands, millions, billions) and a currency; see :func:`scale_in_header`.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from data._raw import Raw
from data.exceptions import IngestError

__all__ = [
    "PUBLICATION_LAYOUTS",
    "SCALES",
    "currency_in_header",
    "publication_to_raw",
    "recognise_layout",
    "scale_in_header",
]

logger = logging.getLogger(__name__)

PUBLICATION_LAYOUTS = ("comtrade", "imf", "eurostat", "fcs")
#: Declared scales and the factor that brings values to units.
SCALES: dict[str, float] = {"units": 1.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9}
_SCALE_WORDS = {
    "thousand": "thousands",
    "thousands": "thousands",
    "thsd": "thousands",
    "millions": "millions",
    "million": "millions",
    "mn": "millions",
    "mln": "millions",
    "musd": "millions",
    "meur": "millions",
    "billion": "billions",
    "billions": "billions",
    "bn": "billions",
    "bln": "billions",
    "busd": "billions",
    "beur": "billions",
}
_CURRENCIES = {"usd": "USD", "us$": "USD", "eur": "EUR", "cny": "CNY", "rub": "RUB", "musd": "USD", "busd": "USD"}
_CURRENCIES.update({"meur": "EUR", "beur": "EUR", "dollars": "USD", "euros": "EUR", "yuan": "CNY", "rubles": "RUB"})
_TOKEN = re.compile(r"us\$|[a-z]+")
_COMTRADE_VALUE = ("trade value (us$)", "primaryvalue", "tradevalue")
_IMF_KEYS = ("country code", "indicator code", "counterpart country code")
_SDMX_SKIP = {"dataflow", "last update", "time_period", "obs_value", "obs_flag", "conf_status", "structure"}
_SDMX_SKIP |= {"structure_id", "structure_name", "action"}
_EUROSTAT_TAGS = {"geo": "reporter", "reporter": "reporter", "partner": "partner", "flow": "flow", "stk_flow": "flow"}


def scale_in_header(header: str) -> str | None:
    """The scale a column header names (``Value (USD millions)`` → ``millions``), else None.

    Words read: thousand(s), thsd; million(s), mn, mln, musd, meur; billion(s), bn, bln,
    busd, beur (case-insensitive, as separate words: ``value_musd`` counts, ``amount`` does not).

    Raises
    ------
    IngestError
        If the header names two different scales.
    """
    found = {_SCALE_WORDS[t] for t in _TOKEN.findall(header.lower()) if t in _SCALE_WORDS}
    if len(found) > 1:
        raise IngestError(f"the header {header!r} names two scales ({', '.join(sorted(found))}); keep one.")
    return found.pop() if found else None


def currency_in_header(header: str) -> str | None:
    """The currency a header names (``Trade Value (US$)`` → ``USD``), else None."""
    for token in _TOKEN.findall(header.lower()):
        if token in _CURRENCIES:
            return _CURRENCIES[token]
    return None


def recognise_layout(columns: list[str], first_column: pd.Series | None = None) -> str | None:
    """The publication layout of a table from its header (and first column), else None (a tidy table)."""
    lowered = [c.strip().lower() for c in columns]
    if first_column is not None and lowered and lowered[0] == "" and _is_fcs(first_column):
        return "fcs"
    if lowered and "\\" in lowered[0]:
        return "eurostat"
    if "time_period" in lowered and "obs_value" in lowered:
        return "eurostat"
    if all(k in lowered for k in _IMF_KEYS):
        return "imf"
    if "period" in lowered and any(v in lowered for v in _COMTRADE_VALUE):
        return "comtrade"
    return None


def _slug(values: pd.Series) -> np.ndarray:
    """URL-safe lower-case id parts: anything but letters, digits, '.', '-' becomes '_'."""
    text = values.astype("string").fillna("").str.strip().str.lower()
    slugs: np.ndarray = text.str.replace(r"[^a-z0-9.\-]+", "_", regex=True).str.strip("_").to_numpy(dtype=object)
    return slugs


def _col(lowered: list[str], *names: str) -> int | None:
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _missing(layout: str, what: str, columns: list[str], header_line: int, loc_word: str) -> IngestError:
    article = "an" if layout[:1] in "AEIOU" else "a"
    return IngestError(
        f"{loc_word} {header_line}: {article} {layout} file needs {what}; found columns {columns}.", line=header_line
    )


def publication_to_raw(
    layout: str, table: pd.DataFrame, lines: np.ndarray, loc_word: str, header_line: int, sheet: str = ""
) -> Raw:
    """Observation rows of a publication ``layout`` (see the module docstring).

    Parameters
    ----------
    layout : {"comtrade", "imf", "eurostat"}
    table : pd.DataFrame
        The table as text (every cell a str), its header as read.
    lines : ndarray of int
        The line (row) of each table row in the file.
    loc_word : {"line", "row"}
    header_line : int
        The line of the header.
    sheet : str
        The Excel sheet's name (the flow of an ``fcs`` table).

    Raises
    ------
    IngestError
        When a column the layout needs is missing, naming the header line.
    """
    columns = [str(c).strip() for c in table.columns]
    lowered = [c.lower() for c in columns]
    if layout == "comtrade":
        raw = _comtrade(table, columns, lines, loc_word, header_line)
    elif layout == "imf":
        raw = _imf(table, columns, lines, loc_word, header_line)
    elif layout == "fcs":
        raw = _fcs(table, columns, lines, loc_word, sheet)
    elif "time_period" in lowered and "obs_value" in lowered:
        raw = _sdmx_csv(table, columns, lines, loc_word)
    else:
        raw = _eurostat_tsv(table, columns, lines, loc_word, header_line)
    if len(raw.uid) == 0:
        # Rows a layout drops (IMF rows whose Attribute is not 'Value', FCS rows that are no
        # month of a year) can leave nothing: say so rather than store an empty upload.
        raise IngestError(
            f"{loc_word} {header_line}: read with layout={layout!r}, the file holds no observations "
            f"({_NO_ROWS.get(layout, 'no data rows')}); check the layout, or leave it to 'auto'.",
            line=header_line,
        )
    return raw


#: Why a layout found no observation rows.
_NO_ROWS = {
    "imf": "no row has Attribute 'Value'",
    "fcs": "no row names a month (январь ... декабрь) under a year row",
}


def _comtrade(table: pd.DataFrame, columns: list[str], lines: np.ndarray, loc_word: str, header_line: int) -> Raw:
    lowered = [c.lower() for c in columns]
    period = _col(lowered, "period")
    value = _col(lowered, *_COMTRADE_VALUE)
    reporter = _col(lowered, "reporter iso", "reporteriso", "reporter", "reporterdesc", "reporter code")
    partner = _col(lowered, "partner iso", "partneriso", "partner", "partnerdesc", "partner code")
    flow = _col(lowered, "trade flow", "flowdesc", "flowcode", "trade flow code")
    if period is None or value is None or reporter is None or partner is None or flow is None:
        raise _missing(
            "Comtrade",
            "Period, Reporter (ISO), Partner (ISO), Trade Flow and Trade Value (US$)",
            columns,
            header_line,
            loc_word,
        )
    parts = [_slug(table.iloc[:, c]) for c in (reporter, partner, flow)]
    uid = np.array(["_".join(p) for p in zip(*parts, strict=True)], dtype=object)
    commodity = _col(lowered, "commodity code", "cmdcode")
    if commodity is not None:
        cmd = _slug(table.iloc[:, commodity])
        extra_part = np.array([f"_{c}" if c and c != "total" else "" for c in cmd], dtype=object)
        uid = uid + extra_part
    n = len(table)
    tags = {
        "reporter": table.iloc[:, reporter].to_numpy(dtype=object),
        "partner": table.iloc[:, partner].to_numpy(dtype=object),
        "flow": table.iloc[:, flow].to_numpy(dtype=object),
        "source": np.full(n, "UN Comtrade", dtype=object),
        "unit": np.full(n, currency_in_header(columns[value]) or "USD", dtype=object),
    }
    return Raw(
        uid=uid,
        ds=table.iloc[:, period].to_numpy(dtype=object),
        y=table.iloc[:, value].to_numpy(dtype=object),
        loc=lines,
        uid_col=np.full(n, reporter + 1, dtype=np.int64),
        uid_loc=lines,
        ds_col=period + 1,
        y_col=np.full(n, value + 1, dtype=np.int64),
        y_name=np.full(n, columns[value], dtype=object),
        ds_name=columns[period],
        uid_name=columns[reporter],
        loc_word=loc_word,
        extra=tags,
    )


def _wide_rows(
    table: pd.DataFrame,
    columns: list[str],
    first_period: int,
    uid: np.ndarray,
    lines: np.ndarray,
    loc_word: str,
    header_line: int,
    extra: dict[str, np.ndarray],
) -> Raw:
    """Rows × period columns → one observation per cell; periods read from the header line."""
    n, k = len(table), len(columns) - first_period
    if k <= 0:
        raise IngestError(f"{loc_word} {header_line}: no period columns after {columns[-1]!r}.", line=header_line)
    cols = np.arange(first_period + 1, len(columns) + 1, dtype=np.int64)
    headers = np.array(columns[first_period:], dtype=object)
    return Raw(
        uid=np.repeat(uid, k),
        ds=np.tile(headers, n),
        y=table.iloc[:, first_period:].to_numpy(dtype=object).ravel(),
        loc=np.repeat(lines, k),
        uid_col=np.ones(n * k, dtype=np.int64),
        uid_loc=np.repeat(lines, k),
        ds_col=0,
        y_col=np.tile(cols, n),
        y_name=np.tile(headers, n),
        ds_name="header",
        uid_name=columns[0],
        loc_word=loc_word,
        extra={key: np.repeat(v, k) for key, v in extra.items()},
        ds_loc=np.full(n * k, header_line, dtype=np.int64),
        ds_cols=np.tile(cols, n),
        ds_names=np.full(n * k, "header", dtype=object),
    )


def _imf(table: pd.DataFrame, columns: list[str], lines: np.ndarray, loc_word: str, header_line: int) -> Raw:
    lowered = [c.lower() for c in columns]
    if not all(k in lowered for k in _IMF_KEYS):
        raise _missing(
            "IMF", "Country Code, Indicator Code and Counterpart Country Code", columns, header_line, loc_word
        )
    country, indicator, counterpart = (lowered.index(k) for k in _IMF_KEYS)
    attribute = _col(lowered, "attribute")
    if attribute is not None:
        keep = (table.iloc[:, attribute].str.strip().str.lower() == "value").to_numpy()
        skipped = int((~keep).sum())
        if skipped:
            logger.info("IMF layout: skipped %d rows whose Attribute is not 'Value'", skipped)
        table, lines = table[keep], lines[keep]
    first_period = max(country, indicator, counterpart, attribute or 0) + 1
    names = {k: _col(lowered, k) for k in ("country name", "indicator name", "counterpart country name")}
    while first_period < len(lowered) and lowered[first_period].endswith(("name", "code")):
        first_period += 1
    parts = [_slug(table.iloc[:, c]) for c in (country, indicator, counterpart)]
    uid = np.array(["imf_" + "_".join(p) for p in zip(*parts, strict=True)], dtype=object)
    n = len(table)

    def text(key: str, fallback: int) -> np.ndarray:
        pos = names[key]
        cells: np.ndarray = table.iloc[:, pos if pos is not None else fallback].to_numpy(dtype=object)
        return cells

    indicator_names = text("indicator name", indicator)
    codes = table.iloc[:, indicator].str.upper()
    flow = np.where(codes.str.startswith("TX"), "export", np.where(codes.str.startswith("TM"), "import", ""))
    extra = {
        "reporter": text("country name", country),
        "partner": text("counterpart country name", counterpart),
        "flow": flow.astype(object),
        "name": indicator_names,
        "unit": np.array([currency_in_header(str(t)) or "" for t in indicator_names], dtype=object),
        "source": np.full(n, "IMF", dtype=object),
    }
    return _wide_rows(table, columns, first_period, uid, lines, loc_word, header_line, extra)


def _eurostat_value(cells: np.ndarray) -> np.ndarray:
    """Eurostat cells: ``:`` (with or without a flag) is missing; a flag after the number is dropped."""
    text = pd.Series(cells, dtype="string").fillna("").str.strip()
    text = text.mask(text.str.startswith(":"), "")
    cleaned: np.ndarray = text.str.replace(r"^(\S+)\s+[a-z]{1,3}$", r"\1", regex=True).to_numpy(dtype=object)
    return cleaned


def _eurostat_tsv(table: pd.DataFrame, columns: list[str], lines: np.ndarray, loc_word: str, header_line: int) -> Raw:
    dims = [d.strip().lower() for d in columns[0].split("\\", 1)[0].split(",")]
    keys = table.iloc[:, 0].astype("string").fillna("").str.strip().str.split(",")
    bad = keys.map(len) != len(dims)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(
            f"{loc_word} {int(lines[i])}, column 1 ({columns[0]}): {table.iloc[i, 0]!r} does not hold the "
            f"{len(dims)} dimensions {dims} named in the header.",
            line=int(lines[i]),
            column=1,
            column_name=columns[0],
            value=str(table.iloc[i, 0]),
        )
    uid = np.array([".".join(k) for k in keys], dtype=object)
    uid = _slug(pd.Series(uid)).astype(object)
    values = table.copy()
    for c in range(1, len(columns)):
        values.iloc[:, c] = _eurostat_value(table.iloc[:, c].to_numpy(dtype=object))
    extra = _eurostat_extra(dims, keys, len(table))
    return _wide_rows(values, columns, 1, uid, lines, loc_word, header_line, extra)


def _eurostat_extra(dims: list[str], keys: pd.Series, n: int) -> dict[str, np.ndarray]:
    extra: dict[str, np.ndarray] = {"source": np.full(n, "Eurostat", dtype=object)}
    for j, dim in enumerate(dims):
        if dim in _EUROSTAT_TAGS:
            extra[_EUROSTAT_TAGS[dim]] = np.array([k[j] for k in keys], dtype=object)
        elif dim == "unit":
            extra["unit"] = np.array([k[j] for k in keys], dtype=object)
    return extra


def _sdmx_csv(table: pd.DataFrame, columns: list[str], lines: np.ndarray, loc_word: str) -> Raw:
    lowered = [c.lower() for c in columns]
    period, value = lowered.index("time_period"), lowered.index("obs_value")
    dim_cols = [j for j, c in enumerate(lowered) if c not in _SDMX_SKIP]
    if not dim_cols:
        raise IngestError(f"{loc_word} 1: an SDMX-CSV file needs dimension columns; found {columns}.", line=1)
    keys = [_slug(table.iloc[:, j]) for j in dim_cols]
    uid = np.array([".".join(parts) for parts in zip(*keys, strict=True)], dtype=object)
    n = len(table)
    split = pd.Series([[str(k[i]) for k in keys] for i in range(n)], dtype=object)
    extra = _eurostat_extra([lowered[j] for j in dim_cols], split, n)
    return Raw(
        uid=uid,
        ds=table.iloc[:, period].to_numpy(dtype=object),
        y=_eurostat_value(table.iloc[:, value].to_numpy(dtype=object)),
        loc=lines,
        uid_col=np.full(n, dim_cols[0] + 1, dtype=np.int64),
        uid_loc=lines,
        ds_col=period + 1,
        y_col=np.full(n, value + 1, dtype=np.int64),
        y_name=np.full(n, columns[value], dtype=object),
        ds_name=columns[period],
        uid_name=columns[dim_cols[0]],
        loc_word=loc_word,
        extra=extra,
    )


_RU_MONTHS = {
    m: i
    for i, m in enumerate(
        ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь",
         "декабрь"],
        start=1,
    )
}  # fmt: skip
_RU_FLOWS = {"экспорт": "export", "импорт": "import"}
_RU_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
         "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
        strict=True,
    )
)  # fmt: skip
_NOT_AVAILABLE = ("…", "...")


def _transliterate(text: str) -> str:
    """Russian letters → Latin (partner names become URL-safe ids)."""
    return "".join(_RU_LATIN.get(ch, ch) for ch in text.lower())


def _fcs_first_column(first: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Year (carried down from its heading row) and month number of each row of an ``fcs`` table."""
    text = first.astype("string").fillna("").str.strip().str.lower()
    year = pd.to_numeric(text.where(text.str.fullmatch(r"(?:19|20)\d{2}")), errors="coerce")
    month = text.map(_RU_MONTHS)
    return year.ffill(), month


def _is_fcs(first: pd.Series) -> bool:
    text = first.astype("string").fillna("").str.strip().str.lower()
    return bool(text.str.fullmatch(r"(?:19|20)\d{2}").any() and text.isin(list(_RU_MONTHS)).any())


def _fcs(table: pd.DataFrame, columns: list[str], lines: np.ndarray, loc_word: str, sheet: str) -> Raw:
    flow = _RU_FLOWS.get(sheet.strip().lower(), _slug(pd.Series([sheet]))[0] or "flow")
    year, month = _fcs_first_column(table.iloc[:, 0])
    rows = (month.notna() & year.notna()).to_numpy()
    headings = table.iloc[:, 0].astype("string").fillna("").str.strip().str.fullmatch(r"(?:19|20)\d{2}").to_numpy()
    stray = (~rows & ~headings) & (table.iloc[:, 0].astype("string").fillna("").str.strip() != "").to_numpy()
    if stray.any():
        i = int(np.flatnonzero(stray)[0])
        raise IngestError(
            f"{loc_word} {int(lines[i])}, column 1: {table.iloc[i, 0]!r} is neither a year nor a month name "
            "(январь ... декабрь) of an FCS table.",
            line=int(lines[i]),
            column=1,
            value=str(table.iloc[i, 0]),
        )
    body = table[rows]
    ds = np.array([f"{int(y)}-{int(m):02d}" for y, m in zip(year[rows], month[rows], strict=True)], dtype=object)
    partners = columns[1:]
    ids = np.array([f"ru_{flow}_" + _slug(pd.Series([_transliterate(p)]))[0] for p in partners], dtype=object)
    n, k = len(body), len(partners)
    cells = body.iloc[:, 1:].to_numpy(dtype=object)
    cells = np.where(np.isin(cells, _NOT_AVAILABLE), "", cells)
    cols = np.arange(2, k + 2, dtype=np.int64)
    extra = {
        "reporter": np.full(n * k, "Russia", dtype=object),
        "partner": np.tile(np.array(partners, dtype=object), n),
        "flow": np.full(n * k, flow, dtype=object),
        "source": np.full(n * k, "FCS of Russia", dtype=object),
        "unit": np.full(n * k, "USD", dtype=object),
    }
    return Raw(
        uid=np.tile(ids, n),
        ds=np.repeat(ds, k),
        y=cells.ravel(),
        loc=np.repeat(lines[rows], k),
        uid_col=np.tile(cols, n),
        uid_loc=np.full(n * k, int(lines[0]) - 1, dtype=np.int64),
        ds_col=1,
        y_col=np.tile(cols, n),
        y_name=np.tile(np.array(partners, dtype=object), n),
        ds_name="period",
        uid_name="header",
        loc_word=loc_word,
        extra=extra,
    )
