"""Long frames of a structure in and out: parse, align and check the observations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.exceptions import (
    FrequencyMismatchError,
    IncoherentTotalError,
    InvalidSeriesError,
    MisalignedPeriodsError,
    MissingPeriodsError,
    MissingValuesError,
)
from forecasting.frames import DS, MEAN, UNIQUE_ID, Y, hi_col, lo_col
from forecasting.periods import FREQUENCIES
from forecasting.series import parse_long

__all__ = ["check_totals", "long_forecast", "to_wide"]


def _labels(ordinals: np.ndarray, freq: str) -> list[str]:
    return [str(p) for p in pd.PeriodIndex.from_ordinals(ordinals, freq=freq)]


def _check_complete(ids: np.ndarray, codes: np.ndarray, ords: np.ndarray, y: np.ndarray, freq: str) -> None:
    for i, uid in enumerate(ids):
        mine = codes == i
        bad = mine & np.isnan(y)
        if bad.any():
            where = _labels(ords[bad][:3], freq)
            raise MissingValuesError(
                f"series {uid!r} has missing values at {', '.join(where)}; a structure needs every value "
                "(fill or drop those periods in every series, or pass missing='model' to fit through the gaps).",
                series_id=str(uid),
            )
        span = ords[mine]
        if span.max() - span.min() + 1 != len(span):
            raise MissingPeriodsError(
                f"series {uid!r} has gaps between {_labels(span[[0]], freq)[0]} and {_labels(span[[-1]], freq)[0]}; "
                "a structure needs every period (or missing='model' to fit through the gaps).",
                series_id=str(uid),
            )


def _check_aligned(ids: np.ndarray, codes: np.ndarray, ords: np.ndarray, freq: str, gaps: bool) -> np.ndarray:
    first, last = np.full(len(ids), np.iinfo(np.int64).max), np.full(len(ids), np.iinfo(np.int64).min)
    np.minimum.at(first, codes, ords)
    np.maximum.at(last, codes, ords)
    if gaps:  # every series on the union of the spans, NaN where it has no value
        return np.arange(first.min(), last.max() + 1)
    if len(set(first.tolist())) > 1 or len(set(last.tolist())) > 1:
        spans = {str(u): "..".join(_labels(np.array([a, b]), freq)) for u, a, b in zip(ids, first, last, strict=True)}
        shown = ", ".join(f"{u}: {s}" for u, s in list(spans.items())[:6])
        raise MisalignedPeriodsError(
            f"the series of a structure must cover the same periods; got {shown}"
            f"{' ...' if len(spans) > 6 else ''}. Trim them to a common span."
        )
    return np.arange(first[0], last[0] + 1)


def to_wide(frame: pd.DataFrame, *, gaps: bool = False) -> pd.DataFrame:
    """Parse a long frame (``unique_id``, ``ds``, ``y``) into a wide frame of aligned series.

    With ``gaps=True`` (``missing="model"``) series may have missing values and different
    spans: the wide frame covers the union of the spans, NaN where a series has no value.

    Returns
    -------
    pd.DataFrame
        Indexed by a ``PeriodIndex`` named ``ds`` with ``freq`` set, one float column per id
        in order of first appearance.

    Raises
    ------
    InvalidSeriesError
        Not a frame with those columns, or any rule of the series parser.
    FrequencyMismatchError, MisalignedPeriodsError, MissingPeriodsError, MissingValuesError
        Series at different frequencies, on different spans, with gaps or missing values.
    """
    if not isinstance(frame, pd.DataFrame) or not {UNIQUE_ID, DS, Y} <= set(frame.columns):
        got = list(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise InvalidSeriesError(f"expected a long frame with columns unique_id, ds, y; got {got}.")
    if frame.empty:
        raise InvalidSeriesError("the frame has no rows; give the observations of every series.")
    obs = parse_long(
        frame[UNIQUE_ID].astype(str).to_numpy(dtype=object), frame[DS], frame[Y].to_numpy(), check_ids=False
    )
    freqs = {str(u): str(f) for u, f in zip(obs.ids, obs.freq_of, strict=True)}
    if len(set(freqs.values())) > 1:
        raise FrequencyMismatchError(
            "the series of a structure must share one frequency; got "
            + ", ".join(f"{u}: {f}" for u, f in freqs.items())
            + ". Aggregate the more frequent ones first."
        )
    freq = FREQUENCIES[str(obs.freq_of[0])]
    if not gaps:
        _check_complete(obs.ids, obs.codes, obs.ordinals, obs.y, freq)
    span = _check_aligned(obs.ids, obs.codes, obs.ordinals, freq, gaps)
    values = np.full((len(span), len(obs.ids)), np.nan)
    values[obs.ordinals - span[0], obs.codes] = obs.y
    index = pd.PeriodIndex.from_ordinals(span, freq=freq)
    index.name = DS
    return pd.DataFrame(values, index=index, columns=[str(u) for u in obs.ids])


def check_totals(wide: pd.DataFrame, children: dict[str, tuple[str, ...]], tolerance: float) -> None:
    """Check every stated total in ``wide`` against the sum of its parts (relative ``tolerance``).

    Raises
    ------
    IncoherentTotalError
        Naming the total, the period, both values and the relative gap.
    """
    for parent, kids in children.items():
        if parent not in wide or not all(k in wide for k in kids):
            continue
        total = wide[parent].to_numpy()
        parts = wide[list(kids)].to_numpy().sum(axis=1)  # NaN where a part is missing
        scale = np.maximum(np.abs(total), np.abs(parts))
        gap = np.nan_to_num(np.abs(total - parts) / np.where(scale > 0, scale, 1.0), nan=0.0)
        worst = int(np.argmax(gap))
        if gap[worst] > tolerance:
            raise IncoherentTotalError(
                f"{parent!r} is not the sum of {list(kids)!r}: at {wide.index[worst]} the total is "
                f"{total[worst]:.6g} and the parts sum to {parts[worst]:.6g} (relative gap {gap[worst]:.2e} > "
                f"tolerance {tolerance:g}). Fix the data, or omit the total and let it be derived.",
                series_id=parent,
            )


def long_forecast(
    index: pd.Index, ids: Sequence[str], mean: np.ndarray, bounds: dict[int, tuple[np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """The long forecast frame (``unique_id, ds, mean, lo_<L>, hi_<L>...``) of arrays (step, node)."""
    horizon, n = mean.shape
    columns: dict[str, object] = {
        UNIQUE_ID: np.repeat(np.asarray(ids, dtype=object), horizon),
        DS: np.tile(np.asarray(index, dtype=object), n),
        MEAN: mean.T.ravel(),
    }
    for lv in sorted(bounds):
        lo, hi = bounds[lv]
        columns[lo_col(lv)], columns[hi_col(lv)] = lo.T.ravel(), hi.T.ravel()
    out = pd.DataFrame(columns)
    out[DS] = pd.PeriodIndex(list(out[DS]), freq=index.freq) if isinstance(index, pd.PeriodIndex) else out[DS]
    return out
