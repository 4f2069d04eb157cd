"""Waiting for fits on the event loop, and giving up on them when the client has gone.

A route that waited for a fit inside ``run_in_threadpool`` held one of the threadpool's
threads (40 by default, shared by every sync route and store read) for the whole fit: under
fitting saturation, ``GET /v1/series`` queued behind the waiting forecasts. Awaiting the
executor's future with :func:`asyncio.wrap_future` holds no thread. While it waits, the
route polls for the client's disconnection and cancels what has not started yet, so an
abandoned request is not fitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

if TYPE_CHECKING:
    from api.service import FitOutcome, ForecastService
    from api.service.forecasts import BatchFit
    from forecasting.executor import TaskResult

__all__ = ["CLIENT_CLOSED_REQUEST", "POLL_SECONDS", "await_batch", "await_futures", "client_gone_response"]

T = TypeVar("T")

#: How often a waiting route checks whether its client is still connected (s).
POLL_SECONDS = 0.25

#: The status logged for a request whose client left before the answer (nginx's 499).
CLIENT_CLOSED_REQUEST = 499


async def await_futures(
    futures: Sequence[Future[T]],
    is_disconnected: Callable[[], Awaitable[bool]],
    poll_seconds: float = POLL_SECONDS,
) -> list[T] | None:
    """The futures' results in order, or None when the client disconnected first.

    On disconnection (or when the waiting task is itself cancelled) every future is
    cancelled: a fit still queued never runs; one already running finishes in its worker
    and its result is dropped.
    """
    waiting = [asyncio.wrap_future(f) for f in futures]
    try:
        pending: set[asyncio.Future[T]] = set(waiting)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=poll_seconds)
            if pending and await is_disconnected():
                for future in futures:
                    future.cancel()
                return None
        return [w.result() for w in waiting]
    except BaseException:
        for future in futures:
            future.cancel()
        raise


async def await_batch(
    service: ForecastService, fit: BatchFit, is_disconnected: Callable[[], Awaitable[bool]]
) -> dict[int, TaskResult[FitOutcome]] | None:
    """The final outcome of each submitted fit of ``fit``, or None when the client disconnected first.

    An item lost with its worker process is submitted once more and waited for, by the rule
    batch jobs follow (:class:`api.service.forecasts.BatchSettler`).
    """
    settler = service.settler(fit)
    futures = dict(fit.futures)
    while futures:
        outcomes = await await_futures(list(futures.values()), is_disconnected)
        if outcomes is None:
            return None
        again = [i for i, outcome in zip(futures, outcomes, strict=True) if not settler.settle(i, outcome)]
        # Submitting may replace a broken process pool: not on the event loop.
        futures = await run_in_threadpool(service.resubmit, fit, again) if again else {}
    return settler.outcomes


def client_gone_response() -> Response:
    """The (unread) answer to a client that disconnected while its fit waited."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)
