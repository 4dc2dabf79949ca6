"""The store's schema and its migrations.

``SCHEMA_VERSION`` is written to ``PRAGMA user_version``. Each entry of
``MIGRATIONS`` upgrades a store from version ``i`` to ``i + 1``; opening an
older store runs the missing migrations in one transaction, opening a newer one
is refused (the file is left untouched).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 2


def _v0_to_v1(conn: sqlite3.Connection) -> None:
    conn.executescript(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            framework TEXT NOT NULL,
            framework_version TEXT NOT NULL,
            device TEXT NOT NULL,
            device_kind TEXT NOT NULL,
            device_name TEXT NOT NULL,
            mode TEXT NOT NULL,
            reference_device TEXT,
            host TEXT NOT NULL,
            platform TEXT NOT NULL,
            python TEXT NOT NULL,
            portabench_version TEXT NOT NULL,
            numerics TEXT NOT NULL,      -- JSON object
            config TEXT NOT NULL,        -- JSON object
            sample TEXT NOT NULL,        -- JSON object
            origin TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE TABLE results (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            case_id TEXT NOT NULL,
            function TEXT NOT NULL,
            source TEXT NOT NULL,
            dtype TEXT NOT NULL,
            sample INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            category TEXT,
            message TEXT,
            exc_type TEXT,
            exit_status INTEGER,
            stderr_tail TEXT,
            "check" TEXT,
            max_abs_err REAL,
            max_rel_err REAL,
            time_median_ns REAL,
            time_iqr_ns REAL,
            time_repeats INTEGER,
            time_samples_ns TEXT,        -- JSON list or NULL
            compile_ns REAL,
            wall_ns REAL,
            PRIMARY KEY (run_id, case_id)
        );
        CREATE INDEX results_function ON results(function);
        CREATE TABLE functions (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            function TEXT NOT NULL,
            status TEXT NOT NULL,        -- tested | no_cases | missing
            frequency INTEGER,
            bucket TEXT,
            PRIMARY KEY (run_id, function)
        );
        CREATE TABLE claimed_dtypes (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            function TEXT NOT NULL,
            device_type TEXT NOT NULL,
            dtypes TEXT NOT NULL,        -- JSON list of dtype names
            PRIMARY KEY (run_id, function, device_type)
        );
        """
    )


#: columns added by version 2 (compiled modes: what the compiler did, eager's error on the same device)
V2_RESULT_COLUMNS = (
    ("graph_breaks", "INTEGER"),
    ("recompiles", "INTEGER"),
    ("fallback", "INTEGER"),  # 0/1; NULL outside compiled modes
    ("compile_info", "TEXT"),  # JSON object or NULL
    ("eager_same_device_err", "REAL"),
    ("eager_same_device_rel_err", "REAL"),
)


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Compiled modes (torch compile/export): new nullable result columns; older rows read NULL.

    Statement by statement (not ``executescript``, which commits): the upgrade is one transaction.
    """
    for name, kind in V2_RESULT_COLUMNS:
        conn.execute(f"ALTER TABLE results ADD COLUMN {name} {kind}")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v0_to_v1, _v1_to_v2]
assert len(MIGRATIONS) == SCHEMA_VERSION
