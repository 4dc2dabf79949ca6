"""The torch adapter in-process: API walk, case listing (paper preset coverage), devices, host conversion."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed")

from portabench.cases import DEFAULT_DTYPES  # noqa: E402
from portabench.frameworks import get_framework  # noqa: E402
from portabench.frameworks.base import DeviceUnavailable  # noqa: E402
from portabench.frameworks.timer import TimingConfig  # noqa: E402
from portabench.frameworks.torch_adapter import TorchAdapter  # noqa: E402
from portabench.worker.execute import run_case  # noqa: E402


@pytest.fixture(scope="module")
def adapter() -> TorchAdapter:
    return TorchAdapter("cpu", "eager", None)


def test_api_walk_has_namespaces_and_no_private_names(adapter: TorchAdapter) -> None:
    names = {f["qualname"]: f["kind"] for f in adapter.api()}
    for expected in ("torch.add", "torch.nn.functional.conv2d", "torch.linalg.svd", "torch.fft.fft",
                     "torch.special.erf", "torch.optim.Adam", "torch.nn.Linear", "torch.Tensor.sum"):
        assert expected in names
    assert names["torch.nn.Linear"] == "class" and names["torch.Tensor.sum"] == "method"
    assert not any(part.startswith("_") for q in names for part in q.split("."))
    assert len(names) > 2000


def test_every_paper_function_has_cases(adapter: TorchAdapter) -> None:
    names = get_framework("torch").paper_preset()
    listing = adapter.list_cases(names, list(DEFAULT_DTYPES), [], 2)
    assert listing.missing == [] and listing.no_cases == []
    assert {c.function for c in listing.cases} == set(names)
    ids = [c.case_id for c in listing.cases]
    assert len(ids) == len(set(ids))
    # claimed dtypes come from OpInfo per device type
    assert "float32" in listing.claimed["torch.addr"]["cpu"]


def test_unknown_names_are_missing_and_known_without_cases_are_reported(adapter: TorchAdapter) -> None:
    listing = adapter.list_cases(["torch.no_such_function", "torch.get_default_dtype"], ["float32"], [], 1)
    assert listing.missing == ["torch.no_such_function"]
    assert listing.no_cases == ["torch.get_default_dtype"]


def test_case_ids_are_stable_across_listings() -> None:
    a = TorchAdapter("cpu", "eager", None).list_cases(["torch.cat", "torch.nn.GELU"], ["float32"], [], 3)
    b = TorchAdapter("meta", "eager", "cpu").list_cases(["torch.cat", "torch.nn.GELU"], ["float32"], [], 3)
    assert [c.case_id for c in a.cases] == [c.case_id for c in b.cases]


def test_a_worker_that_did_not_list_the_cases_prepares_the_same_samples() -> None:
    # workers other than the one that listed (another GPU's, a fresh one after a crash) rebuild samples
    # from the case alone, in any order; sample i must be the listing worker's sample i
    lister = TorchAdapter("cpu", "eager", None)
    cases = [c for c in lister.list_cases(["torch.sum"], ["float32"], [], 5).cases if c.source == "opinfo:sum"]
    assert len(cases) == 5
    fresh = TorchAdapter("cpu", "eager", None)
    for case in (cases[2], cases[4], cases[0]):
        got, want = fresh.prepare(case, "cpu").call(), lister.prepare(case, "cpu").call()
        assert torch.equal(got, want), case.case_id


def test_unusable_device_raises_device_unavailable() -> None:
    with pytest.raises(DeviceUnavailable):
        TorchAdapter("cuda:7" if not torch.cuda.is_available() else "nosuch", "eager", "cpu")


def test_random_function_is_detected_and_compared_by_properties() -> None:
    meta = TorchAdapter("meta", "eager", "cpu")
    listing = meta.list_cases(["torch.randperm"], ["int64"], [], 1)
    reply = run_case(meta, listing.cases[0], TimingConfig(min_repeats=1, budget_s=0), do_timing=False)
    assert reply.outcome == "passed" and reply.random is True


def test_wrong_device_is_detected(adapter: TorchAdapter) -> None:
    meta = TorchAdapter("meta", "eager", "cpu")
    assert meta.placement_error([torch.ones(1)], "meta") == "result on cpu, requested meta"
    assert meta.placement_error([torch.ones(1, device="meta")], "meta") is None


def test_ops_that_reseed_internally_are_random(adapter: TorchAdapter) -> None:
    # OpInfo wraps torch.normal / dropout in wrapper_set_seed (seed 42, RNG state restored):
    # CPU and CUDA then draw different streams, so values must not be compared.
    listing = adapter.list_cases(["torch.normal", "torch.nn.functional.dropout", "torch.add"], ["float32"], [], 1)
    flags = {c.function: c.random for c in listing.cases}
    assert flags["torch.normal"] and flags["torch.nn.functional.dropout"] and not flags["torch.add"]


def test_plugin_devices_name_their_missing_package() -> None:
    pytest.importorskip("torch", reason="torch extra")
    try:
        import torch_xla  # noqa: F401  (only its presence matters)
    except ImportError:
        with pytest.raises(DeviceUnavailable, match="torch_xla"):
            TorchAdapter("xla", "eager", "cpu")
    else:
        pytest.skip("torch_xla is installed here")


def test_as_strided_partial_views_run_on_the_reference(adapter: TorchAdapter) -> None:
    """OpInfo ``as_strided.partial_views`` addresses storage beyond its input view: copied with its whole
    storage, every sample runs on the CPU (before: 'out of bounds for storage', a broken case)."""
    from portabench.frameworks.torch_adapter.metadata import copy_with_storage

    base = torch.arange(20.0)
    view = base[5:15]
    copy = copy_with_storage(view, "cpu")
    assert copy.storage_offset() == 5 and copy.untyped_storage().nbytes() == base.untyped_storage().nbytes()
    assert torch.equal(torch.as_strided(copy, (2, 2), (1, 2), 10), torch.as_strided(view, (2, 2), (1, 2), 10))
    listing = adapter.list_cases(["torch.as_strided"], ["float32"], [], 5)
    cases = [c for c in listing.cases if c.source == "opinfo:as_strided.partial_views"]
    assert cases
    for case in cases:
        reply = run_case(adapter, case, TimingConfig(min_repeats=1, budget_s=0), do_timing=False)
        assert reply.outcome == "passed", reply


def test_uninitialised_outputs_are_compared_by_shape_and_dtype_only() -> None:
    """``torch.empty_like`` returns whatever memory held: on the H200 its float64 and bool cases 'differed'
    from the CPU (non-finite values, max abs err 1). Compared by shape and dtype, they pass; a real op
    is still compared by value."""
    from portabench.worker.compare import compare_outputs

    adapter = TorchAdapter("cpu", "eager", None)
    listing = adapter.list_cases(["torch.empty_like", "torch.Tensor.new_empty", "torch.add"], ["float64"], [], 1)
    checks = {}
    for case in listing.cases:
        prepared = adapter.prepare(case, "cpu")
        host = adapter.to_host(prepared.postprocess(prepared.call()))
        checks[case.function] = compare_outputs(host, host).check
    assert checks == {"torch.empty_like": "shape_dtype", "torch.Tensor.new_empty": "shape_dtype", "torch.add": "values"}
