"""Output comparison between devices (tolerances, NaN/inf, structure, meta-style leaves, random outputs)."""

from __future__ import annotations

import numpy as np

from portabench.frameworks.base import HostLeaf
from portabench.worker.compare import TOLERANCES, compare_outputs, outputs_differ


def leaf(values, dtype: str = "float32") -> HostLeaf:
    arr = np.asarray(values)
    return HostLeaf(dtype, arr.shape, arr, "cpu")


def test_within_tolerance_passes_and_reports_errors() -> None:
    result = compare_outputs(leaf([1.0, 2.0]), leaf([1.0005, 2.0]))
    assert result.ok and result.check == "values"
    assert abs(result.max_abs_err - 5e-4) < 1e-9 and abs(result.max_rel_err - 5e-4) < 1e-9


def test_beyond_tolerance_is_a_mismatch_with_its_error() -> None:
    result = compare_outputs(leaf([1.0, 2.0]), leaf([1.1, 2.0]))
    assert not result.ok and "max abs err 0.1" in result.message
    assert abs(result.max_abs_err - 0.1) < 1e-9


def test_low_precision_dtypes_are_looser_and_integers_exact() -> None:
    assert TOLERANCES["bfloat16"][1] > TOLERANCES["float32"][1]
    assert compare_outputs(leaf([1.0], "bfloat16"), leaf([1.01], "bfloat16")).ok
    assert not compare_outputs(leaf([1.0], "float32"), leaf([1.01], "float32")).ok
    assert not compare_outputs(leaf([3], "int64"), leaf([4], "int64")).ok
    assert compare_outputs(leaf([True], "bool"), leaf([True], "bool")).ok


def test_nan_and_inf_must_match_in_place() -> None:
    assert compare_outputs(leaf([np.nan, np.inf]), leaf([np.nan, np.inf])).ok
    assert not compare_outputs(leaf([np.nan, 1.0]), leaf([1.0, 1.0])).ok
    assert not compare_outputs(leaf([np.inf]), leaf([-np.inf])).ok


def test_shape_dtype_structure_and_scalars() -> None:
    assert "shape" in compare_outputs(leaf([[1.0]]), leaf([1.0])).message
    assert "dtype" in compare_outputs(leaf([1.0], "float32"), leaf([1.0], "float64")).message
    assert "structure" in compare_outputs([leaf([1.0])], [leaf([1.0]), leaf([1.0])]).message
    assert compare_outputs({"a": 1, "b": [2.0]}, {"a": 1, "b": [2.0]}).ok
    assert not compare_outputs(True, False).ok


def test_leaves_without_data_compare_shape_and_dtype_only() -> None:
    meta = HostLeaf("float32", (2,), None, "meta")
    assert compare_outputs(leaf([1.0, 2.0]), meta).check == "shape_dtype"
    assert not compare_outputs(leaf([1.0, 2.0]), HostLeaf("float16", (2,), None, "meta")).ok


def test_random_outputs_compare_properties() -> None:
    a, b = leaf([0.1, 0.7]), leaf([0.9, 0.2])
    assert outputs_differ(a, b) and not outputs_differ(a, leaf([0.1, 0.7]))
    result = compare_outputs(a, b, properties_only=True)
    assert result.ok and result.check == "properties"
    assert not compare_outputs(a, leaf([np.nan, 0.2]), properties_only=True).ok
