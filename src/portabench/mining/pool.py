"""Analysing many files on every core: a process pool over chunks of files.

:func:`map_files` sends chunks of ``(path, text)`` to worker processes (never a
framework: mining is pure :mod:`ast`), each of which parses and walks every file
once (:func:`portabench.mining.sites.analyze_source`) and applies ``summarize``
to its :class:`FileAnalysis` before sending the (small) result back. At most
``2 × workers`` chunks are in flight, so memory stays flat however many files
the sources hold; results come back in input order. With one worker, or fewer
files than one chunk, everything runs in this process.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

from portabench.mining.imports import Naming
from portabench.mining.sites import FileAnalysis, analyze_source
from portabench.mining.sources import FileText

T = TypeVar("T")

_naming: Naming | None = None  # set once per worker process by _init


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _init(naming: Naming) -> None:
    global _naming
    _naming = naming


def _work(chunk: list[tuple[str, FileText]], summarize: Callable[[FileAnalysis], T]) -> list[T]:
    assert _naming is not None
    return [summarize(analyze_source(text, path, _naming)) for path, text in chunk]


def map_files(
    files: Iterable[tuple[str, FileText]],
    naming: Naming,
    summarize: Callable[[FileAnalysis], T],
    workers: int | None = None,
    chunk_size: int = 64,
) -> Iterator[T]:
    """``summarize(analysis)`` for each file, in order.

    Args:
        files: ``(path, text)`` pairs; ``text`` None for a file that could not be read.
        naming: frameworks, roots and listings (sent to each worker once).
        summarize: a module-level function (it is pickled) run in the worker on each analysis.
        workers: processes (default :func:`default_workers`); 1 runs in this process.
        chunk_size: files per task.
    """
    workers = default_workers() if workers is None else max(1, workers)
    iterator = iter(files)
    first = list(islice(iterator, chunk_size))
    if workers == 1 or len(first) < chunk_size:
        for path, text in first:
            yield summarize(analyze_source(text, path, naming))
        for path, text in iterator:
            yield summarize(analyze_source(text, path, naming))
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(naming,)) as pool:
        pending: deque[Future[list[T]]] = deque([pool.submit(_work, first, summarize)])
        exhausted = False
        while pending:
            while not exhausted and len(pending) < 2 * workers:
                chunk = list(islice(iterator, chunk_size))
                if not chunk:
                    exhausted = True
                    break
                pending.append(pool.submit(_work, chunk, summarize))
            yield from pending.popleft().result()
