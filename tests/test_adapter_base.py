"""The adapter skeleton (frameworks/base.py) on a numpy-only adapter that supplies only hooks: listing rules
(missing / no_cases, merged claims, the max_samples rule, spec modes), spec-case loading in prepare, the
host-copy walk, info/numerics and the poisoning check. No framework is imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from portabench.cases import CaseDescriptor
from portabench.frameworks.base import UNHANDLED, Adapter, HostLeaf, Prepared
from portabench.frameworks.timer import HostTimer, Timer
from portabench.specs import SpecFunction

SPECS = """
format = 1
framework = "skeleton"

[[function]]
name = "lib.spec_only"
dtypes = ["float32", "float64"]
[[function.case]]
name = "a"
call = "1"
[[function.case]]
name = "b"
call = "2"
[[function.case]]
name = "eager_only"
call = "3"
modes = ["eager"]

[[function]]
name = "lib.ghost"
[[function.case]]
name = "a"
call = "4"
"""


@dataclass
class FakeSource:
    key: str
    claims: dict[str, set[str]]  # device type -> dtypes
    samples: int
    random: bool = False


SOURCES = {
    "lib.add": [FakeSource("meta:add", {"cpu": {"float32", "float64"}, "gpu": {"float32"}}, samples=4),
                FakeSource("meta:add_out", {"cpu": {"int64"}, "gpu": {"int64", "bool"}}, samples=1, random=True)],
    "lib.nodtype": [FakeSource("meta:nodtype", {"cpu": {"none"}}, samples=2)],
    "lib.float16_only": [FakeSource("meta:f16", {"cpu": {"float16"}}, samples=3)],
}
EXISTING = {"lib.add", "lib.nodtype", "lib.float16_only", "lib.spec_only", "lib.no_sources"}


class Skeleton(Adapter):
    """Hooks only: metadata sources from :data:`SOURCES`, names that exist in :data:`EXISTING`."""

    name = "skeleton"
    poisoning_messages = ("device lost",)
    host_depth_limit = 3

    def __init__(self, device: str, mode: str, reference: str | None, strict_names: bool = False) -> None:
        super().__init__(device, mode, reference)
        self.names_must_resolve = strict_names
        self.prepared_specs: list[tuple[str, str]] = []

    def framework_version(self) -> str:
        return "1.0"

    def device_kind(self) -> str:
        return self.device.split(":")[0]

    def device_name(self) -> str:
        return "a fake device"

    def numeric_switches(self) -> dict[str, Any]:
        return {"precision": "highest"}

    def api(self) -> list[dict[str, str]]:
        return [{"qualname": n, "kind": "function"} for n in sorted(EXISTING)]

    def source_names(self) -> list[str]:
        return list(SOURCES)

    def case_sources(self, name: str) -> list[Any]:
        return SOURCES.get(name, [])

    def reference_device_type(self) -> str:
        return self.reference.split(":")[0] if self.reference else self.device_kind()

    def claimed_dtypes(self, source: Any, device_type: str) -> set[str]:
        return set(source.claims.get(device_type, set()))

    def sample_count(self, source: Any, dtype: str, max_samples: int) -> int:
        return source.samples  # more than asked for: the skeleton caps it

    def resolve_name(self, name: str) -> Any | None:
        return name if name in EXISTING else None

    def spec_case_extra(self, fn: SpecFunction) -> dict[str, Any]:
        return {"marked": True}

    def prepare_source(self, source: Any, case: CaseDescriptor, device: str) -> Prepared:
        return Prepared(call=lambda: np.full(2, case.sample, dtype=case.dtype))

    def prepare_spec(self, fn: SpecFunction, case: CaseDescriptor, device: str) -> Prepared:
        self.prepared_specs.append((fn.file, fn.cases[case.sample].name))
        return Prepared(call=lambda: fn.cases[case.sample].call)

    def host_array(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, np.ndarray):
            return HostLeaf(output.dtype.name, output.shape, output, "host")
        return UNHANDLED

    def host_other(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, set):
            return sorted(walk(v) for v in output)
        return super().host_other(output, walk)

    def seed(self, seed: int) -> None:
        np.random.seed(seed)

    def placement_error(self, output: Any, device: str) -> str | None:
        return None

    def timer(self, device: str) -> Timer:
        return HostTimer()


@pytest.fixture
def spec_file(tmp_path: Path) -> str:
    path = tmp_path / "skeleton.toml"
    path.write_text(SPECS)
    return str(path)


def _ids(cases: list[CaseDescriptor]) -> list[str]:
    return [c.case_id for c in cases]


def test_listing_merges_claims_and_caps_metadata_samples(spec_file: str) -> None:
    adapter = Skeleton("gpu", "eager", "cpu")
    listing = adapter.list_cases(["lib.add"], ["float32", "float64", "int64", "bool"], [spec_file], 2)
    # dtypes: the requested ones the reference (cpu) claims; samples: at most max_samples of the source's 4
    assert _ids(listing.cases) == ["lib.add|meta:add|float32|0", "lib.add|meta:add|float32|1",
                                   "lib.add|meta:add|float64|0", "lib.add|meta:add|float64|1",
                                   "lib.add|meta:add_out|int64|0"]
    assert listing.cases[-1].random is True
    # claims of both device types, merged over the sources
    assert listing.claimed == {"lib.add": {"cpu": ["float32", "float64", "int64"], "gpu": ["bool", "float32", "int64"]}}
    assert adapter.max_samples == 2  # what a worker that did not list generates later


def test_missing_no_cases_and_dtype_less_sources(spec_file: str) -> None:
    adapter = Skeleton("cpu", "eager", None)
    names = ["lib.nodtype", "lib.float16_only", "lib.no_sources", "lib.typo", "lib.ghost"]
    listing = adapter.list_cases(names, ["float32"], [spec_file], 5)
    assert _ids(listing.cases) == ["lib.nodtype|meta:nodtype|none|0", "lib.nodtype|meta:nodtype|none|1",
                                   f"lib.ghost|spec:{Path(spec_file).name}#a|float32|0"]
    assert listing.claimed["lib.nodtype"] == {"cpu": []}  # "none" is no dtype claim
    assert listing.no_cases == ["lib.float16_only", "lib.no_sources"]  # exist, but nothing in float32 / no source
    assert listing.missing == ["lib.typo"]  # a spec may name a function the framework lacks (lib.ghost)
    strict = Skeleton("cpu", "eager", None, strict_names=True).list_cases(names, ["float32"], [spec_file], 5)
    assert strict.missing == ["lib.typo", "lib.ghost"]  # names_must_resolve: specs too


def test_spec_cases_are_not_cut_by_max_samples_and_follow_modes(spec_file: str) -> None:
    eager = Skeleton("cpu", "eager", None).list_cases(["lib.spec_only"], ["float64"], [spec_file], 1)
    name = Path(spec_file).name
    assert _ids(eager.cases) == [f"lib.spec_only|spec:{name}#{c}|float64|{i}"
                                 for i, c in enumerate(["a", "b", "eager_only"])]
    assert all(c.extra == {"spec_file": spec_file, "any_device": False, "marked": True} for c in eager.cases)
    jit = Skeleton("cpu", "jit", None).list_cases(["lib.spec_only"], ["float64"], [spec_file], 1)
    assert [c.source.rsplit("#")[-1] for c in jit.cases] == ["a", "b"]  # modes = ["eager"]: not in jit
    every = Skeleton("cpu", "eager", None).list_cases(None, ["float32"], [spec_file], 1)
    assert {c.function for c in every.cases} == {"lib.add", "lib.nodtype", "lib.spec_only", "lib.ghost"}


def test_prepare_loads_a_spec_file_the_worker_has_not_listed(spec_file: str) -> None:
    listed = Skeleton("cpu", "eager", None).list_cases(["lib.spec_only"], ["float32"], [spec_file], 5).cases
    fresh = Skeleton("cpu", "eager", None)  # a new worker after a crash: it never listed the cases
    assert fresh.prepare(listed[1], "cpu").call() == "2"
    assert fresh.prepared_specs == [(spec_file, "b")]
    source_case = CaseDescriptor("lib.add", "meta:add", "float64", 1)
    assert fresh.to_host(fresh.prepare(source_case, "cpu").call()).values.tolist() == [1.0, 1.0]
    with pytest.raises(LookupError, match="no case source meta:gone for lib.add in skeleton 1.0"):
        fresh.prepare(CaseDescriptor("lib.add", "meta:gone", "float32", 0), "cpu")


def test_to_host_walks_containers_then_asks_the_hooks() -> None:
    adapter = Skeleton("cpu", "eager", None)
    out = adapter.to_host({"a": (np.zeros(2), [1, "x", None]), 3: {2, 1}, "obj": object()})
    leaf = out["a"][0]
    assert isinstance(leaf, HostLeaf) and leaf.dtype == "float64" and leaf.shape == (2,)
    assert out["a"][1] == [1, "x", None] and out["3"] == [1, 2] and out["obj"] == "<object>"
    assert adapter.to_host([[[[[1]]]]]) == [[[["<list>"]]]]  # past host_depth_limit: described, not walked


def test_info_numerics_and_poisoning() -> None:
    adapter = Skeleton("gpu:1", "jit", "cpu")
    assert adapter.info() == {"framework_version": "1.0", "device": "gpu:1", "device_kind": "gpu",
                              "device_name": "a fake device", "numerics": {"precision": "highest", "mode": "jit"}}
    assert adapter.needs_restart("error: device lost while running") and not adapter.needs_restart("bad shape")
