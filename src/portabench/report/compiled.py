"""The report's "Modes and compilers" section (Markdown lines and the HTML template's context).

Renders :class:`portabench.analysis.compiled.CompiledTables`: per framework a
portability table by device x mode, then for compiled modes the compile-time
distribution, graph breaks, eager fallbacks, recompilations, compile failures,
mismatches split by whether eager on the same device also differs, the slowdown
of the compiled mode against eager on the same device, and the graph-break reasons.
Both renderers say that mode columns are not device columns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from portabench.analysis.compiled import CompiledTables
from portabench.report import formatting as fmt

MAX_REASONS = 10
REASON_CHARS = 120
"""Characters shown of a compile failure's reason."""

MODE_COLUMNS_NOTE = (
    "Columns of kind *mode* are mode columns, not device columns: a non-default mode (torch compile/export, JAX jit, "
    "TensorFlow function/xla) or a tracing device (torch meta), compared with eager on the reference device. On a "
    "machine without an accelerator they are all on the CPU: they measure the compilers, not the hardware."
)


def _cell(r: Any) -> str:
    return fmt.share_ci(r.portable_share, r.portable_lo, r.portable_hi, r.portable_n) + f" of {r.n_functions}"


def by_mode_rows(by_mode: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per (framework, version, origin, device): the portable cell of each of its modes."""
    rows: list[dict[str, Any]] = []
    for (fw, version, origin, device), grp in by_mode.groupby(
        ["framework", "framework_version", "origin", "device"], sort=False
    ):
        rows.append(
            {
                "framework": fw,
                "version": version,
                "device": device + ("" if origin == "portabench" else f" [{origin}]"),
                "kind": ", ".join(dict.fromkeys(grp["kind"])),
                "cells": {r.mode: _cell(r) for r in grp.itertuples()},
            }
        )
    return rows


def summary_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "column": r.column,
            "cases": r.n_cases,
            "compile": f"{fmt.duration_ns(r.compile_median_ns)} / {fmt.duration_ns(r.compile_p90_ns)} / "
            f"{fmt.duration_ns(r.compile_max_ns)} ({r.n_compiled})",
            "breaks": f"{r.break_cases} ({r.graph_breaks} breaks)",
            "fallback": r.fallback_cases,
            "recompiles": r.recompile_cases,
            "compile_failed": r.compile_failed,
            "mismatches": f"{r.mismatches} ({r.compiler_differs} compiler, {r.device_differs} device)",
        }
        for r in summary.itertuples()
    ]


def slowdown_rows(slowdown: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "column": r.column,
            "eager": r.eager_column,
            "n": f"{r.n_functions} ({r.n_cases} cases)",
            "median": f"{fmt.ratio(r.median)} [{fmt.ratio(r.median_lo)}, {fmt.ratio(r.median_hi)}]",
            "p90": fmt.ratio(r.p90),
            "max": fmt.ratio(r.max),
            "geomean": fmt.ratio(r.geomean),
            "faster": fmt.share_ci(r.faster_share, r.faster_lo, r.faster_hi, r.faster_n),
        }
        for r in slowdown.itertuples()
    ]


def html_context(compiled: CompiledTables) -> dict[str, Any] | None:
    """What ``compiled.html.j2`` renders (None: the store has no mode column)."""
    if compiled.empty():
        return None
    frameworks = []
    for fw, grp in compiled.by_mode.groupby("framework", sort=True):
        modes = list(dict.fromkeys(grp["mode"]))
        frameworks.append({"framework": fw, "modes": modes, "rows": by_mode_rows(grp)})
    return {
        "note": MODE_COLUMNS_NOTE,
        "frameworks": frameworks,
        "summary": summary_rows(compiled.compile_summary),
        "slowdown": slowdown_rows(compiled.slowdown),
        "reasons": [
            {"column": r.column, "reason": r.reason, "cases": r.cases}
            for r in compiled.break_reasons.groupby("column").head(MAX_REASONS).itertuples()
        ],
    }


def markdown_section(compiled: CompiledTables) -> list[str]:
    """The section as Markdown lines (nothing when the store has no mode column)."""
    ctx = html_context(compiled)
    if ctx is None:
        return []
    out = [
        "## Modes and compilers",
        "",
        ctx["note"],
        "",
        "Portable share of functions (95% Wilson interval, count) by device and mode:",
        "",
    ]
    for fw in ctx["frameworks"]:
        out += [f"### {fw['framework']}", ""]
        rows = [
            [r["version"], r["device"], r["kind"], *(r["cells"].get(m, "–") for m in fw["modes"])] for r in fw["rows"]
        ]
        out += [
            fmt.markdown_table(["version", "device", "kind", *fw["modes"]], rows, ["l"] * 3 + ["r"] * len(fw["modes"])),
            "",
        ]
    if ctx["summary"]:
        out += [
            "### What the compilers did",
            "",
            "Compile time: median / p90 / max (cases with a time). Graph breaks, eager fallbacks (a case that "
            "ran partly or wholly eagerly) and recompilations count cases. A compiled output that differs stays "
            "`numerical_mismatch`; *compiler*: eager on the same device matches the reference, *device*: it "
            "differs too.",
            "",
        ]
        heads = [
            "column",
            "cases",
            "compile time",
            "graph breaks",
            "fallbacks",
            "recompiles",
            "compile_failed",
            "mismatches",
        ]
        keys = ["column", "cases", "compile", "breaks", "fallback", "recompiles", "compile_failed", "mismatches"]
        out += [fmt.markdown_table(heads, [[r[k] for k in keys] for r in ctx["summary"]], ["l"] + ["r"] * 7), ""]
    if ctx["slowdown"]:
        out += [
            "### Compiled vs eager on the same device",
            "",
            "Per function: geometric mean over cases passed in both of time(mode) / time(eager); a speed-up "
            "is a slowdown below 1.",
            "",
        ]
        heads = ["column", "eager column", "functions", "median [95% CI]", "p90", "max", "geomean", "faster compiled"]
        keys = ["column", "eager", "n", "median", "p90", "max", "geomean", "faster"]
        out += [fmt.markdown_table(heads, [[r[k] for k in keys] for r in ctx["slowdown"]], ["l", "l"] + ["r"] * 6), ""]
    if ctx["reasons"]:
        out += ["### Graph-break reasons", ""]
        out += [
            fmt.markdown_table(
                ["column", "reason (first line)", "cases"],
                [[r["column"], fmt.one_line(r["reason"], REASON_CHARS), r["cases"]] for r in ctx["reasons"]],
                ["l", "l", "r"],
            ),
            "",
        ]
    return out
