"""Progress of long stages: a rich bar on a terminal, one-line records at a steady interval otherwise.

Without a terminal (CI, ``nohup``, a log file) a bar would print nothing for
minutes; there :func:`case_progress` writes one line to stderr every
:data:`LOG_INTERVAL_S` seconds (``PORTABENCH_PROGRESS_INTERVAL`` overrides it),
from a timer thread, so the line comes even while one case runs long. Records start once
the work is known (the run's cases listed), so an error while starting stays the only line::

    portabench: torch on cpu: 120/509 cases, 3 failed, 1m20s elapsed, about 4m19s left
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from portabench.errors import PortabenchError
from portabench.runner.session import ProgressFn

console = Console(stderr=True, soft_wrap=True)  # a log line stays one line, whatever the width

LOG_INTERVAL_S = 30.0  # seconds between progress records when stderr is not a terminal
INTERVAL_ENV = "PORTABENCH_PROGRESS_INTERVAL"


def log_interval() -> float:
    """Seconds between progress records: :data:`LOG_INTERVAL_S`, or ``$PORTABENCH_PROGRESS_INTERVAL``."""
    text = os.environ.get(INTERVAL_ENV)
    if not text:
        return LOG_INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise PortabenchError(f"{INTERVAL_ENV}={text!r}: expected a positive number of seconds")
    return value


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass
class ProgressState:
    """What the last update said; read by the timer thread."""

    done: int = 0
    total: int | None = None  # None: no update yet (cases still being listed); 0: total unknown (mining)
    failed: int = 0
    began: float | None = None  # monotonic time of the first update: the estimate leaves start-up out

    def record(self, label: str, elapsed: float, now: float) -> str:
        """The one-line progress record: done/total, failures so far, elapsed, estimated remaining."""
        if self.total:
            working = now - (self.began if self.began is not None else now)
            left = (f"about {_duration(working / self.done * (self.total - self.done))} left" if self.done
                    else "time left not known yet")
            return (f"portabench: {label}: {self.done}/{self.total} cases, {self.failed} failed, "
                    f"{_duration(elapsed)} elapsed, {left}")
        return f"portabench: {label}: {self.done} done, {_duration(elapsed)} elapsed"


@contextmanager
def _log_progress(label: str, interval: float) -> Iterator[ProgressFn]:
    state = ProgressState()
    started = time.monotonic()
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(interval):
            if state.total is None:  # still starting (worker start-up, case listing): nothing to say yet
                continue
            now = time.monotonic()
            console.print(state.record(label, now - started, now), markup=False, highlight=False)

    thread = threading.Thread(target=report, name="portabench-progress", daemon=True)
    thread.start()

    def update(done: int, total: int, current: str, failed: int = 0) -> None:
        if state.began is None:
            state.began = time.monotonic()
        state.done, state.total, state.failed = done, total, failed

    try:
        yield update
    finally:
        stop.set()
        thread.join()


@contextmanager
def case_progress(label: str) -> Iterator[ProgressFn]:
    """Yield ``update(done, total, current, failed=0)``: a bar on a terminal, records every interval otherwise."""
    if not console.is_terminal:
        with _log_progress(label, log_interval()) as update:
            yield update
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.fields[current]}"), console=console, transient=False,
    )
    with progress:
        task = progress.add_task(label, total=None, current="")

        def update(done: int, total: int, current: str, failed: int = 0) -> None:
            progress.update(task, completed=done, total=total, current=current)

        yield update
