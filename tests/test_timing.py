"""Timing logic with an injected fake clock (no GPU needed)."""

from __future__ import annotations

from portabench.frameworks.timer import TimingConfig, measure, summarize


class FakeTimer:
    """A clock that advances by a scripted cost per call plus a fixed cost per sync."""

    def __init__(self, costs_ns: list[int], sync_ns: int = 0) -> None:
        self.t = 0
        self.costs = iter(costs_ns)
        self.sync_ns = sync_ns
        self.syncs = 0
        self.calls = 0

    def now(self) -> int:
        return self.t

    def sync(self, last_output=None) -> None:
        self.syncs += 1
        self.t += self.sync_ns

    def fn(self) -> int:
        self.calls += 1
        self.t += next(self.costs)
        return self.calls


def test_warmup_is_excluded_and_each_single_call_is_synced() -> None:
    timer = FakeTimer([10_000_000] + [100] * 1000)  # a slow first (warm-up) call, then 100 ns calls
    t = measure(timer.fn, timer, TimingConfig(warmup=1, min_repeats=5, max_repeats=20, budget_s=1.0, block_ns=0))
    assert t.median_ns == 100 and t.iqr_ns == 0 and t.block == 1
    assert t.repeats == 20  # budget not spent: capped by max_repeats
    assert timer.calls == 22 and timer.syncs == 22  # warm-up, sizing call, 20 samples: each synced


def test_blocks_spread_the_sync_cost() -> None:
    # 20 µs calls, 10 µs per sync: single-call samples would read 30 µs (50% high)
    timer = FakeTimer([0] + [20_000] * 100_000, sync_ns=10_000)
    t = measure(timer.fn, timer, TimingConfig(warmup=1, min_repeats=5, max_repeats=10, budget_s=1.0, block_ns=1_000_000))
    assert t.block == 34  # ceil(1 ms / 30 µs measured by the sizing call)
    assert abs(t.median_ns - 20_000) / 20_000 < 0.02  # 10 µs / 34 calls: under 2% high


def test_budget_stops_repeats_but_minimum_is_kept() -> None:
    timer = FakeTimer([0] + [100_000_000] * 100)  # 0.1 s per call
    t = measure(timer.fn, timer, TimingConfig(warmup=1, min_repeats=5, max_repeats=200, budget_s=0.2))
    assert t.repeats == 5 and t.block == 1  # minimum repeats even past the budget
    timer = FakeTimer([0] + [1_000_000] * 1000)  # 1 ms per call, 0.02 s budget
    t = measure(timer.fn, timer, TimingConfig(warmup=1, min_repeats=5, max_repeats=200, budget_s=0.02))
    assert t.repeats == 20


def test_summarize_median_and_iqr() -> None:
    t = summarize([1, 2, 3, 4, 100])
    assert t.median_ns == 3 and t.iqr_ns == 2 and t.repeats == 5
    assert summarize([7]).median_ns == 7
