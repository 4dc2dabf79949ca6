"""Worker side: TensorFlow's process-wide switches a case can change, and the GPU memory it holds.

Used by :class:`~portabench.frameworks.tensorflow_adapter.TensorFlowAdapter`'s leftover hooks
(see :meth:`portabench.frameworks.base.Adapter.leftovers`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable
from typing import Any

import tensorflow as tf


def _determinism() -> bool:
    from tensorflow.python.framework import config as tf_config

    return bool(tf_config.is_op_determinism_enabled())


#: switch -> (read, write); write is None where the change cannot be undone (op determinism)
SWITCHES: dict[str, tuple[Callable[[], Any], Callable[[Any], None] | None]] = {
    "tensor_float_32_execution": (lambda: bool(tf.config.experimental.tensor_float_32_execution_enabled()),
                                  lambda v: tf.config.experimental.enable_tensor_float_32_execution(bool(v))),
    "functions_run_eagerly": (lambda: bool(tf.config.functions_run_eagerly()),
                              lambda v: tf.config.run_functions_eagerly(bool(v))),
    "soft_device_placement": (lambda: bool(tf.config.get_soft_device_placement()),
                              lambda v: tf.config.set_soft_device_placement(bool(v))),
    "op_determinism": (_determinism, None),
}


def global_switches() -> dict[str, Any]:
    out = {}
    for name, (read, _) in SWITCHES.items():
        with contextlib.suppress(Exception):
            out[name] = read()
    return out


def restore(switches: dict[str, Any]) -> None:
    for name, value in switches.items():
        write = SWITCHES.get(name, (None, None))[1]
        if write is not None:
            with contextlib.suppress(Exception):
                write(value)


def device_memory_in_use(kind: str, index: int, collect: bool = True) -> int | None:
    """Bytes TensorFlow's allocator has in use on a GPU (after a garbage collection when ``collect``);
    None elsewhere."""
    if kind != "GPU":
        return None
    if collect:
        gc.collect()
    return int(tf.config.experimental.get_memory_info(f"GPU:{index}")["current"])
