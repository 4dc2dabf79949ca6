"""The framework registry (portabench.frameworks): the one place for framework facts, device strings included."""

from __future__ import annotations

import pytest

from portabench.errors import PortabenchError
from portabench.frameworks import DeviceSpec, canonical_name, device_kind, get_framework
from portabench.mining.methods import ARRAY_TYPES, METHOD_FUNCTIONS, METHOD_OWNER


@pytest.mark.parametrize(("framework", "text", "spec"), [
    ("torch", "cuda:1", ("cuda", 1, ())),
    ("torch", "cuda", ("cuda", None, ())),
    ("torch", "meta", ("meta", None, ())),
    ("jax", "gpu:0", ("gpu", 0, ())),
    ("jax", "cuda", ("gpu", None, ())),  # the JAX adapter takes cuda and rocm for gpu
    ("tensorflow", "gpu+soft", ("gpu", None, ("soft",))),
    ("tensorflow", "/device:GPU:0+soft", ("gpu", 0, ("soft",))),
    ("tensorflow", "/job:localhost/replica:0/task:0/device:GPU:1", ("gpu", 1, ())),
    ("tf", "CUDA:2", ("gpu", 2, ())),
])
def test_device_strings_are_read_by_their_framework(framework: str, text: str, spec: tuple[object, ...]) -> None:
    got = get_framework(framework).parse_device(text)
    assert isinstance(got, DeviceSpec) and got.text == text
    assert (got.kind, got.index, got.flags) == spec
    assert got.indexed == (spec[1] is not None)


@pytest.mark.parametrize(("framework", "text", "match"), [
    ("torch", "cuda+soft", "no device flag '\\+soft'"),  # soft placement is TensorFlow's
    ("tensorflow", "gpu+fast", "it knows \\+soft"),
    ("torch", "cuda:x", "not a torch device string"),
    ("jax", "", "not a jax device string"),
])
def test_bad_device_strings_are_one_line_errors(framework: str, text: str, match: str) -> None:
    with pytest.raises(PortabenchError, match=match):
        get_framework(framework).parse_device(text)


def test_stored_device_strings_never_raise() -> None:
    assert device_kind("/device:GPU:0+soft") == "gpu"  # any framework's spelling
    assert device_kind("cuda:1", "torch") == "cuda" and device_kind("cuda", "jax") == "gpu"
    assert device_kind("weird/thing:3") == "weird/thing" and device_kind("") == "unknown"  # the old reading
    assert device_kind("tpu:0", "not-registered") == "tpu"


def test_names_and_aliases() -> None:
    assert canonical_name("TF") == "tensorflow" and canonical_name("pytorch") == "torch"
    assert canonical_name("jax") == "jax" and canonical_name("mxnet") is None
    assert get_framework("tf") is get_framework("tensorflow")
    with pytest.raises(PortabenchError, match="unknown framework 'mxnet'"):
        get_framework("mxnet")


def test_framework_facts_live_in_the_registry() -> None:
    torch, jax, tf = get_framework("torch"), get_framework("jax"), get_framework("tensorflow")
    assert (torch.expected_targets, jax.expected_targets) == (("cuda", "mps", "xla"), ("gpu", "tpu"))
    # the XLA/TSL C++ log level all three workers got from the generic process code before, now each entry's
    assert all(e.worker_env["TF_CPP_MIN_LOG_LEVEL"] == "2" for e in (torch, jax, tf))
    # the miner's method tables are derived from the entries
    assert {k: METHOD_OWNER[k] for k in ("torch", "jax", "tensorflow")} == {"torch": "Tensor", "jax": "Array",
                                                                          "tensorflow": "Tensor"}
    assert ARRAY_TYPES["jax"]["jax.numpy.ndarray"] == "jax.Array"
    assert ARRAY_TYPES["torch"]["torch.nn.Parameter"] == "torch.Tensor"
    assert METHOD_FUNCTIONS["tensorflow"] == ("tensorflow", "tensorflow.math")
