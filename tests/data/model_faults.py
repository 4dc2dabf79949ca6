"""Fault-injecting whole models for tests/test_models.py (user factories ``py:model_faults:<name>``).

Each factory takes a batch size and returns ``(model, inputs)``. A small MLP
``stem -> block.0 -> block.1 -> head`` carries one faulty layer in ``block.1``:

* ``segfault``: its forward reads address 0 (the worker dies with SIGSEGV);
* ``hang``: its forward sleeps for an hour (the worker is killed at the deadline);
* ``raises``: its forward raises on the device under test (the module that raised must be named);
* ``differs``: its output is off by 1% of its scale on the device under test
  (``current_role() == "device"``), standing for a device that computes this layer
  differently; the reference and the float64 arbiter get exact results;
* ``reference_off``: the same, but on the reference (the float64 arbiter must clear the device);
* ``grad_differs``: the forward is exact everywhere, but the gradient through ``block.1``
  is off by 5% on the device under test (a backward kernel that differs);
* ``healthy``: no fault.
"""

from __future__ import annotations

import ctypes
import time

import torch
from torch import nn

from portabench.frameworks.torch_adapter.models.case import current_role


class _ScaledGrad(torch.autograd.Function):
    """Identity forward; on the device under test, the backward scales the gradient by 1.05."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad * 1.05 if current_role() == "device" else grad


class Faulty(nn.Module):
    def __init__(self, fault: str) -> None:
        super().__init__()
        self.fault = fault
        self.linear = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(self.linear(x))
        if self.fault == "segfault":
            ctypes.string_at(0)
        elif self.fault == "hang":
            time.sleep(3600)
        elif self.fault == "raises" and current_role() == "device":
            raise RuntimeError("no kernel for this layer on this device")
        elif self.fault == "differs" and current_role() == "device":
            y = y + 0.01 * y.detach().abs().max()
        elif self.fault == "reference_off" and current_role() == "reference":
            y = y + 0.01 * y.detach().abs().max()
        elif self.fault == "grad_differs":
            y = _ScaledGrad.apply(y)
        return y


def _model(fault: str, batch: int) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("stem", nn.Linear(8, 16))
    model.add_module("block", nn.Sequential(nn.Sequential(nn.Linear(16, 16), nn.ReLU()), Faulty(fault)))
    model.add_module("head", nn.Linear(16, 4))
    return model, torch.randn(batch, 8)


def segfault(batch: int):
    return _model("segfault", batch)


def hang(batch: int):
    return _model("hang", batch)


def raises(batch: int):
    return _model("raises", batch)


def differs(batch: int):
    return _model("differs", batch)


def reference_off(batch: int):
    return _model("reference_off", batch)


def grad_differs(batch: int):
    return _model("grad_differs", batch)


def healthy(batch: int):
    return _model("healthy", batch)
