"""Worker side: torch's process-wide switches a case can change, and the CUDA memory it holds.

Used by :class:`~portabench.frameworks.torch_adapter.TorchAdapter`'s leftover hooks
(see :meth:`portabench.frameworks.base.Adapter.leftovers`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable
from typing import Any

import torch

_cuda_matmul = torch.backends.cuda.matmul


def _set_grad_enabled(value: Any) -> None:
    torch.set_grad_enabled(bool(value))  # its constructor sets the mode, as a function call


def _set_detect_anomaly(value: Any) -> None:
    torch.autograd.set_detect_anomaly(bool(value))  # its constructor sets the mode, as a function call
_cudnn = torch.backends.cudnn

#: switch -> (read, write); write is None where a case's change cannot be undone from outside
SWITCHES: dict[str, tuple[Callable[[], Any], Callable[[Any], None] | None]] = {
    "default_dtype": (lambda: str(torch.get_default_dtype()).removeprefix("torch."),
                      lambda v: torch.set_default_dtype(getattr(torch, v))),
    "default_device": (lambda: str(torch.get_default_device()), lambda v: torch.set_default_device(v)),
    "grad_enabled": (torch.is_grad_enabled, lambda v: _set_grad_enabled(v)),
    "inference_mode": (torch.is_inference_mode_enabled, None),
    "anomaly_detection": (torch.is_anomaly_enabled, lambda v: _set_detect_anomaly(v)),
    "float32_matmul_precision": (torch.get_float32_matmul_precision, torch.set_float32_matmul_precision),
    "cuda.matmul.allow_tf32": (lambda: bool(_cuda_matmul.allow_tf32),
                               lambda v: setattr(_cuda_matmul, "allow_tf32", bool(v))),
    "cuda.matmul.allow_fp16_reduced_precision_reduction": (
        lambda: bool(_cuda_matmul.allow_fp16_reduced_precision_reduction),
        lambda v: setattr(_cuda_matmul, "allow_fp16_reduced_precision_reduction", bool(v))),
    "cuda.matmul.allow_bf16_reduced_precision_reduction": (
        lambda: bool(_cuda_matmul.allow_bf16_reduced_precision_reduction),
        lambda v: setattr(_cuda_matmul, "allow_bf16_reduced_precision_reduction", bool(v))),
    "cudnn.allow_tf32": (lambda: bool(_cudnn.allow_tf32), lambda v: setattr(_cudnn, "allow_tf32", bool(v))),
    "cudnn.benchmark": (lambda: bool(_cudnn.benchmark), lambda v: setattr(_cudnn, "benchmark", bool(v))),
    "cudnn.deterministic": (lambda: bool(_cudnn.deterministic), lambda v: setattr(_cudnn, "deterministic", bool(v))),
    "deterministic_algorithms": (torch.are_deterministic_algorithms_enabled,
                                 lambda v: torch.use_deterministic_algorithms(bool(v))),
    "num_threads": (torch.get_num_threads, torch.set_num_threads),
}


def global_switches() -> dict[str, Any]:
    out = {}
    for name, (read, _) in SWITCHES.items():
        with contextlib.suppress(Exception):  # a switch this torch build lacks
            out[name] = read()
    return out


def restore(switches: dict[str, Any]) -> None:
    # the matmul precision first: setting it also sets the TF32 flag, which is then set back exactly
    for name in sorted(switches, key=lambda n: n != "float32_matmul_precision"):
        write = SWITCHES.get(name, (None, None))[1]
        if write is not None:
            with contextlib.suppress(Exception):
                write(switches[name])


def device_memory_in_use(device: torch.device, collect: bool = True) -> int | None:
    """Bytes held by live CUDA tensors (after a garbage collection and freeing the allocator's cache when
    ``collect``)."""
    if device.type != "cuda":
        return None
    if collect:
        gc.collect()
        torch.cuda.empty_cache()
    return int(torch.cuda.memory_allocated(device))
