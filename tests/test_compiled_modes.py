"""Compiled modes without a framework: store schema v2, the study's plan, same-device references,
the modes-and-compilers analysis and its report section."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from portabench.analysis import build_tables
from portabench.frameworks import get_framework
from portabench.protocol import CaseReply
from portabench.report.html import render_html
from portabench.report.jsonout import render_json
from portabench.report.markdown import render_markdown
from portabench.runner.session import RunRequest, compile_columns, effective_reference, run_config
from portabench.sampling import Manifest, SampledFunction
from portabench.store import CaseResult, RunMeta, Store
from portabench.store.schema import MIGRATIONS, SCHEMA_VERSION
from portabench.study_plan import MODE_SAMPLE_FUNCTIONS, mode_columns_note, plan_runs


def _meta(run_id: str, device: str, mode: str, reference: str | None, started: str) -> RunMeta:
    return RunMeta(run_id=run_id, framework="torch", framework_version="2.13.0", device=device, device_kind=device,
                   device_name="cpu-model", mode=mode, reference_device=reference, started_at=started, status="complete")


def _result(function: str, outcome: str = "passed", **kw) -> CaseResult:
    return CaseResult(case_id=f"{function}|s|float32|0", function=function, source="s", dtype="float32", sample=0,
                      outcome=outcome, **kw)


# --------------------------------------------------------------------------- store


def test_version_1_store_migrates_to_2_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        MIGRATIONS[0](conn)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO runs VALUES ('r1','torch','2.13','cpu','cpu','c','eager',NULL,'h','p','3','0.1',"
                     "'{}','{}','{}','portabench','complete','2026-01-01',NULL)")
        conn.execute("INSERT INTO results (run_id, case_id, function, source, dtype, sample, outcome) "
                     "VALUES ('r1','f|s|float32|0','f','s','float32',0,'passed')")
    conn.close()
    before = path.read_bytes()
    with Store(path, create=False) as reader:  # a reader (report, compare, merge sources) upgrades a copy in memory
        assert reader.results_frame().iloc[0].graph_breaks is None
    assert path.read_bytes() == before  # published stores stay byte-identical when reported on
    with Store(path) as store:
        assert SCHEMA_VERSION == 2
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 2
        old = store.results_frame().iloc[0]
        assert old.outcome == "passed" and old.graph_breaks is None and old.compile_info is None
        store.begin_run(_meta("r2", "cpu", "compile", "cpu", "2026-01-02"))
        store.record_result("r2", _result("g", graph_breaks=2, recompiles=0, fallback=True,
                                          compile_info={"graphs": 3}, eager_same_device_err=0.5))
        new = store.results_frame(["r2"]).iloc[0]
        assert (new.graph_breaks, new.fallback, new.eager_same_device_err) == (2, 1, 0.5)
        assert json.loads(new.compile_info) == {"graphs": 3}


# --------------------------------------------------------------------------- runner (parent side)


def test_a_compiled_mode_keeps_a_reference_on_its_own_device() -> None:
    eager = RunRequest(framework="torch", device="cpu", mode="eager", reference="cpu")
    compiled = RunRequest(framework="torch", device="cpu", mode="compile", reference="cpu")
    assert effective_reference(eager, "eager") is None
    assert effective_reference(compiled, "compile") == "cpu"
    assert "compile_timeout_s" not in run_config(eager)  # eager configs unchanged: older runs still resume
    assert run_config(compiled)["compile_timeout_s"] == 300.0


def test_compile_columns_come_from_the_reply() -> None:
    reply = CaseReply(case_id="f|s|float32|0", outcome="passed", eager_same_device_err=0.0, eager_same_device_ok=True,
                      compile_info={"graph_breaks": 1, "recompiles": 0, "fallback": True, "graphs": 2})
    cols = compile_columns(reply)
    assert (cols["graph_breaks"], cols["recompiles"], cols["fallback"]) == (1, 0, True)
    assert cols["eager_same_device_err"] == 0.0 and cols["compile_info"]["eager_same_device_ok"] is True
    assert compile_columns(CaseReply(case_id="f|s|float32|0", outcome="passed")) == {}


# --------------------------------------------------------------------------- study plan


def _manifest(n: int = MODE_SAMPLE_FUNCTIONS + 10, name: str = "sampled") -> Manifest:
    return Manifest("torch", name, 0, [SampledFunction(f"torch.f{i}", n - i, "top") for i in range(n)])


def test_default_plan_adds_reduced_mode_columns() -> None:
    torch = get_framework("torch")
    runs = plan_runs(torch, ["cpu", "cuda"], None, False, _manifest(), ["float32", "float16"], 5)
    assert [(r.device, r.mode, r.reduced) for r in runs] == [
        ("cpu", "eager", False), ("cuda", "eager", False), ("meta", "eager", True),
        ("cpu", "compile", True), ("cuda", "compile", True), ("cpu", "export", True), ("cuda", "export", True)]
    small = runs[-1]
    assert len(small.manifest.functions) == MODE_SAMPLE_FUNCTIONS and small.manifest.name == "sampled-modes"
    assert small.dtypes == ["float32"] and small.max_samples == 1
    assert runs[0].manifest.names() == _manifest().names() and runs[0].max_samples == 5
    note = mode_columns_note(torch, runs)
    assert "mode columns (meta eager, cpu compile" in note and f"first {MODE_SAMPLE_FUNCTIONS} functions" in note
    assert mode_columns_note(torch, runs[:2]) is None


def test_explicit_modes_devices_and_preset_all_run_what_was_asked() -> None:
    torch, jax = get_framework("torch"), get_framework("jax")
    asked = plan_runs(torch, ["cpu"], ["compile"], True, _manifest(), ["float32"], 5)
    assert [(r.device, r.mode, r.reduced, r.max_samples) for r in asked] == [("cpu", "compile", False, 5)]
    everything = plan_runs(torch, ["cpu"], None, False, _manifest(name="all"), ["float32"], 5)
    assert [(r.device, r.mode) for r in everything] == [("cpu", "eager")]
    devices_only = plan_runs(torch, ["cpu", "meta"], None, True, _manifest(), ["float32"], 5)
    assert [(r.device, r.mode, r.reduced) for r in devices_only] == [("cpu", "eager", False), ("meta", "eager", False)]
    assert [r.mode for r in plan_runs(jax, ["cpu"], None, False, _manifest(), ["float32"], 5)] == ["eager", "jit"]


# --------------------------------------------------------------------------- analysis and report


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "modes.sqlite")
    s.begin_run(_meta("ref", "cpu", "eager", None, "2026-01-01T00:00:00"))
    s.begin_run(_meta("cmp", "cpu", "compile", "cpu", "2026-01-01T00:01:00"))
    for fn, t in (("torch.add", 1000.0), ("torch.sin", 2000.0), ("torch.nonzero", 500.0), ("torch.mul", 100.0)):
        s.record_result("ref", _result(fn, time_median_ns=t))
    s.record_result("cmp", _result("torch.add", time_median_ns=500.0, compile_ns=2e9, graph_breaks=0, recompiles=0,
                                   fallback=False, compile_info={"break_reasons": []}))
    s.record_result("cmp", _result("torch.sin", time_median_ns=8000.0, compile_ns=4e9, graph_breaks=0, recompiles=1,
                                   fallback=False, compile_info={"break_reasons": []}))
    s.record_result("cmp", _result("torch.nonzero", time_median_ns=500.0, compile_ns=1e9, graph_breaks=1, recompiles=0,
                                   fallback=True, compile_info={"break_reasons": ["Dynamic shape operator"]}))
    s.record_result("cmp", _result("torch.mul", "failed", category="numerical_mismatch", graph_breaks=0, fallback=False,
                                   eager_same_device_err=0.0, compile_info={"eager_same_device_ok": True}))
    yield s
    s.close()


def test_compiled_tables(store: Store) -> None:
    c = build_tables(store).compiled
    assert dict(zip(c.by_mode["mode"], c.by_mode["kind"], strict=True)) == {"eager": "reference", "compile": "mode"}
    row = c.compile_summary.iloc[0]
    assert (row.n_cases, row.n_compiled, row.compile_median_ns, row.compile_max_ns) == (4, 3, 2e9, 4e9)
    assert (row.break_cases, row.fallback_cases, row.recompile_cases) == (1, 1, 1)
    assert (row.mismatches, row.compiler_differs, row.device_differs, row.compile_failed) == (1, 1, 0, 0)
    sd = c.slowdown.iloc[0]  # per function compile/eager: add 0.5, sin 4, nonzero 1 (mul failed: unpaired)
    assert (sd["n_functions"], sd["median"], sd["max"], sd["faster_n"]) == (3, 1.0, 4.0, 1)
    assert sd["geomean"] == pytest.approx(2 ** (1 / 3))
    assert list(c.break_reasons["reason"]) == ["Dynamic shape operator"]


def test_report_has_the_modes_section(store: Store) -> None:
    tables = build_tables(store)
    md = render_markdown(tables)
    assert "## Modes and compilers" in md and "mode columns, not device columns" in md
    assert "| torch 2.13.0 cpu compile |" in md and "Dynamic shape operator" in md
    assert 'id="modes"' in render_html(tables)
    data = json.loads(json.dumps(render_json(tables)))  # the JSON report carries the same tables
    assert data["format_version"] == 3
    summary = data["tables"]["compiled_summary"][0]
    assert (summary["n_compiled"], summary["break_cases"], summary["fallback_cases"]) == (3, 1, 1)
    assert [r["reason"] for r in data["tables"]["compiled_break_reasons"]] == ["Dynamic shape operator"]
