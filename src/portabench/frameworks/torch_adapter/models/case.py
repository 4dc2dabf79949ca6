"""A whole model as a case (worker side): eval forward or one training step, compared, arbitrated, localised, timed.

A model case is a :class:`~portabench.cases.CaseDescriptor` whose ``source`` is
``model:<step>@<batch>`` (step ``forward`` or ``train``) and whose ``function`` is the
model's name (``hf:gpt2``, ``timm:resnet50``, ``tv:resnet18``, ``py:module:factory``).

1. The model is built once on the CPU under a fixed seed (:mod:`.sources`); each
   device gets a copy with the same weights, and the same inputs for the batch.
2. ``forward``: eval mode, no grad; compared: every floating output.
   ``train``: train mode (dropout off in the configs), the scalar loss
   ``mean(out**2)`` summed over the floating outputs, backward; compared: the loss
   and every parameter's gradient.
3. Comparison is relative to scale: ``max|got - ref| / max|ref|`` per tensor, against
   :data:`FORWARD_TOL` (outputs, loss) and :data:`GRAD_TOL` (gradients).
4. On a disagreement, the same step in float64 on the reference device is the
   arbiter (as PyTorch's reference tests do): the device's and the reference's
   errors against it are both stored, and the case fails only when the device is
   further from exact than :data:`ARBITER_SLACK` times the reference's error.
5. A failure names the layer: the module that raised, or the first module whose
   output differs when re-run alone on the reference's input (:mod:`.localise`, in
   the step's mode); for a training step whose forward agrees, the module owning
   the first parameter, in backward order, whose gradient differs.
6. Timing: the step at the case's batch, synchronised as function timing is.

Details go in the result's ``message``: a human line, then a line
``MODEL_DETAILS_PREFIX + JSON`` (read by :mod:`portabench.models.details`).
Cases with ``extra["compare"] == False`` (the larger batch) are timed only.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from portabench.cases import FAILED, PASSED, REFERENCE_FAILED, CaseDescriptor
from portabench.frameworks.base import Adapter
from portabench.frameworks.timer import TimingConfig, measure
from portabench.frameworks.torch_adapter.models.localise import (
    Culprit, RaisingModule, first_diverging, float_leaves, gradient_culprit, same_weights, scaled_error, tree_error,
)
from portabench.frameworks.torch_adapter.models.sources import BuiltModel, build_model
from portabench.models.details import MODEL_DETAILS_PREFIX, encode_details
from portabench.protocol import exception_evidence as _exc_evidence

#: relative-to-scale tolerance of outputs and loss
FORWARD_TOL = 1e-3
#: relative-to-scale tolerance of gradients
GRAD_TOL = 1e-2
#: a disagreeing device fails when its float64-arbitrated error exceeds this many times the reference's
ARBITER_SLACK = 2.0
#: models whose parameters (with gradients and optimiser-free activations, estimated x4) exceed the
#: device's free memory are reported as ``memory`` before they are moved
MEMORY_FACTOR = 4

_ROLE: contextvars.ContextVar[str] = contextvars.ContextVar("portabench_model_role", default="")


def current_role() -> str:
    """Which run of a model case is in progress: ``reference``, ``device`` or ``exact`` (the float64
    arbiter); empty outside one. Fault-injecting test models read it to differ on purpose."""
    return _ROLE.get()


def parse_source(source: str) -> tuple[str, int]:
    """``model:train@8`` -> (``train``, 8)."""
    step, _, batch = source.removeprefix("model:").partition("@")
    return step, int(batch or 1)


def model_descriptors(names: list[str], batches: tuple[int, ...], compared_batch: int) -> list[CaseDescriptor]:
    """The cases of each model: forward and train step at each batch; only ``compared_batch`` is compared."""
    return [
        CaseDescriptor(name, f"model:{step}@{batch}", "float32", 0, False,
                       {"model": name, "compare": batch == compared_batch})
        for name in names for batch in batches for step in ("forward", "train")
    ]


def _loss(output: Any) -> torch.Tensor:
    leaves = float_leaves(output)
    if not leaves:
        raise TypeError(f"the model's output ({type(output).__name__}) has no floating tensor to make a loss of")
    return sum(leaf.float().pow(2).mean() for leaf in leaves)  # type: ignore[return-value]


def _step(model: torch.nn.Module, step: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[], Any]:
    """The callable that runs the step once (what is timed), returning what is compared."""
    if step == "forward":
        def forward() -> Any:
            with torch.no_grad():
                return model(*args, **kwargs)
        return forward
    if step != "train":
        raise ValueError(f"unknown model step {step!r}")

    def train() -> Any:
        for p in model.parameters():
            p.grad = None
        loss = _loss(model(*args, **kwargs))
        loss.backward()
        return loss
    return train


def _on(value: Any, device: str, dtype: torch.dtype | None = None) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.to(device)
        return value.to(dtype) if dtype is not None and value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_on(v, device, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _on(v, device, dtype) for k, v in value.items()}
    return value


def _check_memory(model: torch.nn.Module, device: str) -> None:
    dev = torch.device(device)
    if dev.type != "cuda":
        return
    need = MEMORY_FACTOR * sum(p.numel() * p.element_size() for p in model.parameters())
    free, _ = torch.cuda.mem_get_info(dev)
    if need > free:
        raise MemoryError(f"model too large for {device}: about {need / 2**30:.1f} GiB needed, {free / 2**30:.1f} GiB free")


class _Run:
    """One model on one device for one step: the copy, its inputs, and what the step produced (on the CPU)."""

    def __init__(self, built: BuiltModel, step: str, batch: int, device: str, role: str,
                 dtype: torch.dtype | None = None) -> None:
        self.device = device
        if role == "device":
            _check_memory(built.model, device)
        self.model = same_weights(built.model, device, dtype)
        self.model.train(step == "train")
        args, kwargs = built.make_inputs(batch)
        self.cpu_inputs = (args, kwargs)
        self.call = _step(self.model, step, _on(args, device, dtype), _on(kwargs, device, dtype))
        self.step = step
        self.role = role

    def run(self) -> dict[str, Any]:
        """Run the step once; ``{"out": [...]} `` or ``{"loss": t, "grads": {name: t}}`` on the CPU."""
        with _role(self.role):
            output = self.call()
        if self.step == "forward":
            return {"out": [t.detach().cpu() for t in float_leaves(output)]}
        grads = {n: p.grad.detach().cpu() for n, p in self.model.named_parameters() if p.grad is not None}
        return {"loss": output.detach().cpu(), "grads": grads}


def _error(ref: dict[str, Any], got: dict[str, Any]) -> tuple[float, str, float]:
    """(worst error / its tolerance, where, that tolerance) -- a ratio > 1 is a disagreement."""
    worst, where, tol_used = 0.0, "", FORWARD_TOL
    if "out" in ref:
        pairs = [(f"output[{i}]", r, g, FORWARD_TOL) for i, (r, g) in enumerate(zip(ref["out"], got["out"]))]
        if len(ref["out"]) != len(got["out"]):
            return float("inf"), "the structure of the outputs", FORWARD_TOL
    else:
        pairs = [("loss", ref["loss"], got["loss"], FORWARD_TOL)]
        missing = set(ref["grads"]) ^ set(got["grads"])
        if missing:
            return float("inf"), f"the presence of the gradient of {sorted(missing)[0]}", GRAD_TOL
        pairs += [(f"grad {n}", ref["grads"][n], got["grads"][n], GRAD_TOL) for n in ref["grads"]]
    for where_i, r, g, tol in pairs:
        ratio = scaled_error(r, g) / tol
        if ratio > worst:
            worst, where, tol_used = ratio, where_i, tol
    return worst, where, tol_used


def _distance(exact: dict[str, Any], got: dict[str, Any]) -> float:
    """The worst relative-to-scale error of ``got`` against the float64 result."""
    if "out" in exact:
        return tree_error(exact["out"], got["out"])
    return max([scaled_error(exact["loss"], got["loss"])]
               + [scaled_error(exact["grads"][n], got["grads"][n]) for n in exact["grads"] if n in got["grads"]])


def run_model_case(adapter: Adapter, case: CaseDescriptor, timing: TimingConfig, do_timing: bool = True) -> dict[str, Any]:
    """Execute a model case on ``adapter.device`` (see the module docstring); a JSON-ready result like
    :func:`portabench.worker.execute.run_case`'s."""
    started = time.perf_counter_ns()
    result: dict[str, Any] = {"case_id": case.case_id}
    step, batch = parse_source(case.source)
    details: dict[str, Any] = {"step": step, "batch": batch}
    compare = bool(case.extra.get("compare", True))
    reference = adapter.reference if compare and adapter.reference not in (None, adapter.device) else None

    def done(outcome: str, message: str | None = None, **fields: Any) -> dict[str, Any]:
        text = (message or "") + ("\n" if message else "") + MODEL_DETAILS_PREFIX + encode_details(details)
        return {**result, **fields, "outcome": outcome, "message": text, "wall_ns": time.perf_counter_ns() - started}

    try:
        built = _built(case.function)
    except Exception as exc:  # an architecture that cannot be built here is no portability failure
        return {**done(REFERENCE_FAILED), **_exc_evidence(exc), "message": f"model could not be built: {exc}"[:4000]}
    ref_result = None
    if reference is not None:
        try:
            ref_run = _Run(built, step, batch, reference, "reference")
            ref_result = ref_run.run()
        except Exception as exc:
            adapter.after_failure()
            return {**done(REFERENCE_FAILED), **_exc_evidence(exc)}

    try:
        run = _Run(built, step, batch, adapter.device, "device")
        with RaisingModule(run.model) as raising:
            got = run.run()
        adapter.timer(adapter.device).sync()
    except Exception as exc:
        culprit = raising.culprit if "raising" in locals() else None
        if culprit is not None:
            details["layer"] = culprit.to_json()
        adapter.after_failure()
        evidence = _exc_evidence(exc)
        restart = adapter.needs_restart(evidence["message"])
        return {**done(FAILED, evidence["message"]), **{k: v for k, v in evidence.items() if k != "message"},
                "restart_worker": restart}

    if ref_result is None or reference is None:
        result["check"] = "none"
    else:
        ratio, where, tol = _error(ref_result, got)
        details.update(err_ratio=ratio, where=where)
        error = ratio * tol
        details["err"] = error
        result.update(check="values", max_rel_err=error)
        if ratio > 1:
            verdict = _arbitrate(built, step, batch, reference, ref_result, got, details)
            culprit = _localise(built, step, batch, reference, adapter.device, ref_result, got)
            if culprit is not None:
                details["layer"] = culprit.to_json()
            text = (f"{where} differs from the reference (error {error:.3g} of scale, tolerance {tol:g})"
                    + (f"; diverging layer {culprit.path or '<model>'} ({culprit.type})" if culprit else ""))
            if verdict != "reference":
                return done(FAILED, text, mismatch=True, check="values")
            result["check"] = "values-f64"
            details["note"] = text + "; the float64 arbiter found the reference further from exact"
    if do_timing:
        try:
            t = measure(run.call, adapter.timer(adapter.device), timing)
            result.update(time_median_ns=t.median_ns, time_iqr_ns=t.iqr_ns, time_repeats=t.repeats)
        except Exception as exc:
            adapter.after_failure()
            result["timing_error"] = _exc_evidence(exc)["message"]
    return done(PASSED, details.get("note"))


