"""Slowdowns of a target device against a baseline device of the same framework.

For a baseline column B and a target column T of one group (framework,
framework_version, mode, origin), the paired cases are those that passed on both
(or, for imported timing-only data, ran with outcome ``unknown``) with a positive
``time_median_ns``; devices that do no computation (torch ``meta``) are left out. Per function, the slowdown is the
geometric mean over its paired cases of ``time_T / time_B`` (> 1: slower on T). The
distribution over functions is summarised by its median (with a
distribution-free 95% CI), 90th percentile (linear interpolation), maximum and
the share of functions faster on T (ratio < 1, with a Wilson interval).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from dataclasses import dataclass

import pandas as pd

from portabench.analysis.columns import GROUP
from portabench.analysis.intervals import geometric_mean, ratio_summary, share
from portabench.cases import PASSED, UNKNOWN
from portabench.frameworks import device_kind, timeless_devices

TOP_N = 10
TIMED_OUTCOMES = (PASSED, UNKNOWN)
"""Outcomes whose timings are used: passed, and imported timing-only cases (the call ran)."""

PAIR = ["baseline", "target", "baseline_column", "target_column"]
FUNCTION_COLUMNS = GROUP + PAIR + ["function", "n_cases", "ratio", "baseline_ns", "target_ns"]
SUMMARY_COLUMNS = (
    GROUP
    + PAIR
    + [
        "n_functions",
        "n_cases",
        "median",
        "median_lo",
        "median_hi",
        "p90",
        "max",
        "geomean",
        "faster_n",
        "faster_share",
        "faster_lo",
        "faster_hi",
        "slower_share",
    ]
)
TOP_COLUMNS = GROUP + PAIR + ["rank", "function", "ratio", "n_cases", "baseline_ns", "target_ns"]


def _group_label(key: tuple) -> str:
    fw, version, mode, origin = key
    return f"{fw} {version} {mode}" + ("" if origin == "portabench" else f" [{origin}]")


def _matches(selector: str, column_device: str, run_devices: Set[str]) -> bool:
    return selector == column_device or selector in run_devices


def default_baseline(group_runs: pd.DataFrame) -> str:
    """The reference device kind of a group: most common ``reference_device`` of its target runs
    (index stripped), else ``cpu`` when the group has a cpu column, else the most common device of its runs."""
    refs = [device_kind(r) for r in group_runs["reference_device"] if isinstance(r, str) and r]
    if refs:
        return Counter(refs).most_common(1)[0][0]
    if (group_runs["device"] == "cpu").any() or group_runs.empty:
        return "cpu"
    return Counter(group_runs["device"]).most_common(1)[0][0]


@dataclass(frozen=True)
class Column:
    """One report column, as slowdowns see it."""

    label: str
    device: str
    soft: bool
    run_devices: frozenset[str]
    hosts: frozenset[str]


def _columns_of(grp: pd.DataFrame) -> list[Column]:
    out = []
    for label, g in grp.groupby("column", sort=True):
        out.append(
            Column(
                label=label,
                device=str(g["device"].iloc[0]),
                soft=bool(g["soft"].any()) if "soft" in g else False,
                run_devices=frozenset(map(str, g["run_device"])),
                hosts=frozenset(map(str, g["host"])),
            )
        )
    return out


def _baselines_for(target: Column, bases: list[Column]) -> list[Column]:
    """The baseline columns a target column is compared with: those of the same machine (host) if any,
    else those of the same placement (soft or hard), else all."""
    same_host = [b for b in bases if b.hosts & target.hosts]
    if same_host:
        return same_host
    same_soft = [b for b in bases if b.soft == target.soft]
    return same_soft or bases


def plan_pairs(runs: pd.DataFrame, baseline: str | None, targets: list[str] | None) -> tuple[list[tuple], list[str]]:
    """Choose (group, baseline column, target column) pairs to compare, and notes on what is missing.

    Selectors match a column's device kind (``cuda``) or a run's requested device (``cuda:1``).
    Columns on devices that do no computation (the registry's ``timeless_devices``, torch ``meta``)
    are left out, with a note. A target column is paired with the baseline column(s) of its own
    machine, else of its own placement (soft placement with soft placement), else every baseline column.
    """
    pairs: list[tuple] = []
    notes: list[str] = []
    if runs.empty:
        return pairs, notes
    for key, grp in runs.groupby(GROUP, sort=True):
        label = _group_label(key)
        fw = key[0]
        timeless = set(timeless_devices(fw))
        cols = _columns_of(grp)
        dropped = sorted({c.device for c in cols if c.device in timeless})
        if dropped:
            notes.append(f"{label}: {', '.join(dropped)} does no computation (shapes only): left out of slowdowns")
        cols = [c for c in cols if c.device not in timeless]
        base_sel = baseline or default_baseline(grp)
        bases = [c for c in cols if _matches(base_sel, c.device, c.run_devices)]
        if not bases:
            if cols:
                notes.append(
                    f"{label}: no {base_sel} (baseline) run in the store: slowdowns not available; "
                    + _how_to_add(fw, base_sel)
                )
            continue
        base_devices = {c.device for c in bases}
        others = [c for c in cols if c.device not in base_devices]
        if targets:
            chosen: list[Column] = []
            for sel in targets:
                found = [c for c in others if _matches(sel, c.device, c.run_devices)]
                if not found:
                    notes.append(f"{label}: no {sel} run in the store: targets not available; " + _how_to_add(fw, sel))
                chosen += [c for c in found if c not in chosen]
        else:
            chosen = others
            if not chosen:
                notes.append(
                    f"{label}: only {', '.join(sorted(base_devices))} runs, no target device to compare; "
                    + _how_to_add(fw, None)
                )
        for t in chosen:
            pairs += [(key, b, t) for b in _baselines_for(t, bases)]
    return pairs, notes


def _how_to_add(framework: str, device: str | None) -> str:
    """The one advice for a device missing from the store (the same wording in every note)."""
    dev = device or "<device>"
    return (
        f"to add it, run `portabench run --framework {framework} --device {dev}` on a machine that has it, "
        f"then `portabench merge this.sqlite that.sqlite -o both.sqlite`"
    )


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
    timed = (
        pooled[pooled["outcome"].isin(TIMED_OUTCOMES) & (pd.to_numeric(pooled["time_median_ns"], errors="coerce") > 0)]
        if not pooled.empty
        else pooled
    )
    for key, bcol, tcol in pairs:
        b, t = bcol.device, tcol.device
        pair = {"baseline": b, "target": t, "baseline_column": bcol.label, "target_column": tcol.label}
        bt = timed[timed["column"] == bcol.label][["case_id", "function", "time_median_ns"]]
        tt = timed[timed["column"] == tcol.label][["case_id", "time_median_ns"]]
        paired = bt.merge(tt, on="case_id", suffixes=("_b", "_t"))
        if paired.empty:
            notes.append(f"{bcol.label} → {tcol.label}: no case passed with a timing on both: no slowdown")
            continue
        paired["ratio"] = paired["time_median_ns_t"].astype(float) / paired["time_median_ns_b"].astype(float)
        per_fn = (
            paired.groupby("function")
            .agg(
                n_cases=("ratio", "size"),
                ratio=("ratio", geometric_mean),
                baseline_ns=("time_median_ns_b", geometric_mean),
                target_ns=("time_median_ns_t", geometric_mean),
            )
            .reset_index()
        )
        for col, val in zip(GROUP, key, strict=False):
            per_fn[col] = val
        for col, val in pair.items():
            per_fn[col] = val
        per_fn = per_fn.sort_values(["ratio", "function"], ascending=[False, True], kind="stable")
        fn_rows.append(per_fn[FUNCTION_COLUMNS])
        ratios = per_fn["ratio"].to_numpy(dtype=float)
        n = len(ratios)
        summary_rows.append(
            {
                **dict(zip(GROUP, key, strict=False)),
                **pair,
                "n_functions": n,
                "n_cases": len(paired),
                **ratio_summary(ratios),
                "slower_share": share(int((ratios > 1).sum()), n),
            }
        )
        top = per_fn.head(TOP_N).copy()
        top["rank"] = range(1, len(top) + 1)
        top_rows.append(top[TOP_COLUMNS])
    functions = pd.concat(fn_rows, ignore_index=True) if fn_rows else pd.DataFrame(columns=FUNCTION_COLUMNS)
    summary = pd.DataFrame(summary_rows, columns=SUMMARY_COLUMNS)
    top = pd.concat(top_rows, ignore_index=True) if top_rows else pd.DataFrame(columns=TOP_COLUMNS)
    return functions, summary, top, notes
