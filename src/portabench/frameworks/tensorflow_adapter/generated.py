"""Generated cases for TensorFlow functions that have a NumPy/SciPy counterpart.

A function qualifies when it computes what a NumPy/SciPy function computes on
the same inputs (``tensorflow.math.log`` ~ ``numpy.log``). Its *signature kind*
(unary, binary, reduction, scan, matrix, ...) says which inputs to build and how
to call it; the kind comes from a small table here or, for
``tensorflow.experimental.numpy``, is inferred from the NumPy counterpart
(``numpy.ufunc.nin``). Every kind has a list of samples covering a scalar, an
empty array, broadcasting and several ranks; a sample's inputs are drawn with
numpy from a seed derived from the case id, so every device gets the same values.

The counterpart is recorded in the case (``extra["numpy"]``) and used by the
tests as an oracle for the generator itself; the runner compares devices only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from portabench.specs import input_seed

FLOATS = ("float32", "float64", "float16", "bfloat16")
REALS = ("float32", "float64")
FLOAT_COMPLEX = ("float32", "float64", "float16", "bfloat16", "complex64")
NUMERIC = ("float32", "float64", "float16", "bfloat16", "int64")
INTS = ("int64", "int32")
BOOLS = ("bool",)
LINALG = ("float32", "float64", "complex64")
LINALG_REAL = ("float32", "float64")
COMPLEX = ("complex64",)


@dataclass(frozen=True)
class Entry:
    """One generated function: what to call, its counterpart, how to call it, in which dtypes."""

    qualname: str
    numpy: str  # dotted name of the counterpart, e.g. "numpy.log" or "scipy.special.erf"
    kind: str  # a key of KINDS
    dtypes: tuple[str, ...] = FLOATS
    kwargs: tuple[tuple[str, Any], ...] = ()  # fixed keyword arguments
    postprocess: str = ""  # "eigh" / "svd" / "qr": remove sign ambiguity; "as_list": pass the inputs as one list

    @property
    def source(self) -> str:
        return f"generated:{self.kind}"


# -- kinds: input shapes / value domains of each sample --------------------------------------------
# A sample is (args, kwargs): args is a list of (shape, domain), kwargs are extra keyword arguments
# (an axis, ...). Domains: "normal", "positive", "unit" (-0.9, 0.9), "ge1" (>= 1), "prob" (0.05, 0.95),
# "spd" (symmetric positive definite matrices), "wellcond" (square, well conditioned), "small_int"
# (0..9), "bool". The first five samples of every kind are: scalar, empty, vector, broadcast / matrix, rank 3.

def _unary(domain: str) -> list[tuple[list, dict]]:
    return [([((), domain)], {}), ([((0,), domain)], {}), ([((7,), domain)], {}), ([((3, 4), domain)], {}),
            ([((2, 3, 4), domain)], {})]


def _binary(d1: str, d2: str) -> list[tuple[list, dict]]:
    return [([((), d1), ((), d2)], {}), ([((0, 3), d1), ((0, 3), d2)], {}), ([((5,), d1), ((5,), d2)], {}),
            ([((3, 1), d1), ((1, 4), d2)], {}), ([((2, 3, 4), d1), ((4,), d2)], {})]


def _reduction(domain: str) -> list[tuple[list, dict]]:
    return [([((), domain)], {"axis": None}), ([((0, 3), domain)], {"axis": 1}), ([((7,), domain)], {"axis": None}),
            ([((3, 4), domain)], {"axis": 0}), ([((2, 3, 4), domain)], {"axis": -1})]


def _scan(domain: str) -> list[tuple[list, dict]]:
    return [([((7,), domain)], {"axis": 0}), ([((0, 3), domain)], {"axis": 1}), ([((3, 4), domain)], {"axis": 1}),
            ([((2, 3, 4), domain)], {"axis": -1})]


KINDS: dict[str, list[tuple[list, dict]]] = {
    "unary": _unary("normal"),
    "unary_pos": _unary("positive"),
    "unary_unit": _unary("unit"),
    "unary_ge1": _unary("ge1"),
    "unary_prob": _unary("prob"),
    "unary_int": _unary("small_int"),
    "unary_bool": _unary("bool"),
    "binary": _binary("normal", "normal"),
    "binary_pos": _binary("positive", "positive"),  # both operands positive (pow, xlogy, gamma functions)
    "binary_div": _binary("normal", "positive"),  # second operand away from zero (divide, mod)
    "binary_int": _binary("small_int", "small_int"),
    "binary_bool": _binary("bool", "bool"),
    "reduction": _reduction("normal"),
    "reduction_pos": _reduction("positive"),
    "reduction_bool": _reduction("bool"),
    "scan": _scan("normal"),
    "softmax": [([((7,), "normal")], {}), ([((3, 4), "normal")], {}), ([((2, 3, 4), "normal")], {}),
                ([((0, 4), "normal")], {})],
    "vector_last": [([((8,), "normal")], {}), ([((3, 8), "normal")], {}), ([((2, 3, 5), "normal")], {})],
    "matrix_last2": [([((4, 4), "normal")], {}), ([((2, 3, 4), "normal")], {}), ([((1, 1), "normal")], {})],
    "square": [([((3, 3), "wellcond")], {}), ([((2, 4, 4), "wellcond")], {}), ([((1, 1), "wellcond")], {}),
               ([((0, 2, 2), "wellcond")], {})],
    "spd": [([((3, 3), "spd")], {}), ([((2, 4, 4), "spd")], {}), ([((1, 1), "spd")], {})],
    "rect": [([((4, 3), "normal")], {}), ([((2, 3, 5), "normal")], {}), ([((1, 1), "normal")], {})],
    "matmul": [([((3, 4), "normal"), ((4, 2), "normal")], {}), ([((2, 3, 4), "normal"), ((2, 4, 5), "normal")], {}),
               ([((0, 3), "normal"), ((3, 2), "normal")], {}), ([((1, 1), "normal"), ((1, 1), "normal")], {})],
    "solve": [([((3, 3), "wellcond"), ((3, 2), "normal")], {}), ([((2, 4, 4), "wellcond"), ((2, 4, 1), "normal")], {})],
    "vec3": [([((3,), "normal"), ((3,), "normal")], {}), ([((4, 3), "normal"), ((4, 3), "normal")], {})],
    "outer": [([((3,), "normal"), ((4,), "normal")], {}), ([((0,), "normal"), ((2,), "normal")], {}),
              ([((1,), "normal"), ((5,), "normal")], {})],
    "vdot": [([((5,), "normal"), ((5,), "normal")], {}), ([((0,), "normal"), ((0,), "normal")], {})],
    "diag_vec": [([((4,), "normal")], {}), ([((1,), "normal")], {}), ([((0,), "normal")], {})],
    "diag_any": [([((4,), "normal")], {}), ([((3, 4), "normal")], {}), ([((2, 2), "normal")], {})],
    "flip": [([((7,), "normal")], {}), ([((3, 4), "normal")], {}), ([((2, 3, 4), "normal")], {})],
    "flip2d": [([((3, 4), "normal")], {}), ([((2, 3, 4), "normal")], {})],
    "rank_any": [([((), "normal")], {}), ([((0,), "normal")], {}), ([((7,), "normal")], {}),
                 ([((3, 4), "normal")], {}), ([((2, 3, 4), "normal")], {})],
    "sort": [([((7,), "normal")], {}), ([((3, 4), "normal")], {}), ([((0, 3), "normal")], {}),
             ([((2, 3, 4), "normal")], {})],
    "diff": [([((7,), "normal")], {}), ([((3, 4), "normal")], {}), ([((2, 3, 4), "normal")], {})],
    "fft": [([((8,), "normal")], {}), ([((3, 8), "normal")], {}), ([((2, 3, 5), "normal")], {}),
            ([((1,), "normal")], {})],
    "fft2d": [([((4, 4), "normal")], {}), ([((2, 3, 4), "normal")], {})],
    "fft3d": [([((2, 4, 4), "normal")], {}), ([((2, 2, 3, 4), "normal")], {})],
}


# -- the tables -------------------------------------------------------------------------------------
def _math_entries() -> list[Entry]:
    m = "tensorflow.math."
    rows: list[tuple[str, str, str, tuple[str, ...]]] = [
        # name, counterpart, kind, dtypes
        ("abs", "numpy.abs", "unary", NUMERIC), ("acos", "numpy.arccos", "unary_unit", FLOATS),
        ("acosh", "numpy.arccosh", "unary_ge1", FLOATS), ("asin", "numpy.arcsin", "unary_unit", FLOATS),
        ("asinh", "numpy.arcsinh", "unary", FLOATS), ("atan", "numpy.arctan", "unary", FLOATS),
        ("atanh", "numpy.arctanh", "unary_unit", FLOATS), ("ceil", "numpy.ceil", "unary", FLOATS),
        ("cos", "numpy.cos", "unary", FLOAT_COMPLEX), ("cosh", "numpy.cosh", "unary", FLOATS),
        ("exp", "numpy.exp", "unary", FLOAT_COMPLEX), ("expm1", "numpy.expm1", "unary", FLOATS),
        ("floor", "numpy.floor", "unary", FLOATS), ("log", "numpy.log", "unary_pos", FLOAT_COMPLEX),
        ("log1p", "numpy.log1p", "unary_pos", FLOATS), ("negative", "numpy.negative", "unary", NUMERIC),
        ("reciprocal", "numpy.reciprocal", "unary_pos", FLOATS), ("rint", "numpy.rint", "unary", REALS),
        ("round", "numpy.round", "unary", FLOATS), ("rsqrt", "numpy.sqrt(1/x)", "unary_pos", FLOATS),
        ("sign", "numpy.sign", "unary", NUMERIC), ("sin", "numpy.sin", "unary", FLOAT_COMPLEX),
        ("sinh", "numpy.sinh", "unary", FLOATS), ("sqrt", "numpy.sqrt", "unary_pos", FLOAT_COMPLEX),
        ("square", "numpy.square", "unary", NUMERIC), ("tan", "numpy.tan", "unary", FLOATS),
        ("tanh", "numpy.tanh", "unary", FLOAT_COMPLEX), ("sigmoid", "scipy.special.expit", "unary", FLOATS),
        ("log_sigmoid", "scipy.special.log_expit", "unary", REALS),
        ("softplus", "numpy.logaddexp(0, x)", "unary", FLOATS),
        ("softsign", "x / (1 + abs(x))", "unary", FLOATS), ("erf", "scipy.special.erf", "unary", FLOATS),
        ("erfc", "scipy.special.erfc", "unary", FLOATS), ("erfinv", "scipy.special.erfinv", "unary_unit", REALS),
        ("erfcinv", "scipy.special.erfcinv", "unary_prob", REALS),
        ("ndtri", "scipy.special.ndtri", "unary_prob", REALS),
        # lgamma, digamma, rint: TensorFlow registers no CPU kernel for float16/bfloat16, so the reference could
        # never run those cases (broken cases, not findings)
        ("lgamma", "scipy.special.gammaln", "unary_pos", REALS), ("digamma", "scipy.special.psi", "unary_pos", REALS),
        ("bessel_i0", "scipy.special.i0", "unary", REALS), ("bessel_i0e", "scipy.special.i0e", "unary", REALS),
        ("bessel_i1", "scipy.special.i1", "unary", REALS), ("bessel_i1e", "scipy.special.i1e", "unary", REALS),
        ("is_finite", "numpy.isfinite", "unary", FLOATS), ("is_inf", "numpy.isinf", "unary", FLOATS),
        ("is_nan", "numpy.isnan", "unary", FLOATS), ("logical_not", "numpy.logical_not", "unary_bool", BOOLS),
        ("reciprocal_no_nan", "numpy.reciprocal", "unary_pos", REALS),
        ("real", "numpy.real", "unary", COMPLEX), ("imag", "numpy.imag", "unary", COMPLEX),
        ("conj", "numpy.conj", "unary", COMPLEX), ("angle", "numpy.angle", "unary", COMPLEX),
        ("add", "numpy.add", "binary", NUMERIC + COMPLEX), ("subtract", "numpy.subtract", "binary", NUMERIC),
        ("multiply", "numpy.multiply", "binary", NUMERIC + COMPLEX), ("divide", "numpy.divide", "binary_div", FLOATS),
        ("truediv", "numpy.true_divide", "binary_div", FLOATS),
        ("floordiv", "numpy.floor_divide", "binary_div", FLOATS),
        ("floormod", "numpy.mod", "binary_div", REALS), ("mod", "numpy.mod", "binary_div", REALS),
        ("pow", "numpy.power", "binary_pos", FLOATS), ("maximum", "numpy.maximum", "binary", NUMERIC),
        ("minimum", "numpy.minimum", "binary", NUMERIC), ("atan2", "numpy.arctan2", "binary", FLOATS),
        ("squared_difference", "numpy.square(x - y)", "binary", NUMERIC),
        ("equal", "numpy.equal", "binary", NUMERIC), ("not_equal", "numpy.not_equal", "binary", NUMERIC),
        ("greater", "numpy.greater", "binary", NUMERIC), ("greater_equal", "numpy.greater_equal", "binary", NUMERIC),
        ("less", "numpy.less", "binary", NUMERIC), ("less_equal", "numpy.less_equal", "binary", NUMERIC),
        ("logical_and", "numpy.logical_and", "binary_bool", BOOLS),
        ("logical_or", "numpy.logical_or", "binary_bool", BOOLS),
        ("logical_xor", "numpy.logical_xor", "binary_bool", BOOLS),
        ("xlogy", "scipy.special.xlogy", "binary_pos", FLOATS),
        ("xlog1py", "scipy.special.xlog1py", "binary_pos", REALS),
        ("xdivy", "x / y (0 where x == 0)", "binary_div", REALS),
        ("divide_no_nan", "numpy.divide", "binary_div", REALS), ("multiply_no_nan", "numpy.multiply", "binary", REALS),
        ("igamma", "scipy.special.gammainc", "binary_pos", REALS),
        ("igammac", "scipy.special.gammaincc", "binary_pos", REALS),
        ("polygamma", "scipy.special.polygamma", "binary_pos", REALS),
        ("zeta", "scipy.special.zeta", "binary_pos", REALS),
        ("nextafter", "numpy.nextafter", "binary", REALS),
        ("reduce_sum", "numpy.sum", "reduction", NUMERIC), ("reduce_mean", "numpy.mean", "reduction", FLOATS),
        ("reduce_max", "numpy.max", "reduction", NUMERIC), ("reduce_min", "numpy.min", "reduction", NUMERIC),
        ("reduce_prod", "numpy.prod", "reduction", FLOATS), ("reduce_std", "numpy.std", "reduction", FLOATS),
        ("reduce_variance", "numpy.var", "reduction", FLOATS),
        ("reduce_logsumexp", "scipy.special.logsumexp", "reduction", FLOATS),
        ("reduce_euclidean_norm", "numpy.linalg.norm", "reduction", FLOATS),
        ("reduce_all", "numpy.all", "reduction_bool", BOOLS), ("reduce_any", "numpy.any", "reduction_bool", BOOLS),
        ("count_nonzero", "numpy.count_nonzero", "reduction", REALS + BOOLS),
        ("cumsum", "numpy.cumsum", "scan", NUMERIC), ("cumprod", "numpy.cumprod", "scan", FLOATS),
        ("cumulative_logsumexp", "numpy.logaddexp.accumulate", "scan", REALS),
        ("softmax", "scipy.special.softmax(axis=-1)", "softmax", FLOATS),
        ("log_softmax", "scipy.special.log_softmax(axis=-1)", "softmax", FLOATS),
        ("l2_normalize", "x / numpy.linalg.norm(x)", "rank_any", REALS),
        ("zero_fraction", "numpy.mean(x == 0)", "rank_any", REALS),
    ]
    out = [Entry(m + n, c, k, d) for n, c, k, d in rows]
    out += [Entry(m + "argmax", "numpy.argmax", "reduction_nonempty", REALS),
            Entry(m + "argmin", "numpy.argmin", "reduction_nonempty", REALS),
            Entry(m + "special.dawsn", "scipy.special.dawsn", "unary", REALS),
            Entry(m + "special.expint", "scipy.special.expi", "unary_pos", REALS),
            Entry(m + "special.fresnel_cos", "scipy.special.fresnel[1]", "unary", REALS),
            Entry(m + "special.fresnel_sin", "scipy.special.fresnel[0]", "unary", REALS),
            Entry(m + "special.spence", "scipy.special.spence", "unary_pos", REALS),
            Entry(m + "special.bessel_j0", "scipy.special.j0", "unary", REALS),
            Entry(m + "special.bessel_j1", "scipy.special.j1", "unary", REALS),
            Entry(m + "special.bessel_y0", "scipy.special.y0", "unary_pos", REALS),
            Entry(m + "special.bessel_y1", "scipy.special.y1", "unary_pos", REALS),
            Entry(m + "special.bessel_k0", "scipy.special.k0", "unary_pos", REALS),
            Entry(m + "special.bessel_k0e", "scipy.special.k0e", "unary_pos", REALS),
            Entry(m + "special.bessel_k1", "scipy.special.k1", "unary_pos", REALS),
            Entry(m + "special.bessel_k1e", "scipy.special.k1e", "unary_pos", REALS)]
    return out


def _nn_entries() -> list[Entry]:
    n = "tensorflow.nn."
    rows = [
        ("relu", "numpy.maximum(x, 0)", "unary", NUMERIC), ("relu6", "numpy.clip(x, 0, 6)", "unary", FLOATS),
        ("elu", "numpy.where(x > 0, x, expm1(x))", "unary", FLOATS), ("selu", "scipy selu", "unary", FLOATS),
        ("gelu", "x * scipy.special.ndtr(x)", "unary", FLOATS), ("silu", "x * scipy.special.expit(x)", "unary", FLOATS),
        ("leaky_relu", "numpy.where(x > 0, x, 0.2 * x)", "unary", FLOATS),
        ("softplus", "numpy.logaddexp(0, x)", "unary", FLOATS),
        ("softsign", "x / (1 + abs(x))", "unary", FLOATS), ("sigmoid", "scipy.special.expit", "unary", FLOATS),
        ("tanh", "numpy.tanh", "unary", FLOATS), ("crelu", "concat(relu(x), relu(-x))", "softmax", FLOATS),
        ("softmax", "scipy.special.softmax(axis=-1)", "softmax", FLOATS),
        ("log_softmax", "scipy.special.log_softmax(axis=-1)", "softmax", FLOATS),
        ("l2_loss", "numpy.sum(x ** 2) / 2", "rank_any", FLOATS),
        ("l2_normalize", "x / numpy.linalg.norm(x)", "rank_any", REALS),
        ("swish", "x * scipy.special.expit(x)", "unary", FLOATS),
    ]
    return [Entry(n + a, c, k, d) for a, c, k, d in rows]


def _linalg_entries() -> list[Entry]:
    la = "tensorflow.linalg."
    return [
        Entry(la + "det", "numpy.linalg.det", "square", LINALG),
        Entry(la + "inv", "numpy.linalg.inv", "square", LINALG),
        Entry(la + "slogdet", "numpy.linalg.slogdet", "square", LINALG_REAL),
        Entry(la + "logdet", "numpy.linalg.slogdet[1] (SPD)", "spd", LINALG_REAL),
        Entry(la + "cholesky", "numpy.linalg.cholesky", "spd", LINALG_REAL),
        Entry(la + "eigh", "numpy.linalg.eigh", "spd", LINALG_REAL, postprocess="eigh"),
        Entry(la + "eigvalsh", "numpy.linalg.eigvalsh", "spd", LINALG_REAL),
        Entry(la + "svd", "numpy.linalg.svd", "rect", LINALG_REAL, postprocess="svd"),
        Entry(la + "qr", "numpy.linalg.qr", "rect", LINALG_REAL, postprocess="qr"),
        Entry(la + "pinv", "numpy.linalg.pinv", "rect", LINALG_REAL),
        Entry(la + "matrix_rank", "numpy.linalg.matrix_rank", "rect", LINALG_REAL),
        Entry(la + "expm", "scipy.linalg.expm", "square", LINALG_REAL),
        Entry(la + "sqrtm", "scipy.linalg.sqrtm", "spd", LINALG_REAL),
        Entry(la + "trace", "numpy.trace (last two axes)", "matrix_last2", LINALG),
        Entry(la + "diag_part", "numpy.diagonal (last two axes)", "matrix_last2", LINALG),
        Entry(la + "diag", "numpy.diag", "diag_vec", LINALG),
        Entry(la + "matrix_transpose", "numpy.swapaxes(x, -1, -2)", "matrix_last2", LINALG),
        Entry(la + "adjoint", "numpy.conj(numpy.swapaxes(x, -1, -2))", "matrix_last2", LINALG),
        Entry(la + "matmul", "numpy.matmul", "matmul", LINALG + ("float16", "bfloat16")),
        Entry(la + "solve", "numpy.linalg.solve", "solve", LINALG),
        Entry(la + "lstsq", "numpy.linalg.lstsq", "solve", LINALG_REAL),
        Entry(la + "cross", "numpy.cross", "vec3", LINALG_REAL),
        Entry(la + "norm", "numpy.linalg.norm", "rank_any", LINALG_REAL),
        Entry(la + "global_norm", "sqrt(sum of squares)", "vdot", LINALG_REAL, postprocess="as_list"),
        Entry(la + "eye", "numpy.eye", "eye", LINALG),
        Entry(la + "band_part", "numpy.triu/tril", "band", LINALG),
        Entry(la + "tensordot", "numpy.tensordot", "matmul_2d", LINALG, kwargs=(("axes", 1),)),
        Entry(la + "matvec", "numpy.matmul(a, x)", "matvec", LINALG),
        Entry(la + "set_diag", "numpy.fill_diagonal", "set_diag", LINALG),
    ]


def _signal_entries() -> list[Entry]:
    s = "tensorflow.signal."
    return [
        Entry(s + "fft", "numpy.fft.fft", "fft", COMPLEX), Entry(s + "ifft", "numpy.fft.ifft", "fft", COMPLEX),
        Entry(s + "fft2d", "numpy.fft.fft2", "fft2d", COMPLEX),
        Entry(s + "ifft2d", "numpy.fft.ifft2", "fft2d", COMPLEX),
        Entry(s + "fft3d", "numpy.fft.fftn(axes=-3..-1)", "fft3d", COMPLEX),
        Entry(s + "ifft3d", "numpy.fft.ifftn(axes=-3..-1)", "fft3d", COMPLEX),
        Entry(s + "rfft", "numpy.fft.rfft", "fft", REALS), Entry(s + "rfft2d", "numpy.fft.rfft2", "fft2d", REALS),
        Entry(s + "irfft", "numpy.fft.irfft", "fft", COMPLEX),
        Entry(s + "dct", "scipy.fft.dct(type=2)", "fft", REALS),
        Entry(s + "idct", "scipy.fft.idct(type=2)", "fft", REALS),
        Entry(s + "fftshift", "numpy.fft.fftshift", "rank_any_nonscalar", REALS),
        Entry(s + "ifftshift", "numpy.fft.ifftshift", "rank_any_nonscalar", REALS),
        Entry(s + "hann_window", "scipy.signal.windows.hann(sym=False)", "window", REALS),
        Entry(s + "hamming_window", "scipy.signal.windows.hamming(sym=False)", "window", REALS),
    ]


#: tensorflow.experimental.numpy functions whose kind is not inferred from numpy.ufunc.nin
TNP_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sum": ("reduction", NUMERIC), "prod": ("reduction", FLOATS), "mean": ("reduction", FLOATS),
    "std": ("reduction", REALS), "var": ("reduction", REALS), "max": ("reduction", NUMERIC),
    "min": ("reduction", NUMERIC), "amax": ("reduction", NUMERIC), "amin": ("reduction", NUMERIC),
    "all": ("reduction_bool", BOOLS), "any": ("reduction_bool", BOOLS), "nansum": ("reduction", REALS),
    "nanmean": ("reduction", REALS), "nanprod": ("reduction", REALS), "average": ("reduction", REALS),
    "ptp": ("reduction", REALS), "count_nonzero": ("reduction", REALS),
    "argmax": ("reduction_nonempty", REALS), "argmin": ("reduction_nonempty", REALS),
    "cumsum": ("scan", NUMERIC), "cumprod": ("scan", FLOATS),
    "sort": ("sort", REALS), "argsort": ("sort", REALS), "diff": ("diff", REALS),
    "ravel": ("rank_any", NUMERIC), "transpose": ("rank_any", NUMERIC), "copy": ("rank_any", NUMERIC),
    "atleast_1d": ("rank_any", REALS), "atleast_2d": ("rank_any", REALS), "atleast_3d": ("rank_any", REALS),
    "squeeze": ("rank_any", REALS), "flip": ("flip", NUMERIC), "fliplr": ("flip2d", REALS),
    "flipud": ("flip", REALS), "rot90": ("flip2d", REALS), "diag": ("diag_any", REALS),
    "diagflat": ("diag_any", REALS), "diagonal": ("matrix_last2", REALS), "trace": ("matrix_last2", REALS),
    "tril": ("matrix_last2", REALS), "triu": ("matrix_last2", REALS), "around": ("unary", REALS),
    "round": ("unary", REALS), "fix": ("unary", REALS), "sinc": ("unary", REALS), "real": ("unary", COMPLEX),
    "imag": ("unary", COMPLEX), "angle": ("unary", COMPLEX), "isneginf": ("unary", REALS),
    "isposinf": ("unary", REALS), "isreal": ("unary", COMPLEX), "iscomplex": ("unary", COMPLEX),
    "ones_like": ("rank_any", NUMERIC), "zeros_like": ("rank_any", NUMERIC), "size": ("rank_any", REALS),
    "ndim": ("rank_any", REALS), "shape": ("rank_any", REALS), "nonzero": ("flip", REALS),
    "dot": ("matmul", REALS), "inner": ("vdot", REALS), "vdot": ("vdot", LINALG), "outer": ("outer", REALS),
    "kron": ("outer", REALS), "cross": ("vec3", REALS), "matmul": ("matmul", LINALG),
    "tensordot": ("matmul_2d", REALS), "allclose": ("binary", REALS), "isclose": ("binary", REALS),
    "array_equal": ("binary", REALS), "clip": ("clip", REALS),
}
TNP_UFUNC_DOMAIN = {
    "log": "unary_pos", "log2": "unary_pos", "log10": "unary_pos", "log1p": "unary_pos", "sqrt": "unary_pos",
    "reciprocal": "unary_pos", "arccos": "unary_unit", "arcsin": "unary_unit", "arctanh": "unary_unit",
    "arccosh": "unary_ge1", "divide": "binary_div", "true_divide": "binary_div", "floor_divide": "binary_div",
    "mod": "binary_div", "remainder": "binary_div", "divmod": "binary_div", "power": "binary_pos",
    "float_power": "binary_pos",
}
TNP_UFUNC_DTYPES = {
    "bitwise_not": INTS, "bitwise_and": INTS, "bitwise_or": INTS, "bitwise_xor": INTS, "gcd": INTS, "lcm": INTS,
    "logical_and": BOOLS, "logical_or": BOOLS, "logical_xor": BOOLS, "logical_not": BOOLS,
    "conj": COMPLEX, "conjugate": COMPLEX, "matmul": LINALG, "signbit": REALS, "nextafter": REALS,
    "heaviside": REALS, "divmod": REALS, "float_power": REALS, "cbrt": REALS, "exp2": REALS,
    "logaddexp2": REALS, "mod": REALS, "remainder": REALS, "hypot": REALS,
}


def _tnp_entries() -> list[Entry]:
    import tensorflow.experimental.numpy as tnp

    out = []
    for name in sorted(dir(tnp)):
        if name.startswith("_") or not hasattr(np, name):
            continue
        counterpart = getattr(np, name)
        if name in TNP_KINDS:
            kind, dtypes = TNP_KINDS[name]
        elif isinstance(counterpart, np.ufunc) and counterpart.nin in (1, 2) and name != "matmul":
            dtypes = TNP_UFUNC_DTYPES.get(name, FLOATS)
            base = "unary" if counterpart.nin == 1 else "binary"
            if dtypes == INTS:
                kind = base + "_int"
            elif dtypes == BOOLS:
                kind = base + "_bool"
            else:
                kind = TNP_UFUNC_DOMAIN.get(name, base)
        else:
            continue
        kwargs = (("axes", 1),) if kind == "matmul_2d" else ()
        out.append(Entry(f"tensorflow.experimental.numpy.{name}", f"numpy.{name}", kind, dtypes, kwargs))
    return out


KINDS.update({
    "reduction_nonempty": [([((7,), "normal")], {"axis": None}), ([((3, 4), "normal")], {"axis": 0}),
                           ([((2, 3, 4), "normal")], {"axis": -1})],
    "rank_any_nonscalar": [([((7,), "normal")], {}), ([((0,), "normal")], {}), ([((3, 4), "normal")], {}),
                           ([((2, 3, 4), "normal")], {})],
    "eye": [([], {"num_rows": 3}), ([], {"num_rows": 2, "num_columns": 4}), ([], {"num_rows": 0}),
            ([], {"num_rows": 3, "batch_shape": [2]})],
    "band": [([((4, 4), "normal")], {"num_lower": 1, "num_upper": 0}),
             ([((2, 3, 4), "normal")], {"num_lower": 0, "num_upper": -1}),
             ([((4, 4), "normal")], {"num_lower": -1, "num_upper": 1})],
    "matmul_2d": [([((3, 4), "normal"), ((4, 2), "normal")], {}), ([((1, 5), "normal"), ((5, 1), "normal")], {}),
                  ([((0, 3), "normal"), ((3, 2), "normal")], {})],
    "matvec": [([((3, 4), "normal"), ((4,), "normal")], {}), ([((2, 3, 4), "normal"), ((2, 4), "normal")], {})],
    "set_diag": [([((3, 3), "normal"), ((3,), "normal")], {}), ([((2, 3, 4), "normal"), ((2, 3), "normal")], {})],
    "window": [([], {"window_length": 8}), ([], {"window_length": 1}), ([], {"window_length": 0}),
               ([], {"window_length": 17})],
    "clip": [([((7,), "normal")], {"lo": -0.5, "hi": 0.5}), ([((3, 4), "normal")], {"lo": -1.0, "hi": 0.0}),
             ([((), "normal")], {"lo": 0.0, "hi": 1.0}), ([((0, 2), "normal")], {"lo": 0.0, "hi": 1.0})],
})

#: kinds whose keyword arguments have other names in TensorFlow's API than in numpy's
POSITIONAL_KWARGS = {"clip": ("lo", "hi")}


def build_entries() -> dict[str, list[Entry]]:
    """qualname -> its generated entries (only names that exist in the installed TensorFlow)."""
    from portabench.frameworks.tensorflow_adapter.api import resolve

    out: dict[str, list[Entry]] = {}
    for entry in _math_entries() + _nn_entries() + _linalg_entries() + _signal_entries() + _tnp_entries():
        if callable(resolve(entry.qualname)):
            out.setdefault(entry.qualname, []).append(entry)
    return out


# -- inputs -----------------------------------------------------------------------------------------
def _values(rng: np.random.Generator, shape: tuple[int, ...], domain: str, dtype: str) -> np.ndarray:
    if domain == "bool" or dtype == "bool":
        return rng.random(shape) > 0.5
    if domain == "small_int":
        return rng.integers(0, 10, size=shape)
    if domain == "positive":
        v = rng.random(shape) * 2 + 0.1
    elif domain == "unit":
        v = rng.random(shape) * 1.8 - 0.9
    elif domain == "ge1":
        v = 1 + rng.random(shape) * 2
    elif domain == "prob":
        v = 0.05 + rng.random(shape) * 0.9
    elif domain == "wellcond":
        n = shape[-1]
        v = rng.standard_normal(shape) * 0.3 + np.eye(n) * 2
    elif domain == "spd":
        n = shape[-1]
        a = rng.standard_normal(shape) * 0.3
        v = a @ np.swapaxes(a, -1, -2) + np.eye(n) * n
    else:
        v = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        v = v + 1j * (rng.standard_normal(shape) * 0.5)
    elif dtype.startswith("int") or dtype.startswith("uint"):
        v = np.round(v * 3)
        if domain in ("positive", "ge1", "wellcond", "spd"):
            v = np.abs(v) + 1
    return np.asarray(v)


def sample_count(entry: Entry) -> int:
    return len(KINDS[entry.kind])


def sample_inputs(entry: Entry, case_id: str, index: int, dtype: str) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The numpy inputs (positional) and keyword arguments of one sample, seeded by ``case_id``."""
    rng = np.random.default_rng(input_seed(case_id))
    args_spec, kwargs = KINDS[entry.kind][index]
    args = [_values(rng, tuple(shape), domain, dtype) for shape, domain in args_spec]
    kwargs = dict(kwargs)
    kwargs.update(dict(entry.kwargs))
    return args, kwargs
