"""Slowdowns of a target device against a baseline device of the same framework.

For a baseline column B and a target column T of one group (framework,
framework_version, mode, origin), the paired cases are those that passed on both
with a positive ``time_median_ns``. Per function, the slowdown is the geometric
mean over its paired cases of ``time_T / time_B`` (> 1: slower on T). The
distribution over functions is summarised by its median (with a
distribution-free 95% CI), 90th percentile (linear interpolation), maximum and
the share of functions faster on T (ratio < 1, with a Wilson interval).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from portabench.analysis.columns import GROUP
from portabench.analysis.intervals import geometric_mean, median_ci, share, wilson_interval
from portabench.cases import PASSED

TOP_N = 10

FUNCTION_COLUMNS = GROUP + ["baseline", "target", "function", "n_cases", "ratio", "baseline_ns", "target_ns"]
SUMMARY_COLUMNS = GROUP + [
    "baseline", "target", "n_functions", "n_cases", "median", "median_lo", "median_hi", "p90", "max",
    "geomean", "faster_n", "faster_share", "faster_lo", "faster_hi", "slower_share",
]
TOP_COLUMNS = GROUP + ["baseline", "target", "rank", "function", "ratio", "n_cases", "baseline_ns", "target_ns"]


def _group_label(key: tuple) -> str:
    fw, version, mode, origin = key
    return f"{fw} {version} {mode}" + ("" if origin == "portabench" else f" [{origin}]")


def _matches(selector: str, column_device: str, run_devices: set[str]) -> bool:
    return selector == column_device or selector in run_devices


def default_baseline(group_runs: pd.DataFrame) -> str:
    """The reference device kind of a group: most common ``reference_device`` of its target runs
    (index stripped), else the device of its reference runs, else ``cpu``."""
    refs = [str(r).split(":")[0] for r in group_runs["reference_device"] if isinstance(r, str) and r]
    if refs:
        return Counter(refs).most_common(1)[0][0]
    ref_runs = group_runs[group_runs["role"] == "reference"]
    if len(ref_runs):
        return Counter(ref_runs["device"]).most_common(1)[0][0]
    return "cpu"


def plan_pairs(runs: pd.DataFrame, baseline: str | None, targets: list[str] | None) -> tuple[list[tuple], list[str]]:
    """Choose (group, baseline device, target device) pairs to compare, and notes on what is missing.

    Selectors match a column's device kind (``cuda``) or a run's requested device (``cuda:1``).
    """
    pairs: list[tuple] = []
    notes: list[str] = []
    if runs.empty:
        return pairs, notes
    for key, grp in runs.groupby(GROUP, sort=True):
        label = _group_label(key)
        devices = {d: set(g["run_device"]) for d, g in grp.groupby("device")}
        base_sel = baseline or default_baseline(grp)
        base = [d for d, rd in devices.items() if _matches(base_sel, d, rd)]
        fw = key[0]
        if not base:
            notes.append(
                f"{label}: no {base_sel} (baseline) run in the store: slowdowns not available; run "
                f"`portabench run --framework {fw} --device {base_sel}` then `portabench merge`"
            )
            continue
        b = base[0]
        if targets:
            chosen = []
            for sel in targets:
                found = [d for d, rd in devices.items() if d != b and _matches(sel, d, rd)]
                if not found:
                    notes.append(
                        f"no {sel} run in the store for {label}: targets not available. To add them, run "
                        f"`portabench run --framework {fw} --device {sel}` on a machine that has {sel}, "
                        f"then `portabench merge`"
                    )
                chosen += [d for d in found if d not in chosen]
        else:
            chosen = sorted(d for d in devices if d != b)
            if not chosen:
                notes.append(
                    f"{label} has only {b} runs: no target device to compare. To add one, run "
                    f"`portabench run --framework {fw} --device D` (D = cuda, tpu, mps, ...) on a machine "
                    f"that has D, then `portabench merge`"
                )
        pairs += [(key, b, t) for t in chosen]
    return pairs, notes


def slowdown_tables(
    pooled: pd.DataFrame, runs: pd.DataFrame, baseline: str | None = None, targets: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Per-function slowdowns, their summary per pair, the top-10 per pair, and notes.

    Returns ``(functions, summary, top, notes)``; ``functions`` has one row per
    (pair, function) sorted by ratio descending; ``top`` the :data:`TOP_N`
    largest ratios per pair (ties: function name), ranked from 1.
    """
    pairs, notes = plan_pairs(runs, baseline, targets)
    fn_rows: list[pd.DataFrame] = []
    summary_rows: list[dict] = []
    top_rows: list[pd.DataFrame] = []
    timed = pooled[(pooled["outcome"] == PASSED) & (pd.to_numeric(pooled["time_median_ns"], errors="coerce") > 0)] \
        if not pooled.empty else pooled
    for key, b, t in pairs:
        sel = timed
        for col, val in zip(GROUP, key):
            sel = sel[sel[col] == val]
        bt = sel[sel["device"] == b][["case_id", "function", "time_median_ns"]]
        tt = sel[sel["device"] == t][["case_id", "time_median_ns"]]
        paired = bt.merge(tt, on="case_id", suffixes=("_b", "_t"))
        label = _group_label(key)
        if paired.empty:
            notes.append(f"{label}: no case passed with a timing on both {b} and {t}: no slowdown")
            continue
        paired["ratio"] = paired["time_median_ns_t"].astype(float) / paired["time_median_ns_b"].astype(float)
        per_fn = paired.groupby("function").agg(
            n_cases=("ratio", "size"),
            ratio=("ratio", geometric_mean),
            baseline_ns=("time_median_ns_b", geometric_mean),
            target_ns=("time_median_ns_t", geometric_mean),
        ).reset_index()
        for col, val in zip(GROUP, key):
            per_fn[col] = val
        per_fn["baseline"], per_fn["target"] = b, t
        per_fn = per_fn.sort_values(["ratio", "function"], ascending=[False, True], kind="stable")
        fn_rows.append(per_fn[FUNCTION_COLUMNS])
        ratios = per_fn["ratio"].to_numpy(dtype=float)
        n = len(ratios)
        faster = int((ratios < 1).sum())
        lo, hi = median_ci(ratios)
        f_lo, f_hi = wilson_interval(faster, n)
        summary_rows.append({
            **dict(zip(GROUP, key)), "baseline": b, "target": t, "n_functions": n, "n_cases": len(paired),
            "median": float(np.median(ratios)), "median_lo": lo, "median_hi": hi,
            "p90": float(np.percentile(ratios, 90)), "max": float(ratios.max()), "geomean": geometric_mean(ratios),
            "faster_n": faster, "faster_share": share(faster, n), "faster_lo": f_lo, "faster_hi": f_hi,
            "slower_share": share(int((ratios > 1).sum()), n),
        })
        top = per_fn.head(TOP_N).copy()
        top["rank"] = range(1, len(top) + 1)
        top_rows.append(top[TOP_COLUMNS])
    functions = pd.concat(fn_rows, ignore_index=True) if fn_rows else pd.DataFrame(columns=FUNCTION_COLUMNS)
    summary = pd.DataFrame(summary_rows, columns=SUMMARY_COLUMNS)
    top = pd.concat(top_rows, ignore_index=True) if top_rows else pd.DataFrame(columns=TOP_COLUMNS)
    return functions, summary, top, notes
