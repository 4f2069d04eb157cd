"""A progress bar on stderr for long work of the command line (report runs).

The bar is drawn only on a terminal (or when asked with ``--progress``), always on stderr,
so stdout stays parseable. It reads the work's progress record
(:class:`data.progress_repo.Progress`) from a function the command gives, on a thread of its
own, while the command's thread does the work.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from data.progress_repo import Progress

__all__ = ["format_progress", "progress_bar", "wants_progress"]

#: Seconds between two reads of the progress record.
POLL_SECONDS = 0.25
_WIDTH = 28


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
