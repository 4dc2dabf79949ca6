"""portabench.commands.progress: the one-line records written when stderr is not a terminal."""

from __future__ import annotations

import pytest

from portabench.commands.progress import ProgressState, log_interval
from portabench.errors import PortabenchError


def test_record_has_done_total_failures_elapsed_and_time_left() -> None:
    state = ProgressState(done=30, total=120, failed=2, began=100.0)
    line = state.record("torch on cpu", elapsed=75.0, now=160.0)  # 60 s of work for 30 cases: 180 s left
    assert line == "portabench: torch on cpu: 30/120 cases, 2 failed, 1m15s elapsed, about 3m00s left"


def test_record_before_the_first_case_and_without_a_total() -> None:
    assert ProgressState(done=0, total=10, began=5.0).record("jax on cpu", 3.0, 8.0).endswith(
        "0/10 cases, 0 failed, 3s elapsed, time left not known yet")
    assert ProgressState(done=42, total=0).record("mining torch", 3700.0, 0.0) == \
        "portabench: mining torch: 42 done, 1h01m elapsed"


def test_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTABENCH_PROGRESS_INTERVAL", raising=False)
    assert log_interval() == 30.0
    monkeypatch.setenv("PORTABENCH_PROGRESS_INTERVAL", "0.5")
    assert log_interval() == 0.5
    for bad in ("0", "-1", "nan", "soon"):
        monkeypatch.setenv("PORTABENCH_PROGRESS_INTERVAL", bad)
        with pytest.raises(PortabenchError):
            log_interval()
