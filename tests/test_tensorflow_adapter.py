"""The TensorFlow adapter: API walk, devices, cases (generated + specs), modes, placement, CLI runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed (pip install 'portabench[tensorflow]')")

from conftest import run_cli  # noqa: E402
from portabench.frameworks import get_framework  # noqa: E402
from portabench.frameworks.base import DeviceUnavailable, HostLeaf  # noqa: E402
from portabench.frameworks.tensorflow_adapter import (  # noqa: E402
    TensorFlowAdapter,
    TFPrepared,
    generated,
    placement_fallback,
)
from portabench.frameworks.tensorflow_adapter.devices import TFDevice, parse_device  # noqa: E402
from portabench.frameworks.timer import TimingConfig  # noqa: E402
from portabench.taxonomy import FailureEvidence, classify  # noqa: E402
from portabench.worker.execute import run_case  # noqa: E402

HAS_GPU = bool(tf.config.list_physical_devices("GPU"))
FAST = TimingConfig(warmup=0, min_repeats=1, budget_s=0.0)


@pytest.fixture(scope="module")
def eager() -> TensorFlowAdapter:
    return TensorFlowAdapter("cpu", "eager", None)


@pytest.fixture(scope="module")
def all_listing(eager: TensorFlowAdapter):
    return eager.list_cases(None, ["float32"], [], 5)


# -- API ----------------------------------------------------------------------------------------
def test_api_uses_real_top_level_name_and_walks_public_modules(eager: TensorFlowAdapter) -> None:
    names = {f["qualname"]: f["kind"] for f in eager.api()}
    for expected in ("tensorflow.math.add", "tensorflow.nn.conv2d", "tensorflow.linalg.svd", "tensorflow.signal.idct",
                     "tensorflow.image.adjust_brightness", "tensorflow.random.gamma", "tensorflow.sets.intersection",
                     "tensorflow.io.decode_raw", "tensorflow.nest.map_structure", "tensorflow.experimental.numpy.diagflat",
                     "tensorflow.compat.v1.placeholder", "tensorflow.compat.v1.train.QueueRunner"):
        assert expected in names, expected
    assert names["tensorflow.data.Dataset.shard"] == "method"
    assert names["tensorflow.Variable"] == "class"
    assert all(q.startswith("tensorflow.") for q in names)
    assert not any(q.startswith("tensorflow.python.") or ".keras." in q for q in names)
    assert not any(part.startswith("_") for q in names for part in q.split("."))
    assert len(names) > 3000


# -- devices -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, index, soft", [
    ("cpu", "CPU", 0, False), ("gpu", "GPU", 0, False), ("gpu:1", "GPU", 1, False), ("/device:GPU:0", "GPU", 0, False),
    ("/GPU:2", "GPU", 2, False), ("tpu", "TPU", 0, False), ("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 0, False),
    ("gpu+soft", "GPU", 0, True), ("/device:GPU:1+soft", "GPU", 1, True),
])
def test_device_spellings(text: str, kind: str, index: int, soft: bool) -> None:
    assert parse_device(text) == TFDevice(kind, index, soft)


def test_bad_or_absent_devices_raise_device_unavailable() -> None:
    with pytest.raises(DeviceUnavailable, match="not a TensorFlow device"):
        TensorFlowAdapter("warp:drive", "eager", None)
    with pytest.raises(DeviceUnavailable, match="no TensorFlow device /device:GPU:7"):
        TensorFlowAdapter("gpu:7", "eager", "cpu")


def test_soft_placement_is_off_by_default_and_on_with_suffix() -> None:
    TensorFlowAdapter("cpu", "eager", None)
    assert tf.config.get_soft_device_placement() is False
    soft = TensorFlowAdapter("cpu+soft", "eager", None)
    assert tf.config.get_soft_device_placement() is True and soft.numerics()["soft_device_placement"] is True
    TensorFlowAdapter("cpu", "eager", None)
    assert tf.config.get_soft_device_placement() is False


def test_info_records_numerics(eager: TensorFlowAdapter) -> None:
    info = eager.info()
    assert info["framework_version"] == tf.__version__ and info["device_kind"] == "cpu"
    for key in ("tensor_float_32_execution", "soft_device_placement", "op_determinism", "inter_op_threads",
                "intra_op_threads"):
        assert key in info["numerics"]
    assert "cpu" in eager.available_devices()


def test_placement_error_reports_results_on_another_device(eager: TensorFlowAdapter) -> None:
    out = [tf.constant([1.0]), {"x": tf.constant(2)}]
    assert eager.placement_error(out, "cpu") is None
    message = eager.placement_error(out, "gpu")
    assert message is not None and "device:CPU:0" in message and "/device:GPU:0" in message


def test_placement_log_parser_finds_fallback_ops() -> None:
    gpu = TFDevice("GPU", 0, True)
    log = ("Executing op _EagerConst in device /job:localhost/replica:0/task:0/device:GPU:0\n"
           "Executing op DenseToDenseSetOperation in device /job:localhost/replica:0/task:0/device:CPU:0\n")
    assert "DenseToDenseSetOperation" in placement_fallback(log, gpu)
    graph_log = "x: (_Arg): /job:localhost/replica:0/task:0/device:CPU:0\nSin: (Sin): /job:localhost/replica:0/task:0/device:GPU:0\n"
    assert placement_fallback(graph_log, gpu) is None
    assert placement_fallback("PyFunc: (PyFunc): /job:localhost/replica:0/task:0/device:CPU:0", gpu) is not None


# -- cases ---------------------------------------------------------------------------------------
def test_every_paper_function_has_cases_or_is_missing(eager: TensorFlowAdapter) -> None:
    names = get_framework("tensorflow").paper_preset()
    listing = eager.list_cases(names, ["float32"], [], 5)
    assert listing.no_cases == []
    assert sorted(listing.missing) == sorted(n for n in names if eager_resolve(n) is None)
    assert {c.function for c in listing.cases} == set(names) - set(listing.missing)
    ids = [c.case_id for c in listing.cases]
    assert len(ids) == len(set(ids))


def eager_resolve(name: str):
    from portabench.frameworks.tensorflow_adapter.api import resolve

    return resolve(name)


def test_names_that_do_not_exist_are_missing(eager: TensorFlowAdapter) -> None:
    listing = eager.list_cases(["tensorflow.no_such_function", "tf.math.add", "tensorflow.get_logger"], ["float32"], [], 1)
    assert listing.missing == ["tensorflow.no_such_function"]
    assert listing.no_cases == ["tensorflow.get_logger"]
    assert {c.function for c in listing.cases} == {"tensorflow.math.add"}  # tf. is read as tensorflow.


def test_preset_all_covers_at_least_250_functions(all_listing) -> None:
    functions = {c.function for c in all_listing.cases}
    assert len(functions) >= 250
    assert any(f.startswith("tensorflow.experimental.numpy.") for f in functions)
    assert all(f.startswith("tensorflow.") for f in functions)


def test_generated_samples_cover_scalar_empty_broadcast_and_ranks() -> None:
    shapes = [[tuple(s) for s, _ in args] for args, _ in generated.KINDS["binary"]]
    assert [()] * 2 in shapes and [(3, 1), (1, 4)] in shapes and any(0 in s for pair in shapes for s in pair)
    assert {len(a[0][0]) for a, _ in generated.KINDS["unary"]} == {0, 1, 2, 3}


def test_case_ids_and_inputs_are_deterministic() -> None:
    a = TensorFlowAdapter("cpu", "eager", None).list_cases(["tensorflow.math.add", "tensorflow.cast"], ["float32"], [], 5)
    b = TensorFlowAdapter("cpu", "xla", "cpu").list_cases(["tensorflow.math.add", "tensorflow.cast"], ["float32"], [], 5)
    assert [c.case_id for c in a.cases] == [c.case_id for c in b.cases]
    adapter = TensorFlowAdapter("cpu", "eager", None)
    adapter.list_cases(["tensorflow.math.add"], ["float32"], [], 5)
    case = a.cases[3]
    first = adapter.to_host(adapter.prepare(case, "cpu").call())
    second = adapter.to_host(adapter.prepare(case, "cpu").call())
    assert np.array_equal(first.values, second.values)


def _numpy_counterpart(dotted: str):
    obj = None
    if dotted.startswith("numpy.") and "(" not in dotted and " " not in dotted:
        obj = np
        for part in dotted.split(".")[1:]:
            obj = getattr(obj, part, None)
    return obj if callable(obj) else None


def test_generated_cases_agree_with_their_numpy_counterpart(eager: TensorFlowAdapter, all_listing) -> None:
    """The generator's signatures and inputs are right: TF on CPU matches numpy on the same inputs."""
    checked = 0
    for case in all_listing.cases:
        fn = _numpy_counterpart(case.extra.get("numpy", ""))
        if fn is None or not case.source.startswith("generated:"):
            continue
        entry = next(e for e in eager.entries[case.function] if e.source == case.source)
        if fn is None or entry.kind not in ("unary", "unary_pos", "unary_unit", "binary", "binary_pos", "binary_div"):
            continue
        values, _ = generated.sample_inputs(entry, case.case_id, case.sample, "float64")
        try:
            got = eager.to_host(eager.prepare(case, "cpu").call())
        except AttributeError:  # tnp.around/round need numpy behaviour enabled: a TF failure the runner records
            continue
        if not isinstance(got, HostLeaf):  # several outputs (divmod)
            continue
        want = fn(*[v.astype(np.float32) for v in values])
        np.testing.assert_allclose(np.asarray(got.values, dtype=np.float64), np.asarray(want, dtype=np.float64),
                                   rtol=1e-4, atol=1e-5, err_msg=case.case_id)
        checked += 1
    assert checked > 100


