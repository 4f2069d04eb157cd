"""The one way to run many independent tasks: in this process or in a pool of processes.

::

    Executor (abstract)        submit() → Future[TaskResult]; run(); stream(); start(); shutdown()
    ├── InProcessExecutor      runs each task in the caller's thread (``n_jobs=1``)
    └── PoolExecutor           wraps a ``concurrent.futures`` pool made by ``_create_pool()``
        ├── ProcessExecutor    a process pool (``spawn`` where the caller has threads)
        └── DaskExecutor       a dask.distributed cluster

Whatever the backend, a task comes back as a :class:`TaskResult`: its value or its error,
the warnings it raised (as :class:`WarningNote`) and its duration. A task's exception is
that task's failure; it never fails the other tasks. A worker process that dies (killed,
out of memory) fails the tasks it was running with :class:`WorkerLostError`, and the pool is
replaced before the next task (warmed up again when :meth:`Executor.start` was given a
warm-up function). A worker process exits by itself within about a second of the process
that made its pool dying, even by ``SIGKILL`` (a watchdog thread watches its parent's pid),
so a killed server leaves no orphaned workers behind.

The ``dask.distributed`` backend is one more :class:`PoolExecutor`, :class:`DaskExecutor`
(``get_executor(backend="dask")``): its ``Client.get_executor()`` is the
``concurrent.futures`` pool of ``_create_pool()``, and a worker lost under a task is
re-run by Dask's scheduler on another worker.

Warnings are recorded by :func:`capture_warnings`, the single place that turns Python
warnings into ``WarningNote(code, message)``: ``code`` is the warning class's ``code``
attribute (every :class:`ForecastingWarning` has one), else the class name in snake case
without its ``Warning`` suffix (statsmodels' ``ConvergenceWarning`` → ``convergence``, the
code of our own class of that name). :func:`warning_class` maps a code back to our class.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import re
import threading
import time
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, InvalidStateError, ProcessPoolExecutor, wait
from concurrent.futures import Executor as FuturesExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from forecasting.exceptions import ForecastingWarning, InvalidParameterError, WorkerLostError

__all__ = [
    "BACKENDS",
    "DaskExecutor",
    "Executor",
    "InProcessExecutor",
    "PoolExecutor",
    "ProcessExecutor",
    "TaskResult",
    "WarningNote",
    "capture_warnings",
    "check_backend",
    "get_executor",
    "resolve_n_jobs",
    "start_local_cluster",
    "use_backend",
    "warning_class",
    "warning_code",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


# ---------------------------------------------------------------------------- warnings
@dataclass(frozen=True)
class WarningNote:
    """A warning raised during a task, as reported to users: ``{code, message}``.

    Attributes
    ----------
    code : str
        Snake-case code (see :func:`warning_code`).
    message : str
        The warning's text.
    """

    code: str
    message: str


def _snake(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def warning_code(category: type[Warning]) -> str:
    """The snake-case code of a warning class.

    Parameters
    ----------
    category : type of Warning
        The warning's class.

    Returns
    -------
    str
        Its ``code`` attribute when it has one (every :class:`ForecastingWarning`), else
        its name in snake case without the ``_warning`` suffix (``RuntimeWarning`` →
        ``runtime``), stable across releases of the library that raised it.
    """
    code = getattr(category, "code", None)
    if isinstance(code, str) and code:
        return code
    name = _snake(category.__name__)
    return name.removesuffix("_warning") or name


def _warning_classes(root: type[ForecastingWarning]) -> Iterator[type[ForecastingWarning]]:
    yield root
    for sub in root.__subclasses__():
        yield from _warning_classes(sub)


def warning_class(code: str) -> type[ForecastingWarning]:
    """Our warning class whose ``code`` is ``code``, else :class:`ForecastingWarning`.

    Parameters
    ----------
    code : str
        A code made by :func:`warning_code` (notes cross process boundaries as codes).

    Returns
    -------
    type of ForecastingWarning
    """
    for cls in _warning_classes(ForecastingWarning):
        if cls.code == code:
            return cls
    return ForecastingWarning


@contextmanager
def capture_warnings(category: type[Warning] = Warning) -> Iterator[list[WarningNote]]:
    """Record the warnings raised inside the block as de-duplicated :class:`WarningNote`.

    Parameters
    ----------
    category : type of Warning
        Record only warnings of this class (and subclasses); others are dropped.

    Yields
    ------
    list of WarningNote
        Filled, in order of first appearance, when the block exits (also on an error).

    Notes
    -----
    ``warnings.catch_warnings`` changes process-wide state (before Python 3.14), so two
    threads capturing at once would mix their records: run captured work in its own
    process, or serialise it (:class:`InProcessExecutor` does).
    """
    notes: list[WarningNote] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield notes
        finally:
            wanted = (w for w in caught if issubclass(w.category, category))
            notes.extend(dict.fromkeys(WarningNote(warning_code(w.category), str(w.message)) for w in wanted))


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class TaskResult(Generic[T]):
    """What one task gave: its value or its error, its warnings and its duration.

    Attributes
    ----------
    value : object or None
        The task's return value (``None`` when it failed).
    error : Exception or None
        The exception the task raised, or :class:`WorkerLostError` when its process died.
    notes : tuple of WarningNote
        Warnings raised while it ran (:func:`capture_warnings`).
    seconds : float
        Wall time of the task inside its worker.
    """

    value: T | None = None
    error: BaseException | None = None
    notes: tuple[WarningNote, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the task returned a value."""
        return self.error is None

    def unwrap(self) -> T:
        """The value, or raise the task's error.

        Raises
        ------
        Exception
            The error the task raised.
        """
        if self.error is not None:
            raise self.error
        return cast(T, self.value)


