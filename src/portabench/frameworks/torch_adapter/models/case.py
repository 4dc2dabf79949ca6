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
   further from exact than :data:`ARBITER_SLACK` times the reference's error on some
   tensor where the two disagree (tensor by tensor: :func:`_judge`). The
   arbiter is skipped (``f64.skipped``; the case fails) when the reference's float32
   step took longer than :data:`F64_MAX_REFERENCE_S`: float64 costs 10-20 times as
   much on a CPU, and would make one huge model cost as much as a whole sweep.
5. A failure names the layer (only a failure: a case the arbiter clears is not
   localised): the module that raised, or the first module whose output differs
   when re-run alone on the reference's input (:mod:`.localise`, in the step's
   mode); for a training step whose forward outputs agree, the module owning the
   first parameter, in backward order, whose gradient differs (without the
   forward re-runs: the step kept its outputs).
6. Timing: the step at the case's batch, synchronised as function timing is.

Modes: in ``compile`` / ``export`` the device's forward goes through the adapter's
``execute`` (``frameworks/torch_adapter/compiled.py``: ``torch.compile`` of the
model, or ``torch.export`` of it), and its ``compile_info`` is in the result; the
reference is eager (on the run's reference device, which may be the device itself).
``export`` is inference-only: its training steps are ``reference_failed`` with
the message "not applicable".

Optional step ``autocast`` (:data:`AUTOCAST_ENV`): an eval forward under
``torch.autocast(<device type>, torch.bfloat16)`` on both sides, compared relative to
scale against :data:`AUTOCAST_TOL` (float64 arbitrates as for the others).

Details go in the result's ``message``: a human line, then a line
``MODEL_DETAILS_PREFIX + JSON`` (read by :mod:`portabench.models.details`).
Cases with ``extra["compare"] == False`` (the larger batch) are timed only.
"""

from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from portabench.cases import FAILED, PASSED, REFERENCE_FAILED, CaseDescriptor
from portabench.frameworks.base import Adapter
from portabench.frameworks.reference import reference_device
from portabench.frameworks.timer import TimingConfig, measure
from portabench.frameworks.torch_adapter.compiled import TorchPrepared
from portabench.frameworks.torch_adapter.models.localise import (
    Culprit,
    RaisingModule,
    first_diverging,
    float_leaves,
    grad_scale_floor,
    gradient_culprit,
    magnitude,
    same_weights,
    scaled_error,
    set_training,
    tree_error,
)
from portabench.frameworks.torch_adapter.models.sources import BuiltModel, build_model
from portabench.models.arbiter import judge
from portabench.models.details import MODEL_DETAILS_PREFIX, encode_details
from portabench.models.tolerances import AUTOCAST_TOL, F64_MAX_REFERENCE_S, FORWARD_TOL, GRAD_TOL
from portabench.protocol import MESSAGE_CHARS, QUOTE_CHARS
from portabench.protocol import exception_evidence as _exc_evidence

#: worker environment variable: ``bfloat16`` (or ``1``) adds the autocast forward step to every model
AUTOCAST_ENV = "PORTABENCH_MODEL_AUTOCAST"
#: worker environment variable: comma-separated batches whose cases are listed (default: every model batch),
#: e.g. ``8`` for a comparison-only pass that leaves the timing-only batch to a timing pass
BATCHES_ENV = "PORTABENCH_MODEL_BATCHES"
#: modes that only run inference (their training steps are not applicable)
INFERENCE_ONLY_MODES = ("export",)
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


def autocast_requested() -> bool:
    """Whether this worker adds the bfloat16 autocast step (:data:`AUTOCAST_ENV`)."""
    return os.environ.get(AUTOCAST_ENV, "").lower() in ("1", "bfloat16", "bf16", "true")


def model_descriptors(names: list[str], batches: tuple[int, ...], compared_batch: int,
                      autocast: bool | None = None) -> list[CaseDescriptor]:
    """The cases of each model: forward and train step at each batch (those of :data:`BATCHES_ENV` when it is
    set); only ``compared_batch`` is compared. With ``autocast`` (default: :func:`autocast_requested`), an autocast forward at ``compared_batch`` too."""
    chosen = os.environ.get(BATCHES_ENV, "").replace(" ", "")
    if chosen:
        batches = tuple(b for b in batches if str(b) in chosen.split(","))
    cases = [
        CaseDescriptor(name, f"model:{step}@{batch}", "float32", 0, False,
                       {"model": name, "compare": batch == compared_batch})
        for name in names for batch in batches for step in ("forward", "train")
    ]
    if autocast_requested() if autocast is None else autocast:
        cases += [CaseDescriptor(name, f"model:autocast@{compared_batch}", "bfloat16", 0, False,
                                 {"model": name, "compare": True}) for name in names]
    return cases


def _loss(output: Any) -> torch.Tensor:
    leaves = float_leaves(output)
    if not leaves:
        raise TypeError(f"the model's output ({type(output).__name__}) has no floating tensor to make a loss of")
    return sum(leaf.float().pow(2).mean() for leaf in leaves)  # type: ignore[return-value]


def _step(model: torch.nn.Module, step: str, call: Callable[[], Any], device: str) -> Callable[[], Any]:
    """The callable that runs the step once (what is timed); ``call()`` is the model's forward on its inputs
    (eager, or through the adapter's compiler). Forward steps return the output; the train step
    ``(loss, output)``."""
    if step == "forward":
        def forward() -> Any:
            with torch.no_grad():
                return call()
        return forward
    if step == "autocast":
        device_type = torch.device(device).type

        def autocast() -> Any:
            with torch.no_grad(), torch.autocast(device_type, dtype=torch.bfloat16):
                return call()
        return autocast
    if step != "train":
        raise ValueError(f"unknown model step {step!r}")

    def train() -> Any:
        for p in model.parameters():
            p.grad = None
        output = call()
        loss = _loss(output)
        loss.backward()
        return loss, output
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
    """One model on one device for one step: the copy, its inputs, and what the step produced (on the CPU).

    With ``adapter`` (the device under test), the forward goes through ``adapter.execute`` (the run's
    mode: eager, or compiled) and :attr:`prepared` is what the adapter's ``compile_info`` describes.
    """

    def __init__(self, built: BuiltModel, step: str, batch: int, device: str, role: str,
                 dtype: torch.dtype | None = None, adapter: Adapter | None = None) -> None:
        self.device = device
        if role == "device":
            _check_memory(built.model, device)
        self.model = same_weights(built.model, device, dtype)
        set_training(self.model, step == "train")
        args, kwargs = built.make_inputs(batch)
        args, kwargs = _on(args, device, dtype), _on(kwargs, device, dtype)
        model = self.model
        self.prepared: TorchPrepared | None = None
        if adapter is None:
            forward: Callable[[], Any] = lambda: model(*args, **kwargs)  # noqa: E731
        else:
            prepared = TorchPrepared(call=lambda: model(*args, **kwargs), fn=model, args=args, kwargs=kwargs)
            self.prepared = prepared
            forward = lambda: adapter.execute(prepared)  # noqa: E731
        self.call = _step(self.model, step, forward, device)
        self.step = step
        self.role = role

    def run(self) -> dict[str, Any]:
        """Run the step once; ``{"out": [...]}`` (forward steps) or ``{"loss": t, "grads": {name: t},
        "out": [...]}`` (train), on the CPU."""
        with _role(self.role):
            output = self.call()
        if self.step != "train":
            return {"out": [t.detach().float().cpu() for t in float_leaves(output)]}
        loss, output = output
        grads = {n: p.grad.detach().cpu() for n, p in self.model.named_parameters() if p.grad is not None}
        return {"loss": loss.detach().cpu(), "grads": grads, "out": [t.detach().cpu() for t in float_leaves(output)]}


def _error(ref: dict[str, Any], got: dict[str, Any], out_tol: float = FORWARD_TOL) -> tuple[float, str, float]:
    """(worst error / its tolerance, where, that tolerance) -- a ratio > 1 is a disagreement. A train step is
    judged by its loss and gradients; a forward step by its outputs (against ``out_tol``)."""
    worst, where, tol_used = 0.0, "", out_tol
    if "grads" not in ref:
        pairs = [(f"output[{i}]", r, g, out_tol) for i, (r, g) in enumerate(zip(ref["out"], got["out"], strict=False))]
        if len(ref["out"]) != len(got["out"]):
            return float("inf"), "the structure of the outputs", out_tol
    else:
        pairs = [("loss", ref["loss"], got["loss"], FORWARD_TOL)]
        missing = set(ref["grads"]) ^ set(got["grads"])
        if missing:
            return float("inf"), f"the presence of the gradient of {sorted(missing)[0]}", GRAD_TOL
        pairs += [(f"grad {n}", ref["grads"][n], got["grads"][n], GRAD_TOL) for n in ref["grads"]]
    floor = grad_scale_floor(ref["grads"]) if "grads" in ref else 0.0
    for where_i, r, g, tol in pairs:
        ratio = scaled_error(r, g, floor if where_i.startswith("grad ") else 0.0) / tol
        if ratio > worst:
            worst, where, tol_used = ratio, where_i, tol
    return worst, where, tol_used


def _tensors(result: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The compared tensors of a step's result by name (as ``_error`` names them)."""
    if "grads" not in result:
        return {f"output[{i}]": t for i, t in enumerate(result["out"])}
    return {"loss": result["loss"], **{f"grad {n}": g for n, g in result["grads"].items()}}


def _judge(exact: dict[str, Any], ref: dict[str, Any], got: dict[str, Any], out_tol: float) -> dict[str, Any]:
    """The float64 arbiter's verdict on a disagreeing step (:func:`portabench.models.arbiter.judge`)."""
    return judge(_tensors(exact), _tensors(ref), _tensors(got), out_tol, scaled_error, magnitude)


def run_model_case(adapter: Adapter, case: CaseDescriptor, timing: TimingConfig, do_timing: bool = True) -> dict[str, Any]:
    """Execute a model case on ``adapter.device`` in the adapter's mode (see the module docstring); a
    JSON-ready result like :func:`portabench.worker.execute.run_case`'s."""
    try:
        return _run_model_case(adapter, case, timing, do_timing)
    finally:
        _release_compiled(adapter)


def _release_compiled(adapter: Adapter) -> None:
    """In a compiled mode, drop what the compiler still holds of the case's model (its last prepared call, and
    Dynamo's caches, which reference the model's parameters): a model's device memory held after the case
    would make the worker's hygiene check recycle the worker after every case."""
    compiler = getattr(adapter, "_compiler", None)
    if compiler is None:
        return
    compiler._prepared = compiler._compiled = None
    import torch._dynamo

    torch._dynamo.reset()


def _run_model_case(adapter: Adapter, case: CaseDescriptor, timing: TimingConfig, do_timing: bool) -> dict[str, Any]:  # noqa: C901 - one step after another (build, reference, device, compare, time); splitting it is left open
    started = time.perf_counter_ns()
    result: dict[str, Any] = {"case_id": case.case_id}
    step, batch = parse_source(case.source)
    details: dict[str, Any] = {"step": step, "batch": batch}
    compare = bool(case.extra.get("compare", True))
    reference = reference_device(adapter) if compare else None
    out_tol = AUTOCAST_TOL if step == "autocast" else FORWARD_TOL

    def done(outcome: str, message: str | None = None, **fields: Any) -> dict[str, Any]:
        text = (message or "") + ("\n" if message else "") + MODEL_DETAILS_PREFIX + encode_details(details)
        return {**result, **fields, "outcome": outcome, "message": text, "wall_ns": time.perf_counter_ns() - started}

    if step == "train" and adapter.mode in INFERENCE_ONLY_MODES:
        return done(REFERENCE_FAILED, f"not applicable: {adapter.mode} mode is inference-only (no training step)")
    try:
        built = _built(case.function)
    except Exception as exc:  # an architecture that cannot be built here is no portability failure
        return {**done(REFERENCE_FAILED), **_exc_evidence(exc), "message": f"model could not be built: {exc}"[:MESSAGE_CHARS]}
    ref_result, ref_seconds = None, 0.0
    if reference is not None:
        try:
            ref_run = _Run(built, step, batch, reference, "reference")
            ref_start = time.perf_counter()
            ref_result = ref_run.run()
            ref_seconds = time.perf_counter() - ref_start
            del ref_run
        except Exception as exc:
            adapter.after_failure()
            return {**done(REFERENCE_FAILED), **_exc_evidence(exc)}

    run: _Run | None = None
    try:
        run = _Run(built, step, batch, adapter.device, "device", adapter=adapter)
        first_start = time.perf_counter_ns()
        with RaisingModule(run.model) as raising:
            got = run.run()
        adapter.timer(adapter.device).sync()
        first_call_ns = time.perf_counter_ns() - first_start
    except Exception as exc:
        culprit = raising.culprit if "raising" in locals() else None
        if culprit is not None:
            details["layer"] = culprit.to_json()
        adapter.after_failure()
        evidence = _exc_evidence(exc)
        restart = adapter.needs_restart(evidence["message"])
        return {**done(FAILED, evidence["message"]), **{k: v for k, v in evidence.items() if k != "message"},
                **_compile_fields(adapter, run), "restart_worker": restart}
    result.update(_compile_fields(adapter, run))

    if ref_result is None or reference is None:
        result["check"] = "none"
    else:
        ratio, where, tol = _error(ref_result, got, out_tol)
        details.update(err_ratio=ratio, where=where)
        error = ratio * tol
        details["err"] = error
        result.update(check="values", max_rel_err=error)
        if ratio > 1:
            verdict = _arbitrate(built, step, batch, reference, ref_result, got, details, ref_seconds)
            text = f"{where} differs from the reference (error {error:.3g} of scale, tolerance {tol:g})"
            if verdict != "reference":  # a failure: name the layer
                culprit = _localise(built, step, batch, reference, adapter.device, ref_result, got, out_tol)
                if culprit is not None:
                    details["layer"] = culprit.to_json()
                    text += f"; diverging layer {culprit.path or '<model>'} ({culprit.type})"
                return done(FAILED, text, mismatch=True, check="values")
            result["check"] = "values-f64"
            details["note"] = text + "; the float64 arbiter found the reference further from exact"
    if do_timing:
        try:
            t = measure(run.call, adapter.timer(adapter.device), timing)
            result.update(time_median_ns=t.median_ns, time_iqr_ns=t.iqr_ns, time_repeats=t.repeats)
            if run.prepared is not None and result.get("compile_info"):  # as worker/execute.py does for functions
                result["compile_ns"] = max(first_call_ns - t.median_ns, 0.0)
        except Exception as exc:
            adapter.after_failure()
            result["timing_error"] = _exc_evidence(exc)["message"]
    if run.prepared is not None and result.get("compile_info"):
        if run.prepared.compile_ns is not None:  # measured by the compiler (export)
            result["compile_ns"] = float(run.prepared.compile_ns)
        else:  # untimed: the first call (compile + one run) is the bound
            result.setdefault("compile_ns", float(first_call_ns))
    return done(PASSED, details.get("note"))


def _compile_fields(adapter: Adapter, run: _Run | None) -> dict[str, Any]:
    """``compile_info`` of the device's run in a compiled mode (what ``worker/execute.py`` stores for functions)."""
    if run is None or run.prepared is None:
        return {}
    info = adapter.compile_info(run.prepared)
    return {} if info is None else {"compile_info": info}


_LAST_BUILT: dict[str, BuiltModel] = {}


def _built(name: str) -> BuiltModel:
    """The model, built once for the consecutive cases of one model in this worker (never mutated: every
    run works on a copy)."""
    if name not in _LAST_BUILT:
        _LAST_BUILT.clear()
        _LAST_BUILT[name] = build_model(name)
    return _LAST_BUILT[name]


def _arbitrate(built: BuiltModel, step: str, batch: int, reference: str, ref_result: dict[str, Any],
               got: dict[str, Any], details: dict[str, Any], ref_seconds: float = 0.0) -> str:
    """Run the step in float64 on the reference; store both errors; return who is further from exact
    (``device``, ``reference``) or ``unknown`` when float64 does not run or is skipped (the reference's
    float32 step took ``ref_seconds`` > :data:`F64_MAX_REFERENCE_S`). The autocast step is arbitrated by
    the float64 forward."""
    if ref_seconds > F64_MAX_REFERENCE_S:
        details["f64"] = {"skipped": f"the reference step took {ref_seconds:.1f} s (> {F64_MAX_REFERENCE_S:g} s)"}
        return "unknown"
    try:
        exact = _Run(built, "forward" if step == "autocast" else step, batch, reference, "exact", torch.float64).run()
    except Exception as exc:
        details["f64"] = {"error": f"{type(exc).__name__}: {str(exc)[:QUOTE_CHARS]}"}
        return "unknown"
    details["f64"] = _judge(exact, ref_result, got, AUTOCAST_TOL if step == "autocast" else FORWARD_TOL)
    return str(details["f64"]["further"])


def _localise(built: BuiltModel, step: str, batch: int, reference: str, device: str,
              ref_result: dict[str, Any], got: dict[str, Any], out_tol: float = FORWARD_TOL) -> Culprit | None:
    """The diverging layer: by forward re-runs; for a training step whose forward outputs agree, by gradients
    alone (the forward re-runs would find nothing)."""
    try:
        training = step == "train"  # localise in the step's mode (batch statistics in training)
        culprit = None
        if not training or tree_error(ref_result["out"], got["out"]) > FORWARD_TOL:
            autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if step == "autocast" else None
            ref_autocast = torch.autocast(torch.device(reference).type, dtype=torch.bfloat16) if autocast else None

            @contextmanager
            def side(name: str) -> Iterator[None]:
                with _role(name), (ref_autocast if name == "reference" else autocast) or _nothing():
                    yield

            culprit = first_diverging(set_training(same_weights(built.model, reference), training),
                                      set_training(same_weights(built.model, device), training),
                                      reference, device, built.make_inputs(batch), out_tol, side=side)
        if culprit is None and training:
            culprit = gradient_culprit(built.model, ref_result["grads"], got["grads"], GRAD_TOL)
        return culprit
    except Exception:  # localisation is best effort: the comparison result stands without it
        return None


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def _role(name: str) -> Iterator[None]:
    token = _ROLE.set(name)
    try:
        yield
    finally:
        _ROLE.reset(token)
