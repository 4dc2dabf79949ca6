"""Spreading a run over several workers: slot planning, the dispatcher, and a real two-worker torch run."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from portabench.errors import PortabenchError
from portabench.protocol import DevicesReply, WorkerInfo
from portabench.runner.dispatch import Dispatcher, slot_environments, worker_count


class FakeWorker:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.closed = self.killed = False

    def close(self) -> None:
        self.closed = True

    def kill(self) -> None:
        self.killed = True


def test_worker_count_defaults_to_one_per_device() -> None:
    assert worker_count(None, 4) == 4
    assert worker_count(None, 0) == 1
    assert worker_count(3, 1) == 3
    with pytest.raises(PortabenchError, match="at least 1"):
        worker_count(0, 2)


def test_slot_environments_pin_round_robin_only_with_several_devices() -> None:
    pin = "CUDA_VISIBLE_DEVICES"
    assert slot_environments(pin, 2, 3) == [{pin: "0"}, {pin: "1"}, {pin: "0"}]
    assert slot_environments(pin, 1, 2) == [{}, {}]  # one device: workers share it
    assert slot_environments(None, 4, 2) == [{}, {}]  # a kind without a pin variable (cpu)
    assert slot_environments(pin, 4, 1) == [{}]  # one worker: the default device, as without --workers
    # the user's own CUDA_VISIBLE_DEVICES is respected: the workers get the GPUs it lists, never others
    assert slot_environments(pin, 2, 2, visible="2, 3") == [{pin: "2"}, {pin: "3"}]
    assert slot_environments(pin, 2, 3, visible="GPU-a1,GPU-b2") == [{pin: "GPU-a1"}, {pin: "GPU-b2"}, {pin: "GPU-a1"}]


def test_dispatcher_runs_every_case_once_in_parallel_on_pinned_workers() -> None:
    started: list[FakeWorker] = []
    seen: dict[int, str] = {}
    in_flight, peak = [0], [0]
    lock = threading.Lock()

    def start(env: dict[str, str]) -> FakeWorker:
        worker = FakeWorker(env)
        started.append(worker)
        return worker

    def execute(worker: FakeWorker, case: int) -> tuple[int, bool]:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
            seen[case] = worker.env["V"]
        return case * 10, case != 3  # case 3 "crashes" its worker: the slot starts a new one

    envs = slot_environments("V", 2, 2)
    results = list(Dispatcher(start_worker=start, execute=execute, environments=envs).run(range(8)))
    assert sorted(results) == [c * 10 for c in range(8)]
    assert set(seen.values()) == {"0", "1"} and peak[0] == 2
    assert len(started) == 3 and all(w.closed for w in started)  # 2 slots + 1 restart, all closed at the end


def test_dispatcher_reuses_the_listing_worker_only_for_an_unpinned_slot() -> None:
    first = FakeWorker({})
    used: list[FakeWorker] = []

    def execute(worker: FakeWorker, case: int) -> tuple[int, bool]:
        used.append(worker)
        return case, True

    list(Dispatcher(start_worker=FakeWorker, execute=execute, environments=[{}], first_worker=first).run([1, 2]))
    assert used == [first, first]
    pinned_first = FakeWorker({})
    list(Dispatcher(start_worker=FakeWorker, execute=execute, environments=[{"V": "0"}], first_worker=pinned_first).run([1]))
    assert pinned_first.closed and used[-1] is not pinned_first


def test_dispatcher_stops_handing_out_cases_and_raises_a_start_failure() -> None:
    calls = [0]

    def start(env: dict[str, str]) -> FakeWorker:
        if env.get("V") == "1":
            raise PortabenchError("worker could not start")
        return FakeWorker(env)

    def execute(worker: FakeWorker, case: int) -> tuple[int, bool]:
        calls[0] += 1
        time.sleep(0.05)
        return case, True

    got: list[int] = []
    with pytest.raises(PortabenchError, match="could not start"):
        for result in Dispatcher(start_worker=start, execute=execute, environments=slot_environments("V", 2, 2)).run(range(50)):
            got.append(result)
    assert got and len(got) == calls[0] < 50  # the other slot's case in flight is kept, no new case was sent

    stop_after = iter([False, False, True])
    done = list(Dispatcher(start_worker=FakeWorker, execute=execute, environments=[{}]).run(
        range(10), should_stop=lambda: next(stop_after, True)))
    assert done == [0, 1]  # the budget is checked before every case


def test_pinning_comes_from_the_registry_and_mixed_gpu_models_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from portabench.frameworks import get_framework
    from portabench.runner import session

    request = session.RunRequest(framework="torch", device="cuda")
    info = WorkerInfo(framework_version="2", device="cuda", device_kind="cuda", device_name="GPU A", device_count=2)
    dispatcher = session._dispatcher(request, get_framework("torch"), "eager", "cpu", info, FakeWorker({}), cases_left=10)
    assert dispatcher.environments == [{"CUDA_VISIBLE_DEVICES": "0"}, {"CUDA_VISIBLE_DEVICES": "1"}]
    few = session._dispatcher(request, get_framework("torch"), "eager", "cpu", info, FakeWorker({}), cases_left=1)
    assert few.environments == [{}]  # never more workers than cases left (one worker needs no pinning)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    narrowed = session._dispatcher(request, get_framework("torch"), "eager", "cpu", info, FakeWorker({}), cases_left=10)
    assert narrowed.environments == [{"CUDA_VISIBLE_DEVICES": "5"}, {"CUDA_VISIBLE_DEVICES": "7"}]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    same_kind_reference = session._dispatcher(request, get_framework("torch"), "eager", "cuda:1", info, FakeWorker({}), cases_left=10)
    assert same_kind_reference.environments == [{}, {}]  # pinning would hide the reference GPU

    monkeypatch.setattr(session, "_start_worker", lambda req, mode, ref, env=None: (FakeWorker(env or {}), dataclasses.replace(info, device_name="GPU B")))
    with pytest.raises(PortabenchError, match="devices differ"):
        dispatcher.start_worker({"CUDA_VISIBLE_DEVICES": "1"})


def test_study_runs_one_device_kind_over_all_its_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    from portabench import study
    from portabench.frameworks import get_framework

    monkeypatch.setattr(study, "query_worker", lambda *a, **k: DevicesReply(devices=["cpu", "cuda:0", "cuda:1"]))
    chosen, missing = study.plan_devices(get_framework("torch"), None)
    assert chosen == ["cpu", "cuda"] and "cuda" not in missing


def test_study_reads_device_strings_through_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--devices cpu,gpu+soft`` for TensorFlow: a GPU run with soft placement, not an unknown kind."""
    from portabench import study
    from portabench.frameworks import get_framework

    monkeypatch.setattr(study, "query_worker", lambda *a, **k: DevicesReply(devices=["cpu", "gpu:0"]))
    tf = get_framework("tf")
    assert study.plan_devices(tf, ["cpu", "gpu+soft", "tpu"]) == (["cpu", "gpu+soft"], ["tpu"])
    assert study.plan_devices(tf, ["/device:GPU:0", "cuda"]) == (["cpu", "/device:GPU:0", "cuda"], [])
    with pytest.raises(PortabenchError, match="no device flag '\\+fast'"):
        study.plan_devices(tf, ["gpu+fast"])
    with pytest.raises(PortabenchError, match="no device flag"):  # +soft is TensorFlow's, not torch's
        study.plan_devices(get_framework("torch"), ["cuda+soft"])


def test_two_real_workers_share_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each fake.barrier case logs its worker's pid, then waits (at most 20 s) until two different workers
    have logged: the cases can only finish promptly when two of them are in flight at once."""
    import fake_adapter
    from portabench.frameworks import FRAMEWORKS
    from portabench.frameworks.timer import TimingConfig
    from portabench.runner.session import RunRequest, execute_run
    from portabench.store import Store

    monkeypatch.setitem(FRAMEWORKS, "fake", fake_adapter.ENTRY)
    log = tmp_path / "pids.log"
    names = [f"fake.barrier_{i}" for i in range(4)]
    request = RunRequest(framework="fake", device="cpu", reference=None, dtypes=["none"], functions=names, workers=2,
                         do_timing=False, timing=TimingConfig(min_repeats=1, budget_s=0.0), timeout_s=30.0,
                         env={"FAKE_PIDS": str(log)})
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute_run(store, request)
        df = store.results_frame()
    assert summary.status == "complete" and summary.counts == {"passed": 4}
    assert sorted(df.function) == names  # each case once
    assert len(set(log.read_text().split())) == 2  # two workers, with cases in flight at the same time
    assert df.wall_ns.max() < 15e9  # no case waited out its barrier: they ran concurrently
