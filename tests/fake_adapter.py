"""A numpy-only adapter for the runner's fault tests: every fault kind as a case, no framework to start.

Loaded by workers through its path (``/…/tests/fake_adapter.py:FakeAdapter``). Register it in the
parent with :func:`register` (or the ``fake_framework`` fixture in the tests) and run
``framework="fake"``. Its "device memory" and "default dtype" are module globals, so the
leftover checks are exercised by logic: a case that leaks them contaminates ``fake.after``
unless the worker notices, restores or recycles.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from portabench.cases import CaseDescriptor
from portabench.frameworks import FrameworkEntry, register_framework
from portabench.frameworks.base import (
    Adapter,
    CaseListing,
    DeviceUnavailable,
    HostLeaf,
    Prepared,
)
from portabench.frameworks.timer import HostTimer, Timer, TimingConfig

ENTRY = FrameworkEntry(name="fake", import_name="numpy", adapter=f"{Path(__file__).resolve()}:FakeAdapter",
                       modes=("eager",), mining_roots=("fake",), extra="fake")

#: the fake device: 1 GiB, of which the module-level list below holds what cases allocate
DEVICE_BYTES = 1 << 30
HELD: list[int] = []
SWITCHES = {"default_dtype": "float32"}


def _note_pid(pid: int) -> None:
    """Append ``pid`` to the file named by $FAKE_PIDS (the tests check these processes are gone)."""
    if os.environ.get("FAKE_PIDS"):
        with open(os.environ["FAKE_PIDS"], "a") as fh:
            fh.write(f"{pid}\n")


def _segfault() -> Any:
    return ctypes.string_at(0)


def _fork_then_segfault() -> Any:
    child = os.fork()
    if child == 0:  # the child keeps every inherited pipe open, then lingers
        time.sleep(3600)
        os._exit(0)
    _note_pid(child)
    return _segfault()


def _close_fds() -> Any:
    for fd in (0, 1, 2):
        os.close(fd)
    return np.ones(2)


def _thread() -> Any:
    threading.Thread(target=time.sleep, args=(3600,), name="stray-sleeper").start()
    return np.ones(2)


def _child() -> Any:
    _note_pid(subprocess.Popen(["sleep", "3600"]).pid)
    return np.ones(2)


def _spawn_and_hang() -> Any:
    """A long case with a grandchild: both must die when the portabench parent dies."""
    _note_pid(subprocess.Popen(["sleep", "3600"]).pid)
    _note_pid(os.getpid())
    time.sleep(3600)


def _leak_global() -> Any:
    SWITCHES["default_dtype"] = "float64"
    return np.ones(2)


def _leak_memory() -> Any:
    HELD.append(900 << 20)  # a global reference keeps 900 MiB of the 1 GiB alive
    return np.ones(2)


def _after() -> Any:
    """The innocent next case: fails if an earlier case's leftovers reached it."""
    if SWITCHES["default_dtype"] != "float32":
        raise RuntimeError(f"contaminated: default dtype is {SWITCHES['default_dtype']}")
    if sum(HELD) + (200 << 20) > DEVICE_BYTES:
        raise RuntimeError("fake device out of memory: this process has memory in use")
    return np.arange(4.0)


def _pid() -> Any:
    """Notes the worker's pid (the tests tell a fresh worker from a reused one)."""
    _note_pid(os.getpid())
    return np.ones(2)


POISON_MESSAGE = "CUDA error: an illegal memory access was encountered"


def _poison() -> Any:
    """An error that leaves the (fake) device unusable: the worker must be recycled."""
    _note_pid(os.getpid())
    raise RuntimeError(POISON_MESSAGE)


def _garbage_reply() -> Any:
    """Writes a reply of another protocol version on the worker's reply pipe: the parent must not take it."""
    fd = int(sys.argv[sys.argv.index("--reply-fd") + 1])
    os.write(fd, b'{"v": 1, "id": 2, "ok": true, "result": {"outcome": "passed"}}\n')
    time.sleep(3600)


def _barrier() -> Any:
    """Notes the worker's pid, then waits (at most 20 s) until two workers have noted theirs."""
    _note_pid(os.getpid())
    path = os.environ["FAKE_PIDS"]
    deadline = time.time() + 20
    while len(set(Path(path).read_text().split())) < 2 and time.time() < deadline:
        time.sleep(0.05)
    return np.ones(2)


