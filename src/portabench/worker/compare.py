"""Comparing a device's outputs with the reference device's, framework-neutrally.

Adapters turn outputs into pytrees of :class:`~portabench.frameworks.base.HostLeaf`
(numpy values) and plain Python values; this module walks two such trees.

Tolerances follow PyTorch's own device-vs-CPU test (``test_compare_cpu`` in
``test/test_ops.py`` compares with ``atol=rtol=1e-3``), loosened for
low-precision dtypes; integer, bool and non-array values must match exactly.
A value passes when ``|got - ref| <= atol + rtol * |ref|`` elementwise, NaNs in
the same places and infinities of the same sign. See docs/cases.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from portabench.frameworks.base import HostLeaf

#: dtype name -> (atol, rtol)
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-3, 1e-3),
    "complex128": (1e-3, 1e-3),
    "float32": (1e-3, 1e-3),
    "complex64": (1e-3, 1e-3),
    "float16": (1e-2, 1e-2),
    "bfloat16": (1e-2, 1.6e-2),
}
EXACT = (0.0, 0.0)


@dataclass
class Comparison:
    """Outcome of comparing two output trees.

    ``check`` says what was compared: ``values``, ``shape_dtype`` (a side held no
    data, e.g. ``meta``) or ``properties`` (random outputs: shape, dtype, finiteness).
    """

    ok: bool
    check: str
    message: str | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None


def _flatten(tree: Any, path: str = "out") -> list[tuple[str, Any]]:
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree, key=str) for leaf in _flatten(tree[k], f"{path}[{k!r}]")]
    if isinstance(tree, (list, tuple)):
        return [leaf for i, v in enumerate(tree) for leaf in _flatten(v, f"{path}[{i}]")]
    return [(path, tree)]


def _structure_mismatch(path: str, r: Any, g: Any, properties_only: bool) -> str | None:
    """Why leaf ``g`` cannot match ``r`` before any value is compared (kind, scalar, shape, dtype), or None."""
    if isinstance(r, HostLeaf) != isinstance(g, HostLeaf):
        return f"{path}: array vs non-array ({type(g).__name__} vs {type(r).__name__})"
    if not isinstance(r, HostLeaf):
        return None if properties_only or _scalars_equal(r, g) else f"{path}: {g!r} != reference {r!r}"
    if tuple(r.shape) != tuple(g.shape):
        return f"{path}: shape {tuple(g.shape)} != reference {tuple(r.shape)}"
    if r.dtype != g.dtype:
        return f"{path}: dtype {g.dtype} != reference {r.dtype}"
    return None


def compare_outputs(ref: Any, got: Any, *, properties_only: bool = False) -> Comparison:
    """Compare ``got`` (device under test) with ``ref`` (reference device)."""
    ref_leaves, got_leaves = _flatten(ref), _flatten(got)
    if len(ref_leaves) != len(got_leaves):
        return Comparison(False, "values",
                          f"structure differs: {len(got_leaves)} outputs vs {len(ref_leaves)} on the reference")
    check = "properties" if properties_only else "values"
    max_abs = max_rel = 0.0
    for (path, r), (_, g) in zip(ref_leaves, got_leaves, strict=True):
        why = _structure_mismatch(path, r, g, properties_only)
        if why is not None:
            return Comparison(False, check, why)
        if not isinstance(r, HostLeaf):
            continue
        if r.values is None or g.values is None:
            check = "shape_dtype" if check == "values" else check
            continue
        if properties_only:
            if _all_finite(r.values) and not _all_finite(g.values):
                return Comparison(False, check, f"{path}: non-finite values where the reference has none")
            continue
        ok, abs_err, rel_err = _close(r.values, g.values, TOLERANCES.get(r.dtype, EXACT))
        max_abs, max_rel = max(max_abs, abs_err), max(max_rel, rel_err)
        if not ok:
            return Comparison(
                False, check,
                f"{path}: values differ from the reference (max abs err {abs_err:.3g}, max rel err {rel_err:.3g}, "
                f"dtype {r.dtype})",
                max_abs, max_rel,
            )
    if check != "values":
        return Comparison(True, check)
    return Comparison(True, check, None, max_abs, max_rel)


def outputs_differ(a: Any, b: Any) -> bool:
    """True when two output trees of the same device are not bitwise equal (random outputs)."""
    la, lb = _flatten(a), _flatten(b)
    if len(la) != len(lb):
        return True
    for (_, x), (_, y) in zip(la, lb, strict=True):
        if isinstance(x, HostLeaf) and isinstance(y, HostLeaf):
            if x.values is None or y.values is None:
                continue
            if x.values.shape != y.values.shape or not np.array_equal(x.values, y.values, equal_nan=x.values.dtype.kind in "fc"):
                return True
        elif not _scalars_equal(x, y, exact=True):
            return True
    return False


def _all_finite(values: np.ndarray) -> bool:
    return values.dtype.kind not in "fc" or bool(np.isfinite(values).all())


def _scalars_equal(a: Any, b: Any, exact: bool = False) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b if exact else math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-3)
    try:
        return bool(a == b)
    except Exception:  # objects without a usable equality: compare their text
        return repr(a) == repr(b)


def _close(ref: np.ndarray, got: np.ndarray, tol: tuple[float, float]) -> tuple[bool, float, float]:
    """Elementwise closeness; returns (ok, max abs error, max rel error) over finite entries."""
    atol, rtol = tol
    if ref.size == 0:
        return True, 0.0, 0.0
    if ref.dtype.kind in "biu" and got.dtype.kind in "biu":
        diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
        mx = float(diff.max())
        rel = float((diff / np.maximum(np.abs(ref.astype(np.float64)), 1)).max())
        return bool(mx == 0 or (atol > 0 and np.all(diff <= atol + rtol * np.abs(ref)))), mx, rel
    r = ref.astype(np.complex128 if ref.dtype.kind == "c" or got.dtype.kind == "c" else np.float64)
    g = got.astype(r.dtype)
    nan_r, nan_g = np.isnan(r), np.isnan(g)
    if not np.array_equal(nan_r, nan_g):
        return False, math.inf, math.inf
    inf_r, inf_g = np.isinf(r), np.isinf(g)
    if not np.array_equal(inf_r, inf_g) or not np.array_equal(r[inf_r], g[inf_g]):
        return False, math.inf, math.inf
    finite = ~(nan_r | inf_r)
    if not finite.any():
        return True, 0.0, 0.0
    diff = np.abs(r[finite] - g[finite])
    mag = np.abs(r[finite])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_err = np.where(mag > 0, diff / mag, np.where(diff > 0, np.inf, 0.0))
    ok = bool(np.all(diff <= atol + rtol * mag))
    return ok, float(diff.max()), float(rel_err.max())
