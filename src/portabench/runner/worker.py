"""The worker process: imports one framework adapter and serves protocol requests.

Started by :mod:`portabench.runner.pool` as
``python -m portabench.runner.worker --adapter MODULE:CLASS --device D --mode M [--reference R] --reply-fd N
--parent-pid P`` in a new process group. The adapter is loaded by path (``module:Class``, or
``/path/to/file.py:Class``), so tests run the runner on a small numpy-only fake adapter. It reads
requests from stdin and writes replies to ``--reply-fd`` (see :mod:`portabench.runner.protocol`).
It never decides a failure category; it reports evidence.

It dies with its parent, with everything it started: the parent-death signal (Linux ``prctl``)
and the end of the request pipe (everywhere) both SIGKILL the worker's whole process group.
After every case it checks what the case left behind (:mod:`portabench.runner.hygiene` and
the adapter's :meth:`~portabench.frameworks.base.Adapter.leftovers`): the reply names each
finding, and asks for a fresh worker when the state could not be restored.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import importlib.util
import os
import sys
from typing import Any

from portabench.cases import DEFAULT_MAX_SAMPLES, CaseDescriptor
from portabench.frameworks import get_framework
from portabench.frameworks.base import Adapter, DeviceUnavailable
from portabench.runner.execute import _exc_evidence, run_case
from portabench.runner.hygiene import Aftercare
from portabench.runner.lifeline import Inbox, die_with_parent, private_requests
from portabench.runner.protocol import decode, encode
from portabench.runner.timing import TimingConfig


def load_adapter_class(path: str) -> type[Adapter]:
    """The adapter class named by ``module:Class`` or ``/path/to/file.py:Class``."""
    module_name, _, class_name = path.rpartition(":")
    if not module_name or not class_name:
        raise ValueError(f"adapter path {path!r} is not 'module:Class'")
    if module_name.endswith(".py"):
        spec = importlib.util.spec_from_file_location(f"portabench_adapter_{abs(hash(module_name))}", module_name)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load adapter file {module_name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise TypeError(f"{path} is not an Adapter subclass")
    return cls


def _load_adapter(path: str, device: str, mode: str, reference: str | None) -> Adapter:
    return load_adapter_class(path)(device=device, mode=mode, reference=reference)


def _handle(adapter: Adapter, message: dict[str, Any], aftercare: Aftercare | None = None) -> dict[str, Any]:
    op = message["op"]
    if op == "hello":
        return {"pid": os.getpid(), "device_count": adapter.device_count(), **adapter.info()}
    if op == "api":
        return {"functions": adapter.api()}
    if op == "coverage":
        return {
            "api": [f["qualname"] for f in adapter.api()],
            "with_cases": adapter.functions_with_cases(list(message.get("specs") or [])),
        }
    if op == "list_models":
        return {"models": adapter.list_models()}
    if op == "devices":
        return {"devices": adapter.available_devices()}
    if op == "list_cases":
        listing = adapter.list_cases(
            message.get("functions"), list(message["dtypes"]), list(message.get("specs") or []),
            int(message.get("max_samples", DEFAULT_MAX_SAMPLES)),
        )
        return {
            "cases": [c.to_json() for c in listing.cases],
            "missing": listing.missing,
            "no_cases": listing.no_cases,
            "claimed": listing.claimed,
        }
    if op == "run_case":
        timing = TimingConfig(**message.get("timing", {}))
        case = CaseDescriptor.from_json(message["case"])
        if aftercare is None:
            return run_case(adapter, case, timing, bool(message.get("do_timing", True)))
        aftercare.before_case()
        try:
            result = run_case(adapter, case, timing, bool(message.get("do_timing", True)))
        finally:
            left = aftercare.after_case()
        if left:
            result["left_behind"] = [item.what for item in left]
            if not all(item.restored for item in left):
                result["restart_worker"] = True
        return result
    if op == "shutdown":
        return {}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portabench-worker")
    parser.add_argument("--framework", help="a registered framework (its adapter is taken from the registry)")
    parser.add_argument("--adapter", help="the adapter by path: module:Class or /path/file.py:Class")
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--device", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--reference", default=None)
    parser.add_argument("--reply-fd", type=int, required=True)
    args = parser.parse_args(argv)
    if not args.adapter and not args.framework:
        parser.error("give --adapter or --framework")
    die_with_parent(args.parent_pid)
    inbox = Inbox(private_requests())
    faulthandler.enable()  # a segfault leaves a Python traceback in the stderr tail
    os.set_inheritable(args.reply_fd, False)
    reply = os.fdopen(args.reply_fd, "wb", buffering=0)
    adapter: Adapter | None = None
    aftercare: Aftercare | None = None
    init_error: dict[str, Any] | None = None
    try:
        adapter = _load_adapter(args.adapter or get_framework(args.framework).adapter, args.device, args.mode,
                                args.reference)
        aftercare = Aftercare(adapter)
    except DeviceUnavailable as exc:
        init_error = {"type": "DeviceUnavailable", "message": str(exc)}
    except Exception as exc:  # import errors and the like: reported on the first request
        init_error = {"type": _exc_evidence(exc)["exc_type"], "message": str(exc), "traceback": _exc_evidence(exc)["traceback"]}
    while True:
        message = decode(inbox.next())
        if message.get("op") == "shutdown":
            inbox.shutting_down = True
        if init_error is not None or adapter is None:
            reply.write(encode({"id": message.get("id"), "ok": False, "error": init_error}))
            if inbox.shutting_down:
                break
            continue
        try:
            result = _handle(adapter, message, aftercare)
            out = {"id": message.get("id"), "ok": True, "result": result}
        except Exception as exc:
            ev = _exc_evidence(exc)
            out = {"id": message.get("id"), "ok": False, "error": {"type": ev["exc_type"], "message": ev["message"], "traceback": ev["traceback"]}}
        reply.write(encode(out))
        if message["op"] == "shutdown":
            break
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # not sys.exit: a thread a case left running must not hold the worker open
