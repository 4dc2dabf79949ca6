"""Whole PyTorch models as cases (frameworks/torch_adapter/models): sources, the model case, localisation.

Real tiny models on the CPU: transformers configs shrunk to 2 layers, and the
fault-injecting factories of tests/data/model_faults.py. The device under test is
``cpu`` and the reference ``cpu:0`` (the same hardware under another name), so a
comparison happens; the ``differs`` / ``reference_off`` layers stand for a device
that computes one layer differently.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import DATA

torch = pytest.importorskip("torch", reason="the torch extra is not installed")

from portabench.cases import FAILED, PASSED, REFERENCE_FAILED  # noqa: E402
from portabench.frameworks.timer import TimingConfig  # noqa: E402
from portabench.frameworks.torch_adapter import TorchAdapter  # noqa: E402
from portabench.frameworks.torch_adapter.models import split_model_names  # noqa: E402
from portabench.frameworks.torch_adapter.models.case import model_descriptors, parse_source  # noqa: E402
from portabench.frameworks.torch_adapter.models.localise import RaisingModule, first_diverging, same_weights  # noqa: E402
from portabench.frameworks.torch_adapter.models.sources import ModelNotFound, build_model, tiny_hf_config  # noqa: E402
from portabench.models.details import parse_details  # noqa: E402
from portabench.protocol import CaseReply  # noqa: E402
from portabench.worker.execute import run_case  # noqa: E402

FAST = TimingConfig(min_repeats=2, budget_s=0.01)
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


@pytest.fixture(scope="module")
def adapter():
    sys.path.insert(0, str(DATA))  # the fault-injecting factories: py:model_faults:<name>
    yield TorchAdapter("cpu", "eager", "cpu:0")
    sys.path.remove(str(DATA))


def _run(adapter, name: str, step: str = "forward") -> CaseReply:
    case = next(c for c in model_descriptors([name], (8, 32), 8) if c.source == f"model:{step}@8")
    return run_case(adapter, case, FAST)


def test_descriptors_and_name_split() -> None:
    cases = model_descriptors(["hf:bert"], (8, 32), 8)
    assert [c.source for c in cases] == ["model:forward@8", "model:train@8", "model:forward@32", "model:train@32"]
    assert [c.extra["compare"] for c in cases] == [True, True, False, False]
    assert parse_source("model:train@32") == ("train", 32)
    assert split_model_names(["torch.add", "hf:gpt2", "py:m:f"]) == (["torch.add"], ["hf:gpt2", "py:m:f"])
    assert split_model_names(None) == (None, [])


def test_same_weights_and_inputs_on_every_build(adapter) -> None:
    a, b = build_model("py:model_faults:healthy"), build_model("py:model_faults:healthy")
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True))
    assert torch.equal(a.make_inputs(8)[0][0], b.make_inputs(8)[0][0])
    assert a.make_inputs(8)[0][0].shape == (8, 8)
    with pytest.raises(ModelNotFound):
        build_model("nosuch:thing")


def test_healthy_model_passes_forward_and_train_step_and_is_timed(adapter) -> None:
    for step in ("forward", "train"):
        result = _run(adapter, "py:model_faults:healthy", step)
        assert result.outcome == PASSED and result.check == "values", result
        assert result.max_rel_err == 0.0 and result.time_median_ns > 0
        assert parse_details(result.message)["step"] == step


def test_differing_layer_fails_names_the_layer_and_float64_blames_the_device(adapter) -> None:
    for step in ("forward", "train"):
        result = _run(adapter, "py:model_faults:differs", step)
        details = parse_details(result.message)
        assert result.outcome == FAILED and result.mismatch, result
        assert details["layer"]["path"] == "block.1" and details["layer"]["type"] == "Faulty"
        assert details["layer"]["how"] == "re-run alone"
        assert "torch.tanh" in details["layer"]["functions"]  # the torch functions the layer calls
        assert details["f64"]["further"] == "device"
        assert details["f64"]["device_err"] > 100 * details["f64"]["reference_err"]


def test_float64_arbiter_clears_the_device_when_the_reference_is_further_from_exact(adapter) -> None:
    result = _run(adapter, "py:model_faults:reference_off")
    details = parse_details(result.message)
    assert result.outcome == PASSED and result.check == "values-f64", result
    assert details["f64"]["further"] == "reference" and details["err_ratio"] > 1


def test_layer_that_raises_on_the_device_is_named(adapter) -> None:
    result = _run(adapter, "py:model_faults:raises")
    assert result.outcome == FAILED and "no kernel" in result.message
    assert parse_details(result.message)["layer"] == {
        "path": "block.1", "type": "Faulty", "functions": [], "local_err": None, "how": "raised"}


def test_unbuildable_model_is_not_a_portability_failure(adapter) -> None:
    result = _run(adapter, "py:model_faults:nosuchfactory")
    assert result.outcome == REFERENCE_FAILED and "could not be built" in result.message


def test_localisation_names_the_local_culprit_not_the_layers_that_inherit_its_error() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh()),
                                torch.nn.Linear(4, 2)).eval()
    target = same_weights(model, "cpu")
    with torch.no_grad():
        target[1][0].bias += 0.5  # only this layer computes differently; everything after it inherits the error
    culprit = first_diverging(model, target, "cpu", "cpu", ((torch.randn(3, 4),), {}), 1e-3)
    assert (culprit.path, culprit.type) == ("1.0", "Linear")
    assert culprit.functions == ["torch.nn.functional.linear"]
    assert first_diverging(model, same_weights(model, "cpu"), "cpu", "cpu", ((torch.randn(3, 4),), {}), 1e-3) is None


def test_raising_module_is_the_innermost_unfinished_forward() -> None:
    class Boom(torch.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU(), Boom()))
    with pytest.raises(ValueError), RaisingModule(model) as raising:
        model(torch.ones(1, 2))
    assert (raising.culprit.path, raising.culprit.type) == ("1.1", "Boom")
    with RaisingModule(model[0]) as fine:
        assert model[0](torch.ones(1, 2)).shape == (1, 2)  # the hooks do not change outputs
    assert fine.culprit is None


@pytest.mark.skipif(not HAS_TRANSFORMERS, reason="transformers is not installed")
@pytest.mark.parametrize("model_type", ["bert", "gpt2", "t5"])
def test_tiny_transformers_models_run_end_to_end(adapter, model_type: str) -> None:
    config = tiny_hf_config(model_type)
    assert getattr(config, "num_hidden_layers", getattr(config, "num_layers", 2)) <= 2
    for step in ("forward", "train"):
        result = _run(adapter, f"hf:{model_type}", step)
        assert result.outcome == PASSED and result.check == "values", result
        assert result.time_median_ns > 0


@pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed here (it needs torchvision)")
def test_timm_architecture_builds_with_its_input_size(adapter) -> None:
    built = build_model("timm:resnet18")
    assert built.make_inputs(2)[0][0].shape == (2, 3, 224, 224)
    assert _run(adapter, "timm:resnet18").outcome == PASSED


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is None,
                    reason="torchvision is not installed here (PyPI's wheel would replace the shared torch build)")
def test_torchvision_architecture_builds(adapter) -> None:
    assert build_model("tv:resnet18").make_inputs(2)[0][0].shape == (2, 3, 224, 224)
    assert _run(adapter, "tv:resnet18").outcome == PASSED


def test_catalog_lists_installed_sources(adapter) -> None:
    entries = adapter.list_models()
    assert all(set(e) == {"name", "family", "size"} for e in entries)
    assert any(e["name"] == "hf:bert" for e in entries) == HAS_TRANSFORMERS


def test_localisation_records_copies_not_tensors_that_later_in_place_ops_change() -> None:
    from portabench.frameworks.torch_adapter.models.localise import _record

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(inplace=True), torch.nn.Linear(4, 2)).eval()
    x = torch.randn(16, 4)
    recorded = _record(model, (x,), {}, keep_inputs=True)
    with torch.no_grad():
        before_relu = model[0](x)
    assert (before_relu < 0).any()
    assert torch.equal(recorded.outputs["0"], before_relu)  # ReLU(inplace) ran after the record was taken
    assert torch.equal(recorded.inputs["1"][0][0], before_relu)


def test_a_model_too_large_for_the_device_is_a_memory_failure(monkeypatch) -> None:
    from portabench.frameworks.torch_adapter.models.case import _check_memory
    from portabench.taxonomy import FailureEvidence, classify

    model = torch.nn.Linear(1000, 1000)  # 4 MB of weights: about 16 MB needed
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8 << 20, 80 << 30))
    with pytest.raises(MemoryError, match="model too large for cuda") as info:
        _check_memory(model, "cuda")
    assert classify(FailureEvidence(exc_type="MemoryError", message=str(info.value))) == "memory"
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1 << 30, 80 << 30))
    _check_memory(model, "cuda")  # fits
    _check_memory(model, "cpu")  # host memory is not pre-checked


def test_train_step_whose_forward_agrees_is_localised_by_gradient_without_forward_re_runs(adapter, monkeypatch) -> None:
    from portabench.frameworks.torch_adapter.models import case as model_case

    def no_re_runs(*args, **kwargs):
        raise AssertionError("the forward outputs agree: no forward re-runs are needed")

    monkeypatch.setattr(model_case, "first_diverging", no_re_runs)
    result = _run(adapter, "py:model_faults:grad_differs", "train")
    details = parse_details(result.message)
    assert result.outcome == FAILED and details["where"].startswith("grad "), result
    assert details["layer"]["how"] == "gradient" and details["layer"]["path"] == "block.1.linear"  # first in backward order
    assert _run(adapter, "py:model_faults:grad_differs", "forward").outcome == PASSED


def test_float64_arbiter_is_skipped_after_a_slow_reference_step_and_the_case_fails(adapter, monkeypatch) -> None:
    from portabench.frameworks.torch_adapter.models import case as model_case

    monkeypatch.setattr(model_case, "F64_MAX_REFERENCE_S", -1.0)  # every reference step is "slow"
    result = _run(adapter, "py:model_faults:reference_off")
    details = parse_details(result.message)
    assert result.outcome == FAILED and "skipped" in details["f64"], details
    assert details["layer"]["path"] == "block.1"  # a failure is still localised


def test_autocast_step_is_listed_on_request_and_compared_with_its_own_tolerance(adapter, monkeypatch) -> None:
    from portabench.frameworks.torch_adapter.models.case import AUTOCAST_ENV, AUTOCAST_TOL

    assert not any(c.source.startswith("model:autocast") for c in model_descriptors(["hf:bert"], (8, 32), 8, autocast=False))
    monkeypatch.setenv(AUTOCAST_ENV, "bfloat16")
    extra = [c for c in model_descriptors(["hf:bert"], (8, 32), 8) if c.source.startswith("model:autocast")]
    assert [(c.source, c.dtype, c.extra["compare"]) for c in extra] == [("model:autocast@8", "bfloat16", True)]
    healthy = run_case(adapter, next(c for c in model_descriptors(["py:model_faults:healthy"], (8,), 8, autocast=True)
                                     if c.source == "model:autocast@8"), FAST)
    assert healthy.outcome == PASSED and healthy.check == "values", healthy
    differs = run_case(adapter, next(c for c in model_descriptors(["py:model_faults:differs"], (8,), 8, autocast=True)
                                     if c.source == "model:autocast@8"), FAST)
    assert differs.outcome == PASSED and 1e-3 < differs.max_rel_err < AUTOCAST_TOL  # off by 1%: within bf16's tolerance


@pytest.mark.slow
def test_model_cases_in_compile_and_export_modes_on_the_cpu() -> None:
    sys.path.insert(0, str(DATA))
    try:
        compiled = TorchAdapter("cpu", "compile", "cpu")  # compile vs eager on the same device
        for step in ("forward", "train"):
            result = _run(compiled, "py:model_faults:healthy", step)
            assert result.outcome == PASSED and result.check == "values", result
            assert result.compile_info["mode"] == "compile" and result.compile_info["graphs"] >= 1
            assert 0 < result.compile_ns  # the first call's compile time, as for function cases
            assert result.time_median_ns > 0
            assert compiled._compiler._prepared is None  # the model is released: no device memory held after the case
        differs = _run(compiled, "py:model_faults:differs")
        assert differs.outcome == FAILED and parse_details(differs.message)["layer"]["path"] == "block.1"
        exported = TorchAdapter("cpu", "export", "cpu")
        forward = _run(exported, "py:model_faults:healthy")
        assert forward.outcome == PASSED and forward.compile_info["mode"] == "export", forward
        train = _run(exported, "py:model_faults:healthy", "train")
        assert train.outcome == REFERENCE_FAILED and "not applicable" in train.message
    finally:
        sys.path.remove(str(DATA))


def test_arbiter_judges_tensor_by_tensor_so_noise_on_a_zero_gradient_hides_no_device_error() -> None:
    from portabench.frameworks.torch_adapter.models.case import _judge

    ones = torch.ones(4)
    exact = {"loss": torch.tensor(1.0), "grads": {"w": ones, "zero_bias": torch.full((4,), 1e-12)}, "out": []}
    ref = {"loss": torch.tensor(1.0), "grads": {"w": ones, "zero_bias": torch.full((4,), 1e-8)}, "out": []}
    got = {"loss": torch.tensor(1.0), "grads": {"w": ones * 1.05, "zero_bias": torch.full((4,), -1e-8)}, "out": []}
    verdict = _judge(exact, ref, got, 1e-3)  # the reference's noise on zero_bias is huge relative to exact; w is not noise
    assert verdict["further"] == "device" and verdict["tensor"] == "grad w", verdict
    got["grads"]["w"] = ones
    assert _judge(exact, ref, got, 1e-3)["further"] == "reference"  # only the noise disagrees: cleared


def test_batches_listed_can_be_narrowed_for_a_comparison_only_pass(monkeypatch) -> None:
    from portabench.frameworks.torch_adapter.models.case import BATCHES_ENV

    monkeypatch.setenv(BATCHES_ENV, "8")
    assert [c.source for c in model_descriptors(["hf:bert"], (8, 32), 8)] == ["model:forward@8", "model:train@8"]
    monkeypatch.setenv(BATCHES_ENV, "32")
    assert {c.extra["compare"] for c in model_descriptors(["hf:bert"], (8, 32), 8)} == {False}


def test_compared_training_steps_run_random_regularisers_as_identity() -> None:
    """Dropout and stochastic depth draw their masks from the device's own generator: on the H200 every
    torchvision/timm model with them 'differed' in its training step (diverging layer: Dropout, DropPath,
    StochasticDepth). A compared step keeps them in eval mode; batch norm still trains (batch statistics)."""
    from portabench.frameworks.torch_adapter.models.localise import set_training

    class StochasticDepth(torch.nn.Module):  # as torchvision.ops names it
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * (torch.rand(x.shape[0], 1) > 0.5) if self.training else x

    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.5), StochasticDepth())
    set_training(model, True)
    assert [m.training for m in model] == [True, True, False, False] and model.training
    x = torch.randn(16, 8)
    assert torch.equal(model(x), model(x))  # no random mask left
    set_training(model, False)
    assert not any(m.training for m in model.modules())


def test_a_gradient_zero_in_exact_arithmetic_is_judged_against_the_steps_gradient_scale() -> None:
    """On the H200, biases right before batch norm (gradient 0 in exact arithmetic, rounding noise in
    practice) 'differed' by 1e6 of their own scale. Their error is now relative to at least 1e-3 of the
    step's largest gradient; a real error on a tensor of ordinary scale still counts."""
    from portabench.frameworks.torch_adapter.models.case import GRAD_TOL, _error

    big = torch.linspace(-1.0, 1.0, 10)
    ref = {"loss": torch.tensor(1.0), "grads": {"w": big, "b": torch.full((4,), 1e-9)}, "out": []}
    noisy = {"loss": torch.tensor(1.0), "grads": {"w": big.clone(), "b": torch.full((4,), -1e-8)}, "out": []}
    ratio, where, _ = _error(ref, noisy)
    assert ratio < 1, (ratio, where)
    wrong = {"loss": torch.tensor(1.0), "grads": {"w": big * 1.05, "b": ref["grads"]["b"].clone()}, "out": []}
    ratio, where, tol = _error(ref, wrong)
    assert ratio > 1 and where == "grad w" and tol == GRAD_TOL
