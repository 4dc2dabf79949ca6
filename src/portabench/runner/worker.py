"""The worker process: imports one framework adapter and serves protocol requests.

Started by :mod:`portabench.runner.pool` as
``python -m portabench.runner.worker --framework F --device D --mode M [--reference R] --reply-fd N``
in a new process group. It reads requests from stdin and writes replies to
``--reply-fd`` (see :mod:`portabench.runner.protocol`). It never decides a
failure category; it reports evidence.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import os
import sys
from typing import Any

from portabench.cases import CaseDescriptor
from portabench.frameworks import get_framework
from portabench.frameworks.base import Adapter, DeviceUnavailable
from portabench.runner.execute import _exc_evidence, run_case
from portabench.runner.protocol import decode, encode
from portabench.runner.timing import TimingConfig


def _load_adapter(framework: str, device: str, mode: str, reference: str | None) -> Adapter:
    module_name, class_name = get_framework(framework).adapter.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(device=device, mode=mode, reference=reference)


def _handle(adapter: Adapter, message: dict[str, Any]) -> dict[str, Any]:
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
            message.get("functions"), list(message["dtypes"]), list(message.get("specs") or []), int(message.get("max_samples", 5))
        )
        return {
            "cases": [c.to_json() for c in listing.cases],
            "missing": listing.missing,
            "no_cases": listing.no_cases,
            "claimed": listing.claimed,
        }
    if op == "run_case":
        timing = TimingConfig(**message.get("timing", {}))
        return run_case(adapter, CaseDescriptor.from_json(message["case"]), timing, bool(message.get("do_timing", True)))
    if op == "shutdown":
        return {}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portabench-worker")
    parser.add_argument("--framework", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--reference", default=None)
    parser.add_argument("--reply-fd", type=int, required=True)
    args = parser.parse_args(argv)
    faulthandler.enable()  # a segfault leaves a Python traceback in the stderr tail
    reply = os.fdopen(args.reply_fd, "wb", buffering=0)
    adapter: Adapter | None = None
    init_error: dict[str, Any] | None = None
    try:
        adapter = _load_adapter(args.framework, args.device, args.mode, args.reference)
    except DeviceUnavailable as exc:
        init_error = {"type": "DeviceUnavailable", "message": str(exc)}
    except Exception as exc:  # import errors and the like: reported on the first request
        init_error = {"type": _exc_evidence(exc)["exc_type"], "message": str(exc), "traceback": _exc_evidence(exc)["traceback"]}
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        message = decode(line)
        if init_error is not None or adapter is None:
            reply.write(encode({"id": message.get("id"), "ok": False, "error": init_error}))
            continue
        try:
            result = _handle(adapter, message)
            out = {"id": message.get("id"), "ok": True, "result": result}
        except Exception as exc:
            ev = _exc_evidence(exc)
            out = {"id": message.get("id"), "ok": False, "error": {"type": ev["exc_type"], "message": ev["message"], "traceback": ev["traceback"]}}
        reply.write(encode(out))
        if message["op"] == "shutdown":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
