"""Worker-side helpers shared by adapters: naming the host CPU, resolving qualified names."""

from __future__ import annotations

import importlib
import platform
from typing import Any


def cpu_name() -> str:
    """The CPU model ("AMD EPYC 9654 96-Core Processor"), or the platform's best guess."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def resolve_qualname(qualname: str) -> Any | None:
    """The object a qualified name refers to (longest importable module, then attributes), or None."""
    parts = qualname.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except Exception:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except Exception:  # AttributeError, or a deprecation error raised on access
            return None
        return obj
    return None
