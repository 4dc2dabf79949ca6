"""A newcomer's first hour (issue 12) and refused options / unwritable outputs (issue 17, items 5-6), end to end.

Every test runs ``python3 -m portabench ...`` in a subprocess as a user does and checks the exit status and the
first line of stderr. The fast ones need no framework worker; those marked slow start JAX or torch workers.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from portabench.store import Store
from report_fixtures import add_run, case

QUICK = ["--dtypes", "float32", "--max-samples", "1", "--no-timing"]


def _one_line_error(proc: subprocess.CompletedProcess, pattern: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("portabench: error:"), proc.stderr
    assert pattern in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    """A store with one torch cpu run and one meta run (written through the Store API, no framework)."""
    path = tmp_path / "small.sqlite"
    with Store(path) as store:
        add_run(store, [case("torch.add"), case("torch.sum")], device="cpu")
        add_run(store, [case("torch.add"), case("torch.sum", "failed")], device="meta", reference_device="cpu")
    return path


# -- item 2 / #17 item 6: outputs ---------------------------------------------------------------------------------

def test_output_into_missing_directories_is_created(tmp_path: Path, small_store: Path) -> None:
    for args, out in [
        (["report", "--store", str(small_store), "-o"], tmp_path / "r" / "a" / "report.md"),
        (["report", "--store", str(small_store), "--format", "json", "-o"], tmp_path / "j" / "report.json"),
        (["export", "--store", str(small_store), "--format", "csv", "-o"], tmp_path / "e" / "f" / "results.csv"),
        (["compare", str(small_store), str(small_store), "-o"], tmp_path / "c" / "compare.md"),
        (["sample", "--framework", "torch", "--preset", "paper", "-o"], tmp_path / "s" / "manifest.json"),
    ]:
        proc = run_cli(*args, str(out))
        assert proc.returncode == 0, (args, proc.stderr)
        assert out.is_file() and out.stat().st_size > 0, args
    assert "torch.add" in (tmp_path / "e" / "f" / "results.csv").read_text()
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["name"] == "paper"
    assert not list(tmp_path.rglob(".portabench-*")), "temporary files left behind"


def test_mine_output_into_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "code.py").write_text("import torch\ntorch.add(1, 2)\n")
    out = tmp_path / "x" / "y" / "freq.json"
    proc = run_cli("mine", "--framework", "torch", str(tmp_path / "code.py"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["counts"]["torch.add"] == 1


def test_unwritable_output_is_one_line_error_and_changes_nothing(tmp_path: Path, small_store: Path) -> None:
    before = small_store.read_bytes()
    target = "/proc/portabench.out"
    (tmp_path / "code.py").write_text("import torch\ntorch.add(1, 2)\n")
    for args in [
        ["report", "--store", str(small_store), "-o", target],
        ["report", "--store", str(small_store), "-o", "/proc/nosuch/dir/portabench.out"],
        ["report", "--store", str(small_store), "--html", target],
        ["export", "--store", str(small_store), "-o", target],
        ["compare", str(small_store), str(small_store), "-o", target],
        ["mine", "--framework", "torch", str(tmp_path / "code.py"), "-o", target],
        ["sample", "--framework", "torch", "--preset", "paper", "-o", target],
        ["api", "jax", "-o", target],  # refused before a worker starts
        ["study", "--framework", "jax", "--store", str(small_store), "-o", target],  # before the study
        ["study", "--framework", "jax", "--store", str(small_store), "--html", target],
    ]:
        _one_line_error(run_cli(*args, timeout=60), "cannot write")
    assert small_store.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory_is_refused(tmp_path: Path, small_store: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _one_line_error(run_cli("report", "--store", str(small_store), "-o", str(locked / "r.md")), "cannot write")
        _one_line_error(run_cli("export", "--store", str(small_store), "-o", str(locked / "r.csv")), "cannot write")
    finally:
        locked.chmod(0o755)


def _closed_stdout(*args: str) -> subprocess.CompletedProcess:
    """Run the CLI with a stdout pipe whose reader has already gone (as ``| head`` after its lines)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "portabench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, "", stderr)


def test_piping_into_head_ends_quietly(small_store: Path) -> None:
    for args in (["report", "--store", str(small_store)], ["report", "--store", str(small_store), "--format", "json"],
                 ["compare", str(small_store), str(small_store)]):
        proc = _closed_stdout(*args)
        assert proc.stderr == "", proc.stderr
        assert proc.returncode == 128 + signal.SIGPIPE


@pytest.mark.slow
def test_api_into_head_ends_quietly() -> None:
    proc = subprocess.run(f"{shlex.quote(sys.executable)} -m portabench api jax | head -n 2", shell=True, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO / "src")), timeout=300)
    assert proc.stdout.splitlines()[:2] == ["{", ' "framework": "jax",']
    assert proc.stderr == ""


