"""The runner on the numpy-only fake adapter (no framework starts): crashes, hangs and OOM isolated and
classified, a poisoned worker recycled, internal errors kept apart, resume refused on other options.

Two tests at the end are about the torch adapter under the runner (meta comparison, CUDA faults) and
skip without torch."""

from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import fake_adapter
from conftest import DATA
from portabench.cases import CaseDescriptor
from portabench.errors import PortabenchError
from portabench.frameworks import FRAMEWORKS
from portabench.frameworks.timer import TimingConfig
from portabench.protocol import PROTOCOL_VERSION, HelloRequest, RunCaseRequest
from portabench.runner.process import WorkerFailure, WorkerProcess
from portabench.runner.session import RunRequest, execute_run
from portabench.store import Store

FAST_TIMING = TimingConfig(min_repeats=3, budget_s=0.01)
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(FRAMEWORKS, "fake", fake_adapter.ENTRY)
    yield


def _request(device: str = "cpu", **kw: object) -> RunRequest:
    base: dict[str, object] = dict(framework="fake", device=device, reference=None, dtypes=["none"],
                                   timing=FAST_TIMING, timeout_s=4.0, startup_timeout_s=60.0)
    base.update(kw)
    return RunRequest(**base)  # type: ignore[arg-type]


def _torch_request(device: str = "cpu", **kw: object) -> RunRequest:
    base: dict[str, object] = dict(framework="torch", device=device, reference=None, dtypes=["float32"],
                                   timing=FAST_TIMING, specs=[str(DATA / "faults.toml")], timeout_s=8.0)
    base.update(kw)
    return RunRequest(**base)  # type: ignore[arg-type]


def test_faults_kill_only_their_worker_and_are_classified(fake: None, tmp_path: Path) -> None:
    names = ["fake.segfault", "fake.hang", "fake.memory", "fake.abort", "fake.ok"]
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _request(functions=names))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete" and summary.total_cases == 5
    assert rows["fake.segfault"].category == "crash"
    assert rows["fake.segfault"].exit_status == -signal.SIGSEGV
    assert "Segmentation fault" in rows["fake.segfault"].stderr_tail  # faulthandler's dump is kept
    assert rows["fake.hang"].category == "timeout"
    assert rows["fake.memory"].category == "memory"
    assert "allocate" in rows["fake.memory"].message
    assert rows["fake.abort"].category == "crash" and rows["fake.abort"].exit_status == -signal.SIGABRT
    assert rows["fake.ok"].outcome == "passed"  # a fresh worker took the case after the faults


def test_an_error_that_poisons_the_device_context_recycles_the_worker(fake: None, tmp_path: Path) -> None:
    log = tmp_path / "pids"
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _request(functions=["fake.poison", "fake.pid_next"], env={"FAKE_PIDS": str(log)}))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete"
    assert rows["fake.poison"].outcome == "failed" and "illegal memory access" in rows["fake.poison"].message
    assert rows["fake.pid_next"].outcome == "passed"
    pids = log.read_text().split()  # the poisoning case's worker, then (timed calls) the next case's
    assert len(set(pids)) == 2 and pids[0] != pids[-1]  # the case after the poisoning one ran in a fresh worker


def test_internal_errors_are_their_own_outcome_and_the_run_goes_on(fake: None, tmp_path: Path) -> None:
    """An adapter bug (a reply the protocol does not know) and a reply of another protocol version are
    outcome ``error``, never a failure of the framework; the next case still runs."""
    names = ["fake.bad_reply", "fake.garbage_reply", "fake.ok"]
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _request(functions=names))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete" and summary.counts == {"error": 2, "passed": 1}
    bug, garbage = rows["fake.bad_reply"], rows["fake.garbage_reply"]
    assert bug.outcome == "error" and bug.category is None and bug.exc_type == "portabench.protocol.ProtocolError"
    assert "no_such_field" in bug.message
    assert garbage.outcome == "error" and garbage.exc_type == "ProtocolError" and "protocol version 1" in garbage.message
    assert rows["fake.ok"].outcome == "passed"


