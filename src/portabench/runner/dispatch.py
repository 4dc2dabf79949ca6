"""Spreading one run's cases over several workers: one per GPU by default.

A run on a device string that names a kind (``cuda``, ``gpu``) on a machine
with several such devices is cut across one worker per device. Each worker is
pinned to its device through the environment variable its framework honours
(``CUDA_VISIBLE_DEVICES``, from the framework registry), so inside every worker
the device string still means "the one device I see" and no adapter changes.

:class:`Dispatcher` owns the slots: one thread per slot sends cases to that
slot's worker (restarting it after a crash, a timeout or a poisoned context),
while the caller's thread consumes the results in the order they finish. Only
the caller's thread touches the store. Stopping (budget, Ctrl-C) lets cases in
flight finish or kills their workers; cases not handed out stay unrecorded, so
the run can be resumed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from portabench.errors import PortabenchError
from portabench.runner.process import WorkerProcess

Case = TypeVar("Case")
Result = TypeVar("Result")

#: a function that starts a worker with extra environment and returns it (raising if it cannot start)
StartWorker = Callable[[dict[str, str]], WorkerProcess]
#: runs one case on a worker; returns the result and whether the worker may take another case
ExecuteCase = Callable[[WorkerProcess, Case], tuple[Result, bool]]


def worker_count(requested: int | None, device_count: int) -> int:
    """Workers for a run: ``requested`` when given (at least 1), else one per device (``device_count``)."""
    if requested is not None:
        if requested < 1:
            raise PortabenchError(f"the number of workers must be at least 1, not {requested}")
        return requested
    return max(1, device_count)


def slot_environments(pin_variable: str | None, device_count: int, workers: int,
                      visible: str | None = None) -> list[dict[str, str]]:
    """The extra environment of each worker slot.

    With a pin variable and more than one device, slot ``i`` sees device
    ``i mod device_count`` only (``{"CUDA_VISIBLE_DEVICES": "1"}``): workers are
    spread round-robin, several per device when ``workers > device_count``.
    ``visible`` is the variable's value in portabench's own environment, if
    any: the devices are then the ones it lists (``"2,3"`` -> slots see ``2``
    and ``3``), never others. Otherwise (one worker, one device, or a kind such
    as ``cpu`` that has no pin variable) every slot uses the device string's
    default device and gets no extra environment.
    """
    if pin_variable is None or device_count <= 1 or workers <= 1:
        return [{} for _ in range(workers)]
    listed = [v.strip() for v in (visible or "").split(",") if v.strip()]
    ids = listed[:device_count] if len(listed) >= device_count else [str(i) for i in range(device_count)]
    return [{pin_variable: ids[i % device_count]} for i in range(workers)]


@dataclass
class _Slot:
    env: dict[str, str]
    worker: WorkerProcess | None = None
    thread: threading.Thread | None = None


@dataclass
class _Finished(Generic[Result]):
    result: Result | None = None
    error: BaseException | None = None


@dataclass
class Dispatcher(Generic[Case, Result]):
    """Runs cases on one worker per slot; see the module docstring.

    ``first_worker`` (already started, e.g. the one that listed the cases) is
    reused by slot 0 when that slot needs no extra environment; otherwise it is
    closed. ``execute`` runs in the slot threads and must not touch shared state.
    """

    start_worker: StartWorker
    execute: ExecuteCase
    environments: list[dict[str, str]]
    first_worker: WorkerProcess | None = None
    _slots: list[_Slot] = field(default_factory=list, init=False)
    _todo: queue.SimpleQueue[Case] = field(default_factory=queue.SimpleQueue, init=False)
    _done: queue.SimpleQueue[_Finished[Result]] = field(default_factory=queue.SimpleQueue, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _should_stop: Callable[[], bool] = field(default=lambda: False, init=False)

    def run(self, cases: Iterable[Case], should_stop: Callable[[], bool] = lambda: False) -> Generator[Result, None, None]:
        """Yield each case's result as it finishes; stop handing out cases once ``should_stop()`` is true.

        A slot whose worker cannot be (re)started ends the dispatch: its error is
        raised here after the other slots have been stopped. Closing the
        generator early (or an exception in the consumer) kills every worker.
        """
        self._should_stop = should_stop
        for case in cases:
            self._todo.put(case)
        self._slots = [_Slot(env) for env in self.environments]
        if self.first_worker is not None:
            if self._slots and not self._slots[0].env:
                self._slots[0].worker = self.first_worker
            else:
                self.first_worker.close()
        for index, slot in enumerate(self._slots):
            slot.thread = threading.Thread(target=self._serve, args=(slot,), name=f"portabench-slot-{index}", daemon=True)
            slot.thread.start()
        error: BaseException | None = None
        try:
            while any(s.thread is not None and s.thread.is_alive() for s in self._slots) or not self._done.empty():
                try:
                    finished = self._done.get(timeout=0.2)
                except queue.Empty:
                    continue
                if finished.error is not None:
                    error = error or finished.error
                    self._stop.set()
                    continue
                yield finished.result  # type: ignore[misc]
        except BaseException:
            self.kill()
            raise
        finally:
            self._stop.set()
            for slot in self._slots:
                if slot.thread is not None:
                    slot.thread.join(timeout=30)
        if error is not None:
            raise error

    def kill(self) -> None:
        """Stop handing out cases and SIGKILL every live worker (Ctrl-C)."""
        self._stop.set()
        if not self._slots and self.first_worker is not None:  # stopped before run() started
            self.first_worker.kill()
        for slot in self._slots:
            worker = slot.worker  # read once: the slot's thread may be replacing it
            if worker is not None:
                worker.kill()

    def _serve(self, slot: _Slot) -> None:
        try:
            while not self._stop.is_set():
                if self._should_stop():  # checked before every case, as a one-worker run would
                    self._stop.set()
                    return
                try:
                    case = self._todo.get_nowait()
                except queue.Empty:
                    return
                if slot.worker is None:
                    slot.worker = self.start_worker(slot.env)
                result, reusable = self.execute(slot.worker, case)
                if not reusable:
                    slot.worker.close()
                    slot.worker = None
                self._done.put(_Finished(result=result))
        except BaseException as exc:  # a worker that cannot start: the dispatch ends with this error
            self._done.put(_Finished(error=exc))
        finally:
            if slot.worker is not None:
                slot.worker.close()
                slot.worker = None
