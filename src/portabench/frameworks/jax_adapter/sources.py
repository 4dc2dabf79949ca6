"""Case sources of the JAX adapter (worker side: imports jax, numpy, scipy).

A :class:`Source` gives one function its samples in one dtype. A sample is a
call ``fn(*args, **kwargs)``: ``numpy.ndarray`` arguments (and lists of them)
are *inputs* (placed on the device with ``jax.device_put``; jit arguments),
every other value is *static* (closed over under jit). Samples are rebuilt
deterministically from a seed derived from ``source key|dtype``.

Two families live here:

* ``lax_test_util:<op>`` — JAX's own op records shipped in the wheel
  (``jax._src.internal_test_util.lax_test_util``: ``lax_ops()``,
  ``lax_named_reduce_ops()``, ``lax_reduce_ops()``), with their dtypes and
  input generators (``rand_small``, ``rand_positive``...);
* ``numpy:<group>`` / ``scipy:<group>`` / ``nn:<group>`` / ``random:<group>`` —
  generated cases for functions of ``jax.numpy``, ``jax.scipy``, ``jax.nn``,
  ``jax.nn.initializers`` and ``jax.random``: signatures come from NumPy's
  ufunc arity or from the small tables below; shapes follow JAX's tests
  (scalar, empty, broadcasting, several ranks). The dtypes a generated source
  claims are those its NumPy/SciPy counterpart accepts (probed on the first
  sample), or a fixed set when there is none.
"""

from __future__ import annotations

import inspect
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax._src import test_util as tu
from jax._src.internal_test_util import lax_test_util as ltu

from portabench.frameworks.jax_adapter.api import resolve

#: every dtype a source may claim (numpy spelling)
ALL_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int32", "int64", "bool")
_COMPLEX = frozenset({"complex64", "complex128"})
_ORDER = "JAX does not order complex numbers (NumPy orders them lexicographically)"
EXCLUDED_DTYPES: dict[str, tuple[frozenset[str], str]] = {
    "jax.numpy.argmax": (_COMPLEX, _ORDER),
    "jax.numpy.argmin": (_COMPLEX, _ORDER),
    "jax.numpy.clip": (_COMPLEX, _ORDER),
    "jax.numpy.argpartition": (_COMPLEX | {"bool"}, _ORDER + "; bool has no negation, which argpartition uses"),
    "jax.numpy.around": (frozenset({"bool"}), "jnp.around accepts no bool (NumPy does)"),
    "jax.nn.initializers.orthogonal": (frozenset({"float16", "bfloat16"}), "QR has no half-precision version in JAX"),
    "jax.numpy.fft.rfft": (frozenset({"float16", "bfloat16"}), "JAX's real FFTs take float32 or float64 only"),
    "jax.scipy.special.expi": (_COMPLEX, "jax.scipy.special.expi is real-only (SciPy's takes complex)"),
    "jax.scipy.special.erf": (_COMPLEX, "jax.scipy.special.erf is real-only (SciPy's takes complex)"),
    "jax.nn.initializers.delta_orthogonal": (frozenset({"float16", "bfloat16"}),
                                             "QR has no half-precision version in JAX"),
}
"""Dtypes for which no case is made, with the reason: JAX refuses them on every device, the CPU reference
included, so their cases could only be broken cases (NumPy, whose acceptance is the default claim, takes them)."""
FLOATS = ("float16", "bfloat16", "float32", "float64")
INEXACT = FLOATS + ("complex64", "complex128")


def np_dtype(name: str) -> np.dtype:
    return jnp.dtype(name)


def dtype_name(dtype: Any) -> str:
    return np.dtype(dtype).name


@dataclass
class Sample:
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def S(*args: Any, **kwargs: Any) -> Sample:
    return Sample(args, kwargs)


class Gen:
    """Input generator for one (source, dtype): ``a(*shape)`` arrays of the case dtype, plus helpers."""

    def __init__(self, seed_key: str, dtype: str) -> None:
        self.rng = np.random.RandomState(zlib.crc32(seed_key.encode()))
        self.dtype = dtype
        self.np_dtype = np_dtype(dtype if dtype != "none" else "float32")

    def _make(self, factory: Callable, shape: tuple, dtype: Any = None) -> np.ndarray:
        return np.asarray(factory(self.rng)(tuple(shape), dtype if dtype is not None else self.np_dtype))

    def a(self, *shape: int, kind: str = "default", dtype: Any = None) -> np.ndarray:
        """An array in the case dtype; ``kind``: default, small, positive, nonzero, unit (0.05..0.95), int."""
        if kind == "unit":
            dt = np_dtype(dtype) if dtype is not None else self.np_dtype
            if dt.kind in "fc":
                return np.asarray(self.rng.uniform(0.05, 0.95, size=shape)).astype(dt)
            kind = "positive"
        factory = {"default": tu.rand_default, "small": tu.rand_small, "positive": tu.rand_positive,
                   "nonzero": tu.rand_nonzero, "int": tu.rand_int}[kind]
        return self._make(factory, shape, np_dtype(dtype) if dtype is not None else None)

    def spd(self, n: int) -> np.ndarray:
        """A symmetric (hermitian) positive definite matrix."""
        x = self.a(n, n).astype(np.complex128 if self.np_dtype.kind == "c" else np.float64)
        return (x @ x.conj().T + n * np.eye(n)).astype(self.np_dtype)

    def sym(self, n: int) -> np.ndarray:
        x = self.a(n, n).astype(np.complex128 if self.np_dtype.kind == "c" else np.float64)
        return (x + x.conj().T).astype(self.np_dtype)

    def idx(self, *shape: int, high: int = 3, low: int = 0) -> np.ndarray:
        return self.rng.randint(low, high, size=shape).astype(np.int32)

    def key(self) -> np.ndarray:
        """A raw PRNG key (``uint32[2]``, the default threefry implementation)."""
        return np.array([0, self.rng.randint(0, 2**31)], dtype=np.uint32)


