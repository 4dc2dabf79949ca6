"""The SQLite store: schema versioning, append-only results, resume bookkeeping, merge, export, bad files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from portabench.errors import PortabenchError
from portabench.store import CaseResult, RunMeta, Store, export_store, merge_stores
from portabench.store.schema import SCHEMA_VERSION


def _meta(run_id: str, device: str = "cpu", status: str = "running", **kw) -> RunMeta:
    return RunMeta(run_id=run_id, framework="torch", framework_version="2.13.0", device=device, device_kind=device,
                   device_name="test", started_at=f"2026-01-01T00:00:0{len(run_id) % 10}", status=status, **kw)


def _result(case: str, outcome: str = "passed", **kw) -> CaseResult:
    return CaseResult(
        case_id=case, function=case.split("|")[0], source="s", dtype="float32", sample=0, outcome=outcome, **kw
    )


def test_new_store_has_current_schema_version(tmp_path: Path) -> None:
    with Store(tmp_path / "a.sqlite") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_results_are_written_once_and_read_back(tmp_path: Path) -> None:
    with Store(tmp_path / "a.sqlite") as store:
        store.begin_run(_meta("r1", numerics={"tf32": False}))
        assert store.record_result("r1", _result("torch.add|x", time_median_ns=10.0, time_samples_ns=[9.0, 11.0]))
        assert not store.record_result("r1", _result("torch.add|x", outcome="failed"))  # no overwrite
        df = store.results_frame()
        assert list(df.outcome) == ["passed"] and df.framework[0] == "torch"
        assert json.loads(df.time_samples_ns[0]) == [9.0, 11.0]
        assert store.run("r1").numerics == {"tf32": False}
        assert store.done_case_ids("r1") == {"torch.add|x"}


def test_find_resumable_picks_newest_unfinished_run(tmp_path: Path) -> None:
    with Store(tmp_path / "a.sqlite") as store:
        store.begin_run(_meta("r1", status="complete"))
        store.begin_run(_meta("r22", status="interrupted"))
        store.begin_run(_meta("r333", device="meta", status="interrupted"))
        resumable = store.find_resumable("torch", "cpu", "eager")
        assert resumable is not None and resumable.run_id == "r22"
        assert store.find_resumable("torch", "cuda", "eager") is None


def test_newer_schema_and_foreign_files_are_refused_untouched(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(PortabenchError, match="schema version"):
        Store(newer)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(PortabenchError, match="not a portabench store"):
        Store(foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 100)
    before = garbage.read_bytes()
    with pytest.raises(PortabenchError, match="not a readable SQLite file"):
        Store(garbage)
    assert garbage.read_bytes() == before
    with pytest.raises(PortabenchError, match="does not exist"):
        Store(tmp_path / "missing.sqlite", create=False)


def test_merge_combines_machines_and_refuses_conflicting_metadata(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "out.sqlite"
    with Store(a) as store:
        store.begin_run(_meta("cpu-run"))
        store.record_result("cpu-run", _result("f|1"))
        store.record_functions("cpu-run", [{"function": "f", "status": "tested"}])
    with Store(b) as store:
        store.begin_run(_meta("gpu-run", device="cuda"))
        store.record_result("gpu-run", _result("f|1", outcome="failed", category="not_implemented"))
        store.record_claimed_dtypes("gpu-run", {"f": {"cuda": ["float32"]}})
    assert merge_stores([a, b], out) == {"runs": 2, "results": 2}
    assert merge_stores([a, b], out) == {"runs": 0, "results": 0}  # idempotent
    with Store(out) as store:
        assert {r.run_id for r in store.runs()} == {"cpu-run", "gpu-run"}
        assert len(store.table_frame("claimed_dtypes")) == 1 and len(store.table_frame("functions")) == 1
    conflict = tmp_path / "conflict.sqlite"
    with Store(conflict) as store:
        store.begin_run(_meta("cpu-run", device="mps"))
    with pytest.raises(PortabenchError, match="different metadata"):
        merge_stores([conflict], out)
    with pytest.raises(PortabenchError, match="into itself"):
        merge_stores([out], out)


def test_export_csv_and_json(tmp_path: Path) -> None:
    with Store(tmp_path / "a.sqlite") as store:
        store.begin_run(_meta("r1"))
        store.record_result("r1", _result("f|1"))
        export_store(store, "csv", tmp_path / "x.csv")
        export_store(store, "json", tmp_path / "x.json")
        with pytest.raises(PortabenchError, match="unknown export format"):
            export_store(store, "xml", tmp_path / "x.xml")
    assert "case_id" in (tmp_path / "x.csv").read_text().splitlines()[0]
    payload = json.loads((tmp_path / "x.json").read_text())
    assert payload["runs"][0]["run_id"] == "r1" and payload["results"][0]["case_id"] == "f|1"
