"""Many series at once: :func:`forecast_many` on a process pool.

One series that cannot be fitted never stops the batch: the fallback chain
(``model`` → ``naive2`` → ``naive``) takes over and a :class:`FallbackWarning` names the
series and the error.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd

from forecasting import exceptions
from forecasting.core import DEFAULT_LEVELS, forecast, to_period_series
from forecasting.exceptions import FallbackWarning, ForecastingError, ForecastingWarning, InvalidParameterError
from forecasting.frames import DS, MODEL, UNIQUE_ID, Y
from forecasting.validation import check_horizon, check_kind, check_levels

__all__ = ["forecast_many"]

_FALLBACKS = ("naive2", "naive")


def _forecast_one(
    uid: str, y: pd.Series, horizon: int, levels: tuple[int, ...], model: str, kind: str
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Forecast one series, falling back to simpler models on failure."""
    notes: list[tuple[str, str]] = []
    chain = [model, *[m for m in _FALLBACKS if m != model]]
    last_exc: Exception | None = None
    for name in chain:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fc = forecast(y, horizon, levels=levels, model=name, kind=kind)
            for w in caught:
                if isinstance(w.message, Warning) and issubclass(w.category, UserWarning):
                    notes.append((w.category.__name__, f"series {uid!r}: {w.message}"))
        except ForecastingError as exc:
            if name == model and isinstance(exc, InvalidParameterError):
                raise
            last_exc = exc
            continue
        except Exception as exc:  # a third-party failure inside a model: fall back
            last_exc = exc
            continue
        if name != model:
            notes.append(("FallbackWarning", f"series {uid!r}: model {model!r} failed ({last_exc}); used {name!r}."))
        out = fc.reset_index()
        out.insert(0, UNIQUE_ID, uid)
        out[MODEL] = name
        return out, notes
    assert last_exc is not None
    raise last_exc


def _warning_class(name: str) -> type[Warning]:
    """Our warning class of that name (notes cross process boundaries as names)."""
    found = getattr(exceptions, name, None)
    return found if isinstance(found, type) and issubclass(found, Warning) else ForecastingWarning


def _run_chunk(
    items: list[tuple[str, pd.Series]], horizon: int, levels: tuple[int, ...], model: str, kind: str
) -> list[tuple[str, pd.DataFrame | None, list[tuple[str, str]], str | None]]:
    out: list[tuple[str, pd.DataFrame | None, list[tuple[str, str]], str | None]] = []
    for uid, y in items:
        try:
            fc, notes = _forecast_one(uid, y, horizon, levels, model, kind)
            out.append((uid, fc, notes, None))
        except ForecastingError as exc:
            out.append((uid, None, [], f"{type(exc).__name__}: {exc}"))
    return out


def _split(frame: pd.DataFrame, freq: str | None) -> Iterator[tuple[str, pd.Series]]:
    for uid, part in frame.groupby(UNIQUE_ID, sort=False):
        yield str(uid), to_period_series(part[DS], part[Y], name=str(uid), freq=freq)


def forecast_many(
    frame: pd.DataFrame,
    horizon: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
    model: str = "auto",
    kind: str = "level",
    n_jobs: int = -1,
    *,
    freq: str | None = None,
    progress: bool | None = None,
    chunk_size: int = 16,
) -> pd.DataFrame:
    """Forecast every series of a long frame.

    Parameters
    ----------
    frame : pd.DataFrame
        Long frame with columns ``unique_id``, ``ds`` (periods or dates) and ``y``.
    horizon, levels, model, kind
        As in :func:`forecasting.forecast`.
    n_jobs : int
        Worker processes; ``-1`` uses every core, ``1`` runs in this process.
    freq : str, optional
        Frequency of ``ds`` when it holds dates and cannot be inferred.
    progress : bool, optional
        Show a progress bar; by default only when standard error is a terminal.
    chunk_size : int
        Series per task sent to a worker.

    Returns
    -------
    pd.DataFrame
        ``unique_id, ds, mean, lo_<L>, hi_<L>…, model`` where ``model`` is the model that
        produced each series' forecast (a fallback when the requested one failed).

    Raises
    ------
    InvalidParameterError
        For bad arguments or a frame without the required columns.
    ForecastingError
        Only when no series at all can be forecast. A series that even the naive method
        cannot take (too short, NaN) is left out with a ``FallbackWarning`` naming it.
    """
    horizon = check_horizon(horizon)
    levels = check_levels(levels)
    kind = check_kind(kind)
    missing = {UNIQUE_ID, DS, Y} - set(frame.columns)
    if missing:
        raise InvalidParameterError(f"frame lacks column(s) {sorted(missing)}; it needs unique_id, ds, y.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise InvalidParameterError(f"n_jobs must be -1 or a positive integer; got {n_jobs!r}.")
    items = list(_split(frame, freq))
    workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    workers = max(1, min(workers, len(items)))
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    show = sys.stderr.isatty() if progress is None else progress
    results: list[Any] = []
    from tqdm.auto import tqdm

    bar = tqdm(total=len(items), disable=not show, desc="forecasting", unit="series")
    try:
        if workers == 1:
            for chunk in chunks:
                results.extend(_run_chunk(chunk, horizon, levels, model, kind))
                bar.update(len(chunk))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_run_chunk, c, horizon, levels, model, kind) for c in chunks]
                for fut, chunk in zip(futures, chunks, strict=True):
                    results.extend(fut.result())
                    bar.update(len(chunk))
    finally:
        bar.close()
    frames = []
    failures = []
    for uid, fc, notes, error in results:
        for category, message in notes:
            warnings.warn(message, _warning_class(category), stacklevel=2)
        if error is not None:
            failures.append(f"{uid}: {error}")
        else:
            frames.append(fc)
    if failures:
        # Never stop the batch: the series that no model could take are left out, and said so.
        warnings.warn(
            f"{len(failures)} series could not be forecast by any model and were left out: " + "; ".join(failures[:5]),
            FallbackWarning,
            stacklevel=2,
        )
    if not frames:
        raise ForecastingError("no series could be forecast: " + "; ".join(failures[:5]))
    return pd.concat(frames, ignore_index=True)