@dataclass
class Source:
    """One case source of one function."""

    key: str  # e.g. "lax_test_util:add", "numpy:unary"
    qualname: str
    make: Callable[[Gen], list[Sample]]
    claims: tuple[str, ...] | None = None  # None: probed with ``reference``
    reference: Callable | None = None  # NumPy/SciPy counterpart, called like the function
    call: Callable | None = None  # default: the function itself
    random: bool = False
    jit: bool = True  # False: outputs are not arrays (jit mode calls it outside jax.jit)
    _cache: dict = field(default_factory=dict, repr=False)

    def function(self) -> Callable:
        """The callable under test: ``call``, else the object the qualified name resolves to."""
        if self.call is not None:
            return self.call
        fn = resolve(self.qualname)
        if fn is None:
            raise LookupError(f"{self.qualname} does not exist in this JAX")
        return fn

    def samples(self, dtype: str, max_samples: int) -> list[Sample]:
        key = (dtype, max_samples)
        if key not in self._cache:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                self._cache[key] = self.make(Gen(f"{self.key}|{self.qualname}|{dtype}", dtype))[:max_samples]
        return self._cache[key]

    def claimed(self) -> set[str]:
        """The dtypes cases are made for: ``claims``, else those the NumPy counterpart accepts; minus
        :data:`EXCLUDED_DTYPES` (dtypes JAX refuses by design on every device, the reference included)."""
        excluded = EXCLUDED_DTYPES.get(self.qualname, (frozenset(), ""))[0]
        return self._claimed() - excluded

    def _claimed(self) -> set[str]:
        if self.claims is not None:
            return set(self.claims)
        if "claimed" in self._cache:
            return self._cache["claimed"]
        out = set()
        for dtype in ALL_DTYPES:
            try:
                sample = self.samples(dtype, 1)[0]
                if self.reference is not None:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        self.reference(*sample.args, **_accepted(self.reference, sample.kwargs))
                out.add(dtype)
            except Exception:
                continue
        self._cache["claimed"] = out
        return out


def _accepted(fn: Callable, kwargs: dict) -> dict:
    """``kwargs`` less the JAX-only keywords (``size=``, ``fill_value=``) the NumPy counterpart does not take."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


# -- shapes in the spirit of JAX's tests ------------------------------------------------------------
def unary(kind: str = "default") -> Callable[[Gen], list[Sample]]:
    return lambda g: [S(g.a(3, 4, kind=kind)), S(g.a(kind=kind)), S(g.a(0, kind=kind)), S(g.a(2, 3, 4, kind=kind))]


def binary(kind1: str = "default", kind2: str = "default", dtype2: str | None = None) -> Callable[[Gen], list[Sample]]:
    def make(g: Gen) -> list[Sample]:
        b = lambda *s: g.a(*s, kind=kind2, dtype=dtype2)  # noqa: E731
        return [S(g.a(3, 4, kind=kind1), b(3, 4)), S(g.a(kind=kind1), b(3)), S(g.a(3, 1, kind=kind1), b(1, 4)),
                S(g.a(0, kind=kind1), b(0)), S(g.a(2, 3, 4, kind=kind1), b(2, 1, 4))]
    return make


def reduction(empty: bool = True, keepdims: bool = True, kind: str = "default",
              **extra: Any) -> Callable[[Gen], list[Sample]]:
    def make(g: Gen) -> list[Sample]:
        out = [S(g.a(3, 4, kind=kind), **extra), S(g.a(3, 4, kind=kind), axis=0, **extra)]
        out.append(S(g.a(2, 3, 4, kind=kind), axis=-1, keepdims=True, **extra) if keepdims
                   else S(g.a(2, 3, 4, kind=kind), axis=-1, **extra))
        out.append(S(g.a(5, kind=kind), **extra))
        if empty:
            out.append(S(g.a(0, 3, kind=kind), axis=0, **extra))
        return out
    return make


UNIT_DOMAIN = {"arcsin", "arccos", "arctanh", "asin", "acos", "atanh"}
POSITIVE_DOMAIN = {"log", "log2", "log10", "log1p", "sqrt", "reciprocal", "arccosh", "acosh"}
NONZERO_SECOND = {"divide", "true_divide", "floor_divide", "remainder", "mod", "fmod", "divmod"}
INT_SECOND = {"ldexp": "int32", "left_shift": None, "right_shift": None, "bitwise_left_shift": None,
              "bitwise_right_shift": None}


def _ufunc_sources() -> list[Source]:
    """NumPy's elementwise ufuncs of one or two inputs that jax.numpy has too."""
    out: list[Source] = []
    for name in dir(np):
        ufunc = getattr(np, name)
        if not isinstance(ufunc, np.ufunc) or ufunc.signature is not None or not hasattr(jnp, name):
            continue
        qual = f"jax.numpy.{name}"
        if ufunc.nin == 1:
            kind = "unit" if name in UNIT_DOMAIN else "positive" if name in POSITIVE_DOMAIN else "default"
            out.append(Source("numpy:unary", qual, unary(kind), reference=ufunc))
        elif ufunc.nin == 2:
            kind1 = "positive" if name in ("power", "pow", "float_power") else "default"
            powers = ("power", "pow", "float_power")
            kind2 = "nonzero" if name in NONZERO_SECOND else "small" if name in powers else "default"
            if name in ("left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift"):
                kind2 = "small"
            out.append(Source("numpy:binary", qual, binary(kind1, kind2, INT_SECOND.get(name)), reference=ufunc))
    return out


def _numpy_sources() -> list[Source]:
    out = _ufunc_sources()
    for name in ("sum", "prod", "mean", "any", "all", "count_nonzero", "nansum", "nanprod"):
        out.append(Source("numpy:reduction", f"jax.numpy.{name}", reduction(), reference=getattr(np, name)))
    for name in ("var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "median", "nanmean", "nanmax",
                 "nanmin", "nanstd", "nanvar", "nanmedian", "ptp", "nanargmax", "nanargmin"):
        if hasattr(jnp, name) and hasattr(np, name):
            out.append(Source("numpy:reduction", f"jax.numpy.{name}", reduction(empty=False),
                              reference=getattr(np, name)))
    for name in ("cumsum", "cumprod", "nancumsum", "nancumprod", "sort", "argsort", "diff", "flip", "roll"):
        make = ((lambda g: [S(g.a(3, 4), 1, axis=0), S(g.a(5), -2), S(g.a(2, 3, 4), 2, axis=-1)]) if name == "roll"
                else reduction(empty=False, keepdims=False))
        out.append(Source("numpy:axis", f"jax.numpy.{name}", make, reference=getattr(np, name)))
    for name in ("percentile", "quantile", "nanpercentile", "nanquantile"):
        q = 40.0 if "percentile" in name else 0.4

        def quantiles(g: Gen, q: float = q) -> list[Sample]:
            return [S(g.a(3, 4), q), S(g.a(3, 4), q, axis=0), S(g.a(2, 3, 4), q, axis=-1, keepdims=True)]

        out.append(Source("numpy:reduction", f"jax.numpy.{name}", quantiles, reference=getattr(np, name)))
    for name, make in TABLE.items():
        ref = resolve_numpy(name)
        out.append(Source("numpy:table", f"jax.numpy.{name}", make, reference=ref, jit=name not in NOT_JITTABLE,
                          claims=None if ref is not None else ("float32", "float64", "int32", "int64")))
    for name, make in CREATION.items():
        out.append(Source("numpy:creation", f"jax.numpy.{name}", make, reference=getattr(np, name, None)))
    for name, make in LINALG.items():
        out.append(Source("numpy:linalg", f"jax.numpy.linalg.{name}", make, reference=getattr(np.linalg, name, None),
                          claims=None if hasattr(np.linalg, name) else INEXACT))
    for name, make in FFT.items():
        out.append(Source("numpy:fft", f"jax.numpy.fft.{name}", make, reference=getattr(np.fft, name)))
    return out


