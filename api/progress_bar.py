"""A progress bar on stderr for long work of the command line (report runs, batch forecasts).

The bar is drawn only on a terminal (or when asked with ``--progress``), always on stderr,
so stdout stays parseable. It reads the work's progress record
(:class:`data.progress_repo.Progress`) from a function the command gives, on a thread of its
own, while the command's thread does the work. Work the command runs itself, with no job
row of its own (``tradecast forecast-batch``), counts its items on a :class:`LocalProgress`,
kept in memory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TextIO

from data.codec import utcnow
from data.progress_repo import MAX_FAILURES, ItemFailure, Progress, ProgressTracker

__all__ = ["LocalProgress", "format_progress", "progress_bar", "wants_progress"]

#: Seconds between two reads of the progress record.
POLL_SECONDS = 0.25
_WIDTH = 28


class LocalProgress(ProgressTracker):
    """A progress tracker kept in this process's memory (nothing written to the store), read by the bar.

    Counts as :class:`~data.progress_repo.ProgressRepository` does: items done (failed ones
    included), failures (the first :data:`~data.progress_repo.MAX_FAILURES`), items re-run.

    Parameters
    ----------
    kind, job_id : str
        What the work is (a kind of :data:`~data.progress_repo.JOB_KINDS`) and a name for it.
    """

    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(None, kind, job_id)
        self._lock = threading.Lock()
        self._progress: Progress | None = None

    def read(self) -> Progress | None:
        """The progress so far (``None`` before :meth:`begin`)."""
        with self._lock:
            return self._progress

    def begin(self, n_total: int) -> None:
        """The work has ``n_total`` items and starts them now."""
        now = utcnow()
        with self._lock:
            self._progress = Progress(self.kind, self.job_id, max(0, int(n_total)), 0, 0, 0, now, now)

    def item_done(self, item: str, error: BaseException | None = None) -> None:
        """Item ``item`` finished, or failed with ``error``."""
        if error is None:
            self._advance(done=1)
        else:
            self.item_failed(item, str(getattr(error, "code", "internal_error")), str(error))

    def item_failed(self, item: str, code: str, message: str) -> None:
        """Item ``item`` failed with error ``code`` (``message`` in words)."""
        self._advance(done=1, failure=ItemFailure(item, code or "internal_error", message))

    def add_items(self, n: int) -> None:
        """The work has ``n`` more items than it said at :meth:`begin`."""
        self._advance(added=n)

    def item_retried(self, item: str) -> None:
        """Item ``item`` runs again (its worker died under it)."""
        self._advance(retried=1)

    def _advance(self, *, done: int = 0, failure: ItemFailure | None = None, retried: int = 0, added: int = 0) -> None:
        with self._lock:
            p = self._progress
            if p is None:
                return
            failures = p.failures
            if failure is not None and len(failures) < MAX_FAILURES:
                failures = (*failures, failure)
            self._progress = replace(
                p,
                n_total=p.n_total + added,
                n_done=p.n_done + done,
                n_failed=p.n_failed + (failure is not None),
                n_retried=p.n_retried + retried,
                updated_at=utcnow(),
                failures=failures,
            )


def wants_progress(flag: bool | None, stream: TextIO | None = None) -> bool:
    """Whether to draw a bar: as ``--progress/--no-progress`` says, else when ``stream`` is a terminal."""
    if flag is not None:
        return flag
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def format_progress(progress: Progress, what: str = "series") -> str:
    """One line: ``[#######.......] 3/10 series, 1 failed, ~12 s left``."""
    total = max(progress.n_total, 1)
    filled = round(_WIDTH * min(progress.n_done, total) / total)
    parts = [f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {progress.n_done}/{progress.n_total} {what}"]
    if progress.n_failed:
        parts.append(f"{progress.n_failed} failed")
    if progress.n_retried:
        parts.append(f"{progress.n_retried} re-run")
    eta = progress.eta_seconds()
    if eta is not None and progress.n_done < progress.n_total:
        parts.append(f"~{eta:.0f} s left")
    return ", ".join(parts)


@contextmanager
def progress_bar(
    read: Callable[[], Progress | None], *, enabled: bool, stream: TextIO | None = None, what: str = "series"
) -> Iterator[None]:
    """Draw ``read()``'s progress on ``stream`` (stderr) while the block runs; nothing if not ``enabled``."""
    if not enabled:
        yield
        return
    out = stream or sys.stderr
    stop = threading.Event()
    drawn: list[str] = []

    def draw() -> None:
        try:
            progress = read()
        except Exception:  # the bar is a side line: a failed read skips one frame
            return
        if progress is not None:
            line = format_progress(progress, what)
            if not drawn or drawn[-1] != line:
                out.write("\r" + line.ljust(len(drawn[-1]) if drawn else 0))
                out.flush()
                drawn.append(line)

    def loop() -> None:
        while not stop.wait(POLL_SECONDS):
            draw()

    thread = threading.Thread(target=loop, name="tradecast-progress-bar", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        draw()  # the final state
        if drawn:
            out.write("\n")
            out.flush()
