"""Tests of portabench.importers.paper (the paper's published data -> store runs)."""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("portabench.taxonomy", reason="portabench.taxonomy (classify) is not in this checkout yet")

from portabench.errors import PortabenchError
from portabench.importers import import_paper
from portabench.importers.paper import parse_test_name
from portabench.store import Store
from portabench.taxonomy import NOT_IMPLEMENTED, classify, iter_pytest_report_failures


def _paper_data() -> Path:
    env = os.environ.get("PORTABENCH_PAPER_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "paper-data"


PAPER = _paper_data()


# -- synthetic layout ----------------------------------------------------------------------------


def _test(nodeid: str, outcome: str, crash: str | None = None) -> dict:
    t = {"nodeid": nodeid, "lineno": 1, "outcome": outcome, "setup": {"outcome": "passed"}}
    call = {"duration": 0.01, "outcome": outcome}
    if crash is not None:
        call["crash"] = {"path": "x.py", "lineno": 3, "message": crash}
        call["longrepr"] = f"def test():\n>   boom()\nE   {crash}\n"
    t["call"] = call
    return t


def _report(tests: list[dict], created: float = 1_683_000_000.0) -> dict:
    return {
        "created": created,
        "duration": 10.0,
        "exitcode": 1,
        "root": "/r",
        "environment": {"Python": "3.10.10", "Platform": "Linux-x"},
        "summary": {"total": len(tests)},
        "tests": tests,
    }


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _make_layout(root: Path, with_mapping: bool = True) -> Path:
    """A tiny clone of the paper's layout: PyTorch on a T4 machine, JAX on a TPU machine."""
    pt = "src/pytorch_tests_reduced"
    torch_tests = [
        _test(f"{pt}/addr_test.py::TestLinalgCUDA::test_addr_bool_cuda_bool", "passed"),
        _test(f"{pt}/addr_test.py::TestLinalgCPU::test_addr_bool_cpu_bool", "passed"),
        _test(
            f"{pt}/addr_test.py::TestLinalgCUDA::test_addr_float_cuda_float64",
            "failed",
            "RuntimeError: \"addr_cuda\" not implemented for 'Half'",
        ),
        _test(f"{pt}/addr_test.py::TestLinalgCPU::test_addr_float_cpu_float64", "passed"),
        _test(f"{pt}/Adamax_test.py::TestOptim::test_adamax", "passed"),
        _test(f"{pt}/Adamax_test.py::TestOptim::test_skipped", "skipped"),
    ]
    _write(root / "pytorch_timings" / "t4_vm" / "test_failure_report.json", _report(torch_tests))
    for n, scale in ((1, 1.0), (2, 2.0), (3, 3.0)):
        _write(
            root / "pytorch_timings" / "t4_vm" / f"gpu_{n}.json",
            {
                "addr_test.py:test_addr_bool_cuda_bool": {"operations": [1e-6 * scale, 2e-6 * scale], "test_time": 0.5},
                "addr_test.py:test_addr_bool_cpu_bool": {"operations": [3e-6 * scale], "test_time": 0.5},
                "addr_test.py:test_addr_float_cuda_float64": {"operations": [], "test_time": 0.1},
                "Adamax_test.py:test_adamax": {"operations": [5e-6], "test_time": 0.2},
                "Adamax_test.py:test_skipped": {"operations": [], "test_time": 0.0},
            },
        )
    jx = "src/jax_tests_reduced"
    jax_tests = [
        _test(f"{jx}/eig_test.py::EigTest::testEig0", "failed", "NotImplementedError: only on the CPU backend"),
        _test(f"{jx}/add_test.py::AddTest::testOp0", "passed"),
    ]
    _write(root / "jax_timings" / "tpu_vm" / "tpu" / "test_failure_report.json", _report(jax_tests))
    _write(
        root / "jax_timings" / "tpu_vm" / "tpu" / "tpu_1.json",
        {"add_test.py:testOp0": {"operations": [1e-3], "test_time": 1.0}},
    )
    # CPU timings without a report: a run whose outcomes are unknown.
    _write(root / "jax_timings" / "tpu_vm" / "cpu" / "cpu_1.json", {"add_test.py:testOp0": {"operations": [2e-3]}})
    (root / "jax_timings" / "notes.txt").write_text("extra file")
    if with_mapping:
        _write(
            root / "sampled_functions.json",
            {
                "_about": "x",
                "torch": {"addr": "torch.addr", "Adamax": "torch.optim.Adamax"},
                "jax": {"add": "jax.numpy.add"},
            },
        )
    return root


def _results(db: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM results ORDER BY run_id, case_id")]
    conn.close()
    return rows


# -- unit tests ----------------------------------------------------------------------------------


def test_parse_test_name_strips_pytorch_device_suffix_and_reads_dtype():
    a = parse_test_name("src/p/addr_test.py::TestLinalgXLA::test_addr_bool_xla_bool")
    b = parse_test_name("src/p/addr_test.py::TestLinalgCUDA::test_addr_bool_cuda_bool")
    c = parse_test_name("src/p/addr_test.py::TestLinalgCPU::test_addr_bool_cpu_bool")
    assert a.ident == b.ident == c.ident == "TestLinalg::test_addr_bool_bool"
    assert (a.device, b.device, c.device) == ("tpu", "gpu", "cpu")
    assert a.dtype == "bool" and a.test_file == "addr_test.py" and a.raw == "test_addr_bool_xla_bool"
    d = parse_test_name("src/p/conv_test.py::TestConvNNCPU::test_conv_cpu")
    assert (d.ident, d.device, d.dtype) == ("TestConvNN::test_conv", "cpu", "none")
    # No class suffix: an "_xla" token is part of the name, not a device.
    e = parse_test_name("src/t/x_test.py::XTest::test_compile_xla")
    assert (e.ident, e.device) == ("XTest::test_compile_xla", None)
    f = parse_test_name("src/j/add_test.py::AddTest::testOp0[a-b]")
    assert (f.ident, f.dtype) == ("AddTest::testOp0[a-b]", "none")
    assert parse_test_name("src/p/m_test.py::TestMCPU::test_m_cpu_half").dtype == "float16"


def test_import_runs_names_and_pooling(tmp_path):
    root = _make_layout(tmp_path / "paper")
    db = tmp_path / "s.db"
    with Store(db) as store:
        summary = import_paper(root, store)
        runs = {r.run_id: r for r in store.runs()}
    assert sorted(runs) == [
        "paper:jax_timings/tpu_vm/cpu",
        "paper:jax_timings/tpu_vm/tpu",
        "paper:pytorch_timings/t4_vm/cpu",
        "paper:pytorch_timings/t4_vm/cuda",
    ]
    cuda = runs["paper:pytorch_timings/t4_vm/cuda"]
    assert (cuda.framework, cuda.device, cuda.device_kind, cuda.device_name) == ("torch", "cuda", "cuda", "NVIDIA T4")
    assert cuda.origin == "paper" and cuda.framework_version == "unknown (paper)" and cuda.mode == "eager"
    assert cuda.host == "t4_vm" and cuda.status == "complete" and cuda.python == "3.10.10"
    tpu = runs["paper:jax_timings/tpu_vm/tpu"]
    assert (tpu.framework, tpu.device, tpu.device_kind) == ("jax", "tpu", "tpu")
    assert "not recorded" in tpu.device_name
    assert runs["paper:pytorch_timings/t4_vm/cpu"].device_kind == "cpu"

    rows = _results(db)
    by_run: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_run.setdefault(r["run_id"], {})[r["case_id"]] = r
    cuda_cases, cpu_cases = by_run["paper:pytorch_timings/t4_vm/cuda"], by_run["paper:pytorch_timings/t4_vm/cpu"]
    # Suffix stripping: the CUDA and CPU instances of a test share a case id.
    shared = "torch.addr|paper:addr_test.py::TestLinalg::test_addr_bool_bool|bool|0"
    assert shared in cuda_cases and shared in cpu_cases
    # The test without a device suffix goes to the session's accelerator run; skipped tests are not cases.
    assert set(cuda_cases) == {
        shared,
        "torch.addr|paper:addr_test.py::TestLinalg::test_addr_float_float64|float64|0",
        "torch.optim.Adamax|paper:Adamax_test.py::TestOptim::test_adamax|none|0",
    }
    assert len(cpu_cases) == 2
    # Timing pooling over the three repeats, in ns.
    t = cuda_cases[shared]
    samples = json.loads(t["time_samples_ns"])
    expected = [x * 1e3 for x in (1.0, 2.0, 2.0, 4.0, 3.0, 6.0)]
    assert samples == pytest.approx(expected)
    assert t["time_repeats"] == 6
    assert t["time_median_ns"] == pytest.approx(statistics.median(expected))
    assert t["time_iqr_ns"] == pytest.approx(3750.0 - 2000.0)  # linear percentiles of 1,2,2,3,4,6 (x1e3)
    assert cpu_cases[shared]["time_repeats"] == 3
    # A failure: outcome, exception type/message parsed from the crash, a category.
    failed = cuda_cases["torch.addr|paper:addr_test.py::TestLinalg::test_addr_float_float64|float64|0"]
    assert failed["outcome"] == "failed" and failed["exc_type"] == "RuntimeError"
    assert failed["message"].startswith('"addr_cuda" not implemented')
    assert failed["category"] is not None and failed["time_repeats"] is None
    jax_cases = by_run["paper:jax_timings/tpu_vm/tpu"]
    assert jax_cases["jax.numpy.add|paper:add_test.py::AddTest::testOp0|none|0"]["time_repeats"] == 1
    # No mapping entry for eig: falls back to the file stem.
    assert "eig|paper:eig_test.py::EigTest::testEig0|none|0" in jax_cases

    assert summary.runs_imported == 4
    assert summary.cases_per_run["paper:pytorch_timings/t4_vm/cuda"] == 3
    # timing-only files: a run whose cases have outcome unknown, paired with the report's test by id
    cpu_only = by_run["paper:jax_timings/tpu_vm/cpu"]
    (only,) = cpu_only.values()
    assert only["case_id"] == "jax.numpy.add|paper:add_test.py::AddTest::testOp0|none|0"
    assert only["outcome"] == "unknown" and only["time_median_ns"] == pytest.approx(2e6)
    assert runs["paper:jax_timings/tpu_vm/cpu"].config["timings_only"] is True
    skipped = dict(summary.skipped_files)
    assert "jax_timings/tpu_vm/cpu/cpu_1.json" not in skipped
    assert "jax_timings/notes.txt" in skipped
    assert next(r for r in summary.runs if r.run_id.endswith("t4_vm/cuda")).not_recorded == 1


def test_reimport_is_idempotent(tmp_path):
    root = _make_layout(tmp_path / "paper")
    db = tmp_path / "s.db"
    with Store(db) as store:
        first = import_paper(root, store)
        second = import_paper(root, store)
        assert len(store.runs()) == 4
    assert first.cases_per_run == second.cases_per_run
    assert all(r.new_cases == r.cases for r in first.runs)
    assert all(r.new_cases == 0 and r.already_present for r in second.runs)
    assert len(_results(db)) == sum(first.cases_per_run.values())


def test_without_mapping_functions_are_stems(tmp_path):
    root = _make_layout(tmp_path / "paper", with_mapping=False)
    with Store(tmp_path / "s.db") as store:
        summary = import_paper(root, store)
    assert {r["function"] for r in _results(tmp_path / "s.db")} == {"addr", "Adamax", "add", "eig"}
    assert any("sampled_functions.json" in n for n in summary.notes)


def test_duplicate_reports_and_superseded_sessions(tmp_path):
    root = _make_layout(tmp_path / "paper")
    tpu_report = root / "jax_timings" / "tpu_vm" / "tpu" / "test_failure_report.json"
    # The same bytes at the machine level (same session) and in another machine (cannot be both).
    (root / "jax_timings" / "tpu_vm" / "test_failure_report.json").write_bytes(tpu_report.read_bytes())
    (root / "jax_timings" / "other_vm").mkdir()
    (root / "jax_timings" / "other_vm" / "test_failure_report.json").write_bytes(tpu_report.read_bytes())
    with Store(tmp_path / "s.db") as store:
        summary = import_paper(root, store)
    assert [r.run_id for r in summary.runs if r.framework == "jax" and not r.unknown] == [
        "paper:jax_timings/tpu_vm/tpu"
    ]
    skipped = dict(summary.skipped_files)
    assert "byte-identical" in skipped["jax_timings/tpu_vm/test_failure_report.json"]
    assert "byte-identical" in skipped["jax_timings/other_vm/test_failure_report.json"]


def test_harness_errors_of_the_test_code_are_broken_cases(tmp_path):
    root = tmp_path / "paper"
    tests = [
        _test(
            "src/j/add_test.py::AddTest::testOp0",
            "failed",
            "TypeError: partial_timed() takes 1 positional argument but 3 were given",
        ),
        _test("src/j/add_test.py::AddTest::testOp1", "failed", "NotImplementedError: only on the CPU backend"),
    ]
    _write(root / "jax_timings" / "t4_vm" / "gpu" / "test_failure_report.json", _report(tests))
    with Store(tmp_path / "s.db") as store:
        summary = import_paper(root, store)
    outcomes = {r["case_id"].split("::")[-1]: r["outcome"] for r in _results(tmp_path / "s.db")}
    assert outcomes == {"testOp0|none|0": "reference_failed", "testOp1|none|0": "failed"}
    assert summary.runs[0].harness == 1 and summary.runs[0].failed == 1 and summary.runs[0].cases == 2


def test_failures_are_classified_as_the_taxonomy_survey_reads_them(tmp_path):
    """The importer and the taxonomy survey read pytest text through one reader: a bare
    ``NotImplementedError`` (``raise NotImplementedError``) is not_implemented both ways (it was
    ``other`` through the survey), and every other failure gets the same category both ways."""
    root = tmp_path / "paper"
    crashes = [
        "NotImplementedError",
        "NotImplementedError: only on the CPU backend",
        "Failed: Timeout >10.0s",
        "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB",
        "note: not an exception line",
    ]
    tests = [_test(f"src/j/add_test.py::AddTest::testOp{i}", "failed", c) for i, c in enumerate(crashes)]
    report = _report(tests)
    _write(root / "jax_timings" / "t4_vm" / "gpu" / "test_failure_report.json", report)
    with Store(tmp_path / "s.db") as store:
        import_paper(root, store)
    stored = {r["case_id"].split("::")[-1].split("|")[0]: r["category"] for r in _results(tmp_path / "s.db")}
    surveyed = {nodeid.split("::")[-1]: classify(ev) for nodeid, ev in iter_pytest_report_failures(report)}
    assert stored == surveyed
    assert surveyed["testOp0"] == NOT_IMPLEMENTED
    assert list(surveyed.values()) == [NOT_IMPLEMENTED, NOT_IMPLEMENTED, "timeout", "memory", "other"]


def test_placement_logs_are_fallback_evidence_in_the_soft_run(tmp_path):
    root = tmp_path / "paper"
    tests = [_test("src/t/cast_test.py::CastTest::testCast_float32", "passed")]
    for n, machine in enumerate(("soft_placement", "t4_vm")):
        _write(
            root / "tensorflow_timings" / machine / "gpu" / "test_failure_report.json", _report(tests, created=1e9 + n)
        )
    logs = root / "device_logging"
    logs.mkdir()
    gpu, cpu = "/job:localhost/replica:0/task:0/device:GPU:0", "/job:localhost/replica:0/task:0/device:CPU:0"
    (logs / "cast_test.txt").write_text(
        f"x: (_Arg): {cpu}\nCast: (Cast): {cpu}\nCast: (Cast): {gpu}\n.ITEM <TestCaseFunction testCast>\n"
        f"y: (AsString): {cpu}\nz: (_Retval): {cpu}\n"
    )
    (logs / "fill_test.txt").write_text(f"Fill: (Fill): {gpu}\n")
    (logs / "rad2deg_test.txt").write_text(f"Mul: (Mul): {cpu}\n")  # no accelerator: says nothing
    with Store(tmp_path / "s.db") as store:
        summary = import_paper(root, store)
    rows = {(r["run_id"], r["case_id"]): r for r in _results(tmp_path / "s.db")}
    soft = "paper:tensorflow_timings/soft_placement/gpu"
    cast = rows[(soft, "cast|paper:device_logging/cast_test.txt|none|0")]
    assert cast["outcome"] == "failed" and cast["category"] == "wrong_device"
    assert "AsString" in cast["message"] and "Cast" not in cast["message"].split(": ")[-1]  # Cast also ran on the GPU
    assert rows[(soft, "fill|paper:device_logging/fill_test.txt|none|0")]["outcome"] == "passed"
    assert not any(k[0].endswith("t4_vm/gpu") and "device_logging" in k[1] for k in rows)  # hard placement untouched
    assert "says nothing" in dict(summary.skipped_files)["device_logging/rad2deg_test.txt"]


def test_soft_placement_folder(tmp_path):
    root = tmp_path / "paper"
    tests = [_test("src/t/cast_test.py::CastTest::testCast_float32", "passed")]
    _write(root / "tensorflow_timings" / "soft_placement" / "gpu" / "test_failure_report.json", _report(tests))
    _write(
        root / "tensorflow_timings" / "soft_placement" / "gpu" / "gpu_1.json",
        {"cast_test.py:testCast_float32": {"operations": [1e-6]}},
    )
    with Store(tmp_path / "s.db") as store:
        import_paper(root, store)
        (run,) = store.runs()
    assert run.run_id == "paper:tensorflow_timings/soft_placement/gpu"
    assert run.config["soft_placement"] is True and run.mode == "eager" and run.device == "gpu"
    assert _results(tmp_path / "s.db")[0]["dtype"] == "float32"


@pytest.mark.parametrize(
    "relpath, content, needle",
    [
        ("pytorch_timings/t4_vm/gpu_2.json", "{not json", "not valid JSON"),
        ("pytorch_timings/t4_vm/gpu_2.json", json.dumps({"a_test.py:t": {"operations": "x"}}), "operations"),
        ("pytorch_timings/t4_vm/test_failure_report.json", json.dumps({"tests": 3}), "pytest-json-report"),
        ("sampled_functions.json", json.dumps({"torch": ["a"]}), "sampled_functions.json"),
    ],
)
def test_malformed_file_raises_one_line_naming_it(tmp_path, relpath, content, needle):
    root = _make_layout(tmp_path / "paper")
    (root / relpath).write_text(content)
    db = tmp_path / "s.db"
    with Store(db) as store:
        with pytest.raises(PortabenchError) as info:
            import_paper(root, store)
        assert store.runs() == []  # nothing written before the check
    msg = str(info.value)
    assert "\n" not in msg and needle in msg
    assert relpath in msg or Path(relpath).name in msg


def test_not_a_paper_folder(tmp_path):
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(PortabenchError):
            import_paper(tmp_path / "nope", store)
        (tmp_path / "empty").mkdir()
        with pytest.raises(PortabenchError):
            import_paper(tmp_path / "empty", store)


# -- the published data --------------------------------------------------------------------------

needs_paper = pytest.mark.skipif(
    not (PAPER / "pytorch_timings").is_dir(),
    reason=f"the paper's data is not at {PAPER} (set PORTABENCH_PAPER_DATA to a clone of for-ai/portability)",
)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    db = tmp_path_factory.mktemp("paper") / "paper.db"
    with Store(db) as store:
        summary = import_paper(PAPER, store)
        runs = store.runs()
        frame = store.results_frame()
    return summary, runs, frame, db


@needs_paper
def test_paper_structure(imported):
    summary, runs, frame, _ = imported
    mapping = json.loads((PAPER / "sampled_functions.json").read_text())
    fw_key = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}
    per_fw: dict[str, list] = {}
    for r in runs:
        per_fw.setdefault(r.framework, []).append(r)
        assert r.origin == "paper" and r.status == "complete" and r.run_id.startswith("paper:")
        assert r.device_kind in {"cpu", "cuda", "tpu"}
    # Every framework has at least one accelerator run; PyTorch sessions also yield CPU runs.
    assert set(per_fw) == {"torch", "jax", "tensorflow"}
    for fw, fw_runs in per_fw.items():
        assert any(r.device_kind != "cpu" for r in fw_runs), fw
    assert {r.device_kind for r in per_fw["torch"]} == {"cpu", "cuda", "tpu"}
    # One run per (framework, machine, device): no duplicates.
    assert len({(r.framework, r.host, r.device) for r in runs}) == len(runs)
    for r in runs:
        cases = frame[frame["run_id"] == r.run_id]
        assert len(cases) > 0 and summary.cases_per_run[r.run_id] == len(cases)
        assert set(cases["outcome"]) <= (
            {"unknown"} if r.config.get("timings_only") else {"passed", "failed", "reference_failed"}
        )
        assert cases["case_id"].is_unique
        assert cases.loc[cases["outcome"] == "failed", "category"].notna().all()
        # The sampled functions: never more than the mapping lists (+ files the mapping misses).
        n_functions = cases["function"].nunique()
        n_keys = len(mapping[fw_key[r.framework]])
        assert 0.8 * n_keys <= n_functions <= n_keys + 2, (r.run_id, n_functions, n_keys)
        if r.device_kind != "cpu" and not r.config.get("timings_only"):
            # Accelerator runs come with their timing files: most passed cases carry timings.
            passed = cases[cases["outcome"] == "passed"]
            assert passed["time_repeats"].notna().mean() > 0.3, r.run_id
            timed = passed[passed["time_repeats"].notna()]
            assert (timed["time_median_ns"] > 0).all() and (timed["time_repeats"] >= 1).all()


@needs_paper
def test_paper_cases_pair_across_devices(imported):
    _, runs, frame, _ = imported
    torch_runs = [r for r in runs if r.framework == "torch"]
    for host in {r.host for r in torch_runs}:
        ids = [set(frame.loc[frame["run_id"] == r.run_id, "case_id"]) for r in torch_runs if r.host == host]
        assert len(ids) == 2
        # The CPU and accelerator instances of the same tests share case ids.
        assert len(ids[0] & ids[1]) > 0.5 * min(len(ids[0]), len(ids[1]))


@needs_paper
def test_paper_reimport_idempotent(imported, tmp_path):
    summary, _, _, db = imported
    with Store(db) as store:
        again = import_paper(PAPER, store)
        assert len(store.runs()) == summary.runs_imported
    assert again.cases_per_run == summary.cases_per_run
    assert all(r.new_cases == 0 for r in again.runs)
    assert sum(again.cases_per_run.values()) == len(_results(db))


@needs_paper
def test_paper_categories_agree_with_the_taxonomy_survey(imported):
    """Per report of the paper, the categories of the imported failures (broken cases included) are those
    the taxonomy survey gives the same report."""
    _, runs, frame, _ = imported
    reports = {r.config["report"] for r in runs if r.config.get("report")}
    assert reports
    for rel in sorted(reports):
        ids = [r.run_id for r in runs if r.config.get("report") == rel]
        rows = frame[
            frame["run_id"].isin(ids)
            & frame["outcome"].isin(["failed", "reference_failed"])
            & (frame["check"] != "placement")
        ]
        survey = Counter(classify(ev) for _, ev in iter_pytest_report_failures(json.loads((PAPER / rel).read_text())))
        assert Counter(rows["category"]) == survey, rel
