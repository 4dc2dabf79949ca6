"""Finding the module where a model's outputs start to differ, or the module that raised.

Divergence (:func:`first_diverging`): forward hooks record, for every module's first
call, its inputs and output on the reference device and its output on the device
under test. Walking the modules in the order their forwards *finished* (children
before parents), the first one whose output differs beyond tolerance is re-run
alone on the device under test, given the reference's inputs; if its output then
still differs, the error is local to it and it is named (path, type, and the torch
functions its forward calls, recorded with a ``TorchFunctionMode``); otherwise the
difference was inherited and the walk goes on.

Failure (:class:`RaisingModule`): pre- and post-forward hooks keep the stack of
modules being run; when the forward raises, the innermost one still open is the
module that raised.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode, resolve_name

from portabench.models.tolerances import GRAD_SCALE_FLOOR

#: at most this many distinct torch functions are named for a module
MAX_FUNCTIONS = 12


@dataclass
class Culprit:
    """A module named by localisation."""

    path: str  # dotted module path ("" is the whole model)
    type: str  # class name
    functions: list[str] = field(default_factory=list)  # torch functions its forward calls
    local_err: float | None = None  # relative-to-scale error of its output, re-run alone on the reference's input
    how: str = "re-run alone"  # re-run alone | raised | gradient

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path or "<model>", "type": self.type, "functions": self.functions,
                "local_err": self.local_err, "how": self.how}


def _to(value: Any, device: torch.device | str) -> Any:
    """A detached *copy* on ``device`` (a record must not alias a tensor that a later in-place op changes)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(device, copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, device) for v in value) if not hasattr(value, "_fields") else type(value)(*(_to(v, device) for v in value))
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def float_leaves(value: Any) -> list[torch.Tensor]:
    """The floating-point tensors of a nested output (tuples, lists, dicts, transformers ModelOutput)."""
    if isinstance(value, torch.Tensor):
        return [value] if value.is_floating_point() or value.is_complex() else []
    if isinstance(value, dict):
        return [t for k in value for t in float_leaves(value[k])]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in float_leaves(v)]
    return []




def magnitude(t: torch.Tensor) -> float:
    """The largest finite |value| of ``t`` (0.0 when it has none)."""
    finite = t.detach()[torch.isfinite(t.detach())]
    return float(finite.abs().max()) if finite.numel() else 0.0


def grad_scale_floor(grads: dict[str, torch.Tensor]) -> float:
    """:data:`GRAD_SCALE_FLOOR` times the largest finite gradient magnitude of ``grads`` (0.0 for none)."""
    return GRAD_SCALE_FLOOR * max((magnitude(g) for g in grads.values()), default=0.0)


def scaled_error(ref: torch.Tensor, got: torch.Tensor, floor: float = 0.0) -> float:
    """max |got - ref| / max(max |ref|, ``floor``) (in float64 on the CPU); inf when shapes or non-finite places
    differ."""
    r, g = ref.detach().cpu().double(), got.detach().cpu().double()
    if r.shape != g.shape:
        return float("inf")
    if not torch.equal(torch.isfinite(r), torch.isfinite(g)):
        return float("inf")
    finite = torch.isfinite(r)
    if not finite.any():
        return 0.0
    diff = (r[finite] - g[finite]).abs().max().item()
    scale = max(r[finite].abs().max().item(), floor)
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def tree_error(ref: Any, got: Any) -> float:
    """The largest :func:`scaled_error` over the float leaves of two outputs (inf if their structure differs)."""
    ref_leaves, got_leaves = float_leaves(ref), float_leaves(got)
    if len(ref_leaves) != len(got_leaves):
        return float("inf")
    return max((scaled_error(r, g) for r, g in zip(ref_leaves, got_leaves, strict=False)), default=0.0)


