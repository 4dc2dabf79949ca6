"""Dtype support matrix, numerical-error distribution and the environment table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from portabench.analysis.columns import KEY
from portabench.cases import FAILED, PASSED, REFERENCE_FAILED, UNKNOWN
from portabench.frameworks import device_kind

NUMERICAL_CATEGORIES = frozenset({"numerical_mismatch"})
"""Failure categories whose cases carry a numerical error (``max_abs_err`` / ``max_rel_err``)."""

NO_DTYPE = "none"

DTYPE_COLUMNS = KEY + ["column", "function", "claimed", "tested", "observed", "claimed_not_tested",
                       "claimed_not_observed", "observed_not_claimed", "agree"]
ERROR_COLUMNS = KEY + ["column", "function", "case_id", "dtype", "category", "max_abs_err", "max_rel_err"]
ERROR_SUMMARY_COLUMNS = KEY + ["column", "n_cases", "n_functions", "abs_median", "abs_p90", "abs_max",
                               "rel_median", "rel_p90", "rel_max"]
ENV_COLUMNS = [
    "run_id",
    "column",
    "framework",
    "framework_version",
    "device",
    "run_device",
    "device_name",
    "mode",
    "variant",
    "role",
    "reference_device",
    "origin",
    "host",
    "platform",
    "python",
    "portabench_version",
    "numerics",
    "config",
    "status",
    "started_at",
    "ended_at",
    "n_cases",
    "n_passed",
    "n_failed",
    "n_reference_failed",
    "n_unknown",
]


def dtype_matrix(pooled: pd.DataFrame, runs: pd.DataFrame, claimed: pd.DataFrame) -> pd.DataFrame:
    """Claimed vs observed dtypes per (column, function); untested is never unsupported.

    ``claimed``: dtypes the framework's metadata claims for the column's device
    type (``claimed_dtypes`` rows of any run with the same framework, version and
    origin, ``device_type`` equal to the column's device). ``tested``: dtypes with
    at least one case whose outcome says something about the device (passed or
    failed; broken ``reference_failed`` and ``unknown`` cases do not); ``observed``:
    dtypes with at least one passed case (the ``none`` pseudo-dtype is ignored).

    * ``claimed_not_tested``: claimed, but no case tested it (not in the run's
      ``--dtypes``, or no case for it): *not tested*, never "not observed";
    * ``claimed_not_observed``: claimed and tested, none passed (a contradiction);
    * ``observed_not_claimed``: passed although not claimed (a contradiction);
    * ``agree``: over tested dtypes only, ``claimed ∩ tested == observed``;
      None when nothing is claimed or no claimed-or-observed dtype was tested.

    Lists are sorted.
    """
    if pooled.empty:
        return pd.DataFrame(columns=DTYPE_COLUMNS)
    claims: dict[tuple, set[str]] = {}
    if not claimed.empty and not runs.empty:
        cr = claimed.merge(
            runs[["run_id", "framework", "framework_version", "origin"]].drop_duplicates("run_id"), on="run_id"
        )
        for _, r in cr.iterrows():
            k = (
                r["framework"],
                r["framework_version"],
                r["origin"],
                device_kind(str(r["device_type"])),
                r["function"],
            )
            claims.setdefault(k, set()).update(json.loads(r["dtypes"]) if isinstance(r["dtypes"], str) else r["dtypes"])
    keys = KEY + ["column", "function"]
    df = pooled[(pooled["dtype"] != NO_DTYPE) & pooled["outcome"].isin([PASSED, FAILED])]
    tested_by = df.groupby(keys)["dtype"].agg(lambda s: sorted(set(s))).to_dict() if len(df) else {}
    passed = df[df["outcome"] == PASSED]
    observed_by = passed.groupby(keys)["dtype"].agg(lambda s: sorted(set(s))).to_dict() if len(passed) else {}
    rows = []
    for key in pooled[keys].drop_duplicates().sort_values(keys).itertuples(index=False, name=None):
        tested = tested_by.get(key, [])
        observed = observed_by.get(key, [])
        rec = dict(zip(keys, key, strict=False))
        c = claims.get((rec["framework"], rec["framework_version"], rec["origin"], rec["device"], rec["function"]))
        row = {
            **rec,
            "claimed": sorted(c) if c is not None else None,
            "tested": tested,
            "observed": observed,
            "claimed_not_tested": None,
            "claimed_not_observed": None,
            "observed_not_claimed": None,
            "agree": None,
        }
        if c is not None:
            t, o = set(tested), set(observed)
            row["claimed_not_tested"] = sorted(c - t)
            row["claimed_not_observed"] = sorted((c & t) - o)
            row["observed_not_claimed"] = sorted(o - c)
            row["agree"] = ((c & t) == o) if (c & t) | o else None
        rows.append(row)
    return pd.DataFrame(rows, columns=DTYPE_COLUMNS)


def numerical_errors(pooled: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Failing cases with a numerical error, and a per-column summary of their errors.

    A case is included when it failed with a category in
    :data:`NUMERICAL_CATEGORIES`, or failed with a recorded ``max_abs_err`` or
    ``max_rel_err``. Summary quantiles ignore missing values (nan when none).
    """
    if pooled.empty:
        return pd.DataFrame(columns=ERROR_COLUMNS), pd.DataFrame(columns=ERROR_SUMMARY_COLUMNS)
    f = pooled[pooled["outcome"] == FAILED]
    has_err = f["max_abs_err"].notna() | f["max_rel_err"].notna()
    errs = f[f["category"].isin(NUMERICAL_CATEGORIES) | has_err][ERROR_COLUMNS]
    errs = errs.sort_values(["column", "function", "case_id"]).reset_index(drop=True)
    rows = []
    for key, grp in errs.groupby(KEY + ["column"], sort=True):
        row = {**dict(zip(KEY + ["column"], key, strict=False)), "n_cases": len(grp),
               "n_functions": grp["function"].nunique()}
        for name, col in (("abs", "max_abs_err"), ("rel", "max_rel_err")):
            v = pd.to_numeric(grp[col], errors="coerce").dropna().to_numpy(dtype=float)
            row[f"{name}_median"] = float(np.median(v)) if len(v) else float("nan")
            with np.errstate(invalid="ignore"):  # relative errors can be inf (reference 0): p90 is then inf or nan
                row[f"{name}_p90"] = float(np.percentile(v, 90)) if len(v) else float("nan")
            row[f"{name}_max"] = float(v.max()) if len(v) else float("nan")
        rows.append(row)
    return errs, pd.DataFrame(rows, columns=ERROR_SUMMARY_COLUMNS)


def environment(runs: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """One row per run (not pooled): metadata and its own case counts by outcome."""
    if runs.empty:
        return pd.DataFrame(columns=ENV_COLUMNS)
    env = runs.copy()
    if results.empty:
        counts = pd.DataFrame(columns=["run_id", "n_cases", "n_passed", "n_failed", "n_reference_failed", "n_unknown"])
    else:
        counts = (
            results.groupby("run_id")
            .agg(
                n_cases=("case_id", "size"),
                n_passed=("outcome", lambda s: int((s == PASSED).sum())),
                n_failed=("outcome", lambda s: int((s == FAILED).sum())),
                n_reference_failed=("outcome", lambda s: int((s == REFERENCE_FAILED).sum())),
                n_unknown=("outcome", lambda s: int((s == UNKNOWN).sum())),
            )
            .reset_index()
        )
    env = env.merge(counts, on="run_id", how="left")
    for c in ("n_cases", "n_passed", "n_failed", "n_reference_failed", "n_unknown"):
        env[c] = env[c].fillna(0).astype(int)
    for c in ENV_COLUMNS:
        if c not in env.columns:
            env[c] = None
    return env[ENV_COLUMNS].reset_index(drop=True)
