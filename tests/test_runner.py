"""The runner on real torch workers: isolation of crashes, hangs and OOM; resume; protocol."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, REPO
from portabench.errors import PortabenchError
from portabench.runner.process import WorkerFailure, WorkerProcess
from portabench.runner.session import RunRequest, execute_run
from portabench.frameworks.timer import TimingConfig
from portabench.store import Store

pytest.importorskip("torch", reason="the torch extra is not installed")

FAST_TIMING = TimingConfig(min_repeats=3, budget_s=0.01)


def _request(device: str = "cpu", **kw) -> RunRequest:
    base = dict(framework="torch", device=device, reference=None, dtypes=["float32"], timing=FAST_TIMING,
                specs=[str(DATA / "faults.toml")], timeout_s=8.0)
    base.update(kw)
    return RunRequest(**base)


def test_faults_kill_only_their_worker_and_are_classified(tmp_path: Path) -> None:
    names = ["fault.segfault", "fault.hang", "fault.memory", "fault.abort", "fault.ok"]
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _request(functions=names))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete" and summary.total_cases == 5
    assert rows["fault.segfault"].category == "crash"
    assert rows["fault.segfault"].exit_status == -signal.SIGSEGV
    assert "Segmentation fault" in rows["fault.segfault"].stderr_tail  # faulthandler's dump is kept
    assert rows["fault.hang"].category == "timeout"
    assert rows["fault.memory"].category == "memory"
    assert "allocate" in rows["fault.memory"].message
    assert rows["fault.abort"].category == "crash" and rows["fault.abort"].exit_status == -signal.SIGABRT
    assert rows["fault.ok"].outcome == "passed"  # a fresh worker took the case after the faults


POISON_SPEC = """
format = 1
framework = "torch"

[[function]]
name = "poison.raise"
dtypes = ["none"]
[[function.case]]
name = "cuda-message"
inputs = {{}}
setup = "open({log!r}, 'a').write(str(__import__('os').getpid()) + ' ')"
call = "(_ for _ in ()).throw(RuntimeError('CUDA error: an illegal memory access was encountered'))"

[[function]]
name = "poison.next"
dtypes = ["none"]
[[function.case]]
name = "after"
inputs = {{}}
setup = "open({log!r}, 'a').write(str(__import__('os').getpid()) + ' ')"
call = "1"
"""


def test_an_error_that_poisons_the_device_context_recycles_the_worker(tmp_path: Path) -> None:
    log = tmp_path / "pids"
    spec = tmp_path / "poison.toml"
    spec.write_text(POISON_SPEC.format(log=str(log)))
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _request(functions=["poison.raise", "poison.next"], specs=[str(spec)]))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete"
    assert rows["poison.raise"].outcome == "failed" and "illegal memory access" in rows["poison.raise"].message
    assert rows["poison.next"].outcome == "passed"
    first, second = log.read_text().split()
    assert first != second  # the case after the poisoning one ran in a fresh worker


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_oom_is_freed_and_a_device_side_assert_recycles_the_worker(tmp_path: Path) -> None:
    names = ["cudafault.fill_memory", "cudafault.after_oom", "cudafault.device_assert", "cudafault.after_assert"]
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, _request(device="cuda", functions=names, specs=[str(DATA / "cuda_faults.toml")],
                                              timeout_s=120.0))
        rows = {r.function: r for r in store.results_frame().itertuples()}
    assert summary.status == "complete"
    assert rows["cudafault.fill_memory"].category == "memory", rows["cudafault.fill_memory"].message
    assert rows["cudafault.after_oom"].outcome == "passed", rows["cudafault.after_oom"].message
    assert rows["cudafault.device_assert"].outcome == "failed"
    assert "device-side assert" in rows["cudafault.device_assert"].message
    assert rows["cudafault.after_assert"].outcome == "passed", rows["cudafault.after_assert"].message


def test_reference_comparison_on_meta_checks_shape_and_dtype(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        execute_run(store, _request(device="meta", reference="cpu", functions=["torch.add", "torch.nonzero"], specs=[],
                                    max_samples=2))
        df = store.results_frame()
        run = store.runs()[0]
    add = df[df.function == "torch.add"]
    assert set(add.outcome) == {"passed"} and set(add.check) == {"shape_dtype"}
    nonzero = df[df.function == "torch.nonzero"]
    assert set(nonzero.outcome) == {"failed"} and set(nonzero.category) == {"not_implemented"}
    assert run.reference_device == "cpu" and run.device_kind == "meta"
    assert "cudnn.allow_tf32" in run.numerics


def test_unknown_device_is_a_clear_error(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(PortabenchError, match="not available"):
        execute_run(store, _request(device="nosuchdevice", functions=["fault.ok"]))
        assert store.runs() == []


def test_worker_timeout_kills_the_process_group() -> None:
    worker = WorkerProcess("torch", "cpu", "eager", None)
    try:
        worker.request("hello", 120)
        pid = worker.pid
        case = {"function": "fault.hang", "source": "spec:faults.toml#sleep", "dtype": "none", "sample": 0,
                "extra": {"spec_file": str(DATA / "faults.toml")}}
        with pytest.raises(WorkerFailure) as info:
            worker.request("run_case", 2.0, case=case, timing={})
        assert info.value.timed_out
        time.sleep(0.2)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        worker.close()


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigkill", "sigint"])
def test_interrupted_run_resumes_without_repeating_cases(tmp_path: Path, how: str) -> None:
    db = tmp_path / "s.sqlite"
    args = [sys.executable, "-m", "portabench", "run", "--framework", "torch", "--device", "cpu", "--functions",
            "slow.sleep", "--specs", str(DATA / "slow.toml"), "--dtypes", "float32", "--store", str(db), "--repeats", "1",
            "--time-budget", "0"]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen(args, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _count(db) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _count(db) >= 2
    if how == "sigkill":
        os.killpg(proc.pid, signal.SIGKILL)  # parent and worker die at once, mid-case
    else:
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C on the parent only
    code = proc.wait(timeout=60)
    assert code == (-signal.SIGKILL if how == "sigkill" else 130)
    done_before = _count(db)
    assert done_before < 6
    resumed = subprocess.run(args + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    with Store(db) as store:
        runs = store.runs()
        df = store.results_frame()
    assert len(runs) == 1 and runs[0].status == "complete"
    assert len(df) == 6 and df.case_id.is_unique
    assert set(df.outcome) == {"passed"}


def test_resume_with_other_options_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = execute_run(store, _request(functions=["fault.ok"], budget_s=0.0))  # stops before its first case
        assert first.status == "interrupted"
        with pytest.raises(PortabenchError, match="other options \\(dtypes\\)"):
            execute_run(store, _request(functions=["fault.ok"], dtypes=["float64"], resume=True))
        resumed = execute_run(store, _request(functions=["fault.ok"], resume=True))
        assert resumed.run_id == first.run_id and resumed.resumed and resumed.status == "complete"
