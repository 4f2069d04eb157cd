"""Many series at once: :func:`forecast_many` and :func:`backtest_many` on the :mod:`forecasting.executor`.

One series that cannot be fitted never stops the batch: the fallback chain
(``model`` → ``naive2`` → ``naive``) takes over and a :class:`FallbackWarning` names the
series and the error.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from forecasting.core import DEFAULT_LEVELS, backtest, forecast, to_period_series
from forecasting.exceptions import FallbackWarning, ForecastingError, InvalidParameterError, InvalidSeriesError
from forecasting.executor import (
    Executor,
    WarningNote,
    capture_warnings,
    check_backend,
    get_executor,
    resolve_n_jobs,
    warning_class,
)
from forecasting.frames import DS, MODEL, UNIQUE_ID, Y
from forecasting.validation import check_horizon, check_kind, check_levels

__all__ = ["backtest_many", "forecast_many"]

_FALLBACKS = ("naive2", "naive")


@dataclass(frozen=True)
class _Outcome:
    """One series of a batch: its forecast (or why there is none) and its warnings."""

    uid: str
    frame: pd.DataFrame | None
    notes: tuple[WarningNote, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class _Drivers:
    """What a batch passes to each series' forecast besides ``y``: its drivers and the events."""

    table: pd.DataFrame | None = None
    events: tuple[Mapping[str, Any], ...] | None = None
    error: ForecastingError | None = None

    def split(self, y: pd.Series, horizon: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        if self.error is not None:
            raise self.error
        if self.table is None:
            return None, None
        from forecasting.drivers import split_drivers

        return split_drivers(self.table, y.index, horizon)


#: One series of a batch: its id, its observations (or why they could not be read) and what
#: its forecast takes besides.
_Item = tuple[str, pd.Series | ForecastingError, _Drivers]


def _forecast_one(
    uid: str,
    y: pd.Series,
    horizon: int,
    levels: tuple[int, ...],
    model: str,
    kind: str,
    drivers: _Drivers | None = None,
) -> tuple[pd.DataFrame, list[WarningNote]]:
    """Forecast one series, falling back to simpler models on failure.

    With drivers or events there is no fallback: a univariate model would silently drop them.
    """
    drivers = drivers or _Drivers()
    X, X_future = drivers.split(y, horizon)
    given = X is not None or drivers.events is not None
    chain = [model] if given else [model, *[m for m in _FALLBACKS if m != model]]
    last_exc: Exception | None = None
    for name in chain:
        try:
            # Only UserWarnings reach the caller: library deprecations are not about the data.
            with capture_warnings(UserWarning) as caught:
                fc = forecast(
                    y, horizon, levels=levels, model=name, kind=kind, X=X, X_future=X_future, events=drivers.events
                )
        except ForecastingError as exc:
            if name == model and isinstance(exc, InvalidParameterError):
                raise
            last_exc = exc
            continue
        except Exception as exc:  # a third-party failure inside a model: fall back
            last_exc = exc
            continue
        notes = [WarningNote(n.code, f"series {uid!r}: {n.message}") for n in caught]
        if name != model:
            message = f"series {uid!r}: model {model!r} failed ({last_exc}); used {name!r}."
            notes.append(WarningNote(FallbackWarning.code, message))
        out = fc.reset_index()
        out.insert(0, UNIQUE_ID, uid)
        out[MODEL] = name
        return out, notes
    assert last_exc is not None
    raise last_exc


def _merge_frames(out: list[_Outcome]) -> list[_Outcome]:
    """One frame per chunk, carried by its first forecast series (the others carry none).

    Thousands of tiny frames cost the client far more memory than their rows; one frame
    per chunk keeps what comes back close to the size of the results. Order is kept.
    """
    ok = [i for i, o in enumerate(out) if o.frame is not None]
    if len(ok) < 2:
        return out
    merged = pd.concat([out[i].frame for i in ok], ignore_index=True)
    out = [replace(o, frame=None) if o.frame is not None else o for o in out]
    out[ok[0]] = replace(out[ok[0]], frame=merged)
    return out


def _failed(uid: str, exc: BaseException) -> _Outcome:
    return _Outcome(uid, None, error=f"{type(exc).__name__}: {exc}")


def _run_chunk(chunk: _Chunk, horizon: int, levels: tuple[int, ...], model: str, kind: str) -> list[_Outcome]:
    out: list[_Outcome] = []
    for uid, y, drivers in chunk.items():
        try:
            if isinstance(y, ForecastingError):
                raise y
            fc, notes = _forecast_one(uid, y, horizon, levels, model, kind, drivers)
            out.append(_Outcome(uid, fc, tuple(notes)))
        except ForecastingError as exc:
            out.append(_failed(uid, exc))
    return _merge_frames(out)


def _driver_table(uid: str, part: pd.DataFrame | None, y: pd.Series) -> pd.DataFrame:
    """One series' drivers on periods like ``y`` (absent periods become gaps, reported by the fit)."""
    if part is None:
        from forecasting.exceptions import InvalidDriversError

        raise InvalidDriversError(f"drivers have no rows for series {uid!r}; give its drivers or leave it out.")
    names = [c for c in part.columns if c not in (UNIQUE_ID, DS)]
    freq = y.index.freqstr if isinstance(y.index, pd.PeriodIndex) else None
    cols = {c: to_period_series(part[DS], part[c], name=str(c), freq=freq) for c in names}
    return pd.DataFrame(cols)


@dataclass(frozen=True)
class _Chunk:
    """The series of one task as flat columns, built into series by the worker.

    What crosses to a worker is a handful of arrays, not one ``pd.Series`` per series:
    cheap to pickle (and, on Dask, for the scheduler to unpickle and pickle again), and
    the per-series work of building a regular ``PeriodIndex`` runs in the workers, in
    parallel, not in the process that hands out the tasks.
    """

    uids: tuple[str, ...]
    #: Where each series' rows start and end in ``ds``/``y`` (``len(uids) + 1`` offsets).
    offsets: np.ndarray
    ds: Any
    y: Any
    freq: str | None = None
    #: Per series, its driver rows (None: it has none); None when the batch has no drivers.
    drivers: tuple[pd.DataFrame | None, ...] | None = None
    events: tuple[Mapping[str, Any], ...] | None = None

    def items(self) -> Iterator[_Item]:
        """Each series with its drivers; a series that cannot be read comes with its error."""
        for j, uid in enumerate(self.uids):
            rows = slice(int(self.offsets[j]), int(self.offsets[j + 1]))
            try:
                y = to_period_series(self.ds[rows], self.y[rows], name=uid, freq=self.freq)
            except ForecastingError as exc:
                yield uid, exc, _Drivers(events=self.events)
                continue
            except (ValueError, TypeError) as exc:  # dates pandas cannot read
                error = InvalidSeriesError(f"cannot read the dates of series {uid!r}: {exc}")
                yield uid, error, _Drivers(events=self.events)
                continue
            d = _Drivers(events=self.events)
            if self.drivers is not None:
                try:
                    d = _Drivers(_driver_table(uid, self.drivers[j], y), self.events)
                except ForecastingError as exc:
                    d = _Drivers(events=self.events, error=exc)
            yield uid, y, d


class _Batch:
    """A long frame's series (grouped once, in order of first appearance), cut into chunks on demand.

    Rows whose ``unique_id`` is missing belong to no series (as in ``DataFrame.groupby``).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        freq: str | None = None,
        drivers: pd.DataFrame | None = None,
        events: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        codes, uniques = pd.factorize(frame[UNIQUE_ID])
        order = np.argsort(codes, kind="stable")
        self._rows = order[np.count_nonzero(codes < 0) :]
        self._starts = np.concatenate([[0], np.cumsum(np.bincount(codes[codes >= 0], minlength=len(uniques)))])
        self.uids = [str(u) for u in uniques]
        self._ds, self._y = frame[DS].array, frame[Y].array
        self._freq = freq
        self._events = tuple(events) if events is not None else None
        self._drivers = drivers
        self._driver_rows: dict[str, np.ndarray] = {}
        if drivers is not None:
            self._driver_rows = drivers.groupby(drivers[UNIQUE_ID].astype(str), sort=False).indices

    @property
    def n_series(self) -> int:
        return len(self.uids)

    def chunks(self, size: int) -> Iterator[_Chunk]:
        """The series, ``size`` at a time, each chunk taken from the frame only when asked for."""
        for first in range(0, self.n_series, size):
            last = min(first + size, self.n_series)
            rows = self._rows[self._starts[first] : self._starts[last]]
            drivers = None
            if self._drivers is not None:
                found = (self._driver_rows.get(uid) for uid in self.uids[first:last])
                drivers = tuple(None if at is None else self._drivers.iloc[at] for at in found)
            yield _Chunk(
                tuple(self.uids[first:last]),
                self._starts[first : last + 1] - self._starts[first],
                self._ds.take(rows),
                self._y.take(rows),
                self._freq,
                drivers,
                self._events,
            )


class _Rows:
    """The forecast rows of a batch as they arrive, joined once at the end without being held twice.

    Each arriving chunk frame is taken apart into its columns (numeric and object columns
    copied out of the frame's shared blocks, so the chunk frame itself is freed at once).
    :meth:`frame` then joins one column at a time, dropping the pieces as it goes: at the
    peak the process holds the rows once plus one column, where ``pd.concat`` of the chunk
    frames would hold every row twice.
    """

    def __init__(self) -> None:
        self._pieces: dict[tuple[int, int], dict[str, Any]] = {}
        self._lengths: dict[tuple[int, int], int] = {}
        self._columns: list[str] = []

    def add(self, key: tuple[int, int], frame: pd.DataFrame) -> None:
        """Keep ``frame``'s rows as the piece ``key`` (pieces are joined in key order)."""
        self._columns += [str(c) for c in frame.columns if str(c) not in self._columns]
        piece: dict[str, Any] = {
            str(c): (frame[c].to_numpy(copy=True) if isinstance(frame[c].dtype, np.dtype) else frame[c].array)
            for c in frame.columns
        }
        self._lengths[key] = len(frame)
        self._pieces[key] = piece

    def __len__(self) -> int:
        return len(self._pieces)

    def _take(self, key: tuple[int, int], column: str) -> Any:
        """The piece's column, handed over; NaN where the piece has no such column (as ``pd.concat``)."""
        piece = self._pieces[key]
        return piece.pop(column) if column in piece else np.full(self._lengths[key], np.nan)

    def frame(self) -> pd.DataFrame:
        """All rows, pieces in key order; the pieces are gone afterwards."""
        order = sorted(self._pieces)
        columns: dict[str, pd.Series] = {}
        for c in self._columns:
            parts = [pd.Series(self._take(key, c), copy=False) for key in order]
            columns[c] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            del parts
        self._pieces.clear()
        self._lengths.clear()
        # copy=False: each column stays its own block (consolidating would copy them all again).
        return pd.DataFrame(columns, copy=False)


def _run_chunks(
    batch: _Batch,
    chunk_size: int | None,
    task: functools.partial[list[_Outcome]],
    n_jobs: int,
    progress: bool | None,
    backend: tuple[str | None, str | None] = (None, None),
) -> tuple[list[_Outcome], _Rows]:
    """Run every chunk on the executor; return the outcomes (without their frames) and the rows.

    Chunks are cut lazily: with the executor's bounded window, only the chunks in flight
    are copied out of the frame, and their series are built by the workers. Outcomes and
    rows come in chunk order, whatever order the chunks finish in.
    """
    from tqdm.auto import tqdm

    n_series = batch.n_series
    show = sys.stderr.isatty() if progress is None else progress
    done: dict[int, list[_Outcome]] = {}
    names: dict[int, list[str]] = {}
    rows = _Rows()

    def tasks(size: int) -> Iterator[tuple[int, functools.partial[list[_Outcome]]]]:
        for i, chunk in enumerate(batch.chunks(size)):
            names[i] = list(chunk.uids)
            yield i, functools.partial(task, chunk)

    bar = tqdm(total=n_series, disable=not show, desc="forecasting", unit="series")
    n_tasks = -(-n_series // (chunk_size or Executor.CHUNK_SIZE))
    try:
        with get_executor(n_jobs, n_tasks=n_tasks, backend=backend[0], scheduler=backend[1]) as executor:
            executor.start()  # a Dask executor learns its cluster's size, which sizes its chunks
            for i, result in executor.stream(tasks(chunk_size or executor.chunk_size(n_series))):
                uids = names.pop(i)
                if result.ok:
                    outcomes = result.unwrap()
                    for k, outcome in enumerate(outcomes):
                        if outcome.frame is not None:
                            rows.add((i, k), outcome.frame)
                    done[i] = [replace(o, frame=None) if o.frame is not None else o for o in outcomes]
                else:  # a chunk whose task failed (e.g. its worker died): each series is left out
                    assert result.error is not None
                    done[i] = [_failed(uid, result.error) for uid in uids]
                bar.update(len(uids))
    finally:
        bar.close()
    return [outcome for i in sorted(done) for outcome in done[i]], rows


def _assemble(run: tuple[list[_Outcome], _Rows]) -> pd.DataFrame:
    """Re-emit the workers' notes as our warnings and join the forecast rows."""
    outcomes, rows = run
    failures = []
    for outcome in outcomes:
        for note in outcome.notes:
            warnings.warn(note.message, warning_class(note.code), stacklevel=3)
        if outcome.error is not None:
            failures.append(f"{outcome.uid}: {outcome.error}")
    if failures:
        # Never stop the batch: the series that no model could take are left out, and said so.
        warnings.warn(
            f"{len(failures)} series could not be forecast by any model and were left out: " + "; ".join(failures[:5]),
            FallbackWarning,
            stacklevel=3,
        )
    if not len(rows):
        raise ForecastingError("no series could be forecast: " + "; ".join(failures[:5]))
    return rows.frame()


def _check_batch(
    frame: pd.DataFrame,
    horizon: int,
    levels: Sequence[int],
    kind: str,
    n_jobs: int,
    backend: str | None,
    chunk_size: int | None,
) -> tuple[int, tuple[int, ...], str]:
    """The arguments :func:`forecast_many` and :func:`backtest_many` share, checked."""
    missing = {UNIQUE_ID, DS, Y} - set(frame.columns)
    if missing:
        raise InvalidParameterError(f"frame lacks column(s) {sorted(missing)}; it needs unique_id, ds, y.")
    resolve_n_jobs(n_jobs)
    if backend is not None:
        check_backend(backend)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise InvalidParameterError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    return check_horizon(horizon), check_levels(levels), check_kind(kind)


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
    chunk_size: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    drivers: pd.DataFrame | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
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
    chunk_size : int, optional
        Series per task sent to a worker. Default: the executor's choice, 16 on the process
        pool, up to 64 on Dask (where each task also costs scheduler and client CPU) while
        keeping at least four tasks per worker.
    backend : {"process", "dask"}, optional
        Where the chunks run (:func:`forecasting.executor.get_executor`): ``"process"`` (in
        this process or a pool of ``n_jobs``), or ``"dask"`` (the active
        ``dask.distributed`` client, else ``scheduler``, else a local cluster of ``n_jobs``
        workers). Default: the block's :func:`~forecasting.executor.use_backend`, else
        ``"process"``.
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``); implies ``backend="dask"``.
    drivers : pd.DataFrame or None
        Per-series drivers in long format: ``unique_id``, ``ds`` and one numeric column per
        driver, with rows over each series' history *and* its ``horizon`` forecast periods
        (split by :func:`~forecasting.drivers.split_drivers`). Every series needs rows;
        a series whose drivers are incomplete is left out with its error, never forecast
        without them (no fallback model is tried when drivers or events are given).
    events : sequence of mapping or None
        Known events applied to every series, as in :func:`forecasting.forecast`.


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
        cannot take (too short, NaN), or whose dates cannot be read, is left out with a
        ``FallbackWarning`` naming it.
    """
    horizon, levels, kind = _check_batch(frame, horizon, levels, kind, n_jobs, backend, chunk_size)
    if drivers is not None and ({UNIQUE_ID, DS} - set(drivers.columns) or len(drivers.columns) < 3):
        raise InvalidParameterError("drivers need columns unique_id, ds and at least one driver column.")
    task = functools.partial(_run_chunk, horizon=horizon, levels=levels, model=model, kind=kind)
    batch = _Batch(frame, freq, drivers, events)
    return _assemble(_run_chunks(batch, chunk_size, task, n_jobs, progress, (backend, scheduler)))


def _backtest_chunk(
    chunk: _Chunk,
    horizon: int,
    windows: int,
    models: tuple[str, ...],
    levels: tuple[int, ...],
    kind: str,
) -> list[_Outcome]:
    out: list[_Outcome] = []
    for uid, y, _ in chunk.items():
        try:
            if isinstance(y, ForecastingError):
                raise y
            with capture_warnings(UserWarning) as caught:
                frame = backtest(y, horizon, windows, models=models, levels=levels, kind=kind)
        except ForecastingError as exc:
            out.append(_failed(uid, exc))
            continue
        frame.insert(0, UNIQUE_ID, uid)
        notes = tuple(WarningNote(n.code, f"series {uid!r}: {n.message}") for n in caught)
        out.append(_Outcome(uid, frame, notes))
    return _merge_frames(out)


def backtest_many(
    frame: pd.DataFrame,
    horizon: int,
    windows: int,
    models: Sequence[str] = ("auto",),
    levels: Sequence[int] = DEFAULT_LEVELS,
    kind: str = "level",
    n_jobs: int = -1,
    *,
    freq: str | None = None,
    progress: bool | None = None,
    chunk_size: int = 4,
    backend: str | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Rolling-origin evaluation of ``models`` on every series of a long frame.

    Parameters
    ----------
    frame : pd.DataFrame
        Long frame with columns ``unique_id``, ``ds`` and ``y``.
    horizon, windows, models, levels, kind
        As in :func:`forecasting.backtest`, for each series.
    n_jobs, freq, progress, chunk_size, backend, scheduler
        As in :func:`forecast_many` (``chunk_size`` defaults to 4 series per task: a
        backtest fits ``windows`` times more than a forecast).

    Returns
    -------
    pd.DataFrame
        ``unique_id, model, cutoff, ds, h, mean, lo_<L>, hi_<L>..., y``, series in the
        frame's order.

    Raises
    ------
    InvalidParameterError
        For bad arguments or a frame without the required columns.
    ForecastingError
        Only when no series at all can be backtested; a series that cannot (too short for
        ``windows``) is left out with a ``FallbackWarning`` naming it and the reason.
    """
    horizon, levels, kind = _check_batch(frame, horizon, levels, kind, n_jobs, backend, chunk_size)
    task = functools.partial(
        _backtest_chunk, horizon=horizon, windows=windows, models=tuple(models), levels=levels, kind=kind
    )
    return _assemble(_run_chunks(_Batch(frame, freq), chunk_size, task, n_jobs, progress, (backend, scheduler)))