def resolve_numpy(name: str) -> Callable | None:
    return getattr(np, name, None)


def _mat(g: Gen) -> list[Sample]:
    return [S(g.a(3, 3)), S(g.a(2, 4, 4)), S(g.a(1, 1))]


#: functions whose outputs are not arrays (an einsum path, a Python bool): called outside jit in jit mode
NOT_JITTABLE = {"einsum_path", "isscalar", "result_type", "shape", "ndim", "size"}

TABLE: dict[str, Callable[[Gen], list[Sample]]] = {
    "reshape": lambda g: [S(g.a(3, 4), (4, 3)), S(g.a(2, 3, 4), (-1, 4)), S(g.a(0, 3), (3, 0)), S(g.a(), (1, 1))],
    "transpose": lambda g: [S(g.a(3, 4)), S(g.a(2, 3, 4), (2, 0, 1)), S(g.a())],
    "ravel": lambda g: [S(g.a(3, 4)), S(g.a()), S(g.a(2, 0))],
    "fliplr": lambda g: [S(g.a(3, 4)), S(g.a(2, 3, 4))],
    "flipud": lambda g: [S(g.a(3, 4)), S(g.a(5))],
    "rot90": lambda g: [S(g.a(3, 4)), S(g.a(2, 3, 4), 3, (1, 2))],
    "squeeze": lambda g: [S(g.a(3, 1, 4)), S(g.a(1, 1), axis=0), S(g.a())],
    "expand_dims": lambda g: [S(g.a(3, 4), 0), S(g.a(), -1), S(g.a(2, 3), (0, 3))],
    "swapaxes": lambda g: [S(g.a(3, 4), 0, 1), S(g.a(2, 3, 4), -1, 0)],
    "moveaxis": lambda g: [S(g.a(2, 3, 4), 0, -1), S(g.a(3, 4), 1, 0)],
    "concatenate": lambda g: [S([g.a(3, 4), g.a(2, 4)]), S([g.a(3, 4), g.a(3, 1)], axis=1), S([g.a(0, 2), g.a(3, 2)])],
    "stack": lambda g: [S([g.a(3, 4), g.a(3, 4)]), S([g.a(2), g.a(2), g.a(2)], axis=1), S([g.a(), g.a()])],
    "vstack": lambda g: [S([g.a(3, 4), g.a(2, 4)]), S([g.a(3), g.a(3)])],
    "hstack": lambda g: [S([g.a(3, 4), g.a(3, 2)]), S([g.a(3), g.a(2)])],
    "dstack": lambda g: [S([g.a(3, 4), g.a(3, 4)])],
    "column_stack": lambda g: [S([g.a(3), g.a(3, 2)])],
    "split": lambda g: [S(g.a(6, 4), 3), S(g.a(3, 4), [1, 3], axis=1), S(g.a(0), 1)],
    "array_split": lambda g: [S(g.a(7, 2), 3)],
    "hsplit": lambda g: [S(g.a(3, 4), 2)],
    "vsplit": lambda g: [S(g.a(4, 3), 2)],
    "tile": lambda g: [S(g.a(3, 4), (2, 1)), S(g.a(), 3), S(g.a(2), (2, 2))],
    "repeat": lambda g: [S(g.a(3, 4), 2, axis=0), S(g.a(), 3), S(g.a(3, 4), 2)],
    "tril": lambda g: [S(g.a(3, 4)), S(g.a(2, 4, 4), k=-1), S(g.a(0, 3))],
    "triu": lambda g: [S(g.a(3, 4)), S(g.a(2, 4, 4), k=1)],
    "diag": lambda g: [S(g.a(3, 4)), S(g.a(3)), S(g.a(4, 4), 1)],
    "diagonal": lambda g: [S(g.a(3, 4)), S(g.a(2, 3, 4), 1, 1, 2)],
    "diagflat": lambda g: [S(g.a(3)), S(g.a(2, 2), 1)],
    "trace": lambda g: [S(g.a(3, 4)), S(g.a(2, 3, 3), 0, 1, 2)],
    "where": lambda g: [S(g.a(3, 4, dtype="bool"), g.a(3, 4), g.a(3, 4)), S(g.a(3, 1, dtype="bool"), g.a(), g.a(1, 4))],
    "clip": lambda g: [S(g.a(3, 4), g.a(), g.a() + 1), S(g.a(5), g.a(5), g.a(5))],
    "take": lambda g: [S(g.a(3, 4), g.idx(5, high=12)), S(g.a(3, 4), g.idx(2, 2, high=4), axis=1)],
    "take_along_axis": lambda g: [S(g.a(3, 4), g.idx(3, 2, high=4), axis=1)],
    "compress": lambda g: [S(np.array([True, False, True]), g.a(3, 4), axis=0, size=2),
                           S(np.array([False, True]), g.a(5), size=1)],
    "delete": lambda g: [S(g.a(5), 2), S(g.a(3, 4), np.s_[::2], axis=1), S(g.a(3, 4), 1, axis=0)],
    "insert": lambda g: [S(g.a(5), 2, g.a()), S(g.a(3, 4), 1, g.a(4), axis=0)],
    "append": lambda g: [S(g.a(5), g.a(2)), S(g.a(3, 4), g.a(1, 4), axis=0)],
    "pad": lambda g: [S(g.a(3, 4), 1), S(g.a(3, 4), ((1, 0), (0, 2)), mode="reflect"), S(g.a(5), 2, mode="edge")],
    "outer": lambda g: [S(g.a(3), g.a(4)), S(g.a(0), g.a(2))],
    "inner": lambda g: [S(g.a(3), g.a(3)), S(g.a(2, 3), g.a(4, 3))],
    "dot": lambda g: [S(g.a(3, 4), g.a(4, 5)), S(g.a(4), g.a(4)), S(g.a(), g.a(3))],
    "vdot": lambda g: [S(g.a(4), g.a(4)), S(g.a(2, 2), g.a(4))],
    "matmul": lambda g: [S(g.a(3, 4), g.a(4, 5)), S(g.a(2, 3, 4), g.a(4, 2)), S(g.a(4), g.a(4, 2)),
                         S(g.a(0, 4), g.a(4, 3))],
    "tensordot": lambda g: [S(g.a(2, 3, 4), g.a(3, 4, 5)), S(g.a(3, 4), g.a(4, 3), axes=1)],
    "kron": lambda g: [S(g.a(2, 2), g.a(3, 3)), S(g.a(3), g.a(2))],
    "cross": lambda g: [S(g.a(3), g.a(3)), S(g.a(4, 3), g.a(4, 3))],
    "einsum": lambda g: [S("ij,jk->ik", g.a(3, 4), g.a(4, 5)), S("ii->i", g.a(3, 3)),
                         S("bij,bjk->bik", g.a(2, 3, 4), g.a(2, 4, 2))],
    "convolve": lambda g: [S(g.a(8), g.a(3)), S(g.a(5), g.a(5), mode="same"), S(g.a(6), g.a(2), mode="valid")],
    "correlate": lambda g: [S(g.a(8), g.a(3)), S(g.a(5), g.a(5), mode="full")],
    "searchsorted": lambda g: [S(np.sort(g.a(6)), g.a(4)), S(np.sort(g.a(5)), g.a(), side="right")],
    "isclose": lambda g: [S(g.a(3, 4), g.a(3, 4)), S(g.a(3), g.a())],
    "allclose": lambda g: [S(g.a(3, 4), g.a(3, 4))],
    "array_equal": lambda g: [S(g.a(3, 4), g.a(3, 4))],
    "interp": lambda g: [S(g.a(5), np.sort(g.a(6)), g.a(6))],
    "polyval": lambda g: [S(g.a(4), g.a(5))],
    "polyadd": lambda g: [S(g.a(4), g.a(2))],
    "polymul": lambda g: [S(g.a(3), g.a(2))],
    "broadcast_to": lambda g: [S(g.a(3, 1), (3, 4)), S(g.a(), (2, 2))],
    "atleast_1d": lambda g: [S(g.a()), S(g.a(3))],
    "atleast_2d": lambda g: [S(g.a()), S(g.a(3))],
    "atleast_3d": lambda g: [S(g.a(3)), S(g.a(3, 4))],
    "copy": lambda g: [S(g.a(3, 4)), S(g.a())],
    "array": lambda g: [S(g.a(3, 4)), S(g.a()), S([g.a(2), g.a(2)])],
    "asarray": lambda g: [S(g.a(3, 4)), S(g.a())],
    "zeros_like": lambda g: [S(g.a(3, 4)), S(g.a())],
    "ones_like": lambda g: [S(g.a(3, 4)), S(g.a(0))],
    "full_like": lambda g: [S(g.a(3, 4), 2)],
    "cov": lambda g: [S(g.a(3, 5)), S(g.a(4, 3), rowvar=False)],
    "corrcoef": lambda g: [S(g.a(3, 5))],
    "average": lambda g: [S(g.a(3, 4)), S(g.a(3, 4), axis=1, weights=g.a(4, kind="positive")), S(g.a(5))],
    "sort_complex": lambda g: [S(g.a(5))],
    "argpartition": lambda g: [S(g.a(6), 2)],
    "partition": lambda g: [S(g.a(6), 2)],
    "vander": lambda g: [S(g.a(4)), S(g.a(3), 5)],
    "trapezoid": lambda g: [S(g.a(5)), S(g.a(3, 4), dx=0.5, axis=0)],
    "nan_to_num": lambda g: [S(g.a(3, 4)), S(np.array([np.nan, np.inf, -np.inf, 1.0]).astype(g.np_dtype)
                                             if g.np_dtype.kind in "fc" else g.a(4))],
    "round": lambda g: [S(g.a(3, 4)), S(g.a(5), 1)],
    "around": lambda g: [S(g.a(3, 4))],
    "real": lambda g: [S(g.a(3, 4))],
    "imag": lambda g: [S(g.a(3, 4))],
    "angle": lambda g: [S(g.a(3, 4)), S(g.a())],
    "unwrap": lambda g: [S(g.a(8) * 4)],
    "gradient": lambda g: [S(g.a(6)), S(g.a(3, 4), axis=0)],
    "ediff1d": lambda g: [S(g.a(5))],
    "digitize": lambda g: [S(g.a(6), np.sort(g.a(4)))],
    "i0": lambda g: [S(g.a(3, 4)), S(g.a())],
    "sinc": lambda g: [S(g.a(3, 4)), S(g.a())],
    "fix": lambda g: [S(g.a(3, 4))],
    "isreal": lambda g: [S(g.a(3, 4))],
    "iscomplex": lambda g: [S(g.a(3, 4))],
    "size": lambda g: [S(g.a(3, 4)), S(g.a(3, 4), 1)],
    "shape": lambda g: [S(g.a(3, 4))],
    "ndim": lambda g: [S(g.a(3, 4))],
    "isscalar": lambda g: [S(g.a()), S(g.a(3)), S(1.5)],
    "meshgrid": lambda g: [S(g.a(3), g.a(4)), S(g.a(2), g.a(3), indexing="ij")],
    "broadcast_arrays": lambda g: [S(g.a(3, 1), g.a(4))],
    "select": lambda g: [S([g.a(4, dtype="bool"), g.a(4, dtype="bool")], [g.a(4), g.a(4)], g.a())],
    "lexsort": lambda g: [S([g.a(5), g.a(5)])],
    "unique": lambda g: [S(g.a(6, kind="small"), size=6, fill_value=0)],
    "nonzero": lambda g: [S(g.a(3, 4, kind="small"), size=12)],
    "argwhere": lambda g: [S(g.a(3, 4, kind="small"), size=12)],
    "flatnonzero": lambda g: [S(g.a(6, kind="small"), size=6)],
    "bincount": lambda g: [S(g.idx(8, high=5), length=5)],
    "histogram": lambda g: [S(g.a(10), bins=4, range=(-2.0, 2.0))],
    "einsum_path": lambda g: [S("ij,jk,kl->il", g.a(2, 3), g.a(3, 4), g.a(4, 2), optimize="greedy")],
    "result_type": lambda g: [S(g.a(3), np.float32(1))],
    "logaddexp": lambda g: [S(g.a(3, 4), g.a(3, 4))],
}

