"""Worker-side helpers shared by adapters: naming the host CPU, resolving qualified names, walking APIs."""

from __future__ import annotations

import importlib
import inspect
import platform
from collections.abc import Iterator
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


def public_members(owner: Any) -> list[tuple[str, Any]]:
    """``(name, object)`` of a module's or class's public names: ``__all__`` (modules) or ``dir()``,
    without leading-underscore names and without names whose access raises (deprecated, lazy)."""
    names = (getattr(owner, "__all__", None) if inspect.ismodule(owner) else None) or dir(owner)
    out = []
    for name in names:
        if name.startswith("_"):
            continue
        try:
            out.append((name, getattr(owner, name)))
        except Exception:
            continue
    return out


def callable_kind(obj: Any) -> str | None:
    """``class`` or ``function`` for callables of an API walk; None for other values."""
    if inspect.isclass(obj):
        return "class"
    return "function" if callable(obj) else None


def nested_leaves(output: Any) -> Iterator[Any]:
    """Every value inside nested lists, tuples and dicts (dict values), depth first; anything else is a leaf.

    Adapters pick their framework's arrays out of these (placement checks, synchronisation).
    """
    if isinstance(output, (list, tuple)):
        for value in output:
            yield from nested_leaves(value)
    elif isinstance(output, dict):
        for value in output.values():
            yield from nested_leaves(value)
    else:
        yield output
