"""Per-function classification, portability shares and failure categories.

Per function in a column (cases pooled, see :mod:`portabench.analysis.columns`):
cases with outcome ``reference_failed`` (broken cases, see
:mod:`portabench.analysis.broken`) and ``unknown`` (imported timing-only data)
are excluded; the function is ``portable`` if every remaining case passed,
``partial`` if some failed, ``complete`` if all failed; a function with only
``reference_failed`` cases is ``reference_broken``, one with only ``unknown``
cases ``outcome_unknown``; both are excluded from the denominators. Sample functions with
no result in the column and status ``no_cases`` / ``missing`` in the
``functions`` table are listed with that status (not in denominators either).
"""

from __future__ import annotations

import pandas as pd

from portabench.analysis.columns import KEY
from portabench.analysis.intervals import share, wilson_interval
from portabench.cases import FAILED, PASSED, REFERENCE_FAILED, UNKNOWN

PORTABLE, PARTIAL, COMPLETE = "portable", "partial", "complete"
REFERENCE_BROKEN, NO_CASES, MISSING = "reference_broken", "no_cases", "missing"
OUTCOME_UNKNOWN = "outcome_unknown"
MEASURED = (PORTABLE, PARTIAL, COMPLETE)
STATUSES = MEASURED + (REFERENCE_BROKEN, OUTCOME_UNKNOWN, NO_CASES, MISSING)
UNCATEGORISED = "uncategorised"

PER_FUNCTION_COLUMNS = KEY + [
    "column", "function", "status", "n_cases", "n_passed", "n_failed", "n_reference_failed", "n_unknown",
    "main_category", "categories", "message", "frequency", "bucket",
]


def classify(n_passed: int, n_failed: int, n_reference_failed: int = 0, n_unknown: int = 0) -> str:
    """Status of one function from its case counts (reference_failed and unknown cases are ignored)."""
    if n_passed + n_failed == 0:
        if n_reference_failed:
            return REFERENCE_BROKEN
        return OUTCOME_UNKNOWN if n_unknown else NO_CASES
    if n_failed == 0:
        return PORTABLE
    if n_passed == 0:
        return COMPLETE
    return PARTIAL


def per_function(pooled: pd.DataFrame, runs: pd.DataFrame, functions: pd.DataFrame) -> pd.DataFrame:
    """One row per (column, function): status, case counts, main failure category.

    Args:
        pooled: pooled results (:func:`columns.pool_results`).
        runs: runs with columns (:func:`columns.runs_with_columns`).
        functions: ``store.table_frame("functions")``.

    Returns: DataFrame with :data:`PER_FUNCTION_COLUMNS`, sorted by column then function.
    """
    rows: list[dict] = []
    freq = _function_info(functions, runs)
    keys = KEY + ["column", "function"]
    if not pooled.empty:
        df = pooled[keys + ["outcome", "category", "message"]].copy()
        failed = df["outcome"] == FAILED
        df["category"] = df["category"].astype(object).where(df["category"].notna(), None)
        df.loc[failed & df["category"].isna(), "category"] = UNCATEGORISED
        counts = df.groupby(keys)["outcome"].value_counts().unstack(fill_value=0)
        fails = df[failed]
        cat_counts = fails.groupby(keys + ["category"]).size().rename("n").reset_index()
        cat_counts = cat_counts.sort_values(keys + ["n", "category"], ascending=[True] * len(keys) + [False, True])
        cats: dict[tuple, list[tuple[str, int]]] = {}
        for rec in cat_counts.itertuples(index=False, name=None):
            cats.setdefault(tuple(rec[: len(keys)]), []).append((rec[-2], int(rec[-1])))
        msgs = fails[fails["message"].notna()].groupby(keys)["message"].first().to_dict()
        for key, rec in zip(counts.index, counts.itertuples(index=False), strict=True):
            c = dict(zip(counts.columns, rec, strict=True))
            n_p, n_f, n_r = int(c.get(PASSED, 0)), int(c.get(FAILED, 0)), int(c.get(REFERENCE_FAILED, 0))
            n_u = int(c.get(UNKNOWN, 0))
            fc = cats.get(key, [])
            info = freq.get((key[-2], key[-1]), {})
            rows.append(
                {
                    **dict(zip(keys, key, strict=False)),
                    "status": classify(n_p, n_f, n_r, n_u),
                    "n_cases": int(sum(c.values())),
                    "n_passed": n_p,
                    "n_failed": n_f,
                    "n_reference_failed": n_r,
                    "n_unknown": n_u,
                    "main_category": fc[0][0] if fc else None,
                    "categories": ", ".join(f"{cat}: {n}" for cat, n in fc),
                    "message": str(msgs[key]) if key in msgs else None,
                    "frequency": info.get("frequency"),
                    "bucket": info.get("bucket"),
                }
            )
    seen = {(r["column"], r["function"]) for r in rows}
    # functions of the sample without results in the column: no_cases / missing
    if not functions.empty and not runs.empty:
        fr = functions.merge(runs[["run_id"] + KEY + ["column"]], on="run_id")
        fr = fr[fr["status"].isin([NO_CASES, MISSING])]
        for _, r in fr.sort_values(["column", "function"]).iterrows():
            if (r["column"], r["function"]) in seen:
                continue
            seen.add((r["column"], r["function"]))
            rows.append(
                {
                    **{k: r[k] for k in KEY},
                    "column": r["column"],
                    "function": r["function"],
                    "status": r["status"],
                    "n_cases": 0,
                    "n_passed": 0,
                    "n_failed": 0,
                    "n_reference_failed": 0,
                    "n_unknown": 0,
                    "main_category": None,
                    "categories": "",
                    "message": None,
                    "frequency": None if pd.isna(r["frequency"]) else int(r["frequency"]),
                    "bucket": r["bucket"] if isinstance(r["bucket"], str) else None,
                }
            )
    out = pd.DataFrame(rows, columns=PER_FUNCTION_COLUMNS)
    return out.sort_values(["column", "function"], kind="stable").reset_index(drop=True)


