"""The worker process: imports one framework adapter and serves protocol requests.

Started by :mod:`portabench.runner.process` as
``python -m portabench.worker --adapter MODULE:CLASS --device D --mode M [--reference R] --reply-fd N
--parent-pid P`` in a new process group. The adapter is loaded by path (``module:Class``, or
``/path/to/file.py:Class``), so tests run the runner on a small numpy-only fake adapter. It reads
requests from stdin and writes replies to ``--reply-fd`` (messages of :mod:`portabench.protocol`).
It never decides a failure category; it reports evidence.

It dies with its parent, with everything it started: the parent-death signal (Linux ``prctl``)
and the end of the request pipe (everywhere) both SIGKILL the worker's whole process group.
After every case it checks what the case left behind (:mod:`portabench.worker.hygiene` and
the adapter's :meth:`~portabench.frameworks.base.Adapter.leftovers`): the reply names each
finding, and asks for a fresh worker when the state could not be restored.
"""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import importlib
import importlib.util
import os
import sys
from typing import Any

from portabench.frameworks import get_framework
from portabench.frameworks.base import Adapter, DeviceUnavailable
from portabench.protocol import (
    ApiReply,
    ApiRequest,
    CaseReply,
    CoverageReply,
    CoverageRequest,
    DevicesReply,
    DevicesRequest,
    ErrorReply,
    HelloRequest,
    ListCasesRequest,
    ListingReply,
    ListModelsRequest,
    Message,
    ModelsReply,
    ProtocolError,
    Request,
    RunCaseRequest,
    ShutdownReply,
    ShutdownRequest,
    WorkerInfo,
    decode_request,
    encode_reply,
)
from portabench.worker.execute import run_case
from portabench.worker.hygiene import Aftercare
from portabench.worker.lifeline import Inbox, die_with_parent, private_requests


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


def _run_case(adapter: Adapter, request: RunCaseRequest, aftercare: Aftercare | None) -> CaseReply:
    if aftercare is None:
        return run_case(adapter, request.case, request.timing, request.do_timing)
    aftercare.before_case()
    try:
        result = run_case(adapter, request.case, request.timing, request.do_timing)
    finally:
        left = aftercare.after_case()
    if left:
        result = dataclasses.replace(
            result, left_behind=[item.what for item in left],
            restart_worker=result.restart_worker or not all(item.restored for item in left),
        )
    return result


def handle(adapter: Adapter, request: Request[Any], aftercare: Aftercare | None = None) -> Message:
    """The reply to one request (exceptions of the adapter propagate: the loop answers them with an ErrorReply)."""
    if isinstance(request, HelloRequest):
        return WorkerInfo.from_json({"pid": os.getpid(), "device_count": adapter.device_count(), **adapter.info()})
    if isinstance(request, ApiRequest):
        return ApiReply(functions=adapter.api())
    if isinstance(request, CoverageRequest):
        return CoverageReply(api=[f["qualname"] for f in adapter.api()],
                             with_cases=adapter.functions_with_cases(list(request.specs)))
    if isinstance(request, ListModelsRequest):
        return ModelsReply(models=list(adapter.list_models()))
    if isinstance(request, DevicesRequest):
        return DevicesReply(devices=adapter.available_devices())
    if isinstance(request, ListCasesRequest):
        listing = adapter.list_cases(request.functions, list(request.dtypes), list(request.specs), request.max_samples)
        return ListingReply(cases=listing.cases, missing=listing.missing, no_cases=listing.no_cases,
                            claimed=listing.claimed)
    if isinstance(request, RunCaseRequest):
        return _run_case(adapter, request, aftercare)
    if isinstance(request, ShutdownRequest):
        return ShutdownReply()
    raise ProtocolError(f"no handler for {type(request).__name__}")


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
    init_error: ErrorReply | None = None
    try:
        adapter = _load_adapter(args.adapter or get_framework(args.framework).adapter, args.device, args.mode,
                                args.reference)
        aftercare = Aftercare(adapter)
    except DeviceUnavailable as exc:
        init_error = ErrorReply(type="DeviceUnavailable", message=str(exc))
    except Exception as exc:  # import errors and the like: reported on the first request
        init_error = ErrorReply.from_exception(exc)
    while True:
        request_id: int | None = None
        try:
            request_id, request = decode_request(inbox.next())
        except ProtocolError as exc:  # not ours (another version, a malformed line): say so, keep serving
            reply.write(encode_reply(request_id, ErrorReply.from_exception(exc)))
            continue
        if isinstance(request, ShutdownRequest):
            inbox.shutting_down = True
        if init_error is not None or adapter is None:
            reply.write(encode_reply(request_id, init_error or ErrorReply(type="RuntimeError", message="no adapter")))
            if inbox.shutting_down:
                break
            continue
        try:
            out = handle(adapter, request, aftercare)
        except Exception as exc:
            out = ErrorReply.from_exception(exc)
        reply.write(encode_reply(request_id, out))
        if isinstance(request, ShutdownRequest):
            break
    return 0
