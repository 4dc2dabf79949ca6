"""Adversarial suite, store side: foreign, empty, read-only and half-made files; concurrent creation; merges.

Rule under test: portabench writes only into files it created or that are portabench stores of a
known version; everything else is a one-line refusal with the file byte-identical.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from portabench.errors import PortabenchError
from portabench.store import CaseResult, RunMeta, Store, merge_stores
from portabench.store.opening import APPLICATION_ID
from portabench.store.schema import MIGRATIONS, SCHEMA_VERSION


def _meta(run_id: str, device: str = "cpu", status: str = "complete") -> RunMeta:
    return RunMeta(run_id=run_id, framework="torch", framework_version="2.13.0", device=device, device_kind=device,
                   device_name="test", started_at="2026-01-01T00:00:00", status=status)


def _result(case: str) -> CaseResult:
    return CaseResult(
        case_id=case, function=case.split("|")[0], source="s", dtype="float32", sample=0, outcome="passed"
    )


def _store_with(path: Path, run_id: str, cases: int = 2, device: str = "cpu") -> Path:
    with Store(path) as store:
        store.begin_run(_meta(run_id, device), functions=[{"function": "f", "status": "tested"}])
        for i in range(cases):
            store.record_result(run_id, _result(f"f|{run_id}|{i}"))
    return path


def _foreign(
    path: Path, user_version: int = 0, application_id: int = 0, tables: str = "CREATE TABLE notes (x)"
) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(tables)
        conn.execute(f"PRAGMA user_version = {user_version}")
        conn.execute(f"PRAGMA application_id = {application_id}")
    conn.close()
    return path


V1_TABLES = ";".join(f"CREATE TABLE {t} (x)" for t in ("runs", "results", "functions", "claimed_dtypes"))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: _foreign(p, user_version=1), "another application \\(user_version 1\\)"),
        (lambda p: _foreign(p, user_version=SCHEMA_VERSION), "another application"),
        (
            lambda p: _foreign(p, user_version=1, tables=V1_TABLES),
            "another application",
        ),  # our table names, not our columns
        (lambda p: _foreign(p, user_version=7, application_id=12345), "application_id 12345"),
        (lambda p: _foreign(p, user_version=0), "not a portabench store"),
        (lambda p: _foreign(p, user_version=SCHEMA_VERSION + 1, tables=""), "schema version"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84 + b"junk" * 100), "not a readable SQLite file"),
    ],
)
@pytest.mark.parametrize("create", [True, False])
def test_files_that_are_not_portabench_stores_are_refused_byte_identical(
    tmp_path: Path, make, message: str, create: bool
) -> None:
    path = tmp_path / "other.db"
    make(path)
    before = path.read_bytes()
    with pytest.raises(PortabenchError, match=message) as info:
        Store(path, create=create)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_an_empty_file_is_not_a_store_to_a_reader_and_stays_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(PortabenchError, match="empty file"):
        Store(empty, create=False)
    assert empty.read_bytes() == b""
    with Store(empty) as store:  # a writer may make an empty file (mktemp) a store
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_stores_made_before_the_application_id_still_open(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.sqlite"
    with sqlite3.connect(legacy) as conn:
        for step in MIGRATIONS:
            step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    with Store(legacy, create=False) as store:
        assert store.runs() == []
    with Store(legacy) as store:
        store.begin_run(_meta("r1"))


def test_new_stores_carry_the_application_id(tmp_path: Path) -> None:
    with Store(tmp_path / "new.sqlite") as store:
        assert store.created
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.sqlite"]  # no draft left beside it


def test_a_read_only_store_is_refused_for_writing_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _store_with(tmp_path / "ro.sqlite", "r1")
    path.chmod(0o444)
    real_access = os.access
    # root may write a 0444 file: make the permission check see what any other user sees
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p) == path and mode & os.W_OK else real_access(p, mode, **kw)
    )
    before = path.read_bytes()
    with pytest.raises(PortabenchError, match="is read-only: portabench cannot write results into it"):
        Store(path)
    with Store(path, create=False) as store:  # readers still read it
        assert len(store.results_frame()) == 2
    with pytest.raises(PortabenchError, match="read-only"):
        merge_stores([_store_with(tmp_path / "b.sqlite", "r2")], path)
    assert path.read_bytes() == before
    path.chmod(0o644)
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, **kw: False if Path(p) == tmp_path and mode & os.W_OK else real_access(p, mode, **kw),
    )
    with pytest.raises(PortabenchError, match="in a read-only folder"):
        Store(path)
    assert path.read_bytes() == before


@pytest.mark.skipif(
    os.geteuid() != 0 or sys.executable.startswith("/root"),
    reason="needs root and a Python an unprivileged user can run",
)
def test_a_read_only_store_in_a_read_only_folder_is_readable(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("ro")
    path = _store_with(folder / "ro.sqlite", "r1")
    path.chmod(0o444)
    folder.chmod(0o555)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    read = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from portabench.store import Store; print(len(Store({str(path)!r}, create=False).results_frame()))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.setuid(65534),
    )
    folder.chmod(0o755)
    assert read.returncode == 0 and read.stdout.strip() == "2", read.stderr


def _open_and_write(path: str, run_id: str, barrier, results) -> None:
    barrier.wait()  # every process is up and waiting: they open the store at the same instant
    try:
        with Store(path) as store:
            store.begin_run(_meta(run_id))
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_creating_one_new_store_at_the_same_instant_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    trials, width = 10, 4
    for trial in range(trials):
        path = str(tmp_path / f"new{trial}.sqlite")
        barrier, results = ctx.Barrier(width), ctx.Queue()
        procs = [ctx.Process(target=_open_and_write, args=(path, f"run{i}", barrier, results)) for i in range(width)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        assert outcomes == ["ok"] * width, outcomes
        with Store(path, create=False) as store:
            assert len(store.runs()) == width


def test_a_refused_merge_writes_nothing(tmp_path: Path) -> None:
    a = _store_with(tmp_path / "a.sqlite", "fresh")
    conflict = _store_with(tmp_path / "c.sqlite", "shared", device="mps")
    out = _store_with(tmp_path / "out.sqlite", "shared")
    before = out.read_bytes()
    with pytest.raises(PortabenchError, match="different metadata"):
        merge_stores([a, conflict], out)  # a's run is new to out, but the merge as a whole is refused
    assert out.read_bytes() == before
    new = tmp_path / "new.sqlite"
    with pytest.raises(PortabenchError, match="different metadata"):
        merge_stores([out, conflict], new)
    assert not new.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a.sqlite", "c.sqlite", "out.sqlite"]
    assert merge_stores([a, out], new) == {"runs": 2, "results": 4}


def test_a_merge_is_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _store_with(tmp_path / "a.sqlite", "r1")
    b = _store_with(tmp_path / "b.sqlite", "r2")
    out = _store_with(tmp_path / "out.sqlite", "r0")
    before = out.read_bytes()
    from portabench.store import transfer

    copied: list[Path] = []
    real = transfer._copy_rows

    def fail_on_second(store: Store, src: Path) -> None:
        copied.append(src)
        if len(copied) == 2:
            raise sqlite3.OperationalError("disk I/O error")  # a failure midway through the copy
        real(store, src)

    monkeypatch.setattr(transfer, "_copy_rows", fail_on_second)
    with pytest.raises(sqlite3.OperationalError):
        merge_stores([a, b], out)
    assert out.read_bytes() == before
    with Store(out, create=False) as store:
        assert [r.run_id for r in store.runs()] == ["r0"]