class _Recorder:
    """Forward hooks that keep each module's first output (and, when asked, its inputs) on the CPU."""

    def __init__(self, model: torch.nn.Module, keep_inputs: bool) -> None:
        self.order: list[str] = []
        self.outputs: dict[str, Any] = {}
        self.inputs: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self._handles = []
        for path, module in model.named_modules():
            if keep_inputs:
                self._handles.append(module.register_forward_pre_hook(self._pre(path), with_kwargs=True))
            self._handles.append(module.register_forward_hook(self._post(path)))

    def _pre(self, path: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if path not in self.inputs:
                self.inputs[path] = (_to(args, "cpu"), _to(kwargs, "cpu"))
        return hook

    def _post(self, path: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: tuple[Any, ...], output: Any) -> None:
            if path not in self.outputs:
                self.order.append(path)
                self.outputs[path] = _to(output, "cpu")
        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


class _CallRecorder(TorchFunctionMode):
    """Records the names of the torch functions called (in first-call order)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = resolve_name(func) or getattr(func, "__qualname__", repr(func))
        if name not in self.names and not name.endswith(("__get__", "__set__")):
            self.names.append(name)
        return func(*args, **(kwargs or {}))


def _record(model: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], keep_inputs: bool) -> _Recorder:
    recorder = _Recorder(model, keep_inputs)
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    finally:
        recorder.remove()
    return recorder


def run_alone(module: torch.nn.Module, inputs: tuple[tuple[Any, ...], dict[str, Any]], device: torch.device | str) -> tuple[Any, list[str]]:
    """Run ``module`` once on ``device`` with ``inputs``; its output (on the CPU) and the torch functions it called."""
    args, kwargs = _to(inputs[0], device), _to(inputs[1], device)
    calls = _CallRecorder()
    with torch.no_grad(), calls:
        output = module(*args, **kwargs)
    return _to(output, "cpu"), calls.names[:MAX_FUNCTIONS]


def first_diverging(reference_model: torch.nn.Module, target_model: torch.nn.Module, reference: str, target: str,
                    inputs: tuple[tuple[Any, ...], dict[str, Any]], tolerance: float,
                    side: Callable[[str], AbstractContextManager[Any]] = lambda name: nullcontext()) -> Culprit | None:
    """The first module whose output differs beyond ``tolerance`` on ``target`` when re-run alone on the
    reference's input (see the module docstring); None when no module's forward differs locally.

    Both models hold the same weights, in eval mode, on their devices; ``inputs`` are on the CPU.
    ``side("reference")`` / ``side("device")`` wrap the runs on each side (the model case marks its role).
    """
    with side("reference"):
        ref = _record(reference_model, _to(inputs[0], reference), _to(inputs[1], reference), keep_inputs=True)
    with side("device"):
        got = _record(target_model, _to(inputs[0], target), _to(inputs[1], target), keep_inputs=False)
    modules = dict(target_model.named_modules())
    for path in ref.order:
        if path not in got.outputs or tree_error(ref.outputs[path], got.outputs[path]) <= tolerance:
            continue
        with side("device"):
            output, functions = run_alone(modules[path], ref.inputs[path], target)
        local = tree_error(ref.outputs[path], output)
        if local > tolerance:
            return Culprit(path, type(modules[path]).__name__, functions, local)
    return None


def gradient_culprit(model: torch.nn.Module, ref_grads: dict[str, torch.Tensor], got_grads: dict[str, torch.Tensor],
                     tolerance: float) -> Culprit | None:
    """For a training step whose forward agrees: the module owning the first parameter, in backward order
    (the reverse of registration), whose gradient differs beyond ``tolerance`` (scale floored by
    :func:`grad_scale_floor`)."""
    floor = grad_scale_floor(ref_grads)
    owners = {f"{path}.{name}" if path else name: (path, module)
              for path, module in model.named_modules() for name, _ in module.named_parameters(recurse=False)}
    for name in reversed(list(ref_grads)):
        if name in got_grads and scaled_error(ref_grads[name], got_grads[name], floor) > tolerance:
            path, module = owners.get(name, ("", model))
            return Culprit(path, type(module).__name__, [], scaled_error(ref_grads[name], got_grads[name], floor),
                           "gradient")
    return None


class RaisingModule:
    """Context manager: hooks on every module keep the stack of forwards in progress; after an
    exception inside ``with``, :attr:`culprit` is the innermost module that had not finished."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._model = model
        self._stack: list[tuple[str, torch.nn.Module]] = []
        self._handles: list[Any] = []
        self.culprit: Culprit | None = None

    def __enter__(self) -> RaisingModule:
        for path, module in self._model.named_modules():
            self._handles.append(module.register_forward_pre_hook(self._started(path)))
            self._handles.append(module.register_forward_hook(self._finished))
        return self

    def _started(self, path: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: Any) -> None:
            self._stack.append((path, module))
        return hook

    def _finished(self, module: torch.nn.Module, args: Any, output: Any) -> None:
        if self._stack:
            self._stack.pop()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        for handle in self._handles:
            handle.remove()
        if exc is not None and self._stack:
            path, module = self._stack[-1]
            self.culprit = Culprit(path, type(module).__name__, [], None, "raised")


#: module classes whose training-mode behaviour is random (dropout masks, dropped residual paths drawn from
#: the device's own random generator, which no two devices share): a compared training step runs them as in
#: eval mode (identity), so that the step's outputs and gradients are the same function on both devices
RANDOM_REGULARISERS = ("Dropout", "DropPath", "DropBlock", "StochasticDepth")


def set_training(model: torch.nn.Module, training: bool) -> torch.nn.Module:
    """``model.train(training)``, with the :data:`RANDOM_REGULARISERS` among its modules kept in eval mode."""
    model.train(training)
    if training:
        for module in model.modules():
            if any(kind in type(module).__name__ for kind in RANDOM_REGULARISERS):
                module.eval()
    return model


def same_weights(model: torch.nn.Module, device: torch.device | str, dtype: torch.dtype | None = None) -> torch.nn.Module:
    """A copy of ``model`` on ``device`` (optionally cast), holding the same weights."""
    copied = copy.deepcopy(model)
    return copied.to(device=device, dtype=dtype) if dtype is not None else copied.to(device)