def _cancel(future: Future[Any] | None) -> None:
    if future is not None:
        future.cancel()


def _run_task(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> TaskResult[T]:
    """Run one task capturing its warnings and its error (this runs in the worker)."""
    start = time.perf_counter()
    value: T | None = None
    error: Exception | None = None
    with capture_warnings() as notes:
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # the task's failure, reported with its result
            error = exc
    return TaskResult(value, error, tuple(notes), time.perf_counter() - start)


# ---------------------------------------------------------------------------- executors
class Executor(ABC):
    """Runs independent tasks and hands back a :class:`TaskResult` for each.

    Subclasses implement :meth:`submit`; :meth:`run` and :meth:`stream` build on it.
    Tasks and their arguments must be picklable for backends that use other processes.
    """

    #: How many tasks may run at once.
    n_workers: int = 1
    #: Items (series) per task that many-series callers use by default (:meth:`chunk_size`).
    CHUNK_SIZE = 16

    def chunk_size(self, n_items: int) -> int:
        """How many of ``n_items`` items one task should carry: :attr:`CHUNK_SIZE` here."""
        return self.CHUNK_SIZE

    @abstractmethod
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[TaskResult[T]]:
        """Start ``fn(*args, **kwargs)``; the future always ends with a :class:`TaskResult`.

        Raises
        ------
        RuntimeError
            After :meth:`shutdown`.
        """

    def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> TaskResult[T]:
        """Run one task and wait for its result."""
        return self.submit(fn, *args, **kwargs).result()

    def stream(
        self, tasks: Iterable[tuple[K, Callable[[], T]]], *, window: int | None = None
    ) -> Iterator[tuple[K, TaskResult[T]]]:
        """Run ``(key, task)`` pairs; yield ``(key, result)`` as each task completes.

        ``task`` takes no arguments (``functools.partial`` of a module-level function).
        At most ``window`` tasks are submitted and not yet handed back at any time
        (default :meth:`stream_window`): ``tasks`` is read lazily, so a generator of a
        million tasks never has a million futures (and their inputs) alive in this
        process. Tasks still pending when the iterator is closed early are cancelled.
        """
        limit = max(1, window if window is not None else self.stream_window())
        queue = iter(tasks)
        pending: dict[Future[TaskResult[T]], K] = {}
        try:
            for key, task in itertools.islice(queue, limit):
                pending[self.submit(task)] = key
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    key = pending.pop(future)
                    # Refill before handing the result back: workers stay busy while the caller works.
                    for next_key, next_task in itertools.islice(queue, 1):
                        pending[self.submit(next_task)] = next_key
                    yield key, future.result()
        finally:
            for future in pending:
                future.cancel()

    def stream_window(self) -> int:
        """How many tasks :meth:`stream` keeps in flight: four per worker (at least 8)."""
        return max(8, 4 * self.n_workers)

    def start(self, warm_up: Callable[[], Any] | None = None) -> None:  # noqa: B027 (optional hook)
        """Prepare the workers; ``warm_up`` runs once per worker (e.g. to import models)."""

    def shutdown(self) -> None:  # noqa: B027 (optional hook)
        """Cancel queued tasks, wait for running ones and release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()


#: Serialises in-process tasks across threads: warning capture is process-wide state.
_IN_PROCESS_LOCK = threading.RLock()


class InProcessExecutor(Executor):
    """Runs each task in the calling thread, one at a time in the whole process.

    :meth:`stream` runs a task only when the consumer asks for its result, so progress
    can be reported as it goes.
    """

    n_workers = 1

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[TaskResult[T]]:
        """Run the task now; return a future that is already done."""
        done: Future[TaskResult[T]] = Future()
        with _IN_PROCESS_LOCK:
            done.set_result(_run_task(fn, args, kwargs))
        return done

    def stream(
        self, tasks: Iterable[tuple[K, Callable[[], T]]], *, window: int | None = None
    ) -> Iterator[tuple[K, TaskResult[T]]]:
        """Run the tasks one after the other, yielding each result as soon as it is known."""
        for key, task in tasks:
            yield key, self.run(task)


class PoolExecutor(Executor):
    """Tasks on a ``concurrent.futures`` pool made by :meth:`_create_pool`.

    The pool is made on first use. When a worker dies, the tasks it took fail with
    :class:`WorkerLostError` and the next task gets a new pool.
    """

    def __init__(self, n_workers: int) -> None:
        if n_workers < 1:
            raise InvalidParameterError(f"{type(self).__name__}(n_workers={n_workers}) needs at least 1 worker.")
        self.n_workers = n_workers
        #: How many times a dead worker made the pool be replaced.
        self.restarts = 0
        self._pool: FuturesExecutor | None = None
        self._retired: list[FuturesExecutor] = []
        self._warm_up: Callable[[], Any] | None = None
        self._closed = False
        self._lock = threading.Lock()

    @abstractmethod
    def _create_pool(self) -> FuturesExecutor:
        """A new pool of ``n_workers`` workers."""

    def _is_worker_lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` (raised by a pool future) means a worker died."""
        return False

    def _current(self) -> FuturesExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{type(self).__name__} is shut down; no new task can start.")
            if self._pool is None:
                self._pool = self._create_pool()
                if self._warm_up is not None:
                    for _ in range(self.n_workers):
                        self._pool.submit(self._warm_up)
            return self._pool

    def start(self, warm_up: Callable[[], Any] | None = None) -> None:
        """Start the pool now (not on the first task); ``warm_up`` runs once per worker."""
        with self._lock:
            self._closed = False
            self._warm_up = warm_up
        self._current()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[TaskResult[T]]:
        """Queue the task on the pool (a new pool if the last one lost a worker)."""
        outer: Future[TaskResult[T]] = Future()
        pool = self._current()
        try:
            inner = pool.submit(_run_task, fn, args, kwargs)
        except Exception as exc:
            # A pool found broken at submission never ran the task: retry it once on a new one.
            if not self._is_worker_lost(exc):
                raise
            self._retire(pool, exc)
            pool = self._current()
            inner = pool.submit(_run_task, fn, args, kwargs)
        inner.add_done_callback(lambda f: self._settle(pool, f, outer))
        # Weakly: inner → outer → inner would be a reference cycle, keeping both futures (the
        # result, and on Dask the cluster's copy of it) alive until a garbage collection.
        inner_ref = weakref.ref(inner)
        outer.add_done_callback(lambda f: _cancel(inner_ref()) if f.cancelled() else None)
        return outer

    def _settle(self, pool: FuturesExecutor, inner: Future[Any], outer: Future[TaskResult[T]]) -> None:
        if inner.cancelled():
            outer.cancel()
            return
        exc = inner.exception()
        if exc is None:
            result = inner.result()
        elif self._is_worker_lost(exc):
            self._retire(pool, exc)
            result = TaskResult(error=WorkerLostError(f"a worker process died while running this task ({exc})."))
        else:  # the pool could not send the task or its result (e.g. not picklable)
            result = TaskResult(error=exc)
        # The consumer may have cancelled it meanwhile.
        with suppress(InvalidStateError):
            outer.set_result(result)

    def _retire(self, pool: FuturesExecutor, exc: BaseException) -> None:
        with self._lock:
            if self._pool is not pool:
                return  # another task of the same pool already reported it
            self._pool = None
            self._retired.append(pool)
            self.restarts += 1
        logger.error("a worker process died (%s); %s starts a new pool", exc, type(self).__name__)

    def shutdown(self) -> None:
        """Cancel queued tasks, wait for running ones, stop the workers.

        Waiting matters: a server worker may itself be a child process that exits without
        running ``atexit`` hooks, so un-joined worker processes would be orphaned.
        """
        with self._lock:
            self._closed = True
            pools = [p for p in (self._pool, *self._retired) if p is not None]
            self._pool, self._retired = None, []
        for pool in pools:
            self._close_pool(pool)

    def _close_pool(self, pool: FuturesExecutor) -> None:
        pool.shutdown(wait=True, cancel_futures=True)


#: How often a worker process checks that the process that made its pool is alive (s).
PARENT_POLL_SECONDS = 0.5


def _watch_parent(parent_pid: int, interval: float) -> None:
    """Worker initializer: start a thread that ends this worker once its parent is gone.

    ``os.getppid()`` changes when the parent dies (the worker is re-parented), whatever
    killed it. ``prctl(PR_SET_PDEATHSIG)`` would not do: it fires when the *thread* that
    started the worker exits, and pools start workers on demand from request threads.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        # No clean-up: nobody is left to collect results, and a stuck fit must not linger.
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class ProcessExecutor(PoolExecutor):
    """Tasks in ``n_workers`` worker processes, which exit when this process dies.

    Parameters
    ----------
    n_workers : int
        Worker processes.
    spawn : bool
        Start workers with ``spawn`` instead of the platform default. Needed when the
        caller has threads (a server, a scheduler): forking a threaded process can copy
        a held lock into the child.
    """

    def __init__(self, n_workers: int, *, spawn: bool = False) -> None:
        super().__init__(n_workers)
        self.spawn = spawn

    def _create_pool(self) -> FuturesExecutor:
        context = multiprocessing.get_context("spawn") if self.spawn else None
        return ProcessPoolExecutor(
            max_workers=self.n_workers,
            mp_context=context,
            initializer=_watch_parent,
            initargs=(os.getpid(), PARENT_POLL_SECONDS),
        )

    def _is_worker_lost(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)


class DaskExecutor(PoolExecutor):
    """Tasks on a ``dask.distributed`` cluster.

    :class:`DaskExecutor` finds its cluster in this order:

    1. the ``client`` it was given;
    2. the active ``dask.distributed`` client of this process, if any (``with Client(...):``
       or the last ``Client`` made);
    3. the ``scheduler`` address it was given (``tcp://host:8786``; the service passes
       ``TRADECAST_DASK_SCHEDULER``);
    4. else a ``LocalCluster`` of ``n_workers`` single-threaded worker processes, started on
       first use and closed by :meth:`DaskExecutor.shutdown`.

    Everything else is the executor's: each task comes back as a ``TaskResult`` (its error is
    that task's failure, never the batch's), results stream back as they complete with a
    bounded number of tasks in flight (:meth:`~forecasting.executor.Executor.stream`), and
    warnings come back as ``WarningNote``. A worker that dies under a task is Dask's business:
    its scheduler re-runs the task on another worker (up to its ``allowed-failures``, 3 by
    default); only a task that kills every worker it is given fails, with
    :class:`~forecasting.exceptions.WorkerLostError`.

    ``dask.distributed`` is imported on first use only: importing :mod:`forecasting` never pays for it.

    Parameters
    ----------
    n_workers : int
        Worker processes of the ``LocalCluster`` started when there is no client and no
        scheduler address; with a cluster this becomes the cluster's thread count once
        connected (it sizes :meth:`stream`'s window and the service's queue).
    scheduler : str, optional
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    client : distributed.Client, optional
        A client to use as it is (not closed by :meth:`shutdown`).
    """

    def __init__(self, n_workers: int = 1, *, scheduler: str | None = None, client: Any | None = None) -> None:
        super().__init__(n_workers)
        self.scheduler = scheduler
        self._client: Any | None = client
        self._owned: list[Any] = []  # clients and clusters this executor started

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` in use (connected or started on first use)."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        from distributed import Client, default_client

        try:
            return default_client()
        except ValueError:  # no active client in this process
            pass
        if self.scheduler:
            client = Client(self.scheduler, set_as_default=False)
            logger.info("connected to the Dask scheduler at %s", self.scheduler)
        else:
            client = start_local_cluster(self.n_workers)
            self._owned.append(client.cluster)
            logger.info("started a Dask LocalCluster of %d workers", self.n_workers)
        self._owned.insert(0, client)
        return client

    def chunk_size(self, n_items: int) -> int:
        """Up to :data:`DASK_CHUNK_SIZE` items per task, keeping four tasks per worker.

        Each task costs some milliseconds of scheduler and client CPU on Dask (see
        ``docs/scale.md``), so tasks carry more series than on the process pool; never
        fewer than :attr:`Executor.CHUNK_SIZE`, and never so many that a worker is left
        with fewer than four tasks (the last ones would run alone).
        """
        per_worker = -(-n_items // (4 * max(self.n_workers, 1)))
        return max(self.CHUNK_SIZE, min(DASK_CHUNK_SIZE, per_worker))

    def _create_pool(self) -> FuturesExecutor:
        client = self.client
        threads = sum(client.nthreads().values())
        if threads:
            self.n_workers = threads
        # pure=False: two tasks with equal arguments are two tasks (a refit must really run).
        pool: FuturesExecutor = client.get_executor(pure=False)
        return pool

    def _is_worker_lost(self, exc: BaseException) -> bool:
        from distributed.scheduler import KilledWorker

        return isinstance(exc, KilledWorker)

    def _close_pool(self, pool: FuturesExecutor) -> None:
        # Cancels this executor's tasks still on the cluster (nobody will collect them).
        pool.shutdown(wait=False)

    def shutdown(self) -> None:
        """Cancel the tasks still on the cluster; close the client and cluster it started."""
        super().shutdown()
        for resource in self._owned:
            resource.close()
        if self._owned:
            self._client = None
        self._owned = []


#: The most series per task on Dask (:meth:`DaskExecutor.chunk_size`).
DASK_CHUNK_SIZE = 64

#: ``dask.distributed`` settings of the clusters tradecast starts itself
#: (:func:`start_local_cluster`): its periodic background work, which costs CPU every second
#: in every worker whether or not anyone looks (measured in ``docs/scale.md``: an idle
#: 2-worker cluster used 0.053 CPU-s per second with Dask's defaults and the profiler off,
#: 0.012 with these). The statistical profiler samples every thread's stack every 10 ms;
#: the event-loop "tick" (a responsiveness check) runs every 20 ms; the system monitor (the
#: dashboard's CPU/memory/network graphs) every 500 ms. The memory manager keeps its own
#: 100 ms monitor, so memory limits act as before. Set the same on a cluster of your own
#: (the workers' environment: ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``,
#: ``DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=500ms``,
#: ``DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL=10s``).
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "10s",
}


def start_local_cluster(n_workers: int, config: Mapping[str, Any] | None = None) -> Any:
    """A ``LocalCluster`` of ``n_workers`` single-threaded worker processes, and its client.

    The cluster runs with :data:`LOCAL_CLUSTER_CONFIG` (its nannies hand the settings to
    the worker processes). The client is not made the process's default; close it and
    its ``client.cluster`` when done.

    Parameters
    ----------
    n_workers : int
        Worker processes (one thread each).
    config : mapping, optional
        Dask settings applied on top of :data:`LOCAL_CLUSTER_CONFIG`.

    Returns
    -------
    distributed.Client
        Connected to the new cluster (``client.cluster``).
    """
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({**LOCAL_CLUSTER_CONFIG, **(config or {})}):
        # dashboard ":0": any free port, so that two local clusters on one machine can start.
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    return Client(cluster, set_as_default=False)


def resolve_n_jobs(n_jobs: int) -> int:
    """The number of workers that ``n_jobs`` asks for: ``-1`` every core, else itself.

    Raises
    ------
    InvalidParameterError
        Unless ``n_jobs`` is -1 or a positive integer.
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise InvalidParameterError(f"n_jobs must be -1 or a positive integer; got {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else n_jobs


#: The backends :func:`get_executor` knows.
BACKENDS = ("process", "dask")


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS`.

    Raises
    ------
    InvalidParameterError
        For any other value.
    """
    if backend not in BACKENDS:
        raise InvalidParameterError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}.")
    return backend


#: The backend of :func:`get_executor` calls that do not name one (see :func:`use_backend`).
_DEFAULT_BACKEND: ContextVar[tuple[str, str | None]] = ContextVar("tradecast_backend", default=("process", None))


@contextmanager
def use_backend(backend: str, *, scheduler: str | None = None) -> Iterator[None]:
    """Run every many-series call inside the block on ``backend`` unless it names its own.

    For the functions that fan out without a ``backend`` argument of their own (shares,
    share values); :func:`~forecasting.forecast_many` and
    :func:`~forecasting.forecast_hierarchy` also take ``backend=`` directly.

    Parameters
    ----------
    backend : {"process", "dask"}
    scheduler : str, optional
        A Dask scheduler address (implies ``"dask"``).

    Raises
    ------
    InvalidParameterError
        For an unknown backend.
    """
    token = _DEFAULT_BACKEND.set((check_backend(backend), scheduler))
    try:
        yield
    finally:
        _DEFAULT_BACKEND.reset(token)


def get_executor(
    n_jobs: int = 1,
    *,
    n_tasks: int | None = None,
    spawn: bool = False,
    backend: str | None = None,
    scheduler: str | None = None,
) -> Executor:
    """The executor for ``n_jobs`` on ``backend``.

    Parameters
    ----------
    n_jobs : int
        ``-1`` uses every core, ``1`` runs in this process, ``k`` uses ``k`` processes.
        With ``backend="dask"`` and no cluster to join, the size of the local cluster.
    n_tasks : int, optional
        How many tasks will be run; no more local workers than that are started.
    spawn : bool
        Passed to :class:`ProcessExecutor`.
    backend : {"process", "dask"}, optional
        Default: the one set by :func:`use_backend`, else ``"process"``.
        ``"process"``: in this process or a process pool. ``"dask"``: a
        :class:`DaskExecutor` (the active ``dask.distributed``
        client, else ``scheduler``, else a local cluster of ``n_jobs`` workers).
    scheduler : str, optional
        A Dask scheduler address; implies ``backend="dask"``.

    Returns
    -------
    Executor

    Raises
    ------
    InvalidParameterError
        For an invalid ``n_jobs`` or ``backend``.
    """
    workers = resolve_n_jobs(n_jobs)
    if n_tasks is not None:
        workers = min(workers, max(n_tasks, 1))
    if backend is None:
        backend, scheduler = _DEFAULT_BACKEND.get()[0], scheduler or _DEFAULT_BACKEND.get()[1]
    if check_backend(backend) == "dask" or scheduler:
        return DaskExecutor(workers, scheduler=scheduler)
    return InProcessExecutor() if workers <= 1 else ProcessExecutor(workers, spawn=spawn)
