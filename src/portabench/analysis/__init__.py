"""Store -> pandas tables: portability shares with Wilson intervals, failure
categories, slowdowns, dtype support and numerical errors.

Public API: :func:`build_tables` -> :class:`StudyTables`. Definitions are in
``docs/statistics.md``; the modules are:

* :mod:`.columns` — runs -> report columns (configuration kept apart), pooling by case_id;
* :mod:`.broken` — cases failing on the reference device: out of every share, listed;
* :mod:`.portability` — per-function status, shares, categories, failing cases;
* :mod:`.messages` — unexplained (``other``) failure messages, grouped;
* :mod:`.slowdown` — baseline/target pairing, geometric means, summaries;
* :mod:`.tables` — dtype matrix, numerical errors, environment;
* :mod:`.intervals` — Wilson and median confidence intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from portabench.analysis import columns as _columns
from portabench.analysis.broken import broken_summary, internal_error_counts, mark_broken, split_internal_errors
from portabench.analysis.compiled import CompiledTables, build_compiled
from portabench.analysis.coverage import coverage_table
from portabench.analysis.messages import other_messages
from portabench.analysis.models import is_model_result, model_tables
from portabench.analysis.portability import categories_table, failures_table, per_function, portability_table
from portabench.analysis.slowdown import slowdown_tables
from portabench.analysis.tables import dtype_matrix, environment, numerical_errors
from portabench.models.names import is_model_name
from portabench.store import Store

__all__ = ["StudyTables", "build_tables", "analyse_frames"]


@dataclass
class StudyTables:
    """Every table of a study, as pandas DataFrames (see ``docs/statistics.md``).

    Every table keyed by column carries ``framework, framework_version, device,
    mode, origin, variant`` and a human ``column`` label; slowdown tables carry
    ``framework, framework_version, mode, origin, baseline, target, baseline_column, target_column``.

    Attributes:
        portability: one row per column: n functions, counts/shares/95% Wilson intervals of
            portable / partial / complete / failing, reference_broken, no_cases, missing, case counts.
        categories: per column and failure category: failing cases and failing functions.
        slowdown_summary: per (group, baseline -> target): median (+CI), p90, max, faster share.
        slowdown_top: the 10 largest per-function slowdowns of each pair, ranked.
        per_function: per (column, function): status, case counts, main category, first message.
        dtype_matrix: claimed vs tested vs observed dtypes per (column, function).
        errors: failing cases with numerical errors (max_abs_err / max_rel_err).
        environment: one row per run with its metadata and case counts.
        coverage: per framework and manifest, the usage coverage its sample recorded (:mod:`.coverage`).
        notes: human-readable caveats (version splits, missing targets, pooled runs...).
        failures: every failing case with its message (for the HTML anchors).
        slowdown_functions: every per-function slowdown ratio (ECDF plots).
        broken: every broken case (failed on the reference device) with function, dtype and message.
        broken_summary: per group: cases, broken cases and their share.
        other_messages: unexplained (``other``) failure messages grouped by pattern.
        error_summary: per column, quantiles of the numerical errors.
        internal_errors: per column, cases of outcome ``error`` (adapter bugs, worker replies not understood):
            counted apart, never in a share.
        source: where the tables came from (the store path).
        generated_at: ISO timestamp (UTC) of the analysis.
        baseline, targets: the device selectors requested (None: defaults).
    """

    portability: pd.DataFrame
    categories: pd.DataFrame
    slowdown_summary: pd.DataFrame
    slowdown_top: pd.DataFrame
    per_function: pd.DataFrame
    dtype_matrix: pd.DataFrame
    errors: pd.DataFrame
    environment: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    slowdown_functions: pd.DataFrame = field(default_factory=pd.DataFrame)
    broken: pd.DataFrame = field(default_factory=pd.DataFrame)
    broken_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    other_messages: pd.DataFrame = field(default_factory=pd.DataFrame)
    error_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    internal_errors: pd.DataFrame = field(default_factory=pd.DataFrame)  # outcome ``error`` per column (broken.py)
    model_summary: pd.DataFrame = field(default_factory=pd.DataFrame)  # whole models: see analysis/models.py
    model_categories: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_layers: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_slowdowns: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_ratios: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""
    generated_at: str = ""
    baseline: str | None = None
    targets: list[str] | None = None
    # modes as columns, compilers (analysis/compiled.py)
    compiled: CompiledTables = field(default_factory=CompiledTables)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The DataFrame attributes by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)}


def build_tables(
    store: Store, baseline: str | None = None, targets: list[str] | None = None, pool_hardware: bool = False
) -> StudyTables:
    """Analyse every run of ``store``.

    Args:
        store: an open :class:`~portabench.store.Store` (only read).
        baseline: device (kind like ``cpu`` or requested device like ``cuda:1``) that
            slowdowns are measured against; default: each group's reference device kind.
        targets: devices to compare with the baseline; default: every other device of the group.
        pool_hardware: pool runs of different hardware (``device_name``) into one column when the
            rest of their configuration agrees; default: different hardware, different columns.

    Returns: a :class:`StudyTables`; an empty store gives empty tables and a note.
    """
    return analyse_frames(
        runs=store.runs_frame(),
        results=store.results_frame(),
        functions=store.table_frame("functions"),
        claimed=store.table_frame("claimed_dtypes"),
        baseline=baseline,
        targets=targets,
        source=str(store.path),
        pool_hardware=pool_hardware,
    )


def analyse_frames(
    runs: pd.DataFrame,
    results: pd.DataFrame,
    functions: pd.DataFrame | None = None,
    claimed: pd.DataFrame | None = None,
    baseline: str | None = None,
    targets: list[str] | None = None,
    source: str = "",
    pool_hardware: bool = False,
) -> StudyTables:
    """:func:`build_tables` on frames already read (``runs_frame()``, ``results_frame()``, ...).

    Passing a subset of runs and their results analyses just those runs
    (used by :func:`portabench.report.compare` for run-id comparisons).
    """
    functions = (
        functions
        if functions is not None
        else pd.DataFrame(columns=["run_id", "function", "status", "frequency", "bucket"])
    )
    claimed = claimed if claimed is not None else pd.DataFrame(columns=["run_id", "function", "device_type", "dtypes"])
    targets = list(targets) if targets else None
    notes: list[str] = []
    runs = _columns.runs_with_columns(runs, pool_hardware=pool_hardware)
    if runs.empty:
        notes.append("the store holds no runs: run `portabench run --framework F --device D` first")
    results = results[results["run_id"].isin(runs["run_id"])] if not results.empty else results
    pooled, pooling = _columns.pool_results(results, runs)
    pooled, internal = split_internal_errors(pooled)  # adapter bugs, protocol errors: no data, out of every table
    internal_errors = internal_error_counts(internal)
    for r in internal_errors.itertuples():
        notes.append(f"{r.column}: {r.n_errors} cases ended in an internal error (an adapter bug or a worker reply "
                     f"not understood; listed in their own section): excluded from every share")
    models = model_tables(pooled, runs)  # whole models have their own tables; the rest is about functions
    pooled = pooled[~is_model_result(pooled)] if not pooled.empty else pooled
    functions = functions[~functions["function"].map(is_model_name)] if not functions.empty else functions
    pooled, broken = mark_broken(pooled, runs)
    notes += _columns.version_notes(runs)
    notes += _columns.pooling_notes(runs, pooling)
    for _, r in runs.iterrows():
        if r["status"] != "complete":
            notes.append(f"run {r['run_id']} ({r['column']}) is {r['status']}: its results may be partial")
    per_fn = per_function(pooled, runs, functions)
    portability = portability_table(per_fn, runs, pooled, pooling.disagreeing)
    b_summary = broken_summary(pooled, broken)
    for r in b_summary.itertuples():
        if r.n_broken:
            notes.append(
                f"{_group_text(r)}: {r.n_broken} of {r.n_cases} cases are broken (they fail on the reference device, "
                "or in imported data the test code itself fails; listed in their own section): "
                "excluded from every share"
            )
    for r in portability.itertuples():
        if r.cases_unknown:
            notes.append(
                f"{r.column}: {r.cases_unknown} cases have no recorded outcome (timing-only data): "
                f"used for slowdowns, excluded from failure shares"
            )
    sd_functions, sd_summary, sd_top, sd_notes = slowdown_tables(pooled, runs, baseline, targets)
    notes += sd_notes
    errors, error_summary = numerical_errors(pooled)
    return StudyTables(
        portability=portability,
        categories=categories_table(pooled, per_fn),
        slowdown_summary=sd_summary,
        slowdown_top=sd_top,
        per_function=per_fn,
        dtype_matrix=dtype_matrix(pooled, runs, claimed),
        errors=errors,
        environment=environment(runs, results),
        notes=notes,
        failures=failures_table(pooled),
        slowdown_functions=sd_functions,
        broken=broken,
        broken_summary=b_summary,
        other_messages=other_messages(pooled),
        error_summary=error_summary,
        internal_errors=internal_errors,
        model_summary=models.summary,
        model_categories=models.categories,
        model_layers=models.layers,
        model_slowdowns=models.slowdowns,
        model_ratios=models.ratios,
        model_table=models.table,
        source=source,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        baseline=baseline,
        targets=targets,
        compiled=build_compiled(pooled, portability),
        coverage=coverage_table(runs),
    )


def _group_text(r: Any) -> str:
    origin = "" if r.origin == "portabench" else f" [{r.origin}]"
    return f"{r.framework} {r.framework_version} {r.mode}{origin}"
