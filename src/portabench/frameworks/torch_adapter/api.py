"""Walk PyTorch's public API into qualified names with their kind."""

from __future__ import annotations

import importlib

from portabench.frameworks.host import resolve_qualname
import inspect
from typing import Any

#: the public namespaces walked (module path -> qualified-name prefix)
NAMESPACES = (
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.linalg", "torch.fft",
    "torch.special", "torch.distributions", "torch.optim", "torch.optim.lr_scheduler", "torch.autograd",
    "torch.utils.data", "torch.cuda", "torch.backends", "torch.random", "torch.sparse", "torch.masked",
    "torch.func", "torch.amp", "torch.jit", "torch.testing",
)
CLASS_MEMBERS = ("torch.Tensor", "torch.nn.Module")


def _kind(obj: Any) -> str | None:
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return None


def walk_api() -> list[dict[str, str]]:
    """Public callables of the namespaces above plus methods of Tensor and Module.

    Private names (leading underscore) and submodules are excluded; a callable
    reachable under several names is listed under each (users call it by each).
    """
    seen: dict[str, str] = {}
    for module_name in NAMESPACES:
        try:
            module = importlib.import_module(module_name)
        except Exception:  # an optional namespace missing from this build
            continue
        public = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for name in public:
            if name.startswith("_"):
                continue
            try:
                obj = getattr(module, name)
            except Exception:
                continue
            if inspect.ismodule(obj):
                continue
            kind = _kind(obj)
            if kind:
                seen.setdefault(f"{module_name}.{name}", kind)
    for cls_path in CLASS_MEMBERS:
        module_name, cls_name = cls_path.rsplit(".", 1)
        cls = getattr(importlib.import_module(module_name), cls_name)
        for name in dir(cls):
            if name.startswith("_"):
                continue
            try:
                obj = getattr(cls, name)
            except Exception:
                continue
            seen.setdefault(f"{cls_path}.{name}", "method" if callable(obj) else "attribute")
    return [{"qualname": q, "kind": k} for q, k in sorted(seen.items())]


resolve = resolve_qualname  # kept under the adapter's name for its callers
