"""Walk TensorFlow's public API into qualified names (``tensorflow.math.add``) with their kind.

TensorFlow exposes its API through generated modules (``tensorflow._api.v2.*``)
(other attributes of ``tensorflow`` that are modules, e.g. ``tensorflow.python`` or
the keras lazy loaders, are implementation or other packages and are not walked);
names are built from the *attribute path* from the top-level module, always
spelled ``tensorflow.`` (never ``tf.``). Keras (a separate package behind a lazy
loader) and the self-references ``compat.v2`` and ``compat.v1.compat`` are not walked.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import tensorflow as tf

ROOT = "tensorflow"

#: attribute paths (relative to ``tensorflow``) that are not walked
SKIP = ("keras", "compat.v2", "compat.v1.compat", "compat.v1.keras", "estimator", "compat.v1.estimator",
        "compat.v1.lite", "lite", "tools", "contrib")

#: classes whose public methods are listed as ``<class>.<method>`` (the paper's sample names methods)
CLASS_MEMBERS = (
    "Tensor", "Variable", "Graph", "Module", "data.Dataset", "train.Checkpoint", "compat.v1.Session",
    "compat.v1.Tensor", "compat.v1.distributions.Distribution", "distribute.InputContext", "test.TestCase",
    "TensorArray", "RaggedTensor", "SparseTensor", "TensorShape", "DType", "compat.v1.train.Optimizer",
    "train.ExponentialMovingAverage", "compat.v1.train.Saver", "lookup.StaticHashTable", "queue.FIFOQueue",
)


def _skipped(path: str) -> bool:
    return any(path == s or path.startswith(s + ".") for s in SKIP)


def _is_module(obj: Any) -> bool:
    return isinstance(obj, types.ModuleType)


def _walk_module(module: Any, path: str, seen: dict[str, str], visited: set[int]) -> None:
    """Add the public callables of ``module`` (reached as ``path``) and of its public submodules to ``seen``."""
    if id(module) in visited or (path and _skipped(path)):
        return
    visited.add(id(module))
    name = getattr(module, "__name__", "") or ""
    if path and not (name.startswith("tensorflow._api.") or name == "tensorflow.experimental"):
        return  # implementation packages (tensorflow.python, ...)
    try:
        names = dir(module)
    except Exception:  # a lazy loader whose target is not installed
        return
    for attr in names:
        if attr.startswith("_"):
            continue
        try:
            obj = getattr(module, attr)
        except Exception:
            continue
        rel = f"{path}.{attr}" if path else attr
        if _is_module(obj):
            if rel.count(".") < 6:
                _walk_module(obj, rel, seen, visited)
        elif inspect.isclass(obj):
            seen.setdefault(f"{ROOT}.{rel}", "class")
        elif callable(obj):
            seen.setdefault(f"{ROOT}.{rel}", "function")


def walk_api() -> list[dict[str, str]]:
    """Public callables of every public ``tensorflow`` module plus the methods of :data:`CLASS_MEMBERS`.

    A callable reachable under several names is listed under each (users call it by each).
    """
    seen: dict[str, str] = {}
    _walk_module(tf, "", seen, set())  # modules by identity: one reachable by several paths is walked once
    for cls_path in CLASS_MEMBERS:
        cls = resolve(f"{ROOT}.{cls_path}")
        if cls is None or not inspect.isclass(cls):
            continue
        for attr in dir(cls):
            if attr.startswith("_"):
                continue
            try:
                obj = getattr(cls, attr)
            except Exception:
                continue
            seen.setdefault(f"{ROOT}.{cls_path}.{attr}", "method" if callable(obj) else "attribute")
    return [{"qualname": q, "kind": k} for q, k in sorted(seen.items())]


def normalize(qualname: str) -> str:
    """``tf.x`` -> ``tensorflow.x`` (names are always stored with the real top-level name)."""
    if qualname == "tf" or qualname.startswith("tf."):
        return ROOT + qualname[2:]
    return qualname


def resolve(qualname: str) -> Any | None:
    """The object a qualified name refers to (attribute path from ``tensorflow``), or None."""
    parts = normalize(qualname).split(".")
    if parts[0] != ROOT:
        return None
    obj: Any = tf
    for attr in parts[1:]:
        try:
            obj = getattr(obj, attr)
        except Exception:  # AttributeError, or a lazy loader of a package that is not installed
            return None
    return obj