CREATION: dict[str, Callable[[Gen], list[Sample]]] = {
    "zeros": lambda g: [S((3, 4), dtype=g.dtype), S((), dtype=g.dtype), S((0, 2), dtype=g.dtype)],
    "ones": lambda g: [S((3, 4), dtype=g.dtype), S(5, dtype=g.dtype)],
    "empty": lambda g: [S((0, 4), dtype=g.dtype)],
    "full": lambda g: [S((3, 4), 2, dtype=g.dtype), S((2,), g.a())],
    "eye": lambda g: [S(3, dtype=g.dtype), S(3, 4, 1, dtype=g.dtype)],
    "identity": lambda g: [S(4, dtype=g.dtype)],
    "arange": lambda g: [S(5, dtype=g.dtype), S(1, 7, 2, dtype=g.dtype), S(0, dtype=g.dtype)],
    "linspace": lambda g: [S(0, 1, 5, dtype=g.dtype), S(g.a(), g.a() + 2, 4)],
    "logspace": lambda g: [S(0, 2, 4, dtype=g.dtype)],
    "geomspace": lambda g: [S(1, 100, 3, dtype=g.dtype)],
    "tri": lambda g: [S(3, 4, dtype=g.dtype), S(3, k=1, dtype=g.dtype)],
    "tril_indices": lambda g: [S(4), S(3, 1, 4)],
    "triu_indices": lambda g: [S(4), S(3, -1, 4)],
    "tril_indices_from": lambda g: [S(g.a(3, 3)), S(g.a(3, 4), k=1)],
    "triu_indices_from": lambda g: [S(g.a(3, 3)), S(g.a(4, 3), k=-1)],
    "diag_indices": lambda g: [S(3), S(2, 3)],
    "indices": lambda g: [S((2, 3))],
    "asarray": lambda g: [S([1, 2, 3], dtype=g.dtype)],
}

