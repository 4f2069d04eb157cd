"""Bundled sample series: China-Russia trade (GACC) and Russia's settlement-currency shares.

Each CSV is a long file (``unique_id, ds, y`` plus ``name, unit, kind`` and the tag
columns) with the published source of every figure in its ``source`` column; see
``SOURCES.md`` next to this module. ``load_<name>()`` returns a :class:`SampleSet` (the
validated frame, series metadata and provenance); :func:`load_samples` puts every sample
into a store, skipping series whose latest vintage already holds identical data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from data.exceptions import StructureExistsError
from data.ingest import IngestResult, load_series
from data.meta import SeriesMeta, VintageInfo
from data.repository import Store
from data.structures_repo import StructureDefinition

__all__ = [
    "SAMPLES",
    "SAMPLE_RELEASE",
    "SAMPLE_STRUCTURES",
    "SampleSet",
    "ensure_sample_structures",
    "load_cn_ru_trade_annual",
    "load_cn_ru_trade_monthly",
    "load_ru_settlement_currency_shares",
    "load_sample",
    "load_samples",
]

logger = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent
#: Release label of vintages written by :func:`load_samples`.
SAMPLE_RELEASE = "bundled sample"

#: Sample name -> (file, description, source tag).
SAMPLES: dict[str, tuple[str, str, str]] = {
    "cn_ru_trade_annual": (
        "cn_ru_trade_annual.csv",
        "China-Russia annual trade as China's customs (GACC) reported it: total, China's exports to "
        "Russia, China's imports from Russia, USD bn, 1996 onward (gaps where no report was found).",
        "GACC via press reports",
    ),
    "cn_ru_trade_monthly": (
        "cn_ru_trade_monthly.csv",
        "China-Russia monthly trade (GACC) and cumulative year-to-date figures, USD bn, 2009-2025 "
        "(sparse before 2022).",
        "GACC via press reports",
    ),
    "ru_settlement_currency_shares": (
        "ru_settlement_currency_shares.csv",
        "Shares (fractions) of currencies in Russia's export and import settlements, Bank of Russia "
        "figures as quoted by the press and BOFIT, 2014-2024 (irregular months; annual figures "
        "kept as separate *_annual series).",
        "Bank of Russia via press and BOFIT",
    ),
}


@dataclass(frozen=True)
class SampleSet:
    """One bundled sample file, validated.

    Attributes
    ----------
    name : str
        Sample name (key of :data:`SAMPLES`).
    description : str
        What it holds.
    result : IngestResult
        Long frame ``unique_id, ds, y`` and a :class:`SeriesMeta` per series.
    provenance : pd.DataFrame
        ``unique_id, ds, source, note``: the published source of every figure.
    """

    name: str
    description: str
    result: IngestResult
    provenance: pd.DataFrame

    @property
    def frame(self) -> pd.DataFrame:
        """The long frame ``unique_id, ds, y``."""
        return self.result.frame

    @property
    def metas(self) -> dict[str, SeriesMeta]:
        """Series metadata by id."""
        return self.result.metas


def load_sample(name: str) -> SampleSet:
    """Read and validate one bundled sample.

    Parameters
    ----------
    name : str
        One of :data:`SAMPLES`.

    Returns
    -------
    SampleSet

    Raises
    ------
    KeyError
        If there is no such sample.
    """
    file, description, source = SAMPLES[name]
    path = SAMPLE_DIR / file
    result = load_series(path, format="csv", layout="long")
    # The per-figure source differs row by row; the series tag names the base source.
    result.metas = {
        sid: SeriesMeta(
            series_id=m.series_id,
            name=m.name,
            frequency=m.frequency,
            unit=m.unit,
            kind=m.kind,
            tags={**m.tags, "source": source, "sample": name},
        )
        for sid, m in result.metas.items()
    }
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    provenance = raw[["unique_id", "ds", "source", "note"]].reset_index(drop=True)
    return SampleSet(name=name, description=description, result=result, provenance=provenance)


def load_cn_ru_trade_annual() -> SampleSet:
    """China-Russia annual trade (total, exports, imports), GACC, USD bn, 1996 onward."""
    return load_sample("cn_ru_trade_annual")


def load_cn_ru_trade_monthly() -> SampleSet:
    """China-Russia monthly and year-to-date trade, GACC, USD bn."""
    return load_sample("cn_ru_trade_monthly")


def load_ru_settlement_currency_shares() -> SampleSet:
    """Currency shares (fractions) of Russia's export and import settlements."""
    return load_sample("ru_settlement_currency_shares")


