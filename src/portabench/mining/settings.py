"""Portability-relevant settings and device strings written in code.

A *setting* is a framework switch that changes what a function computes or where
it runs on some devices: TF32 matmuls, autocast dtypes, 64-bit mode in JAX, soft
device placement in TensorFlow. :func:`setting_of_call` recognises a call
(``jax.config.update("jax_enable_x64", True)``), :func:`setting_of_assignment`
an assignment (``torch.backends.cuda.matmul.allow_tf32 = True``); both take the
qualified name the miner resolved. :func:`device_of_string` recognises a device
string literal (``"cuda"``, ``"cuda:1"``, ``"/GPU:0"``, ``"tpu"``).
"""

from __future__ import annotations

import ast
import re

#: Assigned attributes -> why they matter.
ASSIGNED: dict[str, str] = {
    "torch.backends.cuda.matmul.allow_tf32": "TF32 matmuls on NVIDIA GPUs (float32 results differ from CPU)",
    "torch.backends.cudnn.allow_tf32": "TF32 convolutions in cuDNN (float32 results differ from CPU)",
    "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction": "reduced-precision fp16 matmul reductions",
    "torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction": "reduced-precision bf16 matmul reductions",
    "torch.backends.cudnn.benchmark": "cuDNN picks algorithms by timing (results may vary between runs)",
    "torch.backends.cudnn.deterministic": "deterministic cuDNN algorithms only",
    "torch.backends.cudnn.enabled": "cuDNN on/off",
    "torch.backends.fp32_precision": "float32 precision of matmul/conv backends",
    "torch.backends.cuda.matmul.fp32_precision": "float32 precision of CUDA matmuls",
    "torch.backends.cudnn.conv.fp32_precision": "float32 precision of cuDNN convolutions",
}

#: Called functions -> why they matter.
CALLED: dict[str, str] = {
    "torch.set_float32_matmul_precision": "float32 matmul precision ('high'/'medium' allow TF32/bf16)",
    "torch.use_deterministic_algorithms": "deterministic algorithms only (some ops raise on CUDA)",
    "torch.set_default_dtype": "default floating dtype",
    "torch.set_default_device": "default device of new tensors",
    "torch.autocast": "autocast: ops run in a lower-precision dtype",
    "torch.amp.autocast": "autocast: ops run in a lower-precision dtype",
    "torch.cuda.amp.autocast": "autocast: ops run in a lower-precision dtype (CUDA only)",
    "torch.cpu.amp.autocast": "autocast: ops run in a lower-precision dtype (CPU only)",
    "torch.backends.cudnn.flags": "cuDNN switches (enabled, benchmark, deterministic, allow_tf32)",
    "jax.config.update": "JAX configuration",
    "jax.default_matmul_precision": "matmul precision of jitted code (TPU/GPU default is reduced)",
    "jax.experimental.enable_x64": "64-bit mode (float64/int64 arrays)",
    "jax.experimental.disable_x64": "64-bit mode off",
    "tensorflow.config.set_soft_device_placement": "ops without a kernel on the device silently run on CPU",
    "tensorflow.config.experimental.enable_tensor_float_32_execution": "TF32 on NVIDIA GPUs",
    "tensorflow.config.experimental.enable_op_determinism": "deterministic ops only",
    "tensorflow.keras.mixed_precision.set_global_policy": "Keras mixed precision (float16/bfloat16 compute)",
    "tensorflow.keras.mixed_precision.experimental.set_policy": "Keras mixed precision (float16/bfloat16 compute)",
    "tensorflow.keras.backend.set_floatx": "Keras default float dtype",
    "tensorflow.config.optimizer.set_jit": "XLA auto-clustering",
    "tensorflow.debugging.set_log_device_placement": "log where each op runs",
}

#: ``jax.config.update`` flags that matter for portability (others are reported too, with this note missing).
JAX_FLAGS: dict[str, str] = {
    "jax_enable_x64": "64-bit mode (float64/int64 arrays; TPUs emulate float64)",
    "jax_default_matmul_precision": "matmul precision (TPU/GPU default is reduced)",
    "jax_platforms": "which backends JAX may use",
    "jax_platform_name": "default backend",
    "jax_default_device": "default device",
    "jax_numpy_dtype_promotion": "dtype promotion rules",
}

_DEVICE_RE = re.compile(
    r"^(?:(?:cuda|mps|xla|xpu|tpu|gpu|hpu|npu|rocm|mtia|meta)(?::\d+)?"
    r"|/(?:job:[\w-]+/(?:replica:\d+/)?(?:task:\d+/)?)?(?:device:)?(?:GPU|TPU|CPU|XLA_GPU|XLA_CPU):\d+)$",
    re.IGNORECASE,
)


def _value_text(node: ast.AST, limit: int = 80) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strip_compat(qualname: str) -> str:
    return qualname.replace("tensorflow.compat.v1.", "tensorflow.", 1)


def setting_of_call(qualname: str, call: ast.Call) -> tuple[str, str, str] | None:
    """``(setting name, value as written, why it matters)`` for a call that sets something, else None."""
    name = _strip_compat(qualname)
    if name.endswith("config.update") and name.startswith("jax."):
        if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
            flag = call.args[0].value
            value = _value_text(call.args[1]) if len(call.args) > 1 else ""
            return flag, value, JAX_FLAGS.get(flag, "JAX configuration flag")
        return None
    if name in CALLED:
        parts = [_value_text(a) for a in call.args] + [
            f"{k.arg}={_value_text(k.value)}" for k in call.keywords if k.arg
        ]
        return name, ", ".join(parts), CALLED[name]
    return None


def setting_of_assignment(qualname: str, value: ast.expr) -> tuple[str, str, str] | None:
    """``(setting name, value as written, why)`` for ``<qualname> = value`` when it is a known switch."""
    name = _strip_compat(qualname)
    if name in ASSIGNED:
        return name, _value_text(value), ASSIGNED[name]
    return None


def device_of_string(value: object) -> str | None:
    """The device a string literal names (``"cuda:1"``), or None when it does not look like one."""
    if isinstance(value, str) and len(value) < 64 and _DEVICE_RE.match(value):
        return value
    return None