def test_unknown_device_is_a_clear_error(fake: None, tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(PortabenchError, match="not available"):
        execute_run(store, _request(device="nosuchdevice", functions=["fake.ok"]))
    with Store(tmp_path / "s.sqlite") as store:
        assert store.runs() == []


def test_worker_timeout_kills_the_process_group(fake: None) -> None:
    worker = WorkerProcess("fake", "cpu", "eager", None)
    try:
        assert worker.request(HelloRequest(), 60).device_name == "fake cpu"
        pid = worker.pid
        case = CaseDescriptor("fake.hang", "fake:fake.hang", "none", 0)
        with pytest.raises(WorkerFailure) as info:
            worker.request(RunCaseRequest(case=case, timing=FAST_TIMING), 2.0)
        assert info.value.timed_out
        time.sleep(0.2)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        worker.close()


def test_a_request_of_another_protocol_version_gets_an_error_reply_and_the_worker_serves_on(fake: None) -> None:
    worker = WorkerProcess("fake", "cpu", "eager", None)
    try:
        assert worker.proc.stdin is not None
        worker.proc.stdin.write(b'{"v": 1, "id": 1, "op": "hello"}\n')  # what a portabench of protocol 1 sent
        worker.proc.stdin.flush()
        assert select.select([worker._reply_fd], [], [], 60)[0], "no reply to a request of another version"
        reply = json.loads(os.read(worker._reply_fd, 1 << 16).split(b"\n")[0])
        assert reply["v"] == PROTOCOL_VERSION and reply["ok"] is False
        assert reply["error"]["type"] == "portabench.protocol.ProtocolError"
        assert "protocol version 1, expected" in reply["error"]["message"]
        assert worker.request(HelloRequest(), 60).framework_version == "0.1"  # still serving
    finally:
        worker.close()


def test_resume_with_other_options_is_refused(fake: None, tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = execute_run(store, _request(functions=["fake.ok"], budget_s=0.0))  # stops before its first case
        assert first.status == "interrupted"
        with pytest.raises(PortabenchError, match="other options \\(dtypes\\)"):
            execute_run(store, _request(functions=["fake.ok"], dtypes=["float64"], resume=True))
        resumed = execute_run(store, _request(functions=["fake.ok"], resume=True))
        assert resumed.run_id == first.run_id and resumed.resumed and resumed.status == "complete"


# --------------------------------------------------------------------------- the torch adapter under the runner


@pytest.mark.skipif(not HAS_TORCH, reason="the torch extra is not installed")
def test_reference_comparison_on_meta_checks_shape_and_dtype(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        execute_run(store, _torch_request(device="meta", reference="cpu", functions=["torch.add", "torch.nonzero"], specs=[],
                                    max_samples=2))
        df = store.results_frame()
        run = store.runs()[0]
    add = df[df.function == "torch.add"]
    assert set(add.outcome) == {"passed"} and set(add.check) == {"shape_dtype"}
    nonzero = df[df.function == "torch.nonzero"]
    assert set(nonzero.outcome) == {"failed"} and set(nonzero.category) == {"not_implemented"}
    assert run.reference_device == "cpu" and run.device_kind == "meta"
    assert "cudnn.allow_tf32" in run.numerics


@pytest.mark.skipif(not HAS_TORCH or not __import__("torch").cuda.is_available(), reason="needs torch and a CUDA GPU")
def test_cuda_oom_is_freed_and_a_device_side_assert_recycles_the_worker(tmp_path: Path) -> None:
    names = ["cudafault.fill_memory", "cudafault.after_oom", "cudafault.device_assert", "cudafault.after_assert"]
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _torch_request(device="cuda", functions=names, specs=[str(DATA / "cuda_faults.toml")],
                                              timeout_s=120.0))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete"
    assert rows["cudafault.fill_memory"].category == "memory", rows["cudafault.fill_memory"].message
    assert rows["cudafault.after_oom"].outcome == "passed", rows["cudafault.after_oom"].message
    assert rows["cudafault.device_assert"].outcome == "failed"
    assert "device-side assert" in rows["cudafault.device_assert"].message
    assert rows["cudafault.after_assert"].outcome == "passed", rows["cudafault.after_assert"].message
