"""Whole Keras models as cases (worker side): ``keras.applications`` architectures with ``weights=None``.

A model is named ``keras:<Architecture>`` (``keras:ResNet50``), optionally with an
input size, ``keras:MobileNetV3Small@96`` (a square image of that side; default: the
architecture's own default size). Its cases are those of the PyTorch model cases
(docs/cases.md, "Whole models"): ``model:forward@8`` and ``model:train@8`` compared
with the reference device, ``model:forward@32`` and ``model:train@32`` timed only.

1. The model is built once per worker on the CPU under ``keras.utils.set_random_seed(0)``;
   each device gets a clone built under ``tf.device`` holding the same weights
   (``set_weights``), and the same inputs (seeded per batch).
2. ``forward``: ``model(x, training=False)``; compared: the output.
   ``train``: ``model(x, training=True)`` with every ``Dropout`` rate set to 0, the
   scalar loss ``mean(out**2)``, ``tf.GradientTape`` gradients of the trainable
   variables; compared: the loss and every gradient.
3. Comparison relative to scale, ``max|got - ref| / max|ref|`` per tensor, against the
   tolerances of the PyTorch model cases (1e-3 outputs and loss, 1e-2 gradients).
4. On a disagreement, the step in float64 on the reference (a clone under the
   ``float64`` dtype policy) arbitrates tensor by tensor as for PyTorch; the layer is
   not localised for Keras models (not built yet): the result names the tensor.
5. Timing: the step at the case's batch, synchronised as function timing is.

Details travel in the result's ``message`` in the same ``model-details:`` line as the
PyTorch model cases (:mod:`portabench.models.details`), so the report's Models
section reads them unchanged.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from portabench.cases import FAILED, PASSED, REFERENCE_FAILED, CaseDescriptor
from portabench.frameworks.base import Adapter
from portabench.frameworks.reference import reference_device
from portabench.frameworks.tensorflow_adapter.devices import parse_device
from portabench.frameworks.timer import TimingConfig, measure
from portabench.models.arbiter import gradient_floor, judge
from portabench.models.details import MODEL_DETAILS_PREFIX, encode_details
from portabench.models.tolerances import (
    F64_MAX_REFERENCE_S,
    FORWARD_TOL,
    GRAD_TOL,
)
from portabench.protocol import MESSAGE_CHARS, QUOTE_CHARS
from portabench.protocol import exception_evidence as _exc_evidence

#: batch sizes at which each model is run and timed; only the first is compared
MODEL_BATCHES = (8, 32)
COMPARED_BATCH = 8
BUILD_SEED = 0
PREFIX = "keras:"


@dataclass(frozen=True)
class KerasEntry:
    """One architecture of the catalog (the fields of the PyTorch catalog's entries)."""

    name: str
    family: str
    size: str



def model_descriptors(names: list[str]) -> list[CaseDescriptor]:
    """Forward and train step at each of :data:`MODEL_BATCHES`; only :data:`COMPARED_BATCH` is compared."""
    return [CaseDescriptor(name, f"model:{step}@{batch}", "float32", 0, False,
                           {"model": name, "compare": batch == COMPARED_BATCH})
            for name in names for batch in MODEL_BATCHES for step in ("forward", "train")]


def _size_class(arch: str) -> str:
    if re.search(r"Mobile|Small|Tiny|B0$|V2B0|121", arch):
        return "small"
    if re.search(r"Large|XLarge|101|152|201|B[5-7]$|V2L|VGG19", arch):
        return "large"
    return "medium"


def catalog() -> list[dict[str, str]]:
    """Every ``keras.applications`` architecture: ``[{name, family, size}]``."""
    import keras

    out = []
    for arch in sorted(n for n in dir(keras.applications) if n[:1].isupper()):
        module = getattr(getattr(keras.applications, arch), "__module__", "") or ""
        family = module.rsplit(".", 1)[-1] or arch
        out.append(asdict(KerasEntry(f"{PREFIX}{arch}", f"keras:{family}", _size_class(arch))))
    return out


@dataclass
class BuiltKeras:
    """A model on the CPU and how to make its inputs and clones."""

    name: str
    arch: str
    size: int | None
    model: Any

    def make_inputs(self, batch: int) -> np.ndarray:
        shape = tuple(int(d) for d in self.model.input_shape[1:])
        return np.random.default_rng(1000 + batch).standard_normal((batch, *shape)).astype(np.float32)

    def clone(self, device: str, dtype: str | None = None) -> Any:
        """A model of the same architecture on ``device`` (optionally under a dtype policy) with the same weights."""
        import keras

        policy = keras.config.dtype_policy()
        try:
            if dtype is not None:
                keras.config.set_dtype_policy(dtype)
            with tf.device(parse_device(device).name):
                model = _construct(self.arch, self.size)
                model.set_weights([w.astype(dtype or w.dtype) for w in self.model.get_weights()])
        finally:
            keras.config.set_dtype_policy(policy)
        _no_dropout(model)
        return model


def _construct(arch: str, size: int | None) -> Any:
    import keras

    factory = getattr(keras.applications, arch, None)
    if factory is None or not arch[:1].isupper():
        raise LookupError(f"keras {keras.__version__} has no application {arch!r}")
    kwargs: dict[str, Any] = {"weights": None}
    if size is not None:
        kwargs["input_shape"] = (size, size, 3)
    return factory(**kwargs)


def _no_dropout(model: Any) -> None:
    import keras

    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0


def build(name: str) -> BuiltKeras:
    """``keras:Arch`` or ``keras:Arch@SIZE``, built on the CPU under :data:`BUILD_SEED`."""
    import keras

    arch, _, size = name.removeprefix(PREFIX).partition("@")
    keras.utils.set_random_seed(BUILD_SEED)
    with tf.device("/device:CPU:0"):
        model = _construct(arch, int(size) if size else None)
    _no_dropout(model)
    return BuiltKeras(name, arch, int(size) if size else None, model)


_LAST: dict[str, BuiltKeras] = {}


def _built(name: str) -> BuiltKeras:
    if name not in _LAST:
        _LAST.clear()
        _LAST[name] = build(name)
    return _LAST[name]


def _step(model: Any, step: str, x: Any, device: str) -> Any:
    """The callable that runs the step once: forward -> {"out"}; train -> {"loss", "grads"} (tensors)."""
    dev = parse_device(device).name

    def forward() -> dict[str, Any]:
        with tf.device(dev):
            return {"out": model(x, training=False)}

    def train() -> dict[str, Any]:
        with tf.device(dev):
            with tf.GradientTape() as tape:
                out = model(x, training=True)
                loss = tf.reduce_mean(tf.square(tf.cast(out, tf.float32 if out.dtype != tf.float64 else tf.float64)))
            grads = tape.gradient(loss, model.trainable_variables)
        return {"loss": loss, "grads": {v.path: g for v, g in zip(model.trainable_variables, grads, strict=True) if g is not None},
                "out": out}
    return forward if step == "forward" else train


def _host(result: dict[str, Any]) -> dict[str, np.ndarray]:
    """The compared tensors by name, as float64 numpy arrays."""
    if "grads" not in result:
        return {"output[0]": np.asarray(result["out"], dtype=np.float64)}
    out = {"loss": np.asarray(result["loss"], dtype=np.float64)}
    for path, grad in result["grads"].items():
        value = tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices) else grad
        out[f"grad {path}"] = np.asarray(value, dtype=np.float64)
    return out


