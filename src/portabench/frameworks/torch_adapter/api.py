"""Walk PyTorch's public API into qualified names with their kind."""

from __future__ import annotations

import importlib
import inspect

from portabench.frameworks.host import callable_kind, public_members, resolve_qualname

#: the public namespaces walked (module path -> qualified-name prefix)
NAMESPACES = (
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.linalg", "torch.fft",
    "torch.special", "torch.distributions", "torch.optim", "torch.optim.lr_scheduler", "torch.autograd",
    "torch.utils.data", "torch.cuda", "torch.backends", "torch.random", "torch.sparse", "torch.masked",
    "torch.func", "torch.amp", "torch.jit", "torch.testing",
)
CLASS_MEMBERS = ("torch.Tensor", "torch.nn.Module")


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
        for name, obj in public_members(module):
            kind = None if inspect.ismodule(obj) else callable_kind(obj)
            if kind:
                seen.setdefault(f"{module_name}.{name}", kind)
    for cls_path in CLASS_MEMBERS:
        module_name, cls_name = cls_path.rsplit(".", 1)
        cls = getattr(importlib.import_module(module_name), cls_name)
        for name, obj in public_members(cls):
            seen.setdefault(f"{cls_path}.{name}", "method" if callable(obj) else "attribute")
    return [{"qualname": q, "kind": k} for q, k in sorted(seen.items())]


resolve = resolve_qualname  # kept under the adapter's name for its callers
