"""Worker side: the process-level state a case can leave behind, checked after every case.

A case runs inside a long-lived worker, so it can break the worker for the next
case: close its standard file descriptors, leave threads or child processes
running. :class:`ProcessBaseline` records the healthy state when the worker
starts; :func:`process_leftovers` compares with it after each case, kills stray
children (restored) and reports everything else as not restorable, which makes
the worker recycle itself. Framework switches and device memory are the
adapter's part (:meth:`portabench.frameworks.base.Adapter.leftovers`).
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from portabench.frameworks.base import Adapter, Leftover, StateBaseline

STANDARD_FDS = (0, 1, 2)


def _identity(fd: int) -> tuple[int, int] | None:
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return st.st_dev, st.st_ino


@dataclass(frozen=True)
class ProcessBaseline:
    """The worker's healthy state: its standard descriptors (with spare copies) and its threads."""

    fds: dict[int, tuple[int, int] | None]
    spares: dict[int, int]
    threads: frozenset[int]

    @classmethod
    def capture(cls) -> ProcessBaseline:
        fds = {fd: _identity(fd) for fd in STANDARD_FDS}
        spares = {fd: os.dup(fd) for fd, ident in fds.items() if ident is not None}
        for spare in spares.values():
            os.set_inheritable(spare, False)
        return cls(fds, spares, frozenset(t.ident for t in threading.enumerate() if t.ident is not None))


def child_pids(pid: int | None = None) -> list[int]:
    """The live child processes of ``pid`` (default: this process), from /proc; [] where /proc is absent."""
    pid = os.getpid() if pid is None else pid
    children: set[int] = set()
    tasks = Path(f"/proc/{pid}/task")
    try:
        for task in tasks.iterdir():
            children.update(int(c) for c in (task / "children").read_text().split())
        return sorted(children)
    except OSError:
        pass
    try:  # kernels without /proc/PID/task/TID/children: scan every process's parent
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    children.add(int(entry.name))
    except OSError:
        return []
    return sorted(children)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def process_leftovers(baseline: ProcessBaseline, allowed_children: frozenset[int] = frozenset()) -> list[Leftover]:
    """What the last case left in this process; kills (and reaps) stray child processes.

    ``allowed_children`` are processes the adapter itself keeps across cases (e.g. a compiler's
    worker pool, :meth:`portabench.frameworks.base.Adapter.own_child_processes`).

    Replaced or closed standard descriptors are put back from the spare copies
    but still reported as not restored: a case that tampers with the process
    gets a fresh worker after it.
    """
    found: list[Leftover] = []
    for fd, ident in baseline.fds.items():
        if _identity(fd) != ident:
            spare = baseline.spares.get(fd)
            if spare is not None:
                try:
                    os.dup2(spare, fd)
                except OSError:
                    pass
            found.append(Leftover(f"file descriptor {fd} was closed or replaced", restored=False))
    stray = [t for t in threading.enumerate() if t.ident not in baseline.threads and t.is_alive() and not t.daemon]
    if stray:
        names = ", ".join(sorted(t.name for t in stray))
        found.append(Leftover(f"{len(stray)} thread(s) still running: {names}", restored=False))
    children = [pid for pid in child_pids() if pid not in allowed_children]
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)
    if children:
        found.append(Leftover(f"{len(children)} child process(es) left running (killed)", restored=True))
    return found


class Aftercare:
    """After each case: what it left behind (process and adapter state) and whether the worker must recycle."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.process = ProcessBaseline.capture()
        self.state: StateBaseline | None = None

    def before_case(self) -> None:
        if self.state is None:  # the first case's baseline: after the adapter's start-up, before any case
            self.state = self.adapter.state_baseline()

    def after_case(self) -> list[Leftover]:
        found = process_leftovers(self.process, self.adapter.own_child_processes())
        if self.state is not None:
            found += self.adapter.leftovers(self.state)
        return found
