"""Moving results between stores: merge several into one, export to CSV/JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from portabench.errors import PortabenchError
from portabench.store.models import RunMeta
from portabench.store.opening import expected_shape, table_shape
from portabench.store.schema import SCHEMA_VERSION
from portabench.store.sqlite import Store

_TABLES = ("results", "functions", "claimed_dtypes")


def _comparable(run: RunMeta) -> dict[str, object]:
    data = asdict(run)
    for key in ("status", "ended_at"):  # a resumed run may have finished since
        data.pop(key)
    return data


def _plan(sources: list[Path], out_path: Path) -> list[RunMeta]:
    """Every run of the sources, checked against each other and the output; raises before anything is written."""
    seen: dict[str, tuple[RunMeta, Path]] = {}
    if out_path.exists():
        with Store(out_path, create=False) as out:
            seen = {run.run_id: (run, out_path) for run in out.runs()}
    new: list[RunMeta] = []
    for src in sources:
        with Store(src, create=False) as store:
            for run in store.runs():
                if run.run_id in seen:
                    other, where = seen[run.run_id]
                    if _comparable(other) != _comparable(run):
                        raise PortabenchError(
                            f"run {run.run_id} has different metadata in {src} and {where}; refusing to merge "
                            "(nothing was written)"
                        )
                    continue
                seen[run.run_id] = (run, src)
                new.append(run)
    return new


def _copy_rows(out: Store, src: Path) -> None:
    """INSERT OR IGNORE every row of the source's tables, inside the caller's transaction."""
    with Store(src, create=False) as store:
        for table in _TABLES:
            columns = sorted(expected_shape(SCHEMA_VERSION)[table] & table_shape(store.conn).get(table, frozenset()))
            names = ", ".join(f'"{c}"' for c in columns)
            rows = store.conn.execute(f"SELECT {names} FROM {table}").fetchall()
            marks = ", ".join("?" for _ in columns)
            out.conn.executemany(f"INSERT OR IGNORE INTO main.{table} ({names}) VALUES ({marks})", rows)
        finished = store.conn.execute("SELECT run_id, status, ended_at FROM runs WHERE status = 'complete'").fetchall()
    out.conn.executemany("UPDATE runs SET status = ?, ended_at = ? WHERE run_id = ? AND status != 'complete'",
                         [(status, ended, run_id) for run_id, status, ended in finished])


def merge_stores(sources: list[str | Path], output: str | Path) -> dict[str, int]:
    """Copy every run of ``sources`` into ``output`` (created if absent), all or nothing.

    Runs are identified by ``run_id``. A run already in the output is kept and
    only its missing rows are added, provided its metadata is identical. A run
    id whose metadata differs between stores refuses the whole merge with a
    :class:`PortabenchError` before anything is written: the output is left as
    it was (a new output is not created). The copy itself is one transaction.
    Sources are never written. Returns counts of runs and results added.
    """
    out_path = Path(output)
    source_paths = [Path(src) for src in sources]
    for src in source_paths:
        if src.exists() and out_path.exists() and src.resolve() == out_path.resolve():
            raise PortabenchError(f"cannot merge {src} into itself")
        if not src.exists():
            raise PortabenchError(f"store {src} does not exist")
    new_runs = _plan(source_paths, out_path)
    created = False
    try:
        with Store(out_path) as out:
            created = out.created
            before = out.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            with out.conn:  # one transaction: every run and row, or none
                for run in new_runs:
                    out.insert_run(run)
                for src in source_paths:
                    _copy_rows(out, src)
            after = out.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except BaseException:
        if created:  # a merge that failed midway leaves no new file behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{out_path}{suffix}").unlink(missing_ok=True)
        raise
    return {"runs": len(new_runs), "results": after - before}


def export_store(store: Store, fmt: str, output: str | Path) -> Path:
    """Write the store's results (joined with run metadata) as CSV or JSON.

    ``json`` writes ``{"runs": [...], "results": [...]}``; ``csv`` writes the
    joined results table (one row per case per run).
    """
    out = Path(output)
    if fmt == "csv":
        store.results_frame().to_csv(out, index=False)
    elif fmt == "json":
        payload = {
            "runs": json.loads(store.runs_frame().to_json(orient="records")),
            "results": json.loads(store.results_frame().to_json(orient="records")),
        }
        out.write_text(json.dumps(payload, indent=1))
    else:
        raise PortabenchError(f"unknown export format {fmt!r} (choose csv or json)")
    return out
