"""The :class:`Store`: open, migrate, append results, read them back.

portabench writes only into files it created or that are portabench stores of a
known version (see :mod:`portabench.store.opening`); anything else is refused
with one line and left byte-identical.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd

from portabench.errors import PortabenchError
from portabench.store.models import CaseResult, RunMeta
from portabench.store.opening import BUSY_TIMEOUT_S, check_store, create_store, initialise_empty, open_readable
from portabench.store.schema import MIGRATIONS, SCHEMA_VERSION

_RUN_JSON = ("numerics", "config", "sample")
_RUN_FIELDS = [f.name for f in fields(RunMeta)]
_RESULT_FIELDS = [f.name for f in fields(CaseResult)]


def _quote(name: str) -> str:
    return f'"{name}"'


class Store:
    """One SQLite results file.

    Opening with ``create=True`` (a writer) creates a missing file atomically
    (complete, or not at all, even when several processes create it at once)
    and migrates an older store to ``SCHEMA_VERSION``; ``create=False`` (a
    reader) never creates or changes a file and reads read-only stores (an older schema is
    upgraded in a copy in memory; a writer upgrades the file). A file that is not
    a portabench store (another application's database, an empty file given to
    a reader), is corrupt, was written by a newer portabench, or is read-only
    when opened for writing raises :class:`PortabenchError` and is not
    modified. Writes are committed one result at a time (WAL mode), so a run
    killed at any point keeps every result recorded before it.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self.created = False  # True when this open created the file
        self._check_path(create)
        try:
            self.conn = open_readable(self.path) if not create else sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        except sqlite3.DatabaseError as exc:
            raise PortabenchError(f"store {self.path} is not a readable SQLite file ({exc})") from None
        try:
            self._prepare(create)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise PortabenchError(f"store {self.path} is not a readable SQLite file ({exc})") from None
        except BaseException:
            self.conn.close()
            raise

    # -- opening -----------------------------------------------------------------
    def _check_path(self, create: bool) -> None:
        """Refuse a path that is no store file or cannot be written; create a missing store when ``create``."""
        if self.path.exists() and self.path.is_dir():
            raise PortabenchError(f"store {self.path} is a directory, not a SQLite file")
        if not self.path.exists():
            if not create:
                raise PortabenchError(f"store {self.path} does not exist")
            self.created = create_store(self.path)
        elif create and not os.access(self.path, os.W_OK):
            raise PortabenchError(f"store {self.path} is read-only: portabench cannot write results into it")
        elif create and not os.access(self.path.resolve().parent, os.W_OK):
            raise PortabenchError(f"store {self.path} is in a read-only folder: SQLite could not write its journal "
                                  "beside it")

    def _prepare(self, create: bool) -> None:
        """Check the opened store's schema; initialise an empty file (writers) and bring an older schema up to
        date (writers: in the file; readers: in a copy in memory, never changing the file)."""
        version = check_store(self.conn, self.path)
        if version is None:  # an existing, empty database (e.g. a 0-byte file made with mktemp)
            if not create:
                raise PortabenchError(f"{self.path} is an empty file, not a portabench store")
            initialise_empty(self.conn, self.path)
            version = SCHEMA_VERSION
        self.conn.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION and not create:  # a reader never changes the file: upgrade a copy in memory
            memory = sqlite3.connect(":memory:")
            self.conn.backup(memory)
            self.conn.close()
            self.conn = memory
            self._migrate(version)
        elif version < SCHEMA_VERSION:
            if not os.access(self.path, os.W_OK):
                raise PortabenchError(f"store {self.path} has schema version {version} and needs an upgrade, "
                                      "but it is read-only")
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        with self.conn:
            for step in MIGRATIONS[version:]:
                step(self.conn)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------
    def begin_run(self, meta: RunMeta, *, claimed: dict[str, dict[str, list[str]]] | None = None,
                  functions: Iterable[dict[str, Any]] = ()) -> None:
        """Record a new run (its ``run_id`` must be new) with its claimed dtypes and function rows, in one
        transaction: a run row is never seen without them."""
        with self.conn:
            self.insert_run(meta)
            self._insert_claimed(meta.run_id, claimed or {})
            self._insert_functions(meta.run_id, functions)

    def resume_run(self, run_id: str, claimed: dict[str, dict[str, list[str]]],
                   functions: Iterable[dict[str, Any]]) -> None:
        """Mark a run ``running`` again and add any claimed-dtype or function row it lacks (one transaction)."""
        with self.conn:
            self.conn.execute("UPDATE runs SET status = 'running', ended_at = NULL WHERE run_id = ?", (run_id,))
            self._insert_claimed(run_id, claimed)
            self._insert_functions(run_id, functions)

    def insert_run(self, meta: RunMeta) -> None:
        """The run row alone, inside the caller's transaction (``with store.conn:``)."""
        row = asdict(meta)
        for key in _RUN_JSON:
            row[key] = json.dumps(row[key], sort_keys=True)
        cols = ", ".join(_quote(c) for c in _RUN_FIELDS)
        marks = ", ".join("?" for _ in _RUN_FIELDS)
        self.conn.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", [row[c] for c in _RUN_FIELDS])

    def finish_run(self, run_id: str, status: str, ended_at: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET status = ?, ended_at = ? WHERE run_id = ?", (status, ended_at, run_id))

    def set_run_status(self, run_id: str, status: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET status = ? WHERE run_id = ?", (status, run_id))

    def set_run_config(self, run_id: str, config: dict[str, Any]) -> None:
        """Replace a run's ``config`` JSON (a cluster study adds each node a run's shards start on)."""
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET config = ? WHERE run_id = ?", (json.dumps(config, sort_keys=True), run_id)
            )

    def record_result(self, run_id: str, result: CaseResult) -> bool:
        """Append one case result; returns False (and writes nothing) if the case is already recorded."""
        row = asdict(result)
        if row["time_samples_ns"] is not None:
            row["time_samples_ns"] = json.dumps(row["time_samples_ns"])
        if row["compile_info"] is not None:
            row["compile_info"] = json.dumps(row["compile_info"], sort_keys=True)
        if row["fallback"] is not None:
            row["fallback"] = int(bool(row["fallback"]))
        cols = ", ".join(["run_id"] + [_quote(c) for c in _RESULT_FIELDS])
        marks = ", ".join("?" for _ in range(len(_RESULT_FIELDS) + 1))
        with self.conn:
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO results ({cols}) VALUES ({marks})",
                [run_id] + [row[c] for c in _RESULT_FIELDS],
            )
        return cur.rowcount == 1

    def record_functions(self, run_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Record the sample's functions: dicts with function, status, frequency, bucket."""
        with self.conn:
            self._insert_functions(run_id, rows)

    def _insert_functions(self, run_id: str, rows: Iterable[dict[str, Any]]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO functions (run_id, function, status, frequency, bucket) VALUES (?, ?, ?, ?, ?)",
            [(run_id, r["function"], r["status"], r.get("frequency"), r.get("bucket")) for r in rows],
        )

    def record_claimed_dtypes(self, run_id: str, claimed: dict[str, dict[str, list[str]]]) -> None:
        """``claimed[function][device_type] = [dtype, ...]`` as the framework's metadata states it."""
        with self.conn:
            self._insert_claimed(run_id, claimed)

    def _insert_claimed(self, run_id: str, claimed: dict[str, dict[str, list[str]]]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO claimed_dtypes (run_id, function, device_type, dtypes) VALUES (?, ?, ?, ?)",
            [
                (run_id, fn, dev, json.dumps(sorted(dts)))
                for fn, per_dev in claimed.items()
                for dev, dts in per_dev.items()
            ],
        )

    # -- reading -----------------------------------------------------------------
    def run(self, run_id: str) -> RunMeta:
        rows = self._run_rows("WHERE run_id = ?", (run_id,))
        if not rows:
            raise PortabenchError(f"no run {run_id!r} in {self.path}")
        return rows[0]

    def runs(self) -> list[RunMeta]:
        return self._run_rows("ORDER BY started_at, run_id", ())

    def _run_rows(self, where: str, args: tuple[Any, ...]) -> list[RunMeta]:
        cols = ", ".join(_quote(c) for c in _RUN_FIELDS)
        out = []
        for row in self.conn.execute(f"SELECT {cols} FROM runs {where}", args):
            data = dict(zip(_RUN_FIELDS, row, strict=False))
            for key in _RUN_JSON:
                data[key] = json.loads(data[key])
            out.append(RunMeta(**data))
        return out

    def find_resumable(self, framework: str, device: str, mode: str) -> RunMeta | None:
        """The newest run of (framework, device, mode) that did not complete, if any."""
        rows = self._run_rows(
            "WHERE framework = ? AND device = ? AND mode = ? AND status != 'complete' AND origin = 'portabench' "
            "ORDER BY started_at DESC, run_id DESC",
            (framework, device, mode),
        )
        return rows[0] if rows else None

    def latest_run(self, framework: str, device: str, mode: str) -> RunMeta | None:
        """The newest portabench run of (framework, device, mode), whatever its status."""
        rows = self._run_rows(
            "WHERE framework = ? AND device = ? AND mode = ? AND origin = 'portabench' "
            "ORDER BY started_at DESC, run_id DESC LIMIT 1",
            (framework, device, mode),
        )
        return rows[0] if rows else None

    def done_case_ids(self, run_id: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT case_id FROM results WHERE run_id = ?", (run_id,))}

    def results_frame(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """All results (optionally of some runs) joined with their run's metadata, as a DataFrame."""
        query = (
            "SELECT r.*, u.framework, u.framework_version, u.device, u.device_kind, u.device_name, u.mode, "
            "u.reference_device, u.origin, u.host FROM results r JOIN runs u USING (run_id)"
        )
        args: list[Any] = []
        if run_ids is not None:
            ids = list(run_ids)
            query += f" WHERE r.run_id IN ({', '.join('?' for _ in ids)})"
            args = ids
        return pd.read_sql_query(query, self.conn, params=args)

    def runs_frame(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM runs ORDER BY started_at, run_id", self.conn)

    def table_frame(self, table: str) -> pd.DataFrame:
        if table not in {"runs", "results", "functions", "claimed_dtypes"}:
            raise PortabenchError(f"unknown table {table!r}")
        return pd.read_sql_query(f"SELECT * FROM {table}", self.conn)
