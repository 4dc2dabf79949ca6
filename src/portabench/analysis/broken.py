"""Broken cases: cases that fail on the reference device, whatever the run's role.

A case is *broken* (harness noise, not a portability finding) when, within one
group (framework, framework_version, mode, origin):

* it failed in a *reference column*: a column of runs made without a reference
  device by portabench itself (``role == 'reference'``, origin ``portabench``), or
  a column on the device that the group's target runs name as their reference; or
* some run recorded it as ``reference_failed`` (the worker saw it fail on the
  reference device).

Broken cases are re-labelled ``reference_failed`` in every column of the group
(the recorded outcome is kept as ``recorded_outcome``), so they never enter a
portability share; :func:`broken_tables` lists them with function, dtype and
message, and counts them per group. Imported data without a reference device
(the paper's runs) has no reference column: its CPU failures stay failures, as
the paper counted them.

Internal errors (outcome ``error``: an adapter bug, a worker reply not understood)
are no data about the framework at all: :func:`split_internal_errors` takes them
out before anything else (they are not evidence of a broken case either) and
:func:`internal_error_counts` counts them per column for the report.
"""

from __future__ import annotations

import pandas as pd

from portabench.analysis.columns import GROUP
from portabench.analysis.intervals import share, wilson_interval
from portabench.cases import ERROR, FAILED, REFERENCE_FAILED, UNKNOWN
from portabench.frameworks import device_kind

BROKEN_COLUMNS = GROUP + ["function", "case_id", "source", "dtype", "category", "exc_type", "message", "seen_in"]
SUMMARY_COLUMNS = GROUP + ["n_cases", "n_broken", "broken_share", "broken_lo", "broken_hi", "n_functions_broken"]
INTERNAL_ERROR_COLUMNS = ["column", "n_errors", "n_functions", "exc_types", "example_function", "example_message"]


def split_internal_errors(pooled: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pooled without internal errors, the internal errors)``: rows of outcome ``error`` never enter a share."""
    if pooled.empty or "outcome" not in pooled:
        return pooled, pooled.iloc[0:0]
    is_error = pooled["outcome"] == ERROR
    return pooled[~is_error], pooled[is_error]


def internal_error_counts(errors: pd.DataFrame) -> pd.DataFrame:
    """Per column: internal errors, functions hit, exception types, and one example (:data:`INTERNAL_ERROR_COLUMNS`)."""
    if errors.empty:
        return pd.DataFrame(columns=INTERNAL_ERROR_COLUMNS)
    rows = []
    for column, grp in errors.groupby("column", sort=True):
        first = grp.sort_values(["function", "case_id"]).iloc[0]
        types = sorted({str(t) for t in grp["exc_type"] if isinstance(t, str) and t})
        rows.append({"column": column, "n_errors": len(grp), "n_functions": int(grp["function"].nunique()),
                     "exc_types": ", ".join(types), "example_function": first["function"],
                     "example_message": first["message"]})
    return pd.DataFrame(rows, columns=INTERNAL_ERROR_COLUMNS)


def reference_columns(runs: pd.DataFrame) -> set[str]:
    """Columns whose failures are failures of the reference device (see the module docstring)."""
    out: set[str] = set()
    if runs.empty:
        return out
    for _, grp in runs.groupby(GROUP, sort=False):
        refs = {device_kind(r) for r in grp["reference_device"] if isinstance(r, str) and r}
        own = grp[(grp["role"] == "reference") & (grp["origin"] == "portabench")]
        out.update(own["column"])
        out.update(grp[grp["device"].isin(refs) & (grp["role"] == "reference")]["column"])
    return out


def mark_broken(pooled: pd.DataFrame, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-label broken cases ``reference_failed`` in every column of their group.

    Returns ``(pooled, broken)``: ``pooled`` with ``outcome`` re-labelled and the recorded
    outcome in ``recorded_outcome``; ``broken`` one row per (group, case_id) with
    :data:`BROKEN_COLUMNS` (``seen_in``: the columns where it was seen failing on the reference).
    """
    if pooled.empty:
        out = pooled.copy()
        out["recorded_outcome"] = pd.Series(dtype=object)
        return out, pd.DataFrame(columns=BROKEN_COLUMNS)
    df = pooled.copy()
    df["recorded_outcome"] = df["outcome"]
    ref_cols = reference_columns(runs)
    evidence = (df["column"].isin(ref_cols) & (df["outcome"] == FAILED)) | (df["outcome"] == REFERENCE_FAILED)
    ev = df[evidence].copy()
    if ev.empty:
        return df, pd.DataFrame(columns=BROKEN_COLUMNS)
    # the reference's own failure first (it has the message), then target runs' reference_failed records
    ev["_own"] = ev["column"].isin(ref_cols) & (ev["outcome"] == FAILED)
    ev["_has_msg"] = ev["message"].notna()
    ev = ev.sort_values(["_own", "_has_msg"], ascending=False, kind="stable")
    seen_in = ev.groupby(GROUP + ["case_id"])["column"].agg(lambda s: "; ".join(sorted(set(s))))
    first = ev.drop_duplicates(subset=GROUP + ["case_id"], keep="first").set_index(GROUP + ["case_id"])
    first["seen_in"] = seen_in
    broken = first.reset_index()[BROKEN_COLUMNS].sort_values(GROUP + ["function", "case_id"]).reset_index(drop=True)
    keys = set(map(tuple, broken[GROUP + ["case_id"]].itertuples(index=False, name=None)))
    hit = [k in keys for k in df[GROUP + ["case_id"]].itertuples(index=False, name=None)]
    hit = pd.Series(hit, index=df.index) & (df["outcome"] != UNKNOWN)
    df.loc[hit, "outcome"] = REFERENCE_FAILED
    return df, broken


def broken_summary(pooled: pd.DataFrame, broken: pd.DataFrame) -> pd.DataFrame:
    """Per group: distinct cases, broken cases, their share (with a 95% Wilson interval), broken functions.

    ``n_cases`` counts the distinct ``case_id`` of the group over all its columns.
    Groups without any broken case are listed too (share 0).
    """
    if pooled.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rows = []
    for key, grp in pooled.groupby(GROUP, sort=True):
        n = int(grp["case_id"].nunique())
        b = broken
        for col, val in zip(GROUP, key, strict=False):
            b = b[b[col] == val]
        k = len(b)
        lo, hi = wilson_interval(k, n)
        rows.append({**dict(zip(GROUP, key, strict=False)), "n_cases": n, "n_broken": k, "broken_share": share(k, n),
                     "broken_lo": lo, "broken_hi": hi, "n_functions_broken": int(b["function"].nunique())})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
