"""Tests of the JAX adapter: devices, API walk, case sources, modes, host conversion, and the CLI end to end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

jax = pytest.importorskip("jax", reason="the jax extra is not installed")

import jax.numpy as jnp  # noqa: E402

from portabench.cases import CaseDescriptor  # noqa: E402
from portabench.frameworks import get_framework  # noqa: E402
from portabench.frameworks.base import DeviceUnavailable, HostLeaf  # noqa: E402
from portabench.frameworks.jax_adapter import JaxAdapter, JaxTimer, parse_device  # noqa: E402
from portabench.frameworks.timer import TimingConfig  # noqa: E402
from portabench.worker.compare import compare_outputs  # noqa: E402
from portabench.worker.execute import run_case  # noqa: E402

FAST = ["--max-samples", "1", "--repeats", "2", "--time-budget", "0.001"]
TWO_CPUS = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}


@pytest.fixture(scope="module")
def eager() -> JaxAdapter:
    return JaxAdapter("cpu", "eager", None)


@pytest.fixture(scope="module")
def jit() -> JaxAdapter:
    return JaxAdapter("cpu", "jit", None)


def _paper_names() -> list[str]:
    return get_framework("jax").paper_preset()


# -- devices --------------------------------------------------------------------------------
def test_parse_device_aliases_and_errors() -> None:
    assert parse_device("cpu").platform == "cpu"
    assert parse_device("CPU:0") == jax.devices("cpu")[0]
    for bad in ("tpu", "gpu", "cuda:0", "cpu:99", "cpu:x", "quantum"):
        with pytest.raises(DeviceUnavailable) as err:
            parse_device(bad)
        assert "\n" not in str(err.value)
    with pytest.raises(DeviceUnavailable, match="xla_force_host_platform_device_count"):
        parse_device("cpu:99")
    with pytest.raises(DeviceUnavailable, match="no tpu backend"):
        JaxAdapter("tpu", "eager", "cpu")


def test_info_records_numerics(eager: JaxAdapter) -> None:
    info = eager.info()
    assert info["framework_version"] == jax.__version__ and info["device_kind"] == "cpu"
    numerics = info["numerics"]
    assert numerics["jax_enable_x64"] is True
    for key in ("jax_default_matmul_precision", "platform", "XLA_FLAGS"):
        assert key in numerics
    assert "cpu" in eager.available_devices()


# -- API -----------------------------------------------------------------------------------
def test_workers_start_without_gpu_preallocation(monkeypatch: pytest.MonkeyPatch) -> None:
    from portabench.protocol import HelloRequest
    from portabench.runner.session import query_worker

    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    assert query_worker("jax", "cpu", HelloRequest()).numerics["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # the user's choice wins, and is recorded
    assert query_worker("jax", "cpu", HelloRequest()).numerics["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"


def test_api_walks_namespaces_and_transformations(eager: JaxAdapter) -> None:
    names = {f["qualname"]: f["kind"] for f in eager.api()}
    for name in ("jax.numpy.sum", "jax.numpy.linalg.svd", "jax.numpy.fft.fft", "jax.lax.top_k", "jax.nn.relu",
                 "jax.nn.initializers.glorot_normal", "jax.random.normal", "jax.scipy.special.erf",
                 "jax.scipy.stats.norm.cdf", "jax.scipy.linalg.lu", "jax.tree_util.tree_map", "jax.grad", "jax.vjp",
                 "jax.jit", "jax.vmap", "jax.make_jaxpr", "jax.named_call", "jax.disable_jit"):
        assert name in names, name
    assert names["jax.tree_util.Partial"] == "class"
    assert not any(part.startswith("_") for n in names for part in n.split("."))


# -- cases ---------------------------------------------------------------------------------
def test_paper_preset_names_have_cases_or_are_missing(eager: JaxAdapter) -> None:
    names = _paper_names()
    listing = eager.list_cases(names, ["float32"], [], 5)
    with_cases = {c.function for c in listing.cases}
    assert set(listing.missing) == {"jax.core.get_aval", "jax.lax.infeed"}  # gone from jax 0.10
    assert listing.no_cases == []
    assert with_cases == set(names) - set(listing.missing)


def test_preset_all_covers_300_functions_and_ids_are_stable(eager: JaxAdapter) -> None:
    listing = eager.list_cases(None, ["float32"], [], 5)
    functions = {c.function for c in listing.cases}
    assert len(functions) >= 300
    sources = {c.source.split(":")[0] for c in listing.cases}
    assert {"lax_test_util", "numpy", "scipy", "nn", "random", "spec"} <= sources
    ids = [c.case_id for c in listing.cases]
    assert len(ids) == len(set(ids))
    again = JaxAdapter("cpu", "eager", None).list_cases(["jax.numpy.sum", "jax.lax.add", "jax.vjp"], ["float32"], [], 5)
    assert {c.case_id for c in again.cases} <= set(ids)


def test_lax_test_util_source_claims_dtypes(eager: JaxAdapter) -> None:
    listing = eager.list_cases(["jax.lax.add", "jax.lax.population_count"], ["float32", "int32", "bool"], [], 2)
    by_fn = {(c.function, c.dtype) for c in listing.cases}
    assert ("jax.lax.add", "float32") in by_fn and ("jax.lax.population_count", "int32") in by_fn
    assert ("jax.lax.population_count", "float32") not in by_fn
    assert all(c.source.startswith("lax_test_util:") for c in listing.cases)
    assert "float32" in listing.claimed["jax.lax.add"]["cpu"]


def test_inputs_are_rebuilt_deterministically(eager: JaxAdapter) -> None:
    case = eager.list_cases(["jax.numpy.sin"], ["float32"], [], 2).cases[0]
    fresh = JaxAdapter("cpu", "eager", None)
    fresh.list_cases(["jax.numpy.sin"], ["float32"], [], 2)
    a, b = eager.prepare(case, "cpu"), fresh.prepare(CaseDescriptor.from_json(case.to_json()), "cpu")
    np.testing.assert_array_equal(np.asarray(a.inputs[0]), np.asarray(b.inputs[0]))


@pytest.mark.parametrize("name", ["jax.numpy.matmul", "jax.lax.top_k", "jax.scipy.stats.norm.cdf", "jax.random.normal",
                                  "jax.nn.initializers.glorot_normal", "jax.numpy.zeros", "jax.tree_util.tree_map",
                                  "jax.lax.pmax", "jax.numpy.reshape"])
def test_eager_and_jit_agree(eager: JaxAdapter, jit: JaxAdapter, name: str) -> None:
    case = eager.list_cases([name], ["float32"], [], 2).cases[0]
    jit.list_cases([name], ["float32"], [], 2)
    out_e = eager.to_host(eager.execute(eager.prepare(case, "cpu")))
    prepared = jit.prepare(case, "cpu")
    out_j = jit.to_host(jit.execute(prepared))
    assert compare_outputs(out_e, out_j).ok, name
    assert prepared.compiled is not None and prepared.compile_ns > 0
    assert jit.placement_error(jit.execute(prepared), "cpu") is None


def test_jit_false_specs_run_outside_jit(jit: JaxAdapter) -> None:
    case = jit.list_cases(["jax.make_jaxpr"], ["float32"], [], 1).cases[0]
    assert case.extra.get("jit") is False
    out = jit.execute(jit.prepare(case, "cpu"))
    assert isinstance(out, str) and "sin" in out


def test_float64_stays_float64(eager: JaxAdapter) -> None:
    case = eager.list_cases(["jax.numpy.exp"], ["float64"], [], 1).cases[0]
    leaf = eager.to_host(eager.execute(eager.prepare(case, "cpu")))
    assert leaf.dtype == "float64"


def test_to_host_handles_bfloat16_keys_and_pytrees(eager: JaxAdapter) -> None:
    leaf = eager.to_host(jnp.ones((2,), jnp.bfloat16))
    assert leaf.dtype == "bfloat16" and leaf.values.dtype == np.float32 and leaf.device == "cpu:0"
    key = eager.to_host(jax.random.key(3))
    assert isinstance(key, HostLeaf) and key.values.dtype == np.uint32
    tree = eager.to_host({"a": (jnp.zeros(2), 3), "b": jax.tree_util.Partial(jnp.add, jnp.ones(1))})
    assert tree["a"][1] == 3 and tree["b"]["type"] == "Partial"
    assert isinstance(eager.to_host(jax.make_jaxpr(jnp.sin)(1.0)), str)


def test_timer_blocks_until_ready() -> None:
    class Lazy:
        blocked = 0

        def block_until_ready(self):
            Lazy.blocked += 1
            return self

    JaxTimer().sync(Lazy())
    JaxTimer().sync(None)
    JaxTimer().sync("not an array")
    assert Lazy.blocked == 1


def test_run_case_reference_run_passes_and_is_timed(jit: JaxAdapter) -> None:
    case = jit.list_cases(["jax.numpy.sum"], ["float32"], [], 1).cases[0]
    result = run_case(jit, case, TimingConfig(warmup=1, min_repeats=2, max_repeats=3, budget_s=0.001))
    assert result.outcome == "passed" and result.time_median_ns > 0 and result.compile_ns is not None


# -- CLI end to end ----------------------------------------------------------------------------
def _results(store: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(store) as conn:
        return {row[0]: (row[1], row[2]) for row in conn.execute("SELECT case_id, outcome, category FROM results")}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_cli_paper_preset_on_cpu(tmp_path: Path, mode: str) -> None:
    store = tmp_path / "jax.sqlite"
    proc = run_cli("run", "--framework", "jax", "--device", "cpu", "--mode", mode, "--preset", "paper", "--dtypes", "float32",
                   "--store", str(store), *FAST)
    assert proc.returncode == 0, proc.stderr
    results = _results(store)
    functions = {cid.split("|")[0] for cid in results}
    assert len(functions) >= 60
    failed = {cid: v for cid, v in results.items() if v[0] != "passed"}
    assert not failed, failed
    with sqlite3.connect(store) as conn:
        numerics = json.loads(conn.execute("SELECT numerics FROM runs").fetchone()[0])
        mode_row = conn.execute("SELECT mode FROM runs").fetchone()[0]
    assert numerics["jax_enable_x64"] is True and mode_row == mode


@pytest.mark.slow
def test_cli_second_host_device_with_collectives(tmp_path: Path) -> None:
    store = tmp_path / "jax.sqlite"
    functions = "jax.lax.all_gather,jax.lax.pmax,jax.numpy.sum,jax.numpy.zeros,jax.random.normal,jax.shard_map"
    proc = run_cli("run", "--framework", "jax", "--device", "cpu:1", "--reference", "cpu", "--mode", "jit",
                   "--functions", functions, "--dtypes", "float32", "--store", str(store), *FAST, env=TWO_CPUS)
    assert proc.returncode == 0, proc.stderr
    results = _results(store)
    assert {cid.split("|")[0] for cid in results} == set(functions.split(","))
    assert all(v == ("passed", None) for v in results.values()), results


@pytest.mark.slow
def test_cli_unknown_platform_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_cli("run", "--framework", "jax", "--device", "tpu", "--functions", "jax.numpy.sum", "--store",
                   str(tmp_path / "x.sqlite"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("portabench: error:") and "tpu" in lines[0], proc.stderr


def test_dtypes_jax_refuses_by_design_get_no_cases(eager: JaxAdapter) -> None:
    """Complex argmax/clip and half-precision rfft fail on the CPU reference too: no such cases are made."""
    from portabench.frameworks.jax_adapter.sources import EXCLUDED_DTYPES

    names = ["jax.numpy.argmax", "jax.numpy.clip", "jax.numpy.fft.rfft"]
    listing = eager.list_cases(names, ["float32", "bfloat16", "complex64"], [], 1)
    made = {(c.function, c.dtype) for c in listing.cases}
    assert ("jax.numpy.argmax", "float32") in made and ("jax.numpy.fft.rfft", "float32") in made
    for name in names:
        excluded, reason = EXCLUDED_DTYPES[name]
        assert reason and not any((name, d) in made for d in excluded)