def _function_info(functions: pd.DataFrame, runs: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """``{(column, function): {frequency, bucket}}`` from the functions table."""
    info: dict[tuple[str, str], dict] = {}
    if functions.empty or runs.empty:
        return info
    fr = functions.merge(runs[["run_id", "column"]], on="run_id")
    rows = zip(fr["column"], fr["function"], fr["frequency"], fr["bucket"], strict=True)
    for column, function, frequency, bucket in rows:
        info[(column, function)] = {
            "frequency": None if pd.isna(frequency) else int(frequency),
            "bucket": bucket if isinstance(bucket, str) else None,
        }
    return info


def portability_table(
    per_fn: pd.DataFrame, runs: pd.DataFrame, pooled: pd.DataFrame, disagreeing: dict[str, int] | None = None
) -> pd.DataFrame:
    """One row per column: counts and shares (with 95% Wilson intervals) of function statuses.

    ``n_functions`` counts measured functions (portable + partial + complete);
    shares are over ``n_functions``. ``failing`` = partial + complete.
    ``reference_broken``, ``outcome_unknown``, ``no_cases`` and ``missing`` are counts outside the denominator.
    ``cases_disagreeing``: cases recorded by several pooled runs with different outcomes.
    """
    rows = []
    if runs.empty:
        return pd.DataFrame(columns=_PORTABILITY_COLUMNS)
    for key, grp in runs.groupby(KEY + ["column"], sort=True):
        fn = per_fn[per_fn["column"] == key[-1]]
        counts = fn["status"].value_counts()
        n = int(sum(counts.get(s, 0) for s in MEASURED))
        cases = pooled[pooled["column"] == key[-1]] if not pooled.empty else pooled
        roles = sorted(set(grp["role"]))
        refs = sorted({str(r) for r in grp["reference_device"] if isinstance(r, str) and r})
        row = {
            **dict(zip(KEY + ["column"], key, strict=False)),
            "role": roles[0] if len(roles) == 1 else "mixed",
            "reference_device": ", ".join(refs) or None,
            "device_name": "; ".join(sorted({str(x) for x in grp["device_name"] if str(x)})),
            "runs": ", ".join(grp["run_id"]),
            "n_runs": len(grp),
            "n_functions": n,
        }
        for status, k in [
            (PORTABLE, int(counts.get(PORTABLE, 0))),
            (PARTIAL, int(counts.get(PARTIAL, 0))),
            (COMPLETE, int(counts.get(COMPLETE, 0))),
            ("failing", int(counts.get(PARTIAL, 0) + counts.get(COMPLETE, 0))),
        ]:
            lo, hi = wilson_interval(k, n)
            row.update({f"{status}_n": k, f"{status}_share": share(k, n), f"{status}_lo": lo, f"{status}_hi": hi})
        row.update(
            {
                "reference_broken": int(counts.get(REFERENCE_BROKEN, 0)),
                "outcome_unknown": int(counts.get(OUTCOME_UNKNOWN, 0)),
                "no_cases": int(counts.get(NO_CASES, 0)),
                "missing": int(counts.get(MISSING, 0)),
                "n_cases": len(cases),
                "cases_passed": int((cases["outcome"] == PASSED).sum()) if len(cases) else 0,
                "cases_failed": int((cases["outcome"] == FAILED).sum()) if len(cases) else 0,
                "cases_reference_failed": int((cases["outcome"] == REFERENCE_FAILED).sum()) if len(cases) else 0,
                "cases_unknown": int((cases["outcome"] == UNKNOWN).sum()) if len(cases) else 0,
                "cases_disagreeing": int((disagreeing or {}).get(key[-1], 0)),
                "soft": bool(grp["soft"].any()) if "soft" in grp else False,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=_PORTABILITY_COLUMNS)


_PORTABILITY_COLUMNS = (
    KEY
    + ["column", "role", "reference_device", "device_name", "runs", "n_runs", "n_functions"]
    + [f"{s}_{x}" for s in (PORTABLE, PARTIAL, COMPLETE, "failing") for x in ("n", "share", "lo", "hi")]
    + [
        "reference_broken",
        "outcome_unknown",
        "no_cases",
        "missing",
        "n_cases",
        "cases_passed",
        "cases_failed",
        "cases_reference_failed",
        "cases_unknown",
        "cases_disagreeing",
        "soft",
    ]
)


def categories_table(pooled: pd.DataFrame, per_fn: pd.DataFrame) -> pd.DataFrame:
    """Failure categories per column: failing cases and failing functions per category.

    A failing function counts once, under its most frequent category
    (``main_category``; ties broken alphabetically). Shares are of the column's
    failing cases / failing functions. Sorted by column, then functions desc.
    """
    cols = KEY + ["column", "category", "cases", "cases_share", "functions", "functions_share"]
    if pooled.empty:
        return pd.DataFrame(columns=cols)
    fails = pooled[pooled["outcome"] == FAILED].copy()
    fails["category"] = fails["category"].fillna(UNCATEGORISED)
    case_counts = fails.groupby(KEY + ["column", "category"]).size().rename("cases")
    fn = per_fn[per_fn["status"].isin([PARTIAL, COMPLETE])]
    fn_counts = fn.groupby(KEY + ["column", "main_category"]).size().rename("functions")
    fn_counts.index = fn_counts.index.set_names(KEY + ["column", "category"])
    out = pd.concat([case_counts, fn_counts], axis=1).fillna(0).astype(int).reset_index()
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["cases_share"] = out["cases"] / out.groupby("column")["cases"].transform("sum").replace(0, float("nan"))
    out["functions_share"] = out["functions"] / out.groupby("column")["functions"].transform("sum").replace(
        0, float("nan")
    )
    out = out.sort_values(["column", "functions", "cases", "category"], ascending=[True, False, False, True])
    return out[cols].reset_index(drop=True)


def failures_table(pooled: pd.DataFrame) -> pd.DataFrame:
    """Every failing case (pooled) with its evidence, sorted by column, function, case_id."""
    cols = KEY + [
        "column",
        "function",
        "case_id",
        "source",
        "dtype",
        "sample",
        "category",
        "exc_type",
        "message",
        "exit_status",
        "stderr_tail",
        "max_abs_err",
        "max_rel_err",
        "run_id",
    ]
    if pooled.empty:
        return pd.DataFrame(columns=cols)
    f = pooled[pooled["outcome"] == FAILED].copy()
    f["category"] = f["category"].fillna(UNCATEGORISED)
    return f[cols].sort_values(["column", "function", "case_id"]).reset_index(drop=True)
