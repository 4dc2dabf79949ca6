"""Moving results between stores: merge several into one, export to CSV/JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from portabench.errors import PortabenchError
from portabench.store.sqlite import Store

_TABLES = ("results", "functions", "claimed_dtypes")


def merge_stores(sources: list[str | Path], output: str | Path) -> dict[str, int]:
    """Copy every run of ``sources`` into ``output`` (created if absent).

    Runs are identified by ``run_id``. A run already in the output is kept and
    only its missing rows are added, provided its metadata is identical; a run id
    whose metadata differs between stores is refused (nothing of that run is
    copied) with a :class:`PortabenchError`. Sources are opened read-only in
    spirit: they are never written. Returns counts of runs and results added.
    """
    out_path = Path(output)
    for src in sources:
        if Path(src).resolve() == out_path.resolve():
            raise PortabenchError(f"cannot merge {src} into itself")
    added = {"runs": 0, "results": 0}
    with Store(out_path) as out:
        for src in sources:
            with Store(src, create=False) as store:
                existing = {r.run_id: r for r in out.runs()}
                for run in store.runs():
                    if run.run_id in existing:
                        mine = asdict(existing[run.run_id])
                        theirs = asdict(run)
                        for key in ("status", "ended_at"):  # a resumed run may have finished since
                            mine.pop(key), theirs.pop(key)
                        if mine != theirs:
                            raise PortabenchError(
                                f"run {run.run_id} has different metadata in {src} and {out_path}; refusing to merge"
                            )
                    else:
                        out.begin_run(run)
                        added["runs"] += 1
            before = out.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            out.conn.execute("ATTACH DATABASE ? AS src", (str(src),))
            try:
                with out.conn:
                    for table in _TABLES:
                        out.conn.execute(f"INSERT OR IGNORE INTO main.{table} SELECT * FROM src.{table}")
                    out.conn.execute(
                        "UPDATE main.runs SET status = (SELECT s.status FROM src.runs s WHERE s.run_id = main.runs.run_id), "
                        "ended_at = (SELECT s.ended_at FROM src.runs s WHERE s.run_id = main.runs.run_id) "
                        "WHERE status != 'complete' AND run_id IN (SELECT run_id FROM src.runs WHERE status = 'complete')"
                    )
            finally:
                out.conn.execute("DETACH DATABASE src")
            after = out.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            added["results"] += after - before
    return added


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