def _slow() -> Any:
    time.sleep(float(os.environ.get("FAKE_SLOW_S", "0.5")))
    return np.ones(2)


CASES: dict[str, Callable[[], Any]] = {
    "fake.ok": lambda: np.arange(6.0).reshape(2, 3) * 2,
    "fake.segfault": _segfault,
    "fake.abort": os.abort,
    "fake.hang": lambda: time.sleep(3600),
    "fake.fork_segfault": _fork_then_segfault,
    "fake.close_fds": _close_fds,
    "fake.memory": lambda: np.empty(1 << 50, dtype=np.uint8),
    "fake.raise": lambda: (_ for _ in ()).throw(NotImplementedError("fake op has no kernel here")),
    "fake.thread": _thread,
    "fake.child": _child,
    "fake.leak_global": _leak_global,
    "fake.leak_memory": _leak_memory,
    "fake.after": _after,
    "fake.slow": _slow,
    "fake.spawn_and_hang": _spawn_and_hang,
    "fake.poison": _poison,
    "fake.garbage_reply": _garbage_reply,
}
#: cases the adapter runs itself, through its ``run_model_case`` hook (source ``model:...``): an adapter bug,
#: a reply with a field the protocol does not know
ADAPTER_BUGS = ("fake.bad_reply",)
#: families of interchangeable cases, told apart by a suffix (``fake.after_fds``, ``fake.slow_3``)
PREFIXES = {"fake.after": _after, "fake.slow": _slow, "fake.ok": CASES["fake.ok"], "fake.pid": _pid, "fake.barrier": _barrier}


def case_function(name: str) -> Callable[[], Any] | None:
    if name in ADAPTER_BUGS:
        return np.ones
    if name in CASES:
        return CASES[name]
    return next((fn for prefix, fn in PREFIXES.items() if name.startswith(prefix + "_")), None)


def register() -> FrameworkEntry:
    """Make ``framework="fake"`` known to this process's registry."""
    register_framework(ENTRY)
    return ENTRY


class FakeAdapter(Adapter):
    name = "fake"

    def __init__(self, device: str, mode: str, reference: str | None) -> None:
        if device != "cpu":
            raise DeviceUnavailable(f"the fake adapter has no device {device!r}")
        super().__init__(device, mode, reference)

    def info(self) -> dict[str, Any]:
        return {"framework_version": "0.1", "device": self.device, "device_kind": "cpu", "device_name": "fake cpu",
                "numerics": dict(SWITCHES)}

    def api(self) -> list[dict[str, str]]:
        return [{"qualname": name, "kind": "function"} for name in (*CASES, *ADAPTER_BUGS)]

    def list_cases(self, functions: list[str] | None, dtypes: list[str], specs: list[str],
                   max_samples: int) -> CaseListing:
        names = list(CASES) if functions is None else functions
        return CaseListing(
            cases=[CaseDescriptor(name, f"model:{name}" if name in ADAPTER_BUGS else f"fake:{name}", "none", 0)
                   for name in names if case_function(name)],
            missing=[name for name in names if not case_function(name)],
        )

    def prepare(self, case: CaseDescriptor, device: str) -> Prepared:
        call = case_function(case.function)
        assert call is not None, case.function
        return Prepared(call=call)

    def seed(self, seed: int) -> None:
        np.random.seed(seed)

    def to_host(self, output: Any) -> Any:
        if isinstance(output, np.ndarray):
            return HostLeaf(output.dtype.name, tuple(output.shape), output, "cpu")
        return output

    def placement_error(self, output: Any, device: str) -> str | None:
        return None

    def timer(self, device: str) -> Timer:
        return HostTimer()

    def needs_restart(self, message: str) -> bool:
        return POISON_MESSAGE in message

    def run_model_case(self, case: CaseDescriptor, timing: TimingConfig, do_timing: bool) -> dict[str, Any]:
        """Only the adapter-bug cases come here: a reply with a field no protocol version has."""
        return {"case_id": case.case_id, "outcome": "passed", "no_such_field": 1}

    def global_switches(self) -> dict[str, Any]:
        return dict(SWITCHES)

    def restore_global_switches(self, switches: dict[str, Any]) -> None:
        SWITCHES.update(switches)

    def device_memory_in_use(self, collect: bool = True) -> int | None:
        return sum(HELD)


if __name__ == "__main__":  # `python tests/fake_adapter.py run --framework fake ...`: the CLI, with "fake" registered
    from portabench.cli import main

    register()
    sys.exit(main())
