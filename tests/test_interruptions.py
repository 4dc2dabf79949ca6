"""Adversarial suite, session side: the parent killed or signalled mid-case, resume after it, resume refused.

Runs the real CLI on the numpy-only fake adapter (``python tests/fake_adapter.py run ...``).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from portabench.errors import PortabenchError
from portabench.runner.session import execute_run, run_config
from portabench.sampling import MANIFEST_FORMAT
from portabench.store import RunMeta, Store
from test_faults import alive, fake, fake_request, wait_dead  # noqa: F401  (fake is a fixture)

FAKE_CLI = Path(__file__).with_name("fake_adapter.py")


def manifest(folder: Path, names: list[str]) -> str:
    """A manifest file listing ``names`` (the fake framework has no frequency table for --functions)."""
    path = folder / "manifest.json"
    path.write_text(json.dumps({"format": MANIFEST_FORMAT, "framework": "fake", "name": "listed", "seed": None,
                                "params": {}, "functions": [{"function": n} for n in names]}))
    return str(path)


def start_cli(store: Path, pids: Path, *args: str, slow_s: float = 0.5) -> subprocess.Popen[str]:
    env = dict(os.environ, FAKE_PIDS=str(pids), FAKE_SLOW_S=str(slow_s),
               PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, str(FAKE_CLI), "run", "--framework", "fake", "--device", "cpu", "--dtypes", "float32",
         "--store", str(store), "--repeats", "1", "--time-budget", "0", *args],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(condition, within: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def pid_list(pids: Path) -> list[int]:
    return [int(p) for p in pids.read_text().split()] if pids.exists() else []


def count(db: Path, table: str = "results") -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_worker_and_what_it_started_die_with_the_parent(tmp_path: Path, sig: signal.Signals) -> None:
    db, pids = tmp_path / "s.sqlite", tmp_path / "pids"
    proc = start_cli(db, pids, "--sample", manifest(tmp_path, ["fake.spawn_and_hang"]), "--timeout", "120")
    try:
        wait_for(lambda: len(pid_list(pids)) >= 2)  # the case's grandchild, then the worker itself
        os.kill(proc.pid, sig)  # the parent only
        code = proc.wait(timeout=30)
        assert not wait_dead(pid_list(pids)), "processes outlived the parent"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if sig == signal.SIGKILL:
        return
    assert code == 130, proc.stderr.read() if proc.stderr else ""  # like Ctrl-C
    with Store(db, create=False) as store:
        assert [run.status for run in store.runs()] == ["interrupted"]


def test_sigterm_mid_run_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    db, pids = tmp_path / "s.sqlite", tmp_path / "pids"
    names = manifest(tmp_path, [f"fake.slow_{i}" for i in range(6)])
    proc = start_cli(db, pids, "--sample", names, slow_s=0.3)
    wait_for(lambda: count(db) >= 2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130
    assert 2 <= count(db) < 6
    resumed = start_cli(db, pids, "--sample", names, "--resume", slow_s=0.0)
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read() if resumed.stderr else ""
    with Store(db, create=False) as store:
        runs = store.runs()
        done = store.conn.execute("SELECT case_id FROM results").fetchall()
    assert [r.status for r in runs] == ["complete"]
    assert len(done) == 6 and len(set(done)) == 6
    assert count(db, "functions") == 6


@pytest.mark.usefixtures("fake")
def test_resume_rebuilds_what_a_run_killed_right_after_its_run_row_lacks(tmp_path: Path) -> None:
    names = ["fake.ok_1", "fake.ok_2", "fake.nosuch"]
    request = fake_request(names, resume=True)
    with Store(tmp_path / "s.sqlite") as store:
        with store.conn:  # exactly what a kill -9 after the run row used to leave: the row, nothing else
            store.insert_run(RunMeta(run_id="r1", framework="fake", framework_version="0.1", device="cpu",
                                     device_kind="cpu", device_name="fake cpu", config=run_config(request),
                                     started_at="2026-01-01T00:00:00"))
        summary = execute_run(store, request)
        functions = dict(store.conn.execute("SELECT function, status FROM functions WHERE run_id = 'r1'").fetchall())
        statuses = [r.status for r in store.runs()]
    assert summary.run_id == "r1" and statuses == ["complete"]
    assert functions == {"fake.ok_1": "tested", "fake.ok_2": "tested", "fake.nosuch": "missing"}


@pytest.mark.usefixtures("fake")
def test_resume_of_a_complete_run_says_nothing_to_resume_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    with Store(db) as store:
        execute_run(store, fake_request(["fake.ok_1"]))
    before = db.read_bytes()
    with Store(db) as store, pytest.raises(PortabenchError, match="nothing to resume"):
        execute_run(store, fake_request(["fake.ok_1"], resume=True))
    assert db.read_bytes() == before
    with Store(db) as store:
        assert len(store.runs()) == 1


@pytest.mark.usefixtures("fake")
def test_resume_after_the_spec_file_changed_or_timing_dropped_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "extra.toml"
    spec.write_text('format = 1\nframework = "fake"\n')
    db = tmp_path / "s.sqlite"
    with Store(db) as store:
        first = execute_run(store, fake_request(["fake.ok_1"], specs=[str(spec)], do_timing=False, budget_s=0.0))
        assert first.status == "interrupted"
        spec.write_text('format = 1\nframework = "fake"\n# edited\n')
        with pytest.raises(PortabenchError, match="other options \\(spec_sha256\\)"):
            execute_run(store, fake_request(["fake.ok_1"], specs=[str(spec)], do_timing=False, resume=True))
        spec.write_text('format = 1\nframework = "fake"\n')
        with pytest.raises(PortabenchError, match="other options \\(do_timing\\)"):
            execute_run(store, fake_request(["fake.ok_1"], specs=[str(spec)], do_timing=True, resume=True))
        resumed = execute_run(store, fake_request(["fake.ok_1"], specs=[str(spec)], do_timing=False, resume=True))
    assert resumed.run_id == first.run_id and resumed.status == "complete"
