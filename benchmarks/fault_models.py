"""Mid-sized models that disagree on purpose, for benchmarks/models_per_minute.py (``py:fault_models:<name>``).

The benchmark runs on a CPU against the same CPU (``--device cpu --reference cpu:0``),
where nothing differs by itself; these stand for what the GPU sweep meets (TF32
convolutions: the forward agrees, the gradients of a training step do not), so that
the cost of a mismatch (float64 arbiter, localisation) is in the measured throughput.

* ``resnet_grad_differs``: transformers' ResNet-50 (random weights, 23.5M parameters)
  on 64x64 images; on the device under test the gradient through its last stage is
  scaled by 1.05 (the forward is exact everywhere).
* ``resnet_healthy``: the same model, no fault.
"""

from __future__ import annotations

import torch

from portabench.frameworks.torch_adapter.models.case import current_role


def _resnet(fault: bool, batch: int) -> tuple[torch.nn.Module, torch.Tensor]:
    from transformers import ResNetConfig, ResNetModel

    torch.manual_seed(0)
    model = ResNetModel(ResNetConfig())
    if fault:
        def scale_grad(module: torch.nn.Module, args: object, output: torch.Tensor) -> torch.Tensor:
            if current_role() == "device" and output.requires_grad:
                output.register_hook(lambda grad: grad * 1.05)
            return output
        model.encoder.stages[-1].register_forward_hook(scale_grad)
    return model, torch.randn(batch, 3, 64, 64)


def resnet_grad_differs(batch: int) -> tuple[torch.nn.Module, torch.Tensor]:
    return _resnet(True, batch)


def resnet_healthy(batch: int) -> tuple[torch.nn.Module, torch.Tensor]:
    return _resnet(False, batch)
