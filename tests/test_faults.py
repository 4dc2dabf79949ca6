"""Adversarial suite, runner side: injected faults on the numpy-only fake adapter (no framework starts).

Every fault kind is one case of tests/fake_adapter.py; each must be recorded with its category,
kill only its own worker (and what it started), and leave nothing that reaches the next case.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import fake_adapter
from portabench.cases import CaseDescriptor
from portabench.frameworks import FRAMEWORKS
from portabench.frameworks.timer import TimingConfig
from portabench.protocol import HelloRequest, RunCaseRequest, encode_request
from portabench.runner.process import WorkerProcess
from portabench.runner.session import RunRequest, execute_run
from portabench.store import Store

FAST_TIMING = TimingConfig(warmup=0, min_repeats=1, max_repeats=1, budget_s=0.0, block_ns=0)

#: (case, expected outcome, expected category, text the message must hold)
FAULTS = [
    ("fake.segfault", "failed", "crash", "exit status -11"),
    ("fake.ok_1", "passed", None, None),
    ("fake.abort", "failed", "crash", "exit status -6"),
    ("fake.fork_segfault", "failed", "crash", "exit status -11"),
    ("fake.ok_2", "passed", None, None),
    ("fake.memory", "failed", "memory", "Unable to allocate"),
    ("fake.raise", "failed", "not_implemented", "no kernel"),
    ("fake.close_fds", "passed", None, "file descriptor 0 was closed"),
    ("fake.after_fds", "passed", None, None),
    ("fake.leak_global", "passed", None, "default_dtype changed from 'float32' to 'float64'"),
    ("fake.after_global", "passed", None, None),
    ("fake.leak_memory", "passed", None, "MiB of device memory still held after the case"),
    ("fake.after_memory", "passed", None, None),
    ("fake.thread", "passed", None, "thread(s) still running: stray-sleeper"),
    ("fake.child", "passed", None, "child process(es) left running (killed)"),
    ("fake.hang", "failed", "timeout", "no reply"),
    ("fake.ok_3", "passed", None, None),
]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(FRAMEWORKS, "fake", fake_adapter.ENTRY)
    yield


def fake_request(functions: list[str], **kw: object) -> RunRequest:
    base: dict[str, object] = dict(framework="fake", device="cpu", reference=None, dtypes=["none"],
                                   timing=FAST_TIMING, timeout_s=4.0, startup_timeout_s=60.0, functions=functions)
    base.update(kw)
    return RunRequest(**base)  # type: ignore[arg-type]


def result_rows(store: Store) -> dict[str, Any]:
    """function -> its result row (attributes; NULL is None, not NaN)."""
    cur = store.conn.execute("SELECT * FROM results")
    names = [d[0] for d in cur.description]
    return {row[names.index("function")]: SimpleNamespace(**dict(zip(names, row, strict=True))) for row in cur.fetchall()}


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_dead(pids: list[int], within: float = 5.0) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def test_every_fault_is_classified_and_nothing_reaches_the_next_case(fake: None, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    names = [name for name, *_ in FAULTS]
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, fake_request(names, env={"FAKE_PIDS": str(pids)}))
        rows = result_rows(store)
    assert summary.status == "complete" and len(rows) == len(FAULTS)
    for name, outcome, category, text in FAULTS:
        row = rows[name]
        assert (row.outcome, row.category) == (outcome, category), (name, row.message)
        if text is not None:
            assert text in row.message, (name, row.message)
        else:
            assert row.message is None, (name, row.message)  # the innocent next case carries nothing
    assert not wait_dead([int(p) for p in pids.read_text().split()])  # forked child, stray child: gone


def test_a_case_that_forks_then_segfaults_is_a_crash_without_waiting_for_the_deadline(fake: None, tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        started = time.monotonic()
        execute_run(store, fake_request(["fake.fork_segfault"], timeout_s=60.0))
        elapsed = time.monotonic() - started
        row = result_rows(store)["fake.fork_segfault"]
    assert row.category == "crash" and row.exit_status == -signal.SIGSEGV
    assert elapsed < 30  # the forked child holds the reply pipe: EOF would only come at the 60 s deadline


def test_a_worker_whose_request_pipe_ends_kills_its_group(fake: None, tmp_path: Path) -> None:
    """The worker-side watch behind 'dies with its parent': our end of the request pipe closes mid-case."""
    pids = tmp_path / "pids"
    worker = WorkerProcess("fake", "cpu", "eager", None, env={"FAKE_PIDS": str(pids)})
    try:
        worker.request(HelloRequest(), 60)
        assert worker.proc.stdin is not None
        case = CaseDescriptor("fake.spawn_and_hang", "fake:x", "none", 0)
        worker.proc.stdin.write(encode_request(99, RunCaseRequest(case=case, timing=FAST_TIMING)))
        worker.proc.stdin.flush()
        deadline = time.monotonic() + 30
        while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        started = [int(p) for p in pids.read_text().split()]
        worker.proc.stdin.close()  # what the kernel does to the pipe when the parent dies
        assert not wait_dead(started), "the worker or its grandchild outlived the request pipe"
    finally:
        worker.close()