# -- item 8: smaller things -----------------------------------------------------------------------------------------

def test_compare_on_a_missing_store_names_the_option(tmp_path: Path, small_store: Path) -> None:
    line = _one_line_error(run_cli("compare", str(tmp_path / "old.sqlite"), str(small_store)), "not a store file")
    assert "--store" in line and "store=" not in line


@pytest.mark.parametrize("command, expected", [
    ("api", [r"FRAMEWORK\s+framework: torch, jax, tensorflow"]),
    ("mine", [r"--framework FRAMEWORK\s+framework: torch, jax, tensorflow", r"SOURCE\s+a directory"]),
    ("sample", [r"--per-decile N\s+functions drawn from each of the 10 usage deciles \(default 5\)",
                r"--top N\s+the N most used functions.*\(default 20\)"]),
    ("run", [r"--framework FRAMEWORK\s+framework: torch"]),
])
def test_options_have_help_and_defaults(command: str, expected: list[str]) -> None:
    proc = run_cli(command, "--help", env={"COLUMNS": "200"})
    assert proc.returncode == 0
    for pattern in expected:
        assert re.search(pattern, proc.stdout), (pattern, proc.stdout)


def test_study_outputs_are_ignored_by_git() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    names = ["portabench-report.md", "portabench.sqlite", "portabench.sqlite-wal", "report/index.html"]
    proc = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", *names], capture_output=True, text=True)
    assert proc.stdout.split() == names, proc.stdout + proc.stderr


# -- item 7: the tests reproduce from any clone ---------------------------------------------------------------------

def test_tests_use_no_absolute_paths_of_one_machine() -> None:
    machine_paths = re.compile(r"""["'](/work|/home|/root|/Users)/""")
    offenders = [f"{path.name}:{n}" for path in sorted((REPO / "tests").glob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), 1) if machine_paths.search(line)]
    assert offenders == []


# -- item 1: the documented set-up paths ----------------------------------------------------------------------------

