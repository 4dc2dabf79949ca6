"""Walk JAX's public API into qualified names with their kind (worker side: imports jax)."""

from __future__ import annotations

import importlib
import inspect

from portabench.frameworks.host import callable_kind, public_members, resolve_qualname

#: the public namespaces walked; a module found inside one of them (``jax.scipy.stats.norm``)
#: is walked too when its name starts with one of these prefixes
NAMESPACES = (
    "jax", "jax.numpy", "jax.numpy.linalg", "jax.numpy.fft", "jax.lax", "jax.lax.linalg", "jax.nn",
    "jax.nn.initializers", "jax.random", "jax.scipy", "jax.scipy.special", "jax.scipy.linalg", "jax.scipy.signal",
    "jax.scipy.stats", "jax.scipy.fft", "jax.scipy.ndimage", "jax.scipy.optimize", "jax.scipy.integrate",
    "jax.scipy.interpolate", "jax.scipy.sparse.linalg", "jax.scipy.cluster.vq", "jax.scipy.spatial.transform",
    "jax.tree_util", "jax.tree", "jax.image", "jax.dtypes", "jax.ops", "jax.debug", "jax.sharding",
)
#: submodules walked when met inside a namespace (e.g. every ``jax.scipy.stats.<distribution>``)
SUBMODULE_PREFIXES = ("jax.scipy.stats.",)

#: top-level transformations and context managers (named explicitly: ``jax.__all__`` is not defined)
TRANSFORMATIONS = (
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jit", "vmap", "pmap", "make_jaxpr", "named_call",
    "named_scope", "disable_jit", "jacfwd", "jacrev", "hessian", "checkpoint", "remat", "custom_jvp", "custom_vjp",
    "eval_shape", "linear_transpose", "closure_convert", "device_put", "device_get", "block_until_ready",
    "ensure_compile_time_eval", "default_device", "default_backend", "devices", "local_devices", "device_count",
    "local_device_count", "process_index", "process_count", "pure_callback", "debug_callback", "print_environment_info",
    "typeof", "shard_map", "jacobian",
)


def _walk_module(module_name: str, seen: dict[str, str], visited: set[str]) -> None:
    if module_name in visited:
        return
    visited.add(module_name)
    try:
        module = importlib.import_module(module_name)
    except Exception:  # an optional namespace missing from this version
        return
    for name, obj in public_members(module):
        qual = f"{module_name}.{name}"
        if inspect.ismodule(obj):
            if any(qual.startswith(p) for p in SUBMODULE_PREFIXES):
                _walk_module(qual, seen, visited)
            continue
        kind = callable_kind(obj)
        if kind:
            seen.setdefault(qual, kind)


def walk_api() -> list[dict[str, str]]:
    """Public callables of :data:`NAMESPACES`, ``jax.scipy.stats.<distribution>.<fn>`` and the transformations.

    Private names and submodules are excluded; a callable reachable under
    several names is listed under each (users call it by each).
    """
    import jax

    seen: dict[str, str] = {}
    visited: set[str] = set()
    for module_name in NAMESPACES:
        _walk_module(module_name, seen, visited)
    for name in TRANSFORMATIONS:
        obj = getattr(jax, name, None)
        kind = callable_kind(obj) if obj is not None else None
        if kind:
            seen.setdefault(f"jax.{name}", kind)
    return [{"qualname": q, "kind": k} for q, k in sorted(seen.items())]


resolve = resolve_qualname  # kept under the adapter's name for its callers