# -- modes ---------------------------------------------------------------------------------------
def test_function_mode_traces_once_and_caches_per_prepared_case() -> None:
    adapter = TensorFlowAdapter("cpu", "function", None)
    listing = adapter.list_cases(["tensorflow.math.sin"], ["float32"], [], 5)
    prepared = adapter.prepare(listing.cases[3], "cpu")
    assert isinstance(prepared, TFPrepared)
    for _ in range(3):
        adapter.execute(prepared)
    assert prepared.compiled is not None and prepared.compiled.experimental_get_tracing_count() == 1


def test_xla_mode_compiles_and_unsupported_ops_are_not_implemented() -> None:
    adapter = TensorFlowAdapter("cpu", "xla", None)
    listing = adapter.list_cases(["tensorflow.math.exp", "tensorflow.io.decode_raw"], ["float32"], [], 1)
    results = {c.function: run_case(adapter, c, FAST) for c in listing.cases}
    assert results["tensorflow.math.exp"].outcome == "passed" and results["tensorflow.math.exp"].compile_ns is not None
    bad = results["tensorflow.io.decode_raw"]
    assert bad.outcome == "failed" and "XLA" in bad.message
    assert classify(FailureEvidence(exc_type=bad.exc_type, message=bad.message)) == "not_implemented"


