"""Worker side: JAX's process-wide configuration a case can change, and the device memory it holds.

Used by :class:`~portabench.frameworks.jax_adapter.JaxAdapter`'s leftover hooks
(see :meth:`portabench.frameworks.base.Adapter.leftovers`).
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any

import jax

#: configuration options that change results or how cases run
OPTIONS = ("jax_enable_x64", "jax_default_matmul_precision", "jax_numpy_rank_promotion", "jax_numpy_dtype_promotion",
           "jax_disable_jit", "jax_debug_nans", "jax_debug_infs", "jax_default_prng_impl", "jax_platforms")


def global_switches() -> dict[str, Any]:
    out = {}
    for name in OPTIONS:
        with contextlib.suppress(Exception):  # an option this JAX version lacks
            value = getattr(jax.config, name)
            out[name] = value if isinstance(value, (bool, int, float, str, type(None))) else str(value)
    return out


def restore(switches: dict[str, Any]) -> None:
    for name, value in switches.items():
        with contextlib.suppress(Exception):
            jax.config.update(name, value)


def device_memory_in_use(device: Any, collect: bool = True) -> int | None:
    """``bytes_in_use`` of the device (after a garbage collection when ``collect``); None where JAX does not
    report it (CPU)."""
    if collect:
        gc.collect()
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    return int(stats["bytes_in_use"]) if stats and "bytes_in_use" in stats else None
