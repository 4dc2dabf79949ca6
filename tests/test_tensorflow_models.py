"""Whole Keras models as cases (frameworks/tensorflow_adapter/models.py): keras.applications with weights=None."""

from __future__ import annotations

import numpy as np
import pytest

from portabench.errors import PortabenchError
from portabench.models.names import model_framework, split_model_names
from portabench.models.selection import parse_models

tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")

from portabench.cases import PASSED  # noqa: E402
from portabench.frameworks.tensorflow_adapter import models as keras_models  # noqa: E402
from portabench.frameworks.timer import TimingConfig  # noqa: E402
from portabench.models.details import parse_details  # noqa: E402

FAST = TimingConfig(min_repeats=2, budget_s=0.01)


def test_keras_model_names_belong_to_tensorflow() -> None:
    assert model_framework("keras:ResNet50") == "tensorflow" and model_framework("timm:resnet50") == "torch"
    assert parse_models("keras:MobileNetV3Small@96", "tensorflow") == ["keras:MobileNetV3Small@96"]
    with pytest.raises(PortabenchError, match="run it with --framework tensorflow"):
        parse_models("keras:ResNet50", "torch")
    with pytest.raises(PortabenchError, match="run it with --framework torch"):
        parse_models("hf:bert", "tensorflow")
    assert split_model_names(["tf.add", "keras:VGG16"]) == (["tf.add"], ["keras:VGG16"])
    cases = keras_models.model_descriptors(["keras:VGG16"])
    assert [(c.source, c.extra["compare"]) for c in cases] == [
        ("model:forward@8", True), ("model:train@8", True), ("model:forward@32", False), ("model:train@32", False)]


def test_arbiter_blames_the_device_tensor_by_tensor() -> None:
    exact = {"loss": np.array(1.0), "grad w": np.ones(4), "grad zero": np.full(4, 1e-12)}
    ref = {"loss": np.array(1.0), "grad w": np.ones(4), "grad zero": np.full(4, 1e-8)}
    got = {"loss": np.array(1.0), "grad w": np.ones(4) * 1.05, "grad zero": np.full(4, -1e-8)}
    assert keras_models._judge(exact, ref, got)["tensor"] == "grad w"
    assert keras_models._judge(exact, ref, got)["further"] == "device"
    assert keras_models._error(ref, got)[1] in ("grad w", "grad zero")


def test_catalog_lists_keras_applications() -> None:
    entries = {e["name"]: e for e in keras_models.catalog()}
    assert entries["keras:ResNet50"]["family"] == "keras:resnet"
    assert entries["keras:MobileNetV3Small"]["size"] == "small"


@pytest.mark.slow
def test_small_keras_model_forward_and_training_step_compared_on_the_cpu() -> None:
    from portabench.frameworks.tensorflow_adapter import TensorFlowAdapter
    from portabench.worker.execute import run_case

    adapter = TensorFlowAdapter("cpu", "eager", "cpu:0")
    built = keras_models.build("keras:MobileNetV3Small@32")
    clone = built.clone("cpu")
    assert all(np.array_equal(a, b) for a, b in zip(built.model.get_weights(), clone.get_weights(), strict=True))
    train = keras_models._host(keras_models._step(clone, "train", built.make_inputs(2), "cpu")())
    assert "loss" in train and sum(k.startswith("grad ") for k in train) > 50  # every trainable variable compared
    for case in keras_models.model_descriptors(["keras:MobileNetV3Small@32"])[:2]:
        result = run_case(adapter, case, FAST)
        assert result.outcome == PASSED and result.check == "values", result
        assert result.max_rel_err == 0.0 and result.time_median_ns > 0
        assert parse_details(result.message)["step"] == case.source.split(":")[1].split("@")[0]
    eager_only = TensorFlowAdapter("cpu", "function", "cpu")
    assert "not applicable" in run_case(eager_only, keras_models.model_descriptors(["keras:MobileNetV3Small@32"])[0], FAST).message


def test_keras_gradient_zero_in_exact_arithmetic_is_judged_against_the_steps_gradient_scale() -> None:
    """As for PyTorch models: noise on a gradient that is zero in exact arithmetic is not a disagreement;
    a real error on a gradient of ordinary scale is."""
    big = np.linspace(-1.0, 1.0, 10)
    ref = {"loss": np.array(1.0), "grad w": big, "grad b": np.full(4, 1e-9)}
    assert keras_models._error(ref, {**ref, "grad b": np.full(4, -1e-8)})[0] < 1
    ratio, where, _ = keras_models._error(ref, {**ref, "grad w": big * 1.05})
    assert ratio > 1 and where == "grad w"
