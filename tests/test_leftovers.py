"""What a case leaves behind: the adapter hooks (frameworks/base.py, per-framework state.py) and the
process checks (worker/hygiene.py), tested in this process without a worker."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest

import fake_adapter
from portabench.frameworks.base import MEMORY_LEAK_THRESHOLD_BYTES, StateBaseline, memory_leftover
from portabench.worker.hygiene import ProcessBaseline, child_pids, process_leftovers

MiB = 1 << 20


def test_memory_above_the_baseline_by_more_than_the_threshold_is_a_leak() -> None:
    assert memory_leftover(None, 10 * MiB) is None  # not measured (CPU)
    assert memory_leftover(100 * MiB, None) is None
    assert memory_leftover(100 * MiB, 100 * MiB + MEMORY_LEAK_THRESHOLD_BYTES) is None  # caches stay below it
    found = memory_leftover(100 * MiB, 100 * MiB + MEMORY_LEAK_THRESHOLD_BYTES + MiB)
    assert found is not None and not found.restored and "257 MiB of device memory" in found.what
    # the H200 case of the issue: 97% of 141 GiB kept alive through a global
    h200 = memory_leftover(600 * MiB, int(0.97 * 141 * 1024) * MiB)
    assert h200 is not None and "MiB of device memory still held" in h200.what


def test_leftovers_restores_changed_switches_and_reports_held_memory() -> None:
    adapter = fake_adapter.FakeAdapter("cpu", "eager", None)
    baseline = adapter.state_baseline()
    assert adapter.leftovers(baseline) == []
    fake_adapter.SWITCHES["default_dtype"] = "float64"
    fake_adapter.HELD.append(300 * MiB)
    try:
        found = {item.what: item.restored for item in adapter.leftovers(baseline)}
    finally:
        fake_adapter.HELD.clear()
    assert found == {"default_dtype changed from 'float32' to 'float64'": True,
                     "300 MiB of device memory still held after the case (worker baseline 0 MiB)": False}
    assert fake_adapter.SWITCHES["default_dtype"] == "float32"


def test_memory_is_collected_only_when_the_cheap_probe_is_over_the_threshold() -> None:
    """A garbage collection costs ~0.2 s in a torch worker: paid only to confirm a suspected leak, and
    memory that a collection frees (garbage cycles) is no finding."""
    class Cycles(fake_adapter.FakeAdapter):
        garbage = 0
        calls: list[bool] = []

        def device_memory_in_use(self, collect: bool = True) -> int | None:
            self.calls.append(collect)
            if collect:
                self.garbage = 0
            return sum(fake_adapter.HELD) + self.garbage

    adapter = Cycles("cpu", "eager", None)
    baseline = StateBaseline(dict(adapter.global_switches()), 0)
    assert adapter.leftovers(baseline) == [] and adapter.calls == [False]  # an ordinary case: no collection
    adapter.calls.clear()
    adapter.garbage = 400 * MiB
    assert adapter.leftovers(baseline) == [] and adapter.calls == [False, True]  # freed by the collection
    adapter.calls.clear()
    fake_adapter.HELD.append(400 * MiB)
    try:
        found = adapter.leftovers(baseline)
    finally:
        fake_adapter.HELD.clear()
    assert adapter.calls == [False, True] and len(found) == 1 and "400 MiB" in found[0].what


def test_a_failing_state_probe_is_a_finding_not_a_crash() -> None:
    class Broken(fake_adapter.FakeAdapter):
        def global_switches(self) -> dict[str, object]:
            raise RuntimeError("probe broke")

    found = Broken("cpu", "eager", None).leftovers(StateBaseline({}, None))
    assert len(found) == 1 and not found[0].restored and "probe broke" in found[0].what


def test_process_leftovers_kill_children_flag_threads_and_put_back_descriptors() -> None:
    baseline = ProcessBaseline.capture()
    assert process_leftovers(baseline) == []
    child = subprocess.Popen(["sleep", "60"])
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-running")
    thread.start()
    saved = os.dup(0)
    os.close(0)
    try:
        found = {item.what: item.restored for item in process_leftovers(baseline)}
    finally:
        stop.set()
        thread.join()
        os.dup2(saved, 0)
        os.close(saved)
    assert found == {"file descriptor 0 was closed or replaced": False,
                     "1 thread(s) still running: left-running": False,
                     "1 child process(es) left running (killed)": True}
    assert child.poll() is not None and child.pid not in child_pids()
    assert process_leftovers(baseline, allowed_children=frozenset()) == []


def test_children_the_adapter_keeps_are_not_killed() -> None:
    baseline = ProcessBaseline.capture()
    child = subprocess.Popen(["sleep", "60"])
    try:
        assert process_leftovers(baseline, allowed_children=frozenset({child.pid})) == []
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_torch_switches_a_case_changes_are_found_and_restored() -> None:
    torch = pytest.importorskip("torch")
    from portabench.frameworks.torch_adapter import TorchAdapter

    adapter = TorchAdapter("cpu", "eager", None)
    baseline = adapter.state_baseline()
    assert baseline.device_memory is None  # CPU: not measured (the CUDA part is unit-tested by logic above)
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    torch.set_float32_matmul_precision("medium")
    try:
        found = {item.what: item.restored for item in adapter.leftovers(baseline)}
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)
        torch.set_float32_matmul_precision("highest")
    assert found["default_dtype changed from 'float32' to 'float64'"] is True
    assert found["grad_enabled changed from True to False"] is True
    assert found["float32_matmul_precision changed from 'highest' to 'medium'"] is True
    assert adapter.global_switches() == baseline.switches


def test_jax_x64_a_case_turns_on_is_found_and_restored() -> None:
    jax = pytest.importorskip("jax")
    from portabench.frameworks.jax_adapter import JaxAdapter

    adapter = JaxAdapter("cpu", "eager", None)
    baseline = adapter.state_baseline()
    jax.config.update("jax_enable_x64", not baseline.switches["jax_enable_x64"])
    try:
        found = {item.what: item.restored for item in adapter.leftovers(baseline)}
    finally:
        jax.config.update("jax_enable_x64", baseline.switches["jax_enable_x64"])
    assert list(found.values()) == [True] and "jax_enable_x64 changed" in next(iter(found))


@pytest.mark.slow
def test_tensorflow_tf32_a_case_changes_is_found_and_restored() -> None:
    tf = pytest.importorskip("tensorflow")
    from portabench.frameworks.tensorflow_adapter import TensorFlowAdapter

    adapter = TensorFlowAdapter("cpu", "eager", None)
    baseline = adapter.state_baseline()
    before = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(not before)
    try:
        found = {item.what: item.restored for item in adapter.leftovers(baseline)}
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(before)
    assert list(found.values()) == [True] and "tensor_float_32_execution changed" in next(iter(found))
