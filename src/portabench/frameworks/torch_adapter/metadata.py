"""Case sources from PyTorch's own test metadata, shipped in the wheel.

* OpInfo (``common_methods_invocations.op_db``): operators with sample inputs per dtype;
* ModuleInfo (``common_modules.module_db``): ``torch.nn`` modules with constructor and forward inputs;
* OptimizerInfo (``common_optimizers.optim_db``): optimizers with their constructor kwargs.

Each source rebuilds its samples deterministically (seeded from the source key
and dtype), so a case listed by one worker can be executed by another.
"""

from __future__ import annotations

import copy
import functools
import itertools
import random
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from portabench.frameworks.base import Prepared
from portabench.frameworks.torch_adapter.api import resolve
from portabench.frameworks.torch_adapter.compiled import TorchPrepared


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def torch_dtype(name: str) -> torch.dtype:
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"unknown torch dtype {name!r}")
    return value


def _seed_everything(key: str) -> None:
    seed = zlib.crc32(key.encode())
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))


def _to_device(value: Any, device: str) -> Any:
    """Copy tensors inside (nested) args to ``device``; other values pass through."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone().to(device)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


@dataclass
class Source:
    """One case source for one function."""

    key: str  # e.g. "opinfo:max.binary"
    qualname: str
    random: bool = False

    def claimed(self, device_type: str) -> set[str]:
        raise NotImplementedError

    def samples(self, dtype: str, max_samples: int, device: str = "cpu") -> list[Any]:
        """Samples generated on ``device`` (as torch's own tests do), seeded from key and dtype."""
        raise NotImplementedError

    def prepare(self, sample: Any, dtype: str, device: str, keep_devices: bool = False) -> Prepared:
        """The call on ``device``. ``keep_devices``: the sample was generated for this device;
        copy its tensors where they are (some ops take e.g. CPU index tensors on purpose),
        instead of moving every tensor to ``device``."""
        raise NotImplementedError


def reseeds(fn: Any) -> bool:
    """True for OpInfo callables wrapped in torch's ``wrapper_set_seed``.

    Such ops are random, but the wrapper seeds a fixed value and restores the RNG
    state around the call, so neither the RNG-state check nor the two-seed check of
    the runner can see it; and the CPU and CUDA generators differ for one seed.
    """
    for _ in range(5):
        if not isinstance(fn, functools.partial):
            break
        fn = fn.func
    if getattr(fn, "__name__", "") == "wrapper_set_seed":
        return True
    code = getattr(fn, "__code__", None)
    return code is not None and "wrapper_set_seed" in code.co_names


STORAGE_OPS = ("as_strided", "as_strided_copy", "as_strided_scatter")
"""OpInfos whose op addresses the input's *storage* (offsets are absolute): their samples' inputs are
copied with their whole storage (a view stays a view), else e.g. ``as_strided.partial_views`` goes
out of bounds on every device, the reference included."""


def copy_with_storage(t: torch.Tensor, device: str | torch.device) -> torch.Tensor:
    """A copy of ``t`` on ``device`` with the same size, stride, storage offset and storage contents."""
    n = t.untyped_storage().nbytes() // t.element_size()
    base = t.detach().as_strided((n,), (1,), 0).clone()
    return base.to(device).as_strided(t.size(), t.stride(), t.storage_offset())


UNINITIALISED_OPS = frozenset({"empty", "empty_like", "empty_permuted", "empty_strided", "new_empty", "new_empty_strided"})
"""OpInfos whose outputs are uninitialised memory: any values are right. PyTorch's own tests skip them
("Expected: empty is not comparable"); here their outputs are compared by shape and dtype only (their
device is still checked), so the stored ``check`` is ``shape_dtype``."""


def _without_values(output: Any) -> Any:
    """``output`` with every tensor replaced by a ``meta`` tensor of its shape and dtype (no values to compare)."""
    from torch.utils._pytree import tree_map

    return tree_map(lambda t: torch.empty_like(t, device="meta") if isinstance(t, torch.Tensor) else t, output)


class OpInfoSource(Source):
    """An OpInfo's samples; ``call`` is the callable under test (the op itself, or one of its aliases)."""

    def __init__(self, op: Any, qualname: str, call: Any = None) -> None:
        variant = f".{op.variant_test_name}" if op.variant_test_name else ""
        random_op = bool(getattr(op, "has_nondeterministic_output", False)) or reseeds(op.op)
        super().__init__(f"opinfo:{op.name}{variant}", qualname, random_op)
        self.op = op
        self.call = call if call is not None else op

    def claimed(self, device_type: str) -> set[str]:
        return {dtype_name(d) for d in self.op.supported_dtypes(device_type)}

    def samples(self, dtype: str, max_samples: int, device: str = "cpu") -> list[Any]:
        _seed_everything(f"{self.key}|{dtype}")
        gen = self.op.sample_inputs(device, torch_dtype(dtype), requires_grad=False)
        return list(itertools.islice(gen, max_samples))

    def prepare(self, sample: Any, dtype: str, device: str, keep_devices: bool = False) -> Prepared:
        op = self.call
        whole_storage = self.op.name in STORAGE_OPS

        def copy(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                return t
            if whole_storage and t.layout == torch.strided:
                return copy_with_storage(t, t.device if keep_devices else device)
            return t.detach().clone() if keep_devices else t.detach().clone().to(device)

        moved = sample.transform(copy)
        if "device" in moved.kwargs and not keep_devices:  # factory functions name the sample's device
            moved.kwargs["device"] = device
        args = (moved.input, *moved.args)
        postprocess = sample.output_process_fn_grad
        if self.op.name in UNINITIALISED_OPS:
            postprocess = lambda out, keep=postprocess: _without_values(keep(out))  # noqa: E731
        return TorchPrepared(call=lambda: op(*args, **moved.kwargs), postprocess=postprocess,
                             fn=op, args=args, kwargs=dict(moved.kwargs))


class ModuleInfoSource(Source):
    def __init__(self, info: Any, qualname: str) -> None:
        super().__init__(f"moduleinfo:{info.name}", qualname)
        self.info = info

    def claimed(self, device_type: str) -> set[str]:
        return {dtype_name(d) for d in self.info.supported_dtypes(device_type)}

    def samples(self, dtype: str, max_samples: int, device: str = "cpu") -> list[Any]:
        _seed_everything(f"{self.key}|{dtype}")
        inputs = self.info.module_inputs_func(self.info, device=device, dtype=torch_dtype(dtype), requires_grad=False,
                                              training=False)
        return [i for i in inputs if i.forward_input is not None][:max_samples]

    def prepare(self, sample: Any, dtype: str, device: str, keep_devices: bool = False) -> Prepared:
        _seed_everything(f"{self.key}|{dtype}|module")
        ctor = sample.constructor_input
        ctor_kwargs = {k: ("cpu" if k == "device" else v) for k, v in ctor.kwargs.items()}  # build on CPU, then move
        module = self.info.module_cls(*_to_device(ctor.args, "cpu"), **_to_device(ctor_kwargs, "cpu"))
        if torch_dtype(dtype).is_floating_point or torch_dtype(dtype).is_complex:
            module = module.to(torch_dtype(dtype))
        module = copy.deepcopy(module).to(device).eval()
        args = _to_device(sample.forward_input.args, device)
        kwargs = _to_device(sample.forward_input.kwargs, device)
        return TorchPrepared(call=lambda: module(*args, **kwargs), fn=module, args=tuple(args), kwargs=dict(kwargs))


class OptimizerInfoSource(Source):
    """Two optimisation steps of a small least-squares problem; output: the parameters.

    Parameters are 2-D (some optimizers, e.g. Muon, accept nothing else);
    optimizers that only take sparse gradients (SparseAdam) get no cases.
    """

    STEPS = 2

    def __init__(self, info: Any, qualname: str) -> None:
        super().__init__(f"optiminfo:{info.optim_cls.__name__}", qualname)
        self.info = info

    def claimed(self, device_type: str) -> set[str]:
        claimed = {"float32", "float64"}
        if getattr(self.info, "supports_complex", False):
            claimed |= {"complex64"}
        return claimed

    def samples(self, dtype: str, max_samples: int, device: str = "cpu") -> list[Any]:
        _seed_everything(f"{self.key}|{dtype}")
        if getattr(self.info, "only_supports_sparse_grads", False):
            return []
        inputs = self.info.optim_inputs_func(device="cpu", dtype=torch_dtype(dtype))
        usable = [i for i in inputs if not i.kwargs.get("fused") and not i.kwargs.get("capturable")]
        return usable[:max_samples]

    def prepare(self, sample: Any, dtype: str, device: str, keep_devices: bool = False) -> Prepared:
        _seed_everything(f"{self.key}|{dtype}|params")
        dt = torch_dtype(dtype)
        w0, b0, x0 = torch.randn(10, 5, dtype=dt), torch.randn(10, 1, dtype=dt), torch.randn(5, dtype=dt)
        kwargs = _to_device(sample.kwargs, "cpu")
        cls = self.info.optim_cls

        def call() -> list[torch.Tensor]:
            w = w0.clone().to(device).requires_grad_()
            b = b0.clone().to(device).requires_grad_()
            x = x0.to(device)
            opt = cls([w, b], **kwargs)

            def closure() -> torch.Tensor:
                opt.zero_grad()
                loss = (w @ x + b[:, 0]).abs().pow(2).sum()
                loss.backward()
                return loss

            for _ in range(self.STEPS):
                opt.step(closure)
            return [w.detach(), b.detach()]

        return Prepared(call=call)


def opinfo_qualname(op: Any) -> str | None:
    """``torch.<name>`` when that resolves to a callable, else ``torch.Tensor.<name>``; None for private names."""
    if op.name.startswith("_"):
        return None
    candidate = f"torch.{op.name}"
    if callable(resolve(candidate)):
        return candidate
    if hasattr(torch.Tensor, op.name):
        return f"torch.Tensor.{op.name}"
    return None


def build_index() -> dict[str, list[Source]]:
    """qualname -> its metadata sources (imports torch's test metadata: a few seconds)."""
    from torch.testing._internal.common_methods_invocations import op_db
    from torch.testing._internal.common_modules import module_db
    from torch.testing._internal.common_optimizers import optim_db

    index: dict[str, list[Source]] = {}
    for op in op_db:
        name = opinfo_qualname(op)
        if name:
            index.setdefault(name, []).append(OpInfoSource(op, name))
        for alias in getattr(op, "aliases", ()):  # e.g. moveaxis -> movedim: same samples, called by the alias name
            alias_name = f"torch.{alias.name}"
            if not alias.name.startswith("_") and callable(resolve(alias_name)) and alias_name != name:
                index.setdefault(alias_name, []).append(OpInfoSource(op, alias_name, call=alias.op))
    for info in module_db:
        name = f"torch.{info.name}"
        index.setdefault(name, []).append(ModuleInfoSource(info, name))
    for optim in optim_db:
        optim_cls: Any = optim.optim_cls  # a class (torch's annotation says an instance)
        name = f"torch.optim.{optim_cls.__name__}"
        index.setdefault(name, []).append(OptimizerInfoSource(optim, name))
    return index
