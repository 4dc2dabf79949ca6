"""Runs -> how much of real usage the study's cases cover (issue #19).

A manifest made by ``portabench sample`` (or the default sample of ``run``/``study``)
records in ``params["coverage"]`` the coverage of its frequency table
(:meth:`portabench.coverage.Coverage.summary`) and how many of its functions have
cases; runs store their manifest in the ``sample`` JSON column. :func:`coverage_table`
reads that back: one row per framework and manifest (the newest run's), no framework
import. Runs whose manifest records nothing (presets, imported data) give no row.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from portabench.analysis.columns import json_object

COVERAGE_COLUMNS = [
    "framework",
    "manifest",
    "seed",
    "table_sources",
    "calls",
    "names",
    "covered_volume",
    "marked_volume",
    "covered_names",
    "marked_names",
    "top",
    "covered_top",
    "marked_top",
    "uncovered_top",
    "sample_functions",
    "sample_with_cases",
    "sample_without_cases",
]


def _sample_counts(manifest: dict[str, Any]) -> tuple[int | None, list[str] | None]:
    """(functions with cases, names without) from a manifest's params or per-function counts;
    (None, None) if unknown."""
    params, functions = manifest.get("params") or {}, manifest.get("functions") or []
    if functions and all(isinstance(f, dict) and f.get("cases") is not None for f in functions):
        return sum(1 for f in functions if f["cases"]), [f["function"] for f in functions if not f["cases"]]
    if "with_cases" in params:
        return int(params["with_cases"]), list(params.get("drawn_without_cases") or [])
    return None, None


def coverage_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (framework, manifest name, seed) whose newest run recorded coverage (columns: COVERAGE_COLUMNS).

    Shares are fractions of the table's call volume; ``uncovered_top`` lists the most used
    names without cases or mark as ``name (count)``; ``sample_*`` describe the manifest.
    """
    rows: dict[tuple, dict[str, Any]] = {}
    if runs.empty or "sample" not in runs.columns:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    ordered = runs.sort_values("started_at") if "started_at" in runs.columns else runs
    for _, run in ordered.iterrows():
        manifest = json_object(run.get("sample"))
        cov = (manifest.get("params") or {}).get("coverage")
        if not isinstance(cov, dict):
            continue
        with_cases, without = _sample_counts(manifest)
        key = (run["framework"], manifest.get("name"), manifest.get("seed"))
        rows[key] = {
            "framework": run["framework"],
            "manifest": manifest.get("name"),
            "seed": manifest.get("seed"),
            "table_sources": ", ".join(cov.get("table_sources", [])),
            "calls": cov.get("calls"),
            "names": cov.get("names"),
            "covered_volume": cov.get("covered_volume"),
            "marked_volume": cov.get("marked_volume"),
            "covered_names": cov.get("covered_names"),
            "marked_names": cov.get("marked_names"),
            "top": cov.get("top"),
            "covered_top": cov.get("covered_top"),
            "marked_top": cov.get("marked_top"),
            "uncovered_top": ", ".join(f"{n} ({c})" for n, c in cov.get("uncovered_top_names", [])),
            "sample_functions": len(manifest.get("functions") or []),
            "sample_with_cases": with_cases,
            "sample_without_cases": None if without is None else ", ".join(without),
        }
    return pd.DataFrame([rows[k] for k in sorted(rows, key=str)], columns=COVERAGE_COLUMNS)