def test_graph_mode_specs_run_eagerly_only() -> None:
    names = ["tensorflow.compat.v1.placeholder", "tensorflow.compat.v1.Session.run"]
    assert TensorFlowAdapter("cpu", "function", None).list_cases(names, ["float32"], [], 5).no_cases == names
    adapter = TensorFlowAdapter("cpu", "eager", None)
    listing = adapter.list_cases(names, ["float32"], [], 5)
    assert listing.cases and all(run_case(adapter, c, FAST).outcome == "passed" for c in listing.cases)


def test_comparison_with_reference_runs_in_every_mode() -> None:
    for mode in ("eager", "function", "xla"):
        adapter = TensorFlowAdapter("cpu", mode, "cpu:0")  # a different spelling of the reference: compared
        listing = adapter.list_cases(["tensorflow.math.reduce_mean", "tensorflow.random.gamma"], ["float32"], [], 2)
        for case in listing.cases:
            r = run_case(adapter, case, FAST)
            if case.function == "tensorflow.random.gamma" and mode == "xla":
                # the reference runs eagerly in every mode: XLA's missing RandomGamma kernel fails the target
                assert r.outcome == "failed" and "RandomGamma" in r.message, r
                assert classify(FailureEvidence(exc_type=r.exc_type, message=r.message)) == "not_implemented"
                continue
            assert r.outcome == "passed", r
            assert r.check == ("properties" if case.function == "tensorflow.random.gamma" else "values")