_LAST_BUILT: dict[str, BuiltModel] = {}


def _built(name: str) -> BuiltModel:
    """The model, built once for the consecutive cases of one model in this worker (never mutated: every
    run works on a copy)."""
    if name not in _LAST_BUILT:
        _LAST_BUILT.clear()
        _LAST_BUILT[name] = build_model(name)
    return _LAST_BUILT[name]


def _arbitrate(built: BuiltModel, step: str, batch: int, reference: str, ref_result: dict[str, Any],
               got: dict[str, Any], details: dict[str, Any]) -> str:
    """Run the step in float64 on the reference; store both errors; return who is further from exact
    (``device``, ``reference``) or ``unknown`` when float64 does not run."""
    try:
        exact = _Run(built, step, batch, reference, "exact", torch.float64).run()
    except Exception as exc:
        details["f64"] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        return "unknown"
    device_err, reference_err = _distance(exact, got), _distance(exact, ref_result)
    verdict = "device" if device_err > ARBITER_SLACK * reference_err else "reference"
    details["f64"] = {"device_err": device_err, "reference_err": reference_err, "further": verdict}
    return verdict


def _localise(built: BuiltModel, step: str, batch: int, reference: str, device: str,
              ref_result: dict[str, Any], got: dict[str, Any]) -> Culprit | None:
    """The diverging layer: by forward re-runs; for a training step whose forward agrees, by gradients."""
    try:
        training = step == "train"  # localise in the step's mode (batch statistics in training)
        culprit = first_diverging(same_weights(built.model, reference).train(training),
                                  same_weights(built.model, device).train(training),
                                  reference, device, built.make_inputs(batch), FORWARD_TOL, side=_role)
        if culprit is None and step == "train":
            culprit = gradient_culprit(built.model, ref_result["grads"], got["grads"], GRAD_TOL)
        return culprit
    except Exception:  # localisation is best effort: the comparison result stands without it
        return None


@contextmanager
def _role(name: str) -> Iterator[None]:
    token = _ROLE.set(name)
    try:
        yield
    finally:
        _ROLE.reset(token)
