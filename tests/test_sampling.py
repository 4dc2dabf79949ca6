"""Tests of portabench.sampling: the paper's top/decile scheme, presets, listed and loaded manifests."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from portabench.errors import PortabenchError
from portabench.frameworks import get_framework
from portabench.mining import FORMAT, load_frequency_table
from portabench.sampling import (
    Manifest,
    SampledFunction,
    listed_manifest,
    load_manifest,
    preset_manifest,
    ranked_frequencies,
    sample_functions,
)

PAPER_DATA = Path(__file__).resolve().parents[2] / "shared" / "paper-data"
SAMPLED_JSON = PAPER_DATA / "sampled_functions.json"
needs_paper_data = pytest.mark.skipif(
    not SAMPLED_JSON.is_file(), reason=f"paper data not found at {PAPER_DATA} (../shared/paper-data)"
)


def make_table(framework: str = "torch", n: int = 120, methods: dict[str, int] | None = None) -> dict[str, Any]:
    """A table with names f000..f{n-1} whose counts strictly decrease (f000 most used), plus zeros."""
    counts = {f"{framework}.f{i:03d}": n - i for i in range(n)}
    counts[f"{framework}.unused"] = 0
    return {
        "format": FORMAT,
        "framework": framework,
        "sources": [{"name": "fake", "version": "1"}],
        "counts": counts,
        "method_candidates": methods or {},
    }


def test_top_and_deciles_split() -> None:
    table = make_table(n=120)
    manifest = sample_functions("torch", table, per_decile=3, top=20, seed=1, include_methods=False)
    assert manifest.name == "sampled" and manifest.seed == 1 and manifest.framework == "torch"
    top = [f for f in manifest.functions if f.bucket == "top"]
    assert [f.function for f in top] == [f"torch.f{i:03d}" for i in range(20)]
    # the other 100 functions are cut into 10 deciles of 10: decile-10 = ranks 20..29, decile-1 = ranks 110..119
    for decile in range(1, 11):
        members = [f for f in manifest.functions if f.bucket == f"decile-{decile}"]
        assert len(members) == 3
        lo = 20 + (10 - decile) * 10
        allowed = {f"torch.f{i:03d}" for i in range(lo, lo + 10)}
        assert {f.function for f in members} <= allowed
        assert all(f.frequency == table["counts"][f.function] for f in members)
    assert "torch.unused" not in manifest.names()  # zero-use functions are never ranked
    assert len(set(manifest.names())) == len(manifest.names()) == 50
    buckets = [f.bucket for f in manifest.functions]
    assert buckets == ["top"] * 20 + [f"decile-{d}" for d in range(10, 0, -1) for _ in range(3)]


def test_sampling_is_reproducible_and_seed_dependent() -> None:
    table = make_table(n=500)
    a = sample_functions("torch", table, seed=7)
    b = sample_functions("torch", json.loads(json.dumps(table)), seed=7)
    c = sample_functions("torch", table, seed=8)
    assert a.names() == b.names()
    assert a.names() != c.names()
    assert len(a.functions) == 20 + 10 * 5


def test_small_tables_and_uneven_deciles() -> None:
    table = make_table(n=27)  # 7 after the top 20: some deciles empty
    manifest = sample_functions("torch", table, per_decile=5, top=20, seed=0, include_methods=False)
    assert len(manifest.functions) == 27
    assert sum(f.bucket.startswith("decile-") for f in manifest.functions) == 7
    assert sample_functions("torch", make_table(n=3), top=20).names() == ["torch.f000", "torch.f001", "torch.f002"]


def test_ties_are_ranked_by_name() -> None:
    table = make_table(n=0)
    table["counts"] = {"torch.b": 5, "torch.a": 5, "torch.c": 9}
    assert ranked_frequencies("torch", table) == [("torch.c", 9), ("torch.a", 5), ("torch.b", 5)]


@pytest.mark.parametrize(
    "framework, candidate, expected",
    [("torch", "Tensor.sum", "torch.Tensor.sum"), ("jax", "Array.sum", "jax.Array.sum"),
     ("tensorflow", "Tensor.numpy", "tensorflow.Tensor.numpy")],
)  # fmt: skip
def test_method_candidates_join_the_ranking(framework: str, candidate: str, expected: str) -> None:
    table = make_table(framework, n=5, methods={candidate: 1000})
    with_methods = sample_functions(framework, table, top=1)
    assert with_methods.functions[0] == SampledFunction(expected, 1000, "top")
    without = sample_functions(framework, table, top=1, include_methods=False)
    assert expected not in without.names()


def test_method_and_call_of_the_same_name_add_up() -> None:
    table = make_table(n=0, methods={"Tensor.sum": 3})
    table["counts"] = {"torch.Tensor.sum": 2}
    assert ranked_frequencies("torch", table) == [("torch.Tensor.sum", 5)]


def test_sampling_rejects_bad_arguments() -> None:
    with pytest.raises(PortabenchError, match="for jax, not torch"):
        sample_functions("torch", make_table("jax"))
    with pytest.raises(PortabenchError, match="negative"):
        sample_functions("torch", make_table(), per_decile=-1)
    with pytest.raises(PortabenchError, match="unknown format"):
        sample_functions("torch", {"framework": "torch", "counts": {}})


def test_sampling_the_shipped_table() -> None:
    table = load_frequency_table("torch")
    manifest = sample_functions("torch", table, seed=0)
    assert len(manifest.functions) == 70
    assert manifest.params["table_sources"] == table["sources"]
    assert manifest.functions[0].bucket == "top"


# --- manifests ---------------------------------------------------------------------------------


def test_manifest_json_round_trip(tmp_path: Path) -> None:
    manifest = sample_functions("jax", make_table("jax", n=60), seed=3)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest.to_json()))
    loaded = load_manifest(path)
    assert loaded == manifest
    assert Manifest.from_json(manifest.to_json()).names() == manifest.names()


@pytest.mark.parametrize(
    "content, message",
    [
        ("{oops", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"framework": "torch", "name": "x", "seed": 0}', "'functions' must be a list"),
        ('{"framework": "mxnet", "name": "x", "functions": []}', "unknown framework"),
        ('{"framework": "torch", "name": "x", "functions": [{"frequency": 1}]}', "functions\\[0\\]"),
        ('{"framework": "torch", "name": "x", "functions": [{"function": "torch.add", "bucket": "b"}]}', "bucket"),
        ('{"framework": "torch", "name": "x", "seed": "1", "functions": []}', "seed"),
        ('{"format": "nope/2", "framework": "torch", "name": "x", "functions": []}', "unknown format"),
    ],
)
def test_malformed_manifests_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PortabenchError, match=message) as info:
        load_manifest(path)
    assert "\n" not in str(info.value)
    with pytest.raises(PortabenchError, match="cannot read manifest"):
        load_manifest(tmp_path / "missing.json")


def test_listed_manifest() -> None:
    table = make_table("tensorflow", n=5, methods={"Tensor.numpy": 4})
    names = [" tf.f001", "tensorflow.f001", "", "tensorflow.Tensor.numpy", "tensorflow.zz"]
    manifest = listed_manifest("tf", names, table)
    assert manifest.name == "listed" and manifest.framework == "tensorflow" and manifest.seed is None
    assert manifest.functions == [
        SampledFunction("tensorflow.f001", 4, "listed"),
        SampledFunction("tensorflow.Tensor.numpy", 4, "listed"),
        SampledFunction("tensorflow.zz", 0, "listed"),
    ]
    own = listed_manifest("torch", ["mylib.fused_block"])  # a user's function, given cases by --specs
    assert own.names() == ["mylib.fused_block"]
    with pytest.raises(PortabenchError, match="no function names"):
        listed_manifest("torch", [" ", ""])


def test_preset_all_and_unknown_preset() -> None:
    everything = preset_manifest("jax", "all")
    assert everything.name == "all" and everything.functions == []
    with pytest.raises(PortabenchError, match="unknown preset"):
        preset_manifest("jax", "favourites")


@pytest.mark.parametrize("framework, size", [("torch", 63), ("jax", 65), ("tensorflow", 72)])
def test_paper_presets_ship(framework: str, size: int) -> None:
    names = get_framework(framework).paper_preset()
    assert len(names) == size == len(set(names))
    assert names == sorted(names)
    assert all(n.startswith(framework + ".") and " " not in n for n in names)
    manifest = preset_manifest(framework, "paper", load_frequency_table(framework))
    assert manifest.name == "paper" and manifest.names() == names
    assert all(f.bucket == "preset" for f in manifest.functions)
    assert sum(f.frequency > 0 for f in manifest.functions) > size // 3  # the shipped table knows many of them
    assert all(f.frequency == 0 for f in preset_manifest(framework, "paper").functions)


def test_paper_preset_frequency_includes_method_candidates() -> None:
    table = make_table(n=0, methods={"Tensor.size": 11})
    table["counts"] = {"torch.cat": 4}
    freqs = {f.function: f.frequency for f in preset_manifest("torch", "paper", table).functions}
    assert freqs["torch.Tensor.size"] == 11 and freqs["torch.cat"] == 4 and freqs["torch.zeros"] == 0


def _preset_file(framework: str) -> dict[str, Any]:
    import portabench.data

    return json.loads((Path(portabench.data.__file__).parent / "presets" / f"paper_{framework}.json").read_text())


@needs_paper_data
@pytest.mark.parametrize("framework", ["torch", "jax", "tensorflow"])
def test_paper_presets_match_the_published_json(framework: str) -> None:
    published = json.loads(SAMPLED_JSON.read_text())[framework]
    preset = _preset_file(framework)
    assert preset["framework"] == framework
    assert set(preset["test_files"]) == set(published)
    for stem, reading in published.items():
        qualname = re.sub(r"\s*\(.*\)$", "", reading)  # drop "(internal in recent JAX)" remarks
        if qualname.startswith("tf."):
            qualname = "tensorflow." + qualname[3:]
        assert preset["test_files"][stem] == qualname
    assert preset["functions"] == sorted(set(preset["test_files"].values()))


@needs_paper_data
def test_jax_preset_buckets_follow_the_published_sample() -> None:
    buckets = _preset_file("jax")["buckets"]
    rows = list(csv.DictReader((PAPER_DATA / "frequencies" / "jax_sampled_datapoints.csv").open()))
    by_function: dict[str, set[str]] = {}
    for row in rows:
        label = "top" if row["bucket"] == "top 20" else f"decile-{int(row['bucket']) // 10}"
        by_function.setdefault(row["function"], set()).add(label)
    assert set(buckets["jax.numpy.ones"]) == by_function["ones"] == {"top"}
    assert set(buckets["jax.scipy.special.ndtr"]) == by_function["ndtr"] == {"decile-1"}
    assert set(buckets["jax.numpy.exp"]) == {"decile-10"}
    assert set(buckets["jax.numpy.add"]) == {"top", "decile-10"}
    assert set(buckets["jax.scipy.signal.convolve2d"]) == by_function["convolve2d"]
    assert len(buckets) >= 45
    assert set(buckets) <= set(_preset_file("jax")["functions"])


# --- issue #19: the draw ignores which functions have cases; case counts in manifests ----------


def test_draw_is_among_all_used_functions_whatever_has_cases() -> None:
    table = make_table(n=120)
    with_cases = {f"torch.f{i:03d}" for i in range(0, 120, 2)}  # every other function has cases
    plain = sample_functions("torch", table, per_decile=3, top=20, seed=5, include_methods=False)
    informed = sample_functions(
        "torch", table, per_decile=3, top=20, seed=5, include_methods=False, with_cases=with_cases
    )
    assert informed.names() == plain.names()  # knowing the cases never changes the draw
    without = [n for n in informed.names() if n not in with_cases]
    assert without and informed.params["drawn_without_cases"] == without
    assert informed.params["with_cases"] == len(informed.names()) - len(without)
    assert informed.params["drawn_among"] == "all used functions"
    cov = informed.params["coverage"]
    assert cov["names"] == 120 and cov["covered_names"] == 60
    total = sum(range(1, 121))
    assert cov["covered_volume"] == round(sum(120 - i for i in range(0, 120, 2)) / total, 4)


def test_case_counts_round_trip_and_validation(tmp_path: Path) -> None:
    manifest = sample_functions("jax", make_table("jax", n=30), seed=1).with_case_counts({"jax.f000": 7})
    assert manifest.functions[0].cases == 7 and all(f.cases == 0 for f in manifest.functions[1:])
    data = manifest.to_json()
    assert data["functions"][0]["cases"] == 7
    assert Manifest.from_json(data) == manifest
    assert "cases" not in sample_functions("jax", make_table("jax", n=30), seed=1).to_json()["functions"][0]
    data["functions"][0]["cases"] = -1
    with pytest.raises(PortabenchError, match="cases must be a non-negative integer"):
        Manifest.from_json(data)


def test_preset_all_with_counts_lists_functions_most_used_first() -> None:
    table = make_table("torch", n=5)
    counts = {"torch.f003": 4, "torch.f000": 2, "torch.zzz_not_in_table": 1, "torch.none": 0}
    manifest = preset_manifest("torch", "all", table, case_counts=counts)
    assert manifest.name == "all"
    assert [(f.function, f.frequency, f.cases) for f in manifest.functions] == [
        ("torch.f000", 5, 2),
        ("torch.f003", 2, 4),
        ("torch.zzz_not_in_table", 0, 1),
    ]
    assert manifest.params["cases"] == 7


def test_an_edited_all_manifest_runs_its_functions() -> None:
    from portabench.case_options import CaseOptions
    from portabench.study import request_for

    options = CaseOptions(dtypes=("float32",), do_timing=False)
    entry = get_framework("torch")
    listed = preset_manifest("torch", "all", make_table("torch", n=3), case_counts={"torch.f001": 3})
    assert request_for(entry, "cpu", None, None, listed, options, resume=False).functions == ["torch.f001"]
    empty = preset_manifest("torch", "all")
    assert request_for(entry, "cpu", None, None, empty, options, resume=False).functions is None


@pytest.mark.parametrize("framework", ["torch", "jax", "tensorflow"])
def test_application_tables_ship_with_sources_and_versions(framework: str) -> None:
    from portabench.sampling import resolve_table, shipped_table_names

    assert {framework, f"{framework}-apps"} <= set(shipped_table_names())
    path = resolve_table(f"{framework}-apps")
    assert path is not None and Path(path).is_file()
    table = load_frequency_table(path)
    assert table["framework"] == framework and "--apps" in table["generated_by"]
    assert table["sources"] and all(s["name"] and s["version"] for s in table["sources"])
    assert {s["name"] for s in table["sources"]}.isdisjoint(
        {s["name"] for s in load_frequency_table(framework)["sources"]}
    )
    assert resolve_table(None) is None and resolve_table("no/such.json") == "no/such.json"


@pytest.mark.slow
def test_sample_command_reports_coverage_and_case_counts(tmp_path: Path) -> None:
    from conftest import run_cli

    out = tmp_path / "m.json"
    proc = run_cli("sample", "--framework", "jax", "--table", "jax-apps", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("jax coverage of the usage table (d2l==")
    manifest = load_manifest(out)
    without = manifest.params["drawn_without_cases"]
    assert manifest.params["with_cases"] == len(manifest.functions) - len(without)
    assert (
        f"jax sampled manifest: {manifest.params['with_cases']} of {len(manifest.functions)} functions have cases"
        in proc.stderr
    )
    assert all(name in proc.stderr for name in without)
    assert manifest.params["table_sources"][0]["name"] == "d2l"