def magnitude(t: np.ndarray) -> float:
    """The largest finite |value| of ``t`` (0.0 when it has none)."""
    finite = np.asarray(t)[np.isfinite(t)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def scaled_error(ref: np.ndarray, got: np.ndarray, floor: float = 0.0) -> float:
    """max |got - ref| / max(max |ref|, ``floor``); inf when shapes or non-finite places differ."""
    if ref.shape != got.shape or not np.array_equal(np.isfinite(ref), np.isfinite(got)):
        return float("inf")
    finite = np.isfinite(ref)
    if not finite.any():
        return 0.0
    diff, scale = float(np.abs(ref[finite] - got[finite]).max()), max(float(np.abs(ref[finite]).max()), floor)
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def _tol(name: str) -> float:
    return GRAD_TOL if name.startswith("grad ") else FORWARD_TOL


def _error(ref: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> tuple[float, str, float]:
    """(worst error / its tolerance, where, that tolerance)."""
    worst, where, tol_used = 0.0, "", FORWARD_TOL
    floor = gradient_floor(ref, magnitude)
    for name, r in ref.items():
        if name not in got:
            return float("inf"), f"the presence of {name}", _tol(name)
        ratio = scaled_error(r, got[name], floor if name.startswith("grad ") else 0.0) / _tol(name)
        if ratio > worst:
            worst, where, tol_used = ratio, name, _tol(name)
    return worst, where, tol_used


def _judge(exact: dict[str, np.ndarray], ref: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> dict[str, Any]:
    """The float64 arbiter's verdict, as for PyTorch (:func:`portabench.models.arbiter.judge`)."""
    return judge(exact, ref, got, FORWARD_TOL, scaled_error, magnitude)


def run_model_case(adapter: Adapter, case: CaseDescriptor, timing: TimingConfig, do_timing: bool = True) -> dict[str, Any]:
    """Execute a Keras model case on ``adapter.device`` (see the module docstring); a result like ``run_case``'s."""
    started = time.perf_counter_ns()
    step, _, batch_text = case.source.removeprefix("model:").partition("@")
    batch = int(batch_text or 1)
    details: dict[str, Any] = {"step": step, "batch": batch}
    result: dict[str, Any] = {"case_id": case.case_id}
    reference = reference_device(adapter) if case.extra.get("compare", True) else None

    def done(outcome: str, message: str | None = None, **fields: Any) -> dict[str, Any]:
        text = (message or "") + ("\n" if message else "") + MODEL_DETAILS_PREFIX + encode_details(details)
        return {**result, **fields, "outcome": outcome, "message": text, "wall_ns": time.perf_counter_ns() - started}

    if adapter.mode != "eager":
        return done(REFERENCE_FAILED, f"not applicable: Keras model cases run in eager mode only, not {adapter.mode}")
    try:
        built = _built(case.function)
        x = built.make_inputs(batch)
    except Exception as exc:
        return {**done(REFERENCE_FAILED), **_exc_evidence(exc), "message": f"model could not be built: {exc}"[:MESSAGE_CHARS]}
    ref_host, ref_seconds = None, 0.0
    if reference is not None:
        try:
            ref_call = _step(built.clone(reference), step, x, reference)
            t0 = time.perf_counter()
            ref_host = _host(ref_call())
            ref_seconds = time.perf_counter() - t0
        except Exception as exc:
            adapter.after_failure()
            return {**done(REFERENCE_FAILED), **_exc_evidence(exc)}
    try:
        call = _step(built.clone(adapter.device), step, x, adapter.device)
        got_host = _host(call())
    except Exception as exc:
        adapter.after_failure()
        evidence = _exc_evidence(exc)
        return {**done(FAILED, evidence["message"]), **{k: v for k, v in evidence.items() if k != "message"},
                "restart_worker": adapter.needs_restart(evidence["message"])}
    if ref_host is None:
        result["check"] = "none"
    else:
        ratio, where, tol = _error(ref_host, got_host)
        details.update(err_ratio=ratio, where=where, err=ratio * tol)
        result.update(check="values", max_rel_err=ratio * tol)
        if ratio > 1 and reference is not None:  # a reference output implies a reference device
            verdict = _arbitrate(built, step, x, reference, ref_host, got_host, details, ref_seconds)
            text = f"{where} differs from the reference (error {ratio * tol:.3g} of scale, tolerance {tol:g})"
            if verdict != "reference":
                return done(FAILED, text, mismatch=True, check="values")
            result["check"] = "values-f64"
            details["note"] = text + "; the float64 arbiter found the reference further from exact"
    if do_timing:
        try:
            t = measure(call, adapter.timer(adapter.device), timing)
            result.update(time_median_ns=t.median_ns, time_iqr_ns=t.iqr_ns, time_repeats=t.repeats)
        except Exception as exc:
            adapter.after_failure()
            result["timing_error"] = _exc_evidence(exc)["message"]
    return done(PASSED, details.get("note"))


def _arbitrate(built: BuiltKeras, step: str, x: np.ndarray, reference: str, ref_host: dict[str, np.ndarray],
               got_host: dict[str, np.ndarray], details: dict[str, Any], ref_seconds: float) -> str:
    if ref_seconds > F64_MAX_REFERENCE_S:
        details["f64"] = {"skipped": f"the reference step took {ref_seconds:.1f} s (> {F64_MAX_REFERENCE_S:g} s)"}
        return "unknown"
    try:
        exact_host = _host(_step(built.clone(reference, "float64"), step, x.astype(np.float64), reference)())
        exact_host = {k.replace("float64", "float32"): v for k, v in exact_host.items()}
    except Exception as exc:
        details["f64"] = {"error": f"{type(exc).__name__}: {str(exc)[:QUOTE_CHARS]}"}
        return "unknown"
    details["f64"] = _judge(exact_host, ref_host, got_host)
    return str(details["f64"]["further"])
