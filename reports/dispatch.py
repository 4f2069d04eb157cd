"""Send a finished report run: its attachments, the webhook's body, the delivery log.

The report runner calls :func:`open_deliveries` before it produces a run whose definition
has a ``delivery`` target (the log shows them ``pending``), then :func:`settle_deliveries`:
:func:`deliver_run` for a successful run, ``skipped`` for a failed one. :func:`run_attachments` is
the one place that chooses what the e-mail carries: the PDF of the report (the HTML page when
no PDF can be printed), the HTML being the e-mail's body.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path
from typing import Any

from data import Store
from reports.definitions import ReportDefinition
from reports.delivery import Attachment, DeliveryOptions, DeliveryOutcome, deliver
from reports.delivery_log import DeliveryLog
from reports.exceptions import RenderFailedError, RenderUnavailableError
from reports.pdf import html_to_pdf
from reports.store import PRODUCED, ReportRun, ReportStore

__all__ = [
    "DeliveryDispatcher",
    "deliver_run",
    "open_deliveries",
    "run_attachments",
    "settle_deliveries",
    "webhook_payload",
]

logger = logging.getLogger(__name__)


class DeliveryDispatcher:
    """Sends finished runs on threads of its own, so the thread that produces runs never waits
    on a receiver: a webhook that never answers delays its own delivery (up to the delivery
    deadline), not the next run.

    Parameters
    ----------
    workers : int
        Deliveries in flight at once.
    """

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tradecast-delivery")
        self._lock = threading.Lock()
        self._pending: set[Future[None]] = set()

    def submit(self, send: Callable[[], None]) -> None:
        """Run ``send`` (a :func:`settle_deliveries` call, which never raises) on a delivery thread."""
        future = self._pool.submit(send)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the deliveries submitted so far have ended (tests, orderly shutdown)."""
        with self._lock:
            pending = list(self._pending)
        wait_futures(pending, timeout=timeout)

    def shutdown(self) -> None:
        """Take no more deliveries; those in flight end by their deadline."""
        self._pool.shutdown(wait=False)


def run_attachments(run: ReportRun, html: str) -> list[Attachment]:
    """The files sent with a run's e-mail: the report as a PDF (the file the run wrote, else
    printed now); the HTML page instead when no PDF can be made (Chromium missing or failing)."""
    stem = f"{run.report_name}-{run.as_of:%Y-%m-%d}"
    written = run.details.get("files", {}).get("pdf")
    try:
        pdf = Path(written).read_bytes() if written else html_to_pdf(html)
    except (RenderUnavailableError, RenderFailedError, OSError) as exc:
        logger.warning("report %s: run %s: no PDF to attach (%s); attaching the HTML", run.report_name, run.run_id, exc)
        return [Attachment(f"{stem}.html", html.encode("utf-8"), "text/html")]
    return [Attachment(f"{stem}.pdf", pdf, "application/pdf")]


def webhook_payload(run: ReportRun, definition: ReportDefinition, attachments: Sequence[Attachment]) -> dict[str, Any]:
    """The JSON body posted to the webhook: what ran, its outcome and where to read it."""
    base = f"/v1/reports/{run.report_name}/runs/{run.run_id}"
    return {
        "event": f"report_run.{run.status}",
        "report": run.report_name,
        "title": definition.title,
        "run_id": run.run_id,
        "as_of": run.as_of.isoformat(),
        "status": run.status,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "n_series": run.n_series,
        "n_failed": run.n_failed,
        "links": {"html": base, "record": f"{base}/record"},
        "attachments": [
            {
                "filename": a.filename,
                "mime": a.mime,
                "bytes": len(a.content),
                "sha256": hashlib.sha256(a.content).hexdigest(),
            }
            for a in attachments
        ],
    }


def open_deliveries(
    run: ReportRun, definition: ReportDefinition, store: Store, options: DeliveryOptions | None
) -> list[str]:
    """Log the run's deliveries as ``pending`` (before it is produced); returns their ids.

    Nothing is logged when delivery is off (``options`` is ``None``) or the definition has
    no target.
    """
    target = definition.delivery
    if options is None or target is None or target.is_empty:
        return []
    return DeliveryLog.for_store(store).start(run.run_id, run.report_name, target.channels())


def settle_deliveries(
    finished: ReportRun,
    definition: ReportDefinition,
    store: Store,
    options: DeliveryOptions,
    log_ids: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Deliver a successful run (and record each outcome), or mark its deliveries skipped.

    Never raises: the run's own outcome is already recorded, and a delivery problem must
    not undo it.
    """
    log = DeliveryLog.for_store(store)
    try:
        if finished.status not in PRODUCED:
            log.skip(log_ids, "the run failed; nothing was sent")
            return
        outcomes = deliver_run(finished, definition, store, options, sleep=sleep)
        for delivery_id, outcome in zip(log_ids, outcomes, strict=True):
            log.finish(delivery_id, outcome)
    except Exception:
        logger.exception("report %s: run %s: delivery failed", finished.report_name, finished.run_id)


def deliver_run(
    run: ReportRun,
    definition: ReportDefinition,
    store: Store,
    options: DeliveryOptions,
    *,
    attachments: Sequence[Attachment] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Send run ``run`` to ``definition.delivery``; one outcome per channel (none without a target).

    ``attachments`` defaults to :func:`run_attachments`.
    """
    target = definition.delivery
    if target is None or target.is_empty:
        return []
    html = ReportStore.for_store(store).get_html(run.run_id)
    files = list(attachments) if attachments is not None else run_attachments(run, html)
    # Titles are checked when a definition is made; one stored before that rule must still
    # not put a line break into the Subject header.
    title = "".join(c if c.isprintable() else " " for c in definition.title)
    subject = f"{title}: forecast as of {run.as_of:%Y-%m-%d}"
    outcomes = deliver(
        target,
        options,
        subject=subject,
        html=html,
        attachments=files,
        payload=webhook_payload(run, definition, files),
        sleep=sleep,
    )
    for outcome in outcomes:
        logger.info(
            "report %s: run %s: %s to %s %s after %d attempt(s)",
            run.report_name,
            run.run_id,
            outcome.channel,
            outcome.target,
            outcome.status,
            outcome.attempts,
        )
    return outcomes
