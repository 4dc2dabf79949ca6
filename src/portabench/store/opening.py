"""Telling a portabench store from any other file, and creating one safely.

A store is recognised by ``PRAGMA application_id`` (:data:`APPLICATION_ID`, set
when portabench creates a file) or, for stores made before it was set, by its
exact tables and columns at its ``user_version``. Checking reads only: a file
that is not recognised is refused with the file byte-identical.

A new store is built complete in a private file beside the target and linked
into place (``os.link`` fails when the name exists), so two processes creating
one path at the same instant both end up using the one complete store, and a
crash leaves no half-made store. An existing empty database (a 0-byte file) is
initialised under an exclusive file lock, re-checked once the lock is held.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from portabench.errors import PortabenchError
from portabench.store.schema import MIGRATIONS, SCHEMA_VERSION

#: ``PRAGMA application_id`` of every store portabench creates ("pbnc")
APPLICATION_ID = int.from_bytes(b"pbnc", "big")
BUSY_TIMEOUT_S = 30.0
"""Seconds a connection waits for another writer's lock before SQLite reports the store busy."""


def _initialise(conn: sqlite3.Connection) -> None:
    """Schema, version and application id on an empty database, then WAL mode."""
    with conn:
        for step in MIGRATIONS:
            step(conn)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("PRAGMA journal_mode = WAL")


@cache
def expected_shape(version: int) -> dict[str, frozenset[str]]:
    """Tables and their columns of a store at schema ``version`` (built in memory from the migrations)."""
    conn = sqlite3.connect(":memory:")
    try:
        for step in MIGRATIONS[:version]:
            step(conn)
        return table_shape(conn)
    finally:
        conn.close()


def table_shape(conn: sqlite3.Connection, schema: str = "main") -> dict[str, frozenset[str]]:
    """Tables (SQLite's own excluded) and their column names."""
    tables = [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {t: frozenset(r[1] for r in conn.execute(f'PRAGMA {schema}.table_info("{t}")')) for t in tables}


def check_store(conn: sqlite3.Connection, path: Path) -> int | None:
    """The schema version of the portabench store open on ``conn``; None for an empty database.

    Raises :class:`PortabenchError` (nothing written) for another application's database, a
    store of a newer portabench, or a portabench-looking file whose tables do not match.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    shape = table_shape(conn)
    if app_id not in (0, APPLICATION_ID):
        raise PortabenchError(f"{path} is a SQLite database of another application (application_id {app_id}), "
                              "not a portabench store")
    if version == 0 and app_id == 0 and not shape:
        return None
    if version > SCHEMA_VERSION:
        which = (
            "a portabench store"
            if app_id == APPLICATION_ID
            else "a newer portabench store or another application's database"
        )
        raise PortabenchError(
            f"store {path} has schema version {version} ({which}); this portabench reads up to "
            f"{SCHEMA_VERSION} (upgrade portabench)"
        )
    if app_id == APPLICATION_ID and version >= 1:
        return int(version)
    if version >= 1 and shape == expected_shape(version):  # a store made before application_id was set
        return int(version)
    raise PortabenchError(
        f"{path} is a SQLite database of another application (user_version {version}), not a portabench store"
    )


def open_readable(path: Path) -> sqlite3.Connection:
    """A connection for reading ``path``; a read-only store whose directory is read-only too is
    opened ``immutable`` when it has no write-ahead log to replay."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute("PRAGMA user_version").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        if os.access(path, os.W_OK) or Path(f"{path}-wal").exists():
            raise
    return sqlite3.connect(f"file:{path}?immutable=1", uri=True, timeout=BUSY_TIMEOUT_S)


def create_store(path: Path) -> bool:
    """Create a complete, empty store at ``path``; False when another process created it first."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PortabenchError(f"cannot create store {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PortabenchError(f"cannot create store {path}: folder {folder} is not writable")
    draft = folder / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.new"
    try:
        conn = sqlite3.connect(draft)
        try:
            _initialise(conn)
        finally:
            conn.close()
        try:
            os.link(draft, path)
            return True
        except FileExistsError:  # created by another process meanwhile: that store is the one to use
            return False
    except OSError as exc:
        raise PortabenchError(f"cannot create store {path}: {exc.strerror or exc}") from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{draft}{suffix}")


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows): SQLite's own locking is all there is
        yield
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # independent of SQLite's POSIX byte-range locks
        yield
    finally:
        os.close(fd)


def initialise_empty(conn: sqlite3.Connection, path: Path) -> None:
    """Make the empty database open on ``conn`` a store, once, whoever else tries at the same time."""
    with _exclusive(path):
        if check_store(conn, path) is None:
            _initialise(conn)