LINALG: dict[str, Callable[[Gen], list[Sample]]] = {
    "inv": lambda g: [S(g.spd(3)), S(np.stack([g.spd(3), g.spd(3)]))],
    "det": _mat,
    "slogdet": _mat,
    "svd": lambda g: [S(g.a(3, 3), compute_uv=False), S(g.a(4, 3), compute_uv=False),
                      S(g.a(2, 3, 2), compute_uv=False)],
    "svdvals": lambda g: [S(g.a(4, 3))],
    "eig": lambda g: [S(g.spd(3))],
    "eigvals": lambda g: [S(g.spd(3))],
    "eigh": lambda g: [S(g.sym(3)), S(g.spd(4))],
    "eigvalsh": lambda g: [S(g.sym(3))],
    "qr": lambda g: [S(g.a(4, 3), mode="r"), S(g.a(3, 3), mode="r")],
    "cholesky": lambda g: [S(g.spd(3)), S(np.stack([g.spd(2), g.spd(2)]))],
    "norm": lambda g: [S(g.a(3, 4)), S(g.a(5), ord=1), S(g.a(3, 4), ord="fro"), S(g.a(3, 4), axis=1)],
    "vector_norm": lambda g: [S(g.a(5)), S(g.a(3, 4), axis=0)],
    "matrix_norm": lambda g: [S(g.a(3, 4))],
    "pinv": lambda g: [S(g.a(4, 3))],
    "matrix_rank": lambda g: [S(g.a(4, 3)), S(np.ones((3, 3), g.np_dtype))],
    "solve": lambda g: [S(g.spd(3), g.a(3)), S(g.spd(3), g.a(3, 2))],
    "lstsq": lambda g: [S(g.a(5, 3), g.a(5))],
    "matrix_power": lambda g: [S(g.a(3, 3), 3), S(g.spd(2), -1), S(g.a(3, 3), 0)],
    "cond": lambda g: [S(g.spd(3))],
    "multi_dot": lambda g: [S([g.a(2, 3), g.a(3, 4), g.a(4, 2)])],
    "tensorinv": lambda g: [S(g.spd(4).reshape(4, 2, 2), ind=1)],
    "tensorsolve": lambda g: [S(g.spd(4).reshape(2, 2, 4), g.a(2, 2))],
    "matrix_transpose": lambda g: [S(g.a(2, 3, 4))],
    "outer": lambda g: [S(g.a(3), g.a(2))],
    "cross": lambda g: [S(g.a(3), g.a(3))],
    "trace": lambda g: [S(g.a(3, 3))],
    "diagonal": lambda g: [S(g.a(3, 4))],
    "vecdot": lambda g: [S(g.a(3, 4), g.a(3, 4))],
    "matmul": lambda g: [S(g.a(3, 4), g.a(4, 2))],
    "tensordot": lambda g: [S(g.a(3, 4), g.a(4, 2), axes=1)],
}

FFT: dict[str, Callable[[Gen], list[Sample]]] = {
    **{n: (lambda g: [S(g.a(8)), S(g.a(3, 8), n=6, axis=0), S(g.a(4, 5))]) for n in ("fft", "ifft", "rfft", "ihfft")},
    **{n: (lambda g: [S(g.a(8)), S(g.a(3, 5), n=8)]) for n in ("irfft", "hfft")},
    **{n: (lambda g: [S(g.a(4, 6)), S(g.a(2, 4, 4), s=(4, 2))]) for n in ("fft2", "ifft2", "rfft2", "irfft2")},
    **{n: (lambda g: [S(g.a(4, 6)), S(g.a(2, 3, 4), axes=(0, 2))]) for n in ("fftn", "ifftn", "rfftn", "irfftn")},
    "fftshift": lambda g: [S(g.a(5)), S(g.a(3, 4), axes=0)],
    "ifftshift": lambda g: [S(g.a(5)), S(g.a(3, 4))],
    "fftfreq": lambda g: [S(8), S(5, 0.5)],
    "rfftfreq": lambda g: [S(8), S(5, 0.5)],
}


