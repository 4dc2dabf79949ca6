"""Modes as columns: portability by device x mode, and what the compilers did.

Inputs are the pooled results and the portability table of
:mod:`portabench.analysis` (a column is framework, version, device, mode, origin).
A *mode column* is a column of a non-default mode (jit, compile, export,
function, xla), or a column on the device its runs were compared with (the mode
is then compared with eager on that same device), or a tracing device (``meta``).

Tables (all pandas DataFrames; empty when the store holds no such runs):

* ``by_mode``: one row per (framework, version, origin, device, mode) with the
  portable share of the column, and ``kind``: ``reference``, ``device`` (another
  device in the default mode) or ``mode`` (a mode column);
* ``compile_summary``: per compiled column: cases, compile-time distribution
  (``compile_ns``: median, p90, max), graph breaks (cases with one, total), cases
  that ran (partly) eagerly (``fallback``), recompilations, ``compile_failed``
  cases, and of the mismatching cases how many also mismatch eagerly on the same
  device (``device_differs``) or not (``compiler_differs``);
* ``slowdown``: per compiled column, the slowdown of the compiled mode against
  the default mode on the same device (columns of one framework version and
  origin): per function the geometric mean over cases passed in both of
  time(mode) / time(eager); summarised by median (95% CI), p90, max, geometric
  mean and the share of functions faster compiled (a speed-up is a slowdown < 1);
* ``break_reasons``: per compiled column, graph-break reasons (first line) with
  the cases they occurred in, most frequent first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portabench.analysis.columns import KEY, json_object
from portabench.analysis.intervals import geometric_mean, ratio_summary
from portabench.cases import FAILED, PASSED
from portabench.frameworks import FRAMEWORKS, device_kind

COMPILE_FAILED = "compile_failed"
NUMERICAL_MISMATCH = "numerical_mismatch"
#: devices that hold no data; their columns trace rather than compute (mode columns)
TRACING_DEVICES = ("meta",)

BY_MODE_COLUMNS = KEY + ["column", "kind", "n_functions", "portable_n", "portable_share", "portable_lo", "portable_hi",
                         "failing_n", "n_cases"]
SUMMARY_COLUMNS = KEY + ["column", "n_cases", "n_compiled", "compile_median_ns", "compile_p90_ns", "compile_max_ns",
                         "break_cases", "graph_breaks", "fallback_cases", "recompile_cases", "compile_failed",
                         "mismatches", "device_differs", "compiler_differs"]
SLOWDOWN_COLUMNS = KEY + ["column", "eager_column", "n_functions", "n_cases", "median", "median_lo", "median_hi",
                          "p90", "max", "geomean", "faster_n", "faster_share", "faster_lo", "faster_hi"]
REASON_COLUMNS = KEY + ["column", "reason", "cases"]


@dataclass
class CompiledTables:
    """The mode/compiler tables (see the module docstring)."""

    by_mode: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BY_MODE_COLUMNS))
    compile_summary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SUMMARY_COLUMNS))
    slowdown: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SLOWDOWN_COLUMNS))
    break_reasons: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REASON_COLUMNS))

    def empty(self) -> bool:
        return self.by_mode.empty or not (self.by_mode["kind"] == "mode").any()


def default_mode(framework: str) -> str:
    """The framework's default (eager) mode; ``eager`` for frameworks the registry does not know."""
    entry = FRAMEWORKS.get(str(framework))
    return entry.modes[0] if entry else "eager"


def is_compiled(framework: str, mode: str) -> bool:
    return str(mode) != default_mode(framework)


def column_kind(framework: str, mode: str, device: str, role: str, reference_devices: set[str]) -> str:
    """``reference``, ``device`` (another device, default mode) or ``mode`` (a mode column)."""
    if is_compiled(framework, mode) or device in TRACING_DEVICES or device in reference_devices and role != "reference":
        return "mode"
    return "reference" if role == "reference" else "device"


def build_compiled(pooled: pd.DataFrame, portability: pd.DataFrame) -> CompiledTables:
    """The tables of the module docstring from pooled results and the portability table."""
    out = CompiledTables()
    if portability.empty:
        return out
    out.by_mode = _by_mode(portability)
    if pooled.empty or "graph_breaks" not in pooled.columns:
        return out
    compiled = pooled[[is_compiled(f, m) for f, m in zip(pooled["framework"], pooled["mode"], strict=True)]]
    if compiled.empty:
        return out
    out.compile_summary = _summary(compiled)
    out.slowdown = _slowdown(pooled)
    out.break_reasons = _reasons(compiled)
    return out