# -- host conversion -------------------------------------------------------------------------------
def test_to_host_handles_tf_structures(eager: TensorFlowAdapter) -> None:
    leaf = eager.to_host(tf.constant([1.5, 2.5], tf.bfloat16))
    assert isinstance(leaf, HostLeaf) and leaf.dtype == "bfloat16" and leaf.values.dtype == np.float32
    assert eager.to_host(tf.constant(["a", "b"])) == ["a", "b"]
    ragged = eager.to_host(tf.ragged.constant([[1, 2], [3]]))
    assert set(ragged) == {"flat_values", "row_splits"}
    sparse = eager.to_host(tf.sparse.from_dense(tf.constant([[0, 1], [2, 0]])))
    assert sparse["values"].values.tolist() == [1, 2]
    assert eager.to_host(tf.data.Dataset.range(3))[2].values == 2
    assert eager.to_host(tf.float16) == "float16" and eager.to_host(tf.TensorShape([2, None])) == [2, None]
    assert isinstance(eager.to_host(tf.Variable([1.0])), HostLeaf)


def test_timer_on_cpu(eager: TensorFlowAdapter) -> None:
    timer = eager.timer("cpu")
    start = timer.now()
    timer.sync(tf.constant(1.0))
    assert timer.now() >= start


# -- CLI ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["eager", "function", "xla"])
def test_cli_runs_the_paper_preset(mode: str, tmp_path: Path) -> None:
    store = tmp_path / "tf.sqlite"
    proc = run_cli("run", "--framework", "tensorflow", "--device", "cpu", "--mode", mode, "--preset", "paper",
                   "--dtypes", "float32", "--no-timing", "--store", str(store))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "tensorflow on cpu: run" in proc.stdout + proc.stderr
    with sqlite3.connect(store) as db:
        (run_mode, numerics), = db.execute("select mode, numerics from runs").fetchall()
        outcomes = dict(db.execute("select outcome, count(*) from results group by outcome").fetchall())
        tested = {r[0] for r in db.execute("select function from functions where status = 'tested'")}
    assert run_mode == mode and json.loads(numerics)["soft_device_placement"] is False
    assert outcomes.get("passed", 0) > 80
    assert "tensorflow.math.reduce_mean" in tested
    if mode == "eager":
        assert "tensorflow.compat.v1.placeholder" in tested and outcomes.get("failed", 0) == 0


@pytest.mark.skipif(HAS_GPU, reason="a GPU is present: 'gpu' is a valid device here")
def test_cli_unknown_device_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_cli("run", "--framework", "tensorflow", "--device", "gpu", "--preset", "paper", "--dtypes", "float32",
                   "--store", str(tmp_path / "x.sqlite"))
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("portabench:")]
    assert len(lines) == 1 and "/device:GPU:0" in lines[0] and "not available" in lines[0]


def test_formerly_broken_cases_pass_on_the_cpu_reference() -> None:
    """Cases that failed on the CPU reference itself (issue 11): bool/int conversions in the specs, and
    tf.experimental.numpy's bfloat16 path, which needs its documented numpy behaviour."""
    adapter = TensorFlowAdapter("cpu", "eager", None)
    names = ["tensorflow.constant", "tensorflow.fill", "tensorflow.convert_to_tensor",
             "tensorflow.experimental.numpy.arccos", "tensorflow.experimental.numpy.around"]
    listing = adapter.list_cases(names, ["float32", "bfloat16", "int64", "bool"], [], 2)
    assert {c.function for c in listing.cases} == set(names)
    failed = {c.case_id: r.message for c in listing.cases if (r := run_case(adapter, c, FAST)).outcome != "passed"}
    assert failed == {}