# -- jax.scipy ---------------------------------------------------------------------------------------
SPECIAL_UNIT = {"ndtri", "logit", "erfinv", "boxcox1p"}
STATS_FUNCS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "pmf", "logpmf")
DISCRETE = {"bernoulli", "betabinom", "binom", "geom", "nbinom", "poisson"}


def _special_sources() -> list[Source]:
    import jax.scipy.special as jss
    import scipy.special as ss

    out = []
    for name in sorted(n for n in dir(jss) if not n.startswith("_")):
        ufunc = getattr(ss, name, None)
        qual = f"jax.scipy.special.{name}"
        if isinstance(ufunc, np.ufunc):
            kind = "unit" if name in SPECIAL_UNIT else "positive"
            make = {1: unary(kind), 2: binary(kind, "positive")}.get(ufunc.nin)
            if ufunc.nin == 3:
                make = lambda g, kind=kind: [  # noqa: E731
                    S(g.a(3, 4, kind="positive"), g.a(3, 4, kind="positive"), g.a(3, 4, kind="unit")),
                    S(g.a(kind="positive"), g.a(5, kind="positive"), g.a(5, kind="unit"))]
            if ufunc.nin == 4:
                make = lambda g: [  # noqa: E731
                    S(g.a(4, kind="unit"), g.a(4, kind="unit"), g.a(4, kind="positive"), g.a(4, kind="unit"))]
            if make is not None:
                out.append(Source("scipy:special", qual, make, reference=ufunc,
                                  claims=None if name not in ("logit",) else FLOATS))
    table = {
        "logsumexp": (reduction(empty=False), ss.logsumexp),
        "softmax": (lambda g: [S(g.a(3, 4)), S(g.a(3, 4), axis=0)], ss.softmax),
        "log_softmax": (lambda g: [S(g.a(3, 4)), S(g.a(5), axis=0)], ss.log_softmax),
        "multigammaln": (lambda g: [S(g.a(4, kind="positive") + 2, 2), S(g.a(kind="positive") + 3, 3)],
                         ss.multigammaln),
        "polygamma": (lambda g: [S(np.array([0, 1, 2], np.int32), g.a(3, kind="positive"))], None),
        "zeta": (lambda g: [S(g.a(4, kind="positive") + 1.5, g.a(4, kind="positive"))], ss.zeta),
        "factorial": (lambda g: [S(g.idx(5, high=8).astype(g.np_dtype))], ss.factorial),
        "bessel_jn": (lambda g: [S(g.a(5, kind="positive"), v=2)], None),
        "comb": (lambda g: [S(np.array([5.0, 6.0, 4.0]).astype(g.np_dtype),
                              np.array([2.0, 3.0, 1.0]).astype(g.np_dtype))], ss.comb),
    }
    for name, (make, ref) in table.items():
        if hasattr(jss, name):
            out.append(Source("scipy:special", f"jax.scipy.special.{name}", make, reference=ref,
                              claims=None if ref is not None else FLOATS[2:]))
    return out


