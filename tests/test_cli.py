"""End-to-end CLI tests on real torch: run, study, report, export, merge, api, and one-line errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import DATA, run_cli

pytest.importorskip("torch", reason="the torch extra is not installed")

FAST = ["--dtypes", "float32", "--max-samples", "1", "--repeats", "2", "--time-budget", "0.001"]


def _one_line_error(proc, pattern: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("portabench: error:"), proc.stderr
    assert pattern in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_run_cpu_and_meta_then_report_export_merge(tmp_path: Path) -> None:
    store = tmp_path / "a.sqlite"
    functions = "torch.add,torch.nonzero,torch.nn.Linear,torch.zeros,torch.randperm"
    for device in ("cpu", "meta"):
        proc = run_cli("run", "--framework", "torch", "--device", device, "--functions", functions, "--store", str(store), *FAST)
        assert proc.returncode == 0, proc.stderr
    report = tmp_path / "report.md"
    proc = run_cli("report", "--store", str(store), "-o", str(report))
    assert proc.returncode == 0, proc.stderr
    text = report.read_text()
    assert "## Portability" in text and "| meta" in text and "not_implemented" in text
    proc = run_cli("report", "--store", str(store), "--format", "json")
    tables = json.loads(proc.stdout)
    assert proc.returncode == 0 and tables
    proc = run_cli("export", "--store", str(store), "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert proc.returncode == 0 and "case_id" in (tmp_path / "x.csv").read_text()
    other = tmp_path / "b.sqlite"
    proc = run_cli("run", "--framework", "torch", "--device", "cpu", "--functions", "torch.cat", "--store", str(other), *FAST)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("merge", str(store), str(other), "-o", str(tmp_path / "c.sqlite"))
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3
    with sqlite3.connect(store) as conn:
        rows = dict(conn.execute("SELECT function || '/' || u.device, category FROM results JOIN runs u USING (run_id) "
                                 "WHERE outcome = 'failed'").fetchall())
    assert rows.get("torch.nonzero/meta") == "not_implemented"
    assert "torch.zeros/meta" not in rows  # factory functions are created on the target device


@pytest.mark.slow
def test_study_on_a_machine_without_accelerators_says_so(tmp_path: Path) -> None:
    proc = run_cli("study", "--framework", "torch", "--preset", "paper", *FAST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "portabench-report.md").read_text()
    assert "no target device" in report and "cuda" in report and "portabench merge" in report
    with sqlite3.connect(tmp_path / "portabench.sqlite") as conn:
        (functions,) = conn.execute("SELECT COUNT(DISTINCT function) FROM results").fetchone()
        statuses = dict(conn.execute("SELECT function, status FROM functions").fetchall())
    assert len(statuses) == 63
    assert functions == 62 and statuses["torch.bitwise_not"] == "no_cases"  # integer-only: no float32 cases


@pytest.mark.slow
def test_fault_injection_through_the_cli(tmp_path: Path) -> None:
    store = tmp_path / "f.sqlite"
    proc = run_cli("run", "--framework", "torch", "--device", "cpu", "--functions",
                   "fault.segfault,fault.hang,fault.memory,fault.ok", "--specs", str(DATA / "faults.toml"),
                   "--timeout", "5", "--workers", "2", "--store", str(store), *FAST)  # faults on two workers at once
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(store) as conn:
        got = dict(conn.execute("SELECT function, COALESCE(category, outcome) FROM results").fetchall())
    assert got == {"fault.segfault": "crash", "fault.hang": "timeout", "fault.memory": "memory", "fault.ok": "passed"}


def test_api_lists_public_functions(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    proc = run_cli("api", "torch", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    names = {f["qualname"] for f in data["functions"]}
    assert data["version"].startswith("2.") and "torch.nn.functional.relu" in names


def test_sample_writes_a_reproducible_manifest(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli("sample", "--framework", "torch", "--seed", "3", "-o", str(a)).returncode == 0
    assert run_cli("sample", "--framework", "torch", "--seed", "3", "-o", str(b)).returncode == 0
    assert a.read_text() == b.read_text()
    manifest = json.loads(a.read_text())
    assert len(manifest["functions"]) == 20 + 10 * 5


@pytest.mark.parametrize("args, pattern", [
    (["run", "--framework", "caffe", "--device", "cpu"], "unknown framework 'caffe'"),
    (["run", "--framework", "torch", "--device", "warpdrive", "--functions", "torch.add"], "not available"),
    (["run", "--framework", "torch", "--device", "cpu", "--preset", "favourites"], "unknown preset"),
    (["run", "--framework", "torch", "--device", "cpu", "--sample", "/nonexistent.json"], "nonexistent"),
    (["run", "--framework", "torch", "--device", "cpu", "--specs", "/nonexistent.toml"], "does not exist"),
    (["report", "--store", "/nonexistent.sqlite"], "does not exist"),
    (["merge", "/nonexistent.sqlite", "-o", "{tmp}/never.sqlite"], "does not exist"),
    (["study", "--framework", "torch", "--budget", "soon"], "bad budget"),
    (["run", "--framework", "torch", "--device", "cpu", "--functions", "torch.add", "--workers", "0"], "at least 1"),
])
def test_bad_input_is_a_one_line_error(args: list[str], pattern: str, tmp_path: Path) -> None:
    _one_line_error(run_cli(*(a.replace("{tmp}", str(tmp_path)) for a in args)), pattern)
    assert not (tmp_path / "never.sqlite").exists()  # a refused merge leaves no output behind


def test_corrupt_store_is_refused_and_kept(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"garbage" * 1000)
    _one_line_error(run_cli("report", "--store", str(bad)), "not a readable SQLite file")
    proc = run_cli("run", "--framework", "torch", "--device", "cpu", "--functions", "torch.add", "--store", str(bad), *FAST)
    _one_line_error(proc, "not a readable SQLite file")
    assert bad.read_bytes() == b"garbage" * 1000


def test_malformed_spec_is_a_one_line_error(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text("format = 1\nframework = 'torch'\n[[function]]\nname = 'x'\n[[function.case]]\ncall = '('\n")
    _one_line_error(run_cli("run", "--framework", "torch", "--device", "cpu", "--functions", "x", "--specs", str(spec)),
                    "syntax error")


@pytest.mark.slow
def test_study_continues_across_commands_without_redoing_complete_runs(tmp_path: Path) -> None:
    args = ("study", "--framework", "torch", "--devices", "cpu,meta", "--functions", "torch.add,torch.nonzero", *FAST)
    first = run_cli(*args, "--budget", "0.001s", cwd=tmp_path)  # stops after the first case
    assert first.returncode == 0, first.stderr
    second = run_cli(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    third = run_cli(*args, cwd=tmp_path)
    assert third.returncode == 0 and third.stdout.count("already complete") + third.stderr.count("already complete") == 2
    with sqlite3.connect(tmp_path / "portabench.sqlite") as conn:
        runs = conn.execute("SELECT device, status FROM runs ORDER BY device").fetchall()
        (dupes,) = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT run_id || case_id) FROM results").fetchone()
    assert runs == [("cpu", "complete"), ("meta", "complete")] and dupes == 0
