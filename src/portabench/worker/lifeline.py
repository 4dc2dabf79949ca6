"""Worker side: dying with the parent, and reading requests so that a case cannot cut the line.

A worker must not outlive the portabench process that started it, nor leave behind what its
cases started: two independent watches SIGKILL the worker's whole process group (it leads its
own group) when the parent is gone:

- Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG)``, through ctypes), whose handler
  kills the group; a parent that died before the call is caught by comparing ``getppid``;
- the end of the request pipe, seen by :class:`Inbox`'s thread (every platform).

Requests are read from a private duplicate of the pipe (fd 0 becomes ``/dev/null``), so a
case that closes fd 0 cannot cut the worker off from its parent.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import sys
import threading
from typing import BinaryIO

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def kill_own_group(*_: object) -> None:
    """SIGKILL this worker's process group: the worker and whatever its cases started."""
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(137)


def die_with_parent(parent_pid: int | None) -> None:
    """Make the worker (and its process group) die when the parent does.

    On Linux the kernel sends SIGTERM when the parent exits (``PR_SET_PDEATHSIG``); the handler
    kills the whole group. A parent that died before this call is caught by the ``getppid`` check.
    The request pipe's end (see :class:`Inbox`) does the same everywhere else.
    """
    signal.signal(signal.SIGTERM, kill_own_group)
    signal.signal(signal.SIGHUP, kill_own_group)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        kill_own_group()


class Inbox:
    """Requests read by a thread from a private copy of the request pipe.

    The copy keeps requests flowing when a case closes fd 0. When the pipe ends
    before a ``shutdown`` request (the parent died or gave up on this worker),
    the thread kills the worker's process group, even while a case is running.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lines: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.shutting_down = False
        threading.Thread(target=self._read, name="portabench-inbox", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._stream:
                if line.strip():
                    self._lines.put(line)
        except (OSError, ValueError):
            pass
        if not self.shutting_down:
            kill_own_group()

    def next(self) -> bytes:
        return self._lines.get()


def private_requests() -> BinaryIO:
    """A private duplicate of stdin (the request pipe); fd 0 itself becomes /dev/null."""
    private = os.dup(0)
    os.set_inheritable(private, False)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return os.fdopen(private, "rb")