def _stats_sources() -> list[Source]:
    import jax.scipy.stats as jst

    out = []
    for dist in sorted(n for n in dir(jst) if not n.startswith("_")):
        module = getattr(jst, dist)
        if not inspect.ismodule(module) or dist in ("dirichlet", "multinomial", "multivariate_normal"):
            continue
        for fname in STATS_FUNCS:
            fn = getattr(module, fname, None)
            if fn is None:
                continue
            try:
                params = [p for p in inspect.signature(fn).parameters.values()
                          if p.default is inspect.Parameter.empty
                          and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                continue
            n_shape = len(params) - 1
            discrete = dist in DISCRETE

            def make(g: Gen, n_shape: int = n_shape, discrete: bool = discrete, dist: str = dist) -> list[Sample]:
                def first(*shape: int) -> np.ndarray:
                    if discrete:
                        return g.idx(*shape, high=4).astype(g.np_dtype)
                    return g.a(*shape, kind="unit")

                def shape_param(*shape: int) -> np.ndarray:
                    if dist in ("bernoulli", "geom", "nbinom", "binom", "betabinom"):
                        return g.a(*shape, kind="unit")
                    return g.a(*shape, kind="positive") + 0.5

                if dist in ("binom", "nbinom", "betabinom"):
                    rest = lambda *s: [np.full(s, 5.0, g.np_dtype)] + [shape_param(*s) for _ in range(n_shape - 1)]  # noqa: E731
                else:
                    rest = lambda *s: [shape_param(*s) for _ in range(n_shape)]  # noqa: E731
                return [S(first(5), *rest(5)), S(first(3, 1), *rest(4)), S(first(), *rest())]

            out.append(Source("scipy:stats", f"jax.scipy.stats.{dist}.{fname}", make, claims=FLOATS[2:]))
    return out


def _scipy_misc_sources() -> list[Source]:
    import scipy.linalg as sl
    import scipy.signal as ssig

    out = []
    linalg = {
        "lu": lambda g: [S(g.a(3, 3)), S(g.a(4, 3))],
        "lu_factor": lambda g: [S(g.a(3, 3))],
        "det": _mat,
        "inv": lambda g: [S(g.spd(3))],
        "expm": lambda g: [S(g.a(3, 3, kind="small"))],
        "cholesky": lambda g: [S(g.spd(3)), S(g.spd(3), lower=True)],
        "solve": lambda g: [S(g.spd(3), g.a(3)), S(g.spd(3), g.a(3, 2), assume_a="pos")],
        "solve_triangular": lambda g: [S(np.triu(g.spd(3)), g.a(3))],
        "qr": lambda g: [S(g.a(4, 3), mode="r")],
        "svd": lambda g: [S(g.a(4, 3), compute_uv=False)],
        "eigh": lambda g: [S(g.sym(3), eigvals_only=True)],
        "block_diag": lambda g: [S(g.a(2, 2), g.a(1, 3))],
        "toeplitz": lambda g: [S(g.a(4)), S(g.a(3), g.a(4))],
        "hessenberg": lambda g: [S(g.a(4, 4), calc_q=False)],
        "schur": lambda g: [S(g.spd(3))],
        "sqrtm": lambda g: [S(g.spd(3))],
        "polar": lambda g: [S(g.spd(3))],
        "pinv": lambda g: [S(g.a(4, 3))],
        "logm": lambda g: [S(g.spd(3))],
        "hilbert": lambda g: [S(4)],
    }
    for name, make in linalg.items():
        out.append(Source("scipy:linalg", f"jax.scipy.linalg.{name}", make, reference=getattr(sl, name, None),
                          claims=None if hasattr(sl, name) else INEXACT))
    signal = {
        "convolve": lambda g: [S(g.a(8), g.a(3)), S(g.a(5), g.a(5), mode="same")],
        "correlate": lambda g: [S(g.a(8), g.a(3))],
        "convolve2d": lambda g: [S(g.a(5, 5), g.a(3, 3)), S(g.a(4, 6), g.a(2, 2), mode="same"),
                                 S(g.a(5, 5), g.a(3, 3), mode="valid")],
        "correlate2d": lambda g: [S(g.a(5, 5), g.a(3, 3))],
        "fftconvolve": lambda g: [S(g.a(8), g.a(3))],
        "detrend": lambda g: [S(g.a(8))],
    }
    for name, make in signal.items():
        out.append(Source("scipy:signal", f"jax.scipy.signal.{name}", make, reference=getattr(ssig, name, None)))
    return out


# -- jax.nn, initializers, random ------------------------------------------------------------------
NN_UNARY = ("relu", "relu6", "sigmoid", "softplus", "soft_sign", "silu", "swish", "log_sigmoid", "elu", "leaky_relu",
            "hard_tanh", "celu", "selu", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "mish", "sparse_plus",
            "sparse_sigmoid", "squareplus", "identity", "tanh", "softmax", "log_softmax", "standardize", "logsumexp",
            "logmeanexp")
INITIALIZERS = {
    "constant": (0.5,), "delta_orthogonal": (), "glorot_normal": (), "glorot_uniform": (), "he_normal": (),
    "he_uniform": (), "kaiming_normal": (), "kaiming_uniform": (), "lecun_normal": (), "lecun_uniform": (),
    "normal": (), "orthogonal": (),
    "truncated_normal": (), "uniform": (), "variance_scaling": (1.0, "fan_in", "truncated_normal"), "xavier_normal": (),
    "xavier_uniform": (),
}


def _nn_sources() -> list[Source]:
    import jax.nn as jnn
    import jax.nn.initializers as ini

    out = []
    axis_fns = {"softmax", "log_softmax", "standardize", "logsumexp", "logmeanexp"}
    for name in NN_UNARY:
        if hasattr(jnn, name):
            make = (lambda g: [S(g.a(3, 4)), S(g.a(5)), S(g.a(2, 3, 4))]) if name in axis_fns else unary()
            out.append(Source("nn:unary", f"jax.nn.{name}", make, claims=FLOATS))
    table = {
        "one_hot": lambda g: [S(g.idx(4, high=5), 5), S(g.idx(2, 3, high=3), 3, axis=0)],
        "glu": lambda g: [S(g.a(3, 4)), S(g.a(4, 6), axis=0)],
        "log1mexp": lambda g: [S(g.a(3, 4, kind="positive"))],
        "dot_product_attention": lambda g: [
            S(g.a(2, 4, 2, 8, kind="small"), g.a(2, 4, 2, 8, kind="small"), g.a(2, 4, 2, 8, kind="small")),
            S(g.a(1, 3, 1, 4, kind="small"), g.a(1, 5, 1, 4, kind="small"), g.a(1, 5, 1, 4, kind="small"),
              is_causal=False)],
    }
    for name, make in table.items():
        if hasattr(jnn, name):
            out.append(Source("nn:table", f"jax.nn.{name}", make, claims=FLOATS))
    for name, factory_args in INITIALIZERS.items():
        if not hasattr(ini, name):
            continue
        shape = (3, 3, 4, 4) if name == "delta_orthogonal" else (3, 4)

        def call(key: Any, shape: tuple, dtype: str, name: str = name, factory_args: tuple = factory_args) -> Any:
            return getattr(ini, name)(*factory_args)(key, shape, jnp.dtype(dtype))

        def initializer_samples(g: Gen, shape: tuple[int, ...] = shape) -> list[Sample]:
            return [S(g.key(), shape, g.dtype), S(g.key(), (5, 2) if len(shape) == 2 else shape, g.dtype)]

        out.append(Source("nn:initializer", f"jax.nn.initializers.{name}", initializer_samples, call=call,
                          claims=FLOATS))
    for name in ("zeros", "ones"):
        out.append(Source("nn:initializer", f"jax.nn.initializers.{name}",
                          lambda g: [S(g.key(), (3, 4), jnp.dtype(g.dtype)), S(g.key(), (), jnp.dtype(g.dtype))],
                          claims=ALL_DTYPES))
    return out


def _random_sources() -> list[Source]:
    import jax.random as jr

    def floats(g: Gen, *extra: Callable[[Gen], Any], **kw: Any) -> list[Sample]:
        return [S(g.key(), *[e(g) for e in extra], shape=(3, 4), dtype=g.dtype, **kw),
                S(g.key(), *[e(g) for e in extra], shape=(), dtype=g.dtype, **kw)]

    pos = lambda g: g.a(kind="positive") + 0.5  # noqa: E731
    table: dict[str, tuple[Callable[[Gen], list[Sample]], tuple[str, ...]]] = {
        **{n: (lambda g: floats(g), FLOATS) for n in ("normal", "uniform", "cauchy", "exponential", "gumbel", "laplace",
                                                     "logistic", "maxwell")},
        "lognormal": (lambda g: floats(g), FLOATS),
        "truncated_normal": (lambda g: floats(g, lambda g: -1.0, lambda g: 1.0), FLOATS),
        "beta": (lambda g: floats(g, pos, pos), FLOATS[2:]),
        "gamma": (lambda g: floats(g, pos), FLOATS[2:]),
        "loggamma": (lambda g: floats(g, pos), FLOATS[2:]),
        "t": (lambda g: floats(g, pos), FLOATS[2:]),
        "chisquare": (lambda g: floats(g, pos), FLOATS[2:]),
        "f": (lambda g: floats(g, pos, pos), FLOATS[2:]),
        "pareto": (lambda g: floats(g, pos), FLOATS[2:]),
        "rayleigh": (lambda g: floats(g, pos), FLOATS[2:]),
        "wald": (lambda g: floats(g, pos), FLOATS[2:]),
        "weibull_min": (lambda g: floats(g, pos, pos), FLOATS[2:]),
        "double_sided_maxwell": (lambda g: floats(g, lambda g: g.a(), pos), FLOATS[2:]),
        "generalized_normal": (lambda g: floats(g, pos), FLOATS[2:]),
        "triangular": (lambda g: floats(g, lambda g: g.a() - 3, lambda g: g.a(), lambda g: g.a() + 3), FLOATS[2:]),
        "dirichlet": (lambda g: [S(g.key(), g.a(3, kind="positive") + 0.5, dtype=g.dtype)], FLOATS[2:]),
        "multivariate_normal": (lambda g: [S(g.key(), g.a(3), g.spd(3), dtype=g.dtype)], FLOATS[2:]),
        "orthogonal": (lambda g: [S(g.key(), 3, dtype=g.dtype)], FLOATS[2:]),
        "ball": (lambda g: [S(g.key(), 3, dtype=g.dtype)], FLOATS[2:]),
        "bernoulli": (lambda g: [S(g.key(), g.a(3, 4, kind="unit")), S(g.key(), 0.3, (5,))], FLOATS),
        "categorical": (lambda g: [S(g.key(), g.a(3, 4)), S(g.key(), g.a(5), shape=(4,))], FLOATS),
        "choice": (lambda g: [S(g.key(), g.a(6), (3,)), S(g.key(), g.a(6), (4,), replace=False),
                              S(g.key(), 5, (2,))], ALL_DTYPES),
        "permutation": (lambda g: [S(g.key(), g.a(6)), S(g.key(), g.a(3, 4), axis=1, independent=True),
                                   S(g.key(), 5)], ALL_DTYPES),
        "randint": (lambda g: [S(g.key(), (3, 4), 0, 10, dtype=g.dtype), S(g.key(), (), -5, 5, dtype=g.dtype)],
                    ("int32", "int64")),
        "rademacher": (lambda g: [S(g.key(), (3, 4), dtype=g.dtype)], ("int32", "int64")),
        "poisson": (lambda g: [S(g.key(), g.a(3, 4, kind="positive")), S(g.key(), 3.0, (5,), dtype=g.dtype)],
                    ("int32", "int64")),
        "binomial": (lambda g: [S(g.key(), np.full((3, 4), 5.0, g.np_dtype), g.a(3, 4, kind="unit"))], FLOATS[2:]),
        "geometric": (lambda g: [S(g.key(), g.a(3, 4, kind="unit"))], FLOATS[2:]),
        "multinomial": (lambda g: [S(g.key(), np.full((3,), 5.0, g.np_dtype), g.a(3, 4, kind="unit") / 2 + 0.01)],
                        FLOATS[2:]),
        "split": (lambda g: [S(g.key()), S(g.key(), 3)], ("none",)),
        "fold_in": (lambda g: [S(g.key(), 7), S(g.key(), g.idx(high=100))], ("none",)),
        "bits": (lambda g: [S(g.key(), (3, 4)), S(g.key(), (5,), dtype="uint8")], ("none",)),
        "key_data": (lambda g: [S(g.key())], ("none",)),
        "PRNGKey": (lambda g: [S(0), S(123456789)], ("none",)),
        "key": (lambda g: [S(0), S(42)], ("none",)),
        "clone": (lambda g: [S(g.key())], ("none",)),
    }
    out = []
    for name, (make, claims) in table.items():
        if not hasattr(jr, name):
            continue
        call = None
        if name == "key":  # a typed key: compare its data (key arrays are not numpy-convertible)
            call = lambda seed: jr.key_data(jr.key(seed))  # noqa: E731
        out.append(Source("random:table", f"jax.random.{name}", make, claims=claims, call=call))
    return out


# -- JAX's own lax test metadata ------------------------------------------------------------------------
def _lax_sources() -> list[Source]:
    out: dict[str, Source] = {}
    shapes = [(3, 4), (), (0,), (2, 3, 4)]
    counts: dict[str, int] = {}
    for rec in ltu.lax_ops():
        qual = f"jax.lax.{rec.op}"
        n = counts.get(rec.op, 0)
        counts[rec.op] = n + 1
        key = f"lax_test_util:{rec.op}" + (f".{n}" if n else "")
        claims = tuple(sorted({dtype_name(d) for d in rec.dtypes}))

        def make(g: Gen, rec: Any = rec) -> list[Sample]:
            factory = rec.rng_factory(g.rng)
            return [S(*[np.asarray(factory(s, g.np_dtype)) for _ in range(rec.nargs)]) for s in shapes]

        out[key] = Source(key, qual, make, claims=claims)
    for rec in ltu.lax_named_reduce_ops():
        qual = f"jax.lax.{rec.op.__name__}"
        claims = tuple(sorted({dtype_name(d) for d in rec.dtypes}))

        def reduce_samples(g: Gen) -> list[Sample]:
            return [S(tu.rand_default(g.rng)((3, 4), g.np_dtype), (0,)),
                    S(tu.rand_default(g.rng)((2, 3, 4), g.np_dtype), (0, 2)),
                    S(tu.rand_default(g.rng)((5,), g.np_dtype), ())]

        key = f"lax_test_util:{rec.op.__name__}"
        out[key] = Source(key, qual, reduce_samples, claims=claims, reference=rec.reference_op)
    import jax.lax as lax

    for i, rec in enumerate(ltu.lax_reduce_ops()):
        claims = tuple(sorted({dtype_name(d) for d in rec.dtypes}))
        name = f"lax_test_util:reduce.{rec.primitive.name}.{i}"

        def make(g: Gen, rec: Any = rec) -> list[Sample]:
            init = np.asarray(rec.init_val).astype(g.np_dtype)
            return [S(tu.rand_small(g.rng)((3, 4), g.np_dtype), init, rec.op, (0,)),
                    S(tu.rand_small(g.rng)((2, 3, 4), g.np_dtype), init, rec.op, (0, 2))]

        out[name] = Source(name, "jax.lax.reduce", make, claims=claims, call=lax.reduce)
    return list(out.values())


def build_index() -> dict[str, list[Source]]:
    """qualname -> its case sources (functions missing from this JAX are left out)."""
    index: dict[str, list[Source]] = {}
    for builder in (_lax_sources, _numpy_sources, _special_sources, _stats_sources, _scipy_misc_sources, _nn_sources,
                    _random_sources):
        for src in builder():
            if src.call is None and resolve(src.qualname) is None:
                continue
            sources = index.setdefault(src.qualname, [])
            if all(s.key != src.key for s in sources):
                sources.append(src)
    return index
