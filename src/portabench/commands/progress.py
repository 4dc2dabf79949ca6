"""A rich progress bar for long stages (quiet when stderr is not a terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)


@contextmanager
def case_progress(label: str) -> Iterator[Callable[[int, int, str], None]]:
    """Yield ``update(done, total, current)``; draws a bar on a terminal, nothing otherwise."""
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.fields[current]}"), console=console, transient=False,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task(label, total=None, current="")

        def update(done: int, total: int, current: str) -> None:
            progress.update(task, completed=done, total=total, current=current)

        yield update