def test_pip_install_e_dot_brings_what_torch_metadata_imports(tmp_path: Path) -> None:
    """``pip install -e .`` (the README's path next to an existing torch) installs expecttest and hypothesis."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                           "--ignore-installed", "--quiet", "--report", "-", "-e", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    requires = json.loads(proc.stdout)["install"][0]["metadata"]["requires_dist"]
    assert "expecttest" in requires and "hypothesis" in requires  # unconditional: no 'extra == ...' marker


def _broken_modules(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment whose Python cannot import ``modules`` (each raises ModuleNotFoundError), as on a machine
    where they are not installed; workers inherit it."""
    fake = tmp_path / "broken"
    fake.mkdir(exist_ok=True)
    for module in modules:
        (fake / module).mkdir(exist_ok=True)
        (fake / module / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
    return {"PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(fake)])}


@pytest.mark.slow
def test_missing_module_error_says_how_to_fix_it(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    store = tmp_path / "s.sqlite"
    proc = run_cli("run", "--framework", "torch", "--device", "cpu", "--functions", "torch.add", "--store", str(store),
                   *QUICK, env=_broken_modules(tmp_path, "expecttest"))
    line = _one_line_error(proc, "No module named 'expecttest'")
    assert "pip install 'portabench[torch]'" in line and "pip install expecttest" in line
    assert not store.exists()


@pytest.mark.slow
def test_study_that_could_run_nothing_fails(tmp_path: Path) -> None:
    """Every installed framework broken: the study exits 2 and writes neither a store nor a report."""
    env = _broken_modules(tmp_path, "expecttest", "jax", "tensorflow")
    proc = run_cli("study", *QUICK, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [line.split(" skipped: ")[0] for line in lines[:-1]] == ["torch", "jax", "tensorflow"], proc.stderr
    assert lines[-1].startswith("portabench: error: nothing could be studied (torch: "), proc.stderr
    assert "pip install 'portabench[torch]'" in lines[-1] and "pip install 'portabench[jax]'" in lines[-1]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "portabench.sqlite").exists() and not (tmp_path / "portabench-report.md").exists()


# -- item 3 / #17 item 5: names and options that are refused ---------------------------------------------------------

@pytest.mark.parametrize("command, option, pattern", [
    ("run", ["--timeout", "0"], "--timeout must be a positive"),
    ("run", ["--timeout", "-5"], "--timeout must be a positive"),
    ("run", ["--timeout", "nan"], "--timeout must be a positive"),
    ("study", ["--timeout", "nan"], "--timeout must be a positive"),
    ("run", ["--dtypes", "float32,float33"], "unknown dtype 'float33' in --dtypes (did you mean float32"),
    ("study", ["--dtypes", "flaot16"], "unknown dtype 'flaot16' in --dtypes (did you mean float16"),
    ("run", ["--max-samples", "-1"], "--max-samples must be at least 1"),
    ("run", ["--repeats", "0"], "--repeats must be at least 1"),
    ("run", ["--time-budget", "inf"], "--time-budget must be"),
    ("run", ["--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    ("study", ["--budget=-5m"], "bad budget"),
])
def test_bad_options_are_refused_before_anything(tmp_path: Path, command: str, option: list[str], pattern: str) -> None:
    args = ["--framework", "jax"] + (["--device", "cpu"] if command == "run" else [])
    store = tmp_path / "new.sqlite"
    _one_line_error(run_cli(command, *args, "--functions", "jax.numpy.sin", *option, "--store", str(store),
                            cwd=tmp_path), pattern)
    assert not store.exists() and not (tmp_path / "portabench-report.md").exists()


def test_bad_options_leave_an_existing_store_untouched(tmp_path: Path, small_store: Path) -> None:
    before = small_store.read_bytes()
    for command, extra in (("run", ["--device", "cpu", "--timeout", "0"]), ("study", ["--max-samples", "-1"])):
        _one_line_error(run_cli(command, "--framework", "torch", *extra, "--functions", "torch.add",
                                "--store", str(small_store), cwd=tmp_path), "must be")
    assert small_store.read_bytes() == before


@pytest.mark.slow
def test_unknown_function_name_is_refused_with_suggestions(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    store = tmp_path / "s.sqlite"
    line = _one_line_error(run_cli("run", "--framework", "jax", "--device", "cpu", "--functions",
                                   "jax.numpy.sin,jax.numpy.addd", "--store", str(store), *QUICK), "jax.numpy.addd")
    assert "did you mean jax.numpy.add" in line and "jax.numpy.sin" not in line
    assert not store.exists()  # a refused run leaves no store behind
    manifest = tmp_path / "m.json"
    line = _one_line_error(run_cli("sample", "--framework", "jax", "--functions", "jax.numpy.add,jax.numpy.nosuch",
                                   "-o", str(manifest)), "jax.numpy.nosuch")
    assert "unknown jax function" in line and not manifest.exists()


@pytest.mark.slow
def test_function_without_cases_is_named(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    store = tmp_path / "s.sqlite"
    _one_line_error(run_cli("run", "--framework", "jax", "--device", "cpu", "--functions", "jax.clear_caches",
                            "--store", str(store), *QUICK), "nothing to run: no cases for jax.clear_caches")
    assert not store.exists()
    proc = run_cli("run", "--framework", "jax", "--device", "cpu", "--functions", "jax.clear_caches,jax.numpy.sin",
                   "--store", str(store), *QUICK)
    assert proc.returncode == 0, proc.stderr
    assert "without cases: jax.clear_caches" in proc.stderr


@pytest.mark.slow
def test_failed_run_leaves_no_store_file(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    store = tmp_path / "s.sqlite"
    _one_line_error(run_cli("run", "--framework", "jax", "--device", "warpdrive", "--functions", "jax.numpy.sin",
                            "--store", str(store), *QUICK), "not available")
    assert not store.exists()


# -- items 5 and 6: progress in logs, resumed totals -----------------------------------------------------------------

@pytest.mark.slow
def test_progress_records_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    proc = run_cli("run", "--framework", "jax", "--device", "cpu", "--functions", "jax.numpy.sin,jax.numpy.cos",
                   "--dtypes", "float32,float64", "--max-samples", "3", "--store", str(tmp_path / "s.sqlite"),
                   env={"PORTABENCH_PROGRESS_INTERVAL": "0.2"})
    assert proc.returncode == 0, proc.stderr
    records = re.findall(r"^portabench: jax on cpu: (\d+)/(\d+) cases, (\d+) failed, \S+ elapsed, .*$", proc.stderr,
                         re.MULTILINE)
    assert records, proc.stderr
    assert all(int(done) <= int(total) for done, total, _ in records)
    assert int(records[-1][1]) == 12  # 2 functions x 2 dtypes x 3 samples


@pytest.mark.slow
def test_resumed_run_reports_the_runs_totals(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    store = tmp_path / "s.sqlite"
    args = ["run", "--framework", "jax", "--device", "cpu", "--functions", "jax.numpy.sin", "--dtypes", "float32",
            "--max-samples", "4", "--no-timing", "--store", str(store)]
    assert run_cli(*args).returncode == 0
    with sqlite3.connect(store) as conn:  # as a run killed after its first cases leaves it
        conn.execute("DELETE FROM results WHERE rowid IN (SELECT rowid FROM results ORDER BY rowid DESC LIMIT 3)")
        conn.execute("UPDATE runs SET status = 'interrupted'")
    proc = run_cli(*args, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"complete \(4 passed; 3 of them run now\)", proc.stderr), proc.stderr