def load_samples(store: Store, *, if_empty: bool = False) -> list[VintageInfo]:
    """Load every bundled sample into ``store`` (idempotent).

    Parameters
    ----------
    store : Store
        Target store; its schema must exist (see :meth:`Store.create_schema`).
    if_empty : bool
        Do nothing when the store already holds any series (used by ``make run``).

    Returns
    -------
    list of VintageInfo
        The vintages written; series whose latest vintage already holds identical data
        are skipped, so a second call returns ``[]``.
    """
    if if_empty and store.series.list_series(limit=1)[1] > 0:
        logger.info("store not empty; samples not loaded")
        ensure_sample_structures(store)  # a store filled before structures existed gets them too
        return []
    written: list[VintageInfo] = []
    for name in SAMPLES:
        sample = load_sample(name)
        saved = store.series.save_ingested(sample.result, release=SAMPLE_RELEASE, skip_unchanged=True)
        written += [v for v in saved if v.created]
    logger.info("loaded samples: %d new vintage(s)", len(written))
    ensure_sample_structures(store)
    return written


#: Structures over the bundled series, defined by :func:`load_samples`. Both are sparse press
#: figures, so both are forecast with ``missing="model"`` (a state-space model through the
#: gaps; nothing is filled in): the annual exports and imports are missing in 2008-09,
#: 2011-15, 2021 and 2023, and the monthly settlement shares are irregular months whose
#: components are rarely published together. Where they are (2022-01, 2022-12) they sum to
#: 0.98-0.995 (rounded figures, no 'other currencies' series), hence the tolerances.
SAMPLE_STRUCTURES: tuple[StructureDefinition, ...] = (
    StructureDefinition(
        name="cn-ru-trade",
        kind="hierarchy",
        hierarchy={"cn_ru_trade_total_annual": ("cn_ru_exports_annual", "cn_ru_imports_annual")},
        model="structural",
        missing="model",
        tolerance=0.01,
        description=(
            "China-Russia trade (GACC, USD bn, annual): total = China's exports + imports. Press figures, rounded "
            "(totals within 1% of their parts) and with gaps in the breakdown, fitted through the gaps."
        ),
    ),
    StructureDefinition(
        name="ru-export-settlement-currencies",
        kind="composition",
        components=(
            "ru_export_settlement_share_cny",
            "ru_export_settlement_share_rub",
            "ru_export_settlement_share_usd_eur",
        ),
        model="structural",
        missing="model",
        tolerance=0.025,
        description=(
            "Shares of yuan, ruble and dollar-and-euro in Russia's export settlements (Bank of Russia), forecast to "
            "sum to 100%. Sparse monthly press figures, fitted through the gaps; the small 'other currencies' "
            "share is not published, so the three are treated as the whole."
        ),
    ),
)


def ensure_sample_structures(store: Store) -> list[str]:
    """Define the :data:`SAMPLE_STRUCTURES` whose series are stored and that are not defined yet.

    Returns
    -------
    list of str
        The names defined now (a second call returns ``[]``).
    """
    created: list[str] = []
    for definition in SAMPLE_STRUCTURES:
        if store.structures.has(definition.name) or not all(store.series.has_series(i) for i in definition.data_ids):
            continue
        try:
            store.structures.define(definition)
        except StructureExistsError:  # defined concurrently by another process
            continue
        created.append(definition.name)
    if created:
        logger.info("defined sample structures %s", created)
    return created
