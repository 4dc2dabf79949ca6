"""The float64 arbiter's verdict, the same for every framework's model cases (docs/cases.md, "Whole models").

Framework-neutral: tensors are whatever the caller's ``error`` function compares (torch tensors,
numpy arrays), named as the model cases name them (``output[0]``, ``loss``, ``grad <parameter>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from portabench.models.tolerances import ARBITER_SLACK, GRAD_SCALE_FLOOR, GRAD_TOL

T = TypeVar("T")
#: ``error(ref, got, floor)``: max |got - ref| / max(max |ref|, floor)
ErrorFn = Callable[[T, T, float], float]


def is_gradient(name: str) -> bool:
    return name.startswith("grad ")


def gradient_floor(tensors: Mapping[str, T], magnitude: Callable[[T], float]) -> float:
    """:data:`GRAD_SCALE_FLOOR` times the largest ``magnitude`` (largest finite |value|) of the gradients
    among ``tensors`` (0.0 for none)."""
    return GRAD_SCALE_FLOOR * max((magnitude(t) for n, t in tensors.items() if is_gradient(n)), default=0.0)


def judge(exact: Mapping[str, T], ref: Mapping[str, T], got: Mapping[str, T], out_tol: float,
          error: ErrorFn[T], magnitude: Callable[[T], float]) -> dict[str, Any]:
    """Tensor by tensor, for each one where device and reference disagree: which is further from the float64
    result. The device is blamed when, for any such tensor, its error exceeds :data:`ARBITER_SLACK` times the
    reference's *on the same tensor* (a worst-over-tensors comparison would let the reference's noise on one
    tensor -- a gradient that is zero in exact arithmetic -- hide the device's error on another). Gradients
    are compared against :data:`GRAD_TOL`, other tensors against ``out_tol``."""
    ref_floor, exact_floor = gradient_floor(ref, magnitude), gradient_floor(exact, magnitude)
    worst: dict[str, Any] = {"device_err": 0.0, "reference_err": 0.0, "further": "reference", "tensor": ""}
    worst_ratio = -1.0
    for name, ref_t in ref.items():
        if name not in got or name not in exact:
            return {"device_err": float("inf"), "reference_err": 0.0, "further": "device", "tensor": name}
        grad = is_gradient(name)
        if error(ref_t, got[name], ref_floor if grad else 0.0) <= (GRAD_TOL if grad else out_tol):
            continue
        floor = exact_floor if grad else 0.0
        device_err, reference_err = error(exact[name], got[name], floor), error(exact[name], ref_t, floor)
        ratio = device_err / reference_err if reference_err > 0 else float("inf")
        if ratio > worst_ratio:
            worst_ratio = ratio
            worst = {"device_err": device_err, "reference_err": reference_err, "tensor": name,
                     "further": "device" if device_err > ARBITER_SLACK * reference_err else "reference"}
    return worst