def _by_mode(port: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in port.itertuples():
        refs = {device_kind(x) for x in str(r.reference_device or "").split(", ") if x}
        rows.append({
            **{k: getattr(r, k) for k in KEY}, "column": r.column,
            "kind": column_kind(r.framework, r.mode, r.device, r.role, refs),
            "n_functions": r.n_functions, "portable_n": r.portable_n, "portable_share": r.portable_share,
            "portable_lo": r.portable_lo, "portable_hi": r.portable_hi, "failing_n": r.failing_n, "n_cases": r.n_cases,
        })
    df = pd.DataFrame(rows, columns=BY_MODE_COLUMNS)
    order = {"reference": 0, "device": 1, "mode": 2}
    df["_o"] = df["kind"].map(order)
    return (
        df.sort_values(["framework", "framework_version", "origin", "_o", "device", "mode"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _summary(compiled: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key, grp in compiled.groupby(KEY + ["column"], sort=True):
        times = grp["compile_ns"].dropna().astype(float)
        breaks = pd.to_numeric(grp["graph_breaks"], errors="coerce").fillna(0)
        mism = grp[(grp["outcome"] == FAILED) & (grp["category"] == NUMERICAL_MISMATCH)]
        eager_ok = [_eager_ok(info) for info in mism["compile_info"]]
        device_differs = sum(1 for ok in eager_ok if ok is False)
        rows.append(
            {
                **dict(zip(KEY + ["column"], key, strict=False)),
                "n_cases": len(grp),
                "n_compiled": int(len(times)),
                "compile_median_ns": float(times.median()) if len(times) else np.nan,
                "compile_p90_ns": float(times.quantile(0.9)) if len(times) else np.nan,
                "compile_max_ns": float(times.max()) if len(times) else np.nan,
                "break_cases": int((breaks > 0).sum()),
                "graph_breaks": int(breaks.sum()),
                "fallback_cases": int(pd.to_numeric(grp["fallback"], errors="coerce").fillna(0).astype(bool).sum()),
                "recompile_cases": int((pd.to_numeric(grp["recompiles"], errors="coerce").fillna(0) > 0).sum()),
                "compile_failed": int((grp["category"] == COMPILE_FAILED).sum()),
                "mismatches": len(mism),
                "device_differs": device_differs,
                "compiler_differs": int(sum(1 for ok in eager_ok if ok is True)),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _eager_ok(info: object) -> bool | None:
    """Whether eager on the same device matched the reference (stored in compile_info by the runner)."""
    data = json_object(info)
    value = data.get("eager_same_device_ok")
    return None if value is None else bool(value)


def _slowdown(pooled: pd.DataFrame) -> pd.DataFrame:
    ok = pooled[(pooled["outcome"] == PASSED) & (pd.to_numeric(pooled["time_median_ns"], errors="coerce") > 0)]
    rows = []
    base_key = ["framework", "framework_version", "device", "origin"]
    for key, grp in ok.groupby(base_key, sort=True):
        eager = grp[grp["mode"] == default_mode(key[0])]
        if eager.empty:
            continue
        eager_t = eager.set_index("case_id")["time_median_ns"].astype(float)
        for mode, comp in grp[grp["mode"] != default_mode(key[0])].groupby("mode", sort=True):
            paired = comp.set_index("case_id")[["function", "time_median_ns"]].join(
                eager_t.rename("eager_ns"), how="inner"
            )
            if paired.empty:
                continue
            paired["ratio"] = paired["time_median_ns"].astype(float) / paired["eager_ns"]
            per_fn = paired.groupby("function")["ratio"].apply(lambda s: geometric_mean(s.tolist()))
            rows.append(
                {
                    **dict(zip(base_key, key, strict=False)),
                    "mode": mode,
                    "column": comp["column"].iloc[0],
                    "eager_column": eager["column"].iloc[0],
                    "n_functions": len(per_fn),
                    "n_cases": len(paired),
                    **ratio_summary(per_fn.to_numpy(dtype=float)),
                }
            )
    return pd.DataFrame(rows, columns=SLOWDOWN_COLUMNS)


def _reasons(compiled: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key, grp in compiled.groupby(KEY + ["column"], sort=True):
        counts: dict[str, int] = {}
        for info in grp["compile_info"]:
            for reason in set(json_object(info).get("break_reasons") or []):
                counts[reason] = counts.get(reason, 0) + 1
        for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append({**dict(zip(KEY + ["column"], key, strict=False)), "reason": reason, "cases": n})
    return pd.DataFrame(rows, columns=REASON_COLUMNS)
