"""One worker process, parent side: spawn, send a request, wait for the reply with a deadline, kill.

Modelled on pyperf's manager: the worker is a fresh interpreter (``subprocess``
exec, never ``fork``: CUDA state must not be inherited) in its own process
group, replies come on a dedicated pipe, and on any error (deadline, death,
bad reply) the whole process group is killed with SIGKILL. The parent keeps
the worker's exit status and the tail of its stdout/stderr log for every
failure.

The worker's death is detected by its exit (a pidfd, or polling ``waitpid``),
never by the end of the reply pipe: a child the case forked may hold that pipe
open long after the worker itself crashed. The worker is started with the
adapter's path (``module:Class``) and the parent's pid, and dies with the
parent (see :mod:`portabench.worker.loop`). Start workers from a thread that
outlives them: Linux's parent-death signal fires when the starting *thread* ends.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypeVar

import portabench
from portabench.frameworks import get_framework
from portabench.protocol import (
    ErrorReply,
    Message,
    ProtocolError,
    Request,
    ShutdownRequest,
    decode_reply,
    encode_request,
)

R = TypeVar("R", bound=Message)

STDERR_TAIL_BYTES = 16000
#: how often the worker's liveness is polled where no pidfd is available
DEATH_POLL_S = 0.1


class WorkerFailure(Exception):
    """The worker did not answer a request; carries the evidence the parent has."""

    def __init__(self, message: str, *, exit_status: int | None, stderr_tail: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.exit_status = exit_status
        self.stderr_tail = stderr_tail
        self.timed_out = timed_out


class WorkerError(Exception):
    """The worker answered, but the request failed inside it (``ok: false``); ``error`` is its reply."""

    def __init__(self, error: ErrorReply) -> None:
        super().__init__(error.message or error.type or "worker error")
        self.error = error


class WorkerProtocolError(WorkerFailure):
    """The worker's reply was not a message of this protocol (the worker has been killed)."""


def adapter_path(framework: str) -> str:
    """``module:Class`` of a registered framework's adapter, or ``framework`` itself when it is already a path."""
    return framework if ":" in framework else get_framework(framework).adapter


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]  # Linux >= 5.3
    except (AttributeError, OSError):
        return None


def _worker_env(extra: dict[str, str] | None) -> dict[str, str]:
    """The parent's environment, this portabench first on the path, unbuffered output, then ``extra``
    (the framework's ``worker_env`` defaults are added by the caller, :mod:`portabench.runner.session`)."""
    env = dict(os.environ)
    src = str(Path(portabench.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class WorkerProcess:
    """One live worker for (framework, device, mode, reference).

    ``framework`` is a registered framework's name or an adapter path (``module:Class``).
    """

    def __init__(
        self, framework: str, device: str, mode: str, reference: str | None, env: dict[str, str] | None = None
    ) -> None:
        self.args = (framework, device, mode, reference)
        read_fd, write_fd = os.pipe()
        self._log = tempfile.TemporaryFile(prefix="portabench-worker-")
        cmd = [sys.executable, "-m", "portabench.worker", "--adapter", adapter_path(framework),
               "--device", device, "--mode", mode, "--reply-fd", str(write_fd), "--parent-pid", str(os.getpid())]
        if reference is not None:
            cmd += ["--reference", reference]
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=self._log, stderr=self._log, pass_fds=(write_fd,),
                start_new_session=True, env=_worker_env(env),
            )
        finally:
            os.close(write_fd)
        self._reply_fd = read_fd
        self._exit_fd = _pidfd(self.proc.pid)
        self._buffer = b""
        self._next_id = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, request: Request[R], timeout: float) -> R:
        """Send one request and return its typed reply; raise WorkerFailure (the worker is then dead: crash,
        deadline, or :class:`WorkerProtocolError`) or WorkerError (the request failed inside the worker)."""
        op = request.op.value
        self._next_id += 1
        request_id = self._next_id
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(encode_request(request_id, request))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(f"worker exited before the {op!r} request could be sent") from None
        deadline = time.monotonic() + timeout
        watched = [self._reply_fd] + ([self._exit_fd] if self._exit_fd is not None else [])
        poll = 1.0 if self._exit_fd is not None else DEATH_POLL_S
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerFailure(
                    f"no reply to {op!r} within {timeout:g} s", exit_status=self.proc.returncode,
                    stderr_tail=self.stderr_tail(), timed_out=True,
                )
            ready, _, _ = select.select(watched, [], [], min(remaining, poll))
            if self._reply_fd in ready:
                chunk = os.read(self._reply_fd, 1 << 20)
                if not chunk:
                    raise self._died(f"worker died during {op!r}")
                self._buffer += chunk
            elif self.proc.poll() is not None:  # dead, whoever still holds the reply pipe (a forked child)
                self._drain()
                if b"\n" not in self._buffer:
                    raise self._died(f"worker died during {op!r}")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = decode_reply(line, request, request_id)
        except ProtocolError as exc:
            self.kill()
            raise WorkerProtocolError(f"protocol error: {exc}", exit_status=self.proc.returncode,
                                      stderr_tail=self.stderr_tail()) from None
        if isinstance(reply, ErrorReply):
            raise WorkerError(reply)
        return reply

    def _drain(self) -> None:
        """Read whatever the reply pipe holds now, without waiting for its end."""
        while select.select([self._reply_fd], [], [], 0)[0]:
            chunk = os.read(self._reply_fd, 1 << 20)
            if not chunk:
                return
            self._buffer += chunk

    def _died(self, message: str) -> WorkerFailure:
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            status = self.proc.returncode
        self._kill_group()
        return WorkerFailure(f"{message} (exit status {status})", exit_status=status, stderr_tail=self.stderr_tail())

    def stderr_tail(self, limit: int = STDERR_TAIL_BYTES) -> str:
        """The last ``limit`` bytes the worker wrote to stdout/stderr."""
        try:
            self._log.flush()
            size = self._log.seek(0, os.SEEK_END)
            self._log.seek(max(0, size - limit))
            return self._log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """SIGKILL the worker's whole process group and reap it."""
        self._kill_group()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop; kill it if it does not within ``timeout``."""
        if self.proc.poll() is None:
            try:
                self.request(ShutdownRequest(), timeout)
                self.proc.wait(timeout=timeout)
            except (WorkerFailure, WorkerError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for stream in (self.proc.stdin,):
            try:
                stream and stream.close()
            except OSError:
                pass
        for fd in (self._reply_fd, self._exit_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._log.close()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
