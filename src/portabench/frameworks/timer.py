"""The Timer contract, next to the adapter contract, and the timing loop built on it.

A :class:`Timer` has ``now()`` (nanoseconds, monotonic) and ``sync()`` (wait
until the device finished queued work); adapters give real timers (CUDA:
``torch.cuda.synchronize``; JAX: ``block_until_ready`` on the last output).
:func:`measure` only talks to a Timer, so it is unit-tested with a fake clock.
It lives here, not in :mod:`portabench.worker`, because adapters time with it
too (whole-model cases) and ``frameworks/`` never imports the worker package;
:class:`TimingConfig` travels in the ``run_case`` request (:mod:`portabench.protocol`).
Imports no framework: safe in the parent.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Timer(Protocol):
    def now(self) -> int:
        """Monotonic time in nanoseconds."""

    def sync(self, last_output: Any = None) -> None:
        """Block until the device finished all queued work (``last_output`` helps async frameworks)."""


class HostTimer:
    """A timer for devices that execute synchronously (plain CPU)."""

    def now(self) -> int:
        return time.perf_counter_ns()

    def sync(self, last_output: Any = None) -> None:
        return None


@dataclass(frozen=True)
class TimingConfig:
    """Warm-up calls, then repeats until ``min_repeats`` are done and ``budget_s`` is spent (or ``max_repeats``).

    Each repeat (a *sample*) times a block of calls followed by one ``sync()``;
    the block holds as many calls as make it last about ``block_ns`` (at most
    ``max_block``), so the cost of synchronising is spread over the block, as
    torch.utils.benchmark's blocked_autorange does. ``block_ns = 0`` times
    single calls.
    """

    warmup: int = 1
    min_repeats: int = 5
    max_repeats: int = 30
    budget_s: float = 0.2
    block_ns: int = 1_000_000
    max_block: int = 1000

    def to_json(self) -> dict[str, Any]:
        return {"warmup": self.warmup, "min_repeats": self.min_repeats, "max_repeats": self.max_repeats,
                "budget_s": self.budget_s, "block_ns": self.block_ns, "max_block": self.max_block}


@dataclass(frozen=True)
class Timing:
    median_ns: float
    iqr_ns: float
    repeats: int
    block: int = 1  # calls per timed sample


def measure(fn: Callable[[], Any], timer: Timer, config: TimingConfig = TimingConfig()) -> Timing:
    """Time ``fn``: each sample is a block of calls closed by ``sync()``, so queued device work is inside it.

    Warm-up calls are not timed; one synced call then sizes the block (see
    :class:`TimingConfig`). Samples continue while fewer than ``min_repeats``
    are done, or while the total timed so far is under the budget and fewer
    than ``max_repeats`` are done. No output is kept alive across calls.
    Returns median and interquartile range of the per-call times (sample time
    divided by the block size).
    """
    for _ in range(config.warmup):
        timer.sync(fn())
    start = timer.now()
    timer.sync(fn())
    single = max(timer.now() - start, 1)
    block = 1 if single >= config.block_ns else min(config.max_block, -(-config.block_ns // single))
    samples: list[float] = []
    spent = 0
    budget_ns = config.budget_s * 1e9
    while len(samples) < config.min_repeats or (spent < budget_ns and len(samples) < config.max_repeats):
        start = timer.now()
        for _ in range(block - 1):
            fn()
        timer.sync(fn())
        elapsed = timer.now() - start
        samples.append(elapsed / block)
        spent += elapsed
    timing = summarize(samples)
    return Timing(timing.median_ns, timing.iqr_ns, timing.repeats, block)


def summarize(samples: list[float]) -> Timing:
    """Median and interquartile range (inclusive quartiles) of per-call times."""
    if len(samples) == 1:
        return Timing(float(samples[0]), 0.0, 1)
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return Timing(float(statistics.median(samples)), float(q3 - q1), len(samples))
