"""StudyTables -> a JSON-serialisable dict."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from portabench.analysis import StudyTables
from portabench.report.formatting import distinct_notes

FORMAT = "portabench-report"
FORMAT_VERSION = 3
"""2: columns carry ``variant`` (configuration), dtype rows ``claimed_not_tested``, tables ``broken``,
``broken_summary``, ``other_messages``; slowdowns name their ``baseline_column`` / ``target_column``.
3: the modes-and-compilers tables, as ``compiled_by_mode``, ``compiled_summary``, ``compiled_slowdown``
and ``compiled_break_reasons``."""


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame -> list of plain dicts (NaN/NA -> None, numpy scalars -> Python, lists kept)."""
    if df is None or df.empty:
        return []
    return json.loads(df.to_json(orient="records", double_precision=15, date_format="iso", default_handler=str))


def render_json(tables: StudyTables) -> dict[str, Any]:
    """Every table as records, plus metadata.

    Shape::

        {"format": "portabench-report", "format_version": 3, "source": ..., "generated_at": ...,
         "baseline": ..., "targets": [...], "notes": [...],
         "tables": {"portability": [{framework, framework_version, device, mode, origin, n_functions,
                                     portable_n, portable_share, portable_lo, portable_hi, ...}, ...],
                    "categories": [...], "slowdown_summary": [...], ...}}

    The result survives ``json.loads(json.dumps(result)) == result`` (no NaN: missing is null).
    """
    frames = {name: frame_records(df) for name, df in tables.frames().items()}
    compiled = tables.compiled  # modes and compilers (analysis/compiled.py), empty tables when no mode column
    for name, df in (("compiled_by_mode", compiled.by_mode), ("compiled_summary", compiled.compile_summary),
                     ("compiled_slowdown", compiled.slowdown), ("compiled_break_reasons", compiled.break_reasons)):
        frames[name] = frame_records(df)
    for row in frames.get("environment", []):
        for key in ("numerics", "config"):
            if isinstance(row.get(key), str):
                try:
                    row[key] = json.loads(row[key])
                except ValueError:
                    pass
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "source": tables.source,
        "generated_at": tables.generated_at,
        "baseline": tables.baseline,
        "targets": list(tables.targets) if tables.targets else None,
        "notes": distinct_notes(tables.notes),
        "tables": frames,
    }
