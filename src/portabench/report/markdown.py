"""StudyTables -> a Markdown report."""

from __future__ import annotations

from typing import Any

import pandas as pd

from portabench.analysis import StudyTables
from portabench.analysis.messages import PATTERN_LIMIT
from portabench.report import compiled as compiled_section
from portabench.report import formatting as fmt
from portabench.report.coverage import coverage_markdown
from portabench.report.internal_errors import markdown_section as internal_errors_markdown
from portabench.report.models import render_models_markdown

MAX_DTYPE_ROWS = 50
MAX_BROKEN_ROWS = 60
MAX_FAILING_PER_COLUMN = 100
MAX_OTHER_ROWS = 30


def render_markdown(tables: StudyTables) -> str:
    """The whole study as Markdown: title, environment, portability per column, broken cases,
    failure categories, the failing functions of each column, unexplained (``other``) messages,
    slowdowns (summary and 10 largest per pair), numerical errors, dtype contradictions, notes.
    Deterministic for given tables (apart from the ``generated_at`` line)."""
    parts = ["# portabench report", ""]
    src = f"Store: `{tables.source}` · " if tables.source else ""
    parts += [f"{src}generated {tables.generated_at}. Shares are of functions, with 95% Wilson intervals "
              "[lo, hi] and counts; see docs/statistics.md for the definitions.", ""]
    parts += _environment(tables.environment)
    parts += _portability(tables.portability)
    parts += compiled_section.markdown_section(tables.compiled)
    parts += coverage_markdown(tables.coverage)
    parts += _broken(tables.broken_summary, tables.broken)
    parts += internal_errors_markdown(tables.internal_errors)
    parts += _categories(tables.categories)
    parts += _failing_functions(tables.per_function)
    parts += _other_messages(tables.other_messages)
    parts += _slowdowns(tables.slowdown_summary, tables.slowdown_top)
    parts += _errors(tables.error_summary)
    parts += _dtypes(tables.dtype_matrix)
    parts += render_models_markdown(tables)  # whole models (report/models.py)
    parts += ["## Notes", ""]
    parts += [f"- {n}" for n in fmt.distinct_notes(tables.notes)] or ["- none"]
    return "\n".join(parts).rstrip() + "\n"


def _environment(env: pd.DataFrame) -> list[str]:
    out = ["## Environment", ""]
    if env.empty:
        return out + ["No runs in the store.", ""]
    rows = [[r.run_id, r.column, r.run_device, r.device_name, r.role, r.host,
             fmt.one_line(r.numerics, fmt.SETTING_CHARS), r.status, r.n_cases] for r in env.itertuples()]
    heads = ["run", "column", "device", "device name", "role", "host", "numerics", "status", "n cases"]
    return out + [fmt.markdown_table(heads, rows, ["l"] * 8 + ["r"]), ""]


def _portability(port: pd.DataFrame) -> list[str]:
    out = ["## Portability", ""]
    if port.empty:
        return out + ["No results.", ""]
    out += ["Per function: *portable* = every case passed, *partial* = some failed, *complete* = all failed "
            "(broken cases, which fail on the reference device, and cases without a recorded outcome excluded). "
            "*failing* = partial + complete. Runs are pooled into one column only when their configuration is "
            "the same; soft device placement is always its own column.", ""]
    heads = ["column", "role", "n functions", "portable", "partial", "complete", "failing", "ref. broken",
             "outcome unknown", "no cases", "missing", "cases disagreeing"]
    timing_only = port[(port["n_functions"] == 0) & (port["outcome_unknown"] > 0)]
    port = port.drop(timing_only.index)
    rows = []
    for r in port.sort_values(["framework", "column"], kind="stable").itertuples():
        rows.append([r.column, r.role, r.n_functions,
                     *(fmt.share_ci(getattr(r, f"{s}_share"), getattr(r, f"{s}_lo"), getattr(r, f"{s}_hi"),
                                    getattr(r, f"{s}_n")) for s in ("portable", "partial", "complete", "failing")),
                     r.reference_broken, r.outcome_unknown, r.no_cases, r.missing, r.cases_disagreeing])
    out += [fmt.markdown_table(heads, rows, ["l", "l"] + ["r"] * 10), ""]
    if len(timing_only):
        out += [
            "Timing-only columns (no recorded outcome; used for slowdowns): "
            f"{'; '.join(sorted(timing_only['column']))}.",
            "",
        ]
    return out


def _broken(summary: pd.DataFrame, broken: pd.DataFrame) -> list[str]:
    out = ["## Broken cases", ""]
    if summary.empty or not summary["n_broken"].sum():
        return out + ["No case fails on the reference device.", ""]
    out += [
        "Cases that fail on the reference device (and, in imported data, failures of the test code itself): "
        "broken cases of the harness or its inputs, not portability findings. They are excluded from every share "
        "above.",
        "",
    ]
    rows = [
        [_group(r), r.n_cases, r.n_broken, fmt.share_ci(r.broken_share, r.broken_lo, r.broken_hi), r.n_functions_broken]
        for r in summary.itertuples()
    ]
    out += [
        fmt.markdown_table(
            ["framework", "cases", "broken", "broken share", "functions"], rows, ["l", "r", "r", "r", "r"]
        ),
        "",
    ]
    b = broken.assign(
        group=[_group(r) for r in broken.itertuples()],
        text=[fmt.one_line(m, fmt.TABLE_MESSAGE_CHARS) or "–" for m in broken["message"]],
    )
    grouped = (
        b.groupby(["group", "function", "text"], sort=True)
        .agg(dtypes=("dtype", lambda d: ", ".join(sorted(set(d)))), cases=("case_id", "size"))
        .reset_index()
    )
    rows = [[r.group, f"`{r.function}`", r.dtypes, r.cases, r.text] for r in grouped.head(MAX_BROKEN_ROWS).itertuples()]
    out += [
        fmt.markdown_table(
            ["framework", "function", "dtypes", "cases", "message on the reference device"],
            rows,
            ["l", "l", "l", "r", "l"],
        ),
        "",
    ]
    if len(grouped) > MAX_BROKEN_ROWS:
        out += [f"… and {len(grouped) - MAX_BROKEN_ROWS} more (see the JSON or HTML report).", ""]
    return out


def _group(r: Any) -> str:
    origin = "" if r.origin == "portabench" else f" [{r.origin}]"
    return f"{r.framework} {r.framework_version} {r.mode}{origin}"


def _categories(cats: pd.DataFrame) -> list[str]:
    out = ["## Failure categories", ""]
    if cats.empty:
        return out + ["No failing case.", ""]
    out += ["Failing functions are counted once, under their most frequent category.", ""]
    rows = [
        [r.column, r.category, f"{r.functions} ({fmt.pct(r.functions_share)})", f"{r.cases} ({fmt.pct(r.cases_share)})"]
        for r in cats.itertuples()
    ]
    return out + [
        fmt.markdown_table(["column", "category", "failing functions", "failing cases"], rows, ["l", "l", "r", "r"]),
        "",
    ]


def _failing_functions(per_fn: pd.DataFrame) -> list[str]:
    out = ["## Failing functions", ""]
    failing = per_fn[per_fn["status"].isin(["partial", "complete"])] if not per_fn.empty else per_fn
    if failing.empty:
        return out + ["No function fails.", ""]
    out += [
        "Per column: each failing function with its main category, failing / measured cases and one example message.",
        "",
    ]
    for column, grp in failing.groupby("column", sort=True):
        out += [f"### {column}", ""]
        rows = [
            [
                f"`{r.function}`",
                r.status,
                r.main_category or "–",
                f"{r.n_failed} / {r.n_passed + r.n_failed}",
                fmt.one_line(r.message, fmt.TABLE_MESSAGE_CHARS) or "–",
            ]
            for r in grp.head(MAX_FAILING_PER_COLUMN).itertuples()
        ]
        out += [
            fmt.markdown_table(
                ["function", "status", "category", "failing / cases", "example message"],
                rows,
                ["l", "l", "l", "r", "l"],
            ),
            "",
        ]
        if len(grp) > MAX_FAILING_PER_COLUMN:
            out += [f"… and {len(grp) - MAX_FAILING_PER_COLUMN} more (see the JSON or HTML report).", ""]
    return out


def _other_messages(other: pd.DataFrame) -> list[str]:
    out = ["## Unexplained failures (`other`)", ""]
    if other.empty:
        return out + ["Every failing case has a category.", ""]
    out += [
        "Failing cases no taxonomy rule explains, grouped by exception type and message pattern (numbers → N, "
        "quoted text → '…'): the next rule to write is at the top.",
        "",
    ]
    rows = [
        [r.framework, r.exc_type or "–", fmt.one_line(r.pattern, PATTERN_LIMIT), r.cases, r.functions,
         f"`{r.example_function}`"]
        for r in other.head(MAX_OTHER_ROWS).itertuples()
    ]
    out += [
        fmt.markdown_table(
            ["framework", "exception", "message pattern", "cases", "functions", "example"],
            rows,
            ["l", "l", "l", "r", "r", "l"],
        ),
        "",
    ]
    if len(other) > MAX_OTHER_ROWS:
        out += [f"… and {len(other) - MAX_OTHER_ROWS} more patterns (see the JSON report).", ""]
    return out


def _pair(r: Any) -> str:
    return f"{r.baseline_column} → {r.target_column}"


def _slowdowns(summary: pd.DataFrame, top: pd.DataFrame) -> list[str]:
    out = ["## Slowdowns", ""]
    if summary.empty:
        return out + ["No baseline/target pair with timings (see the notes).", ""]
    out += [
        "Per function: geometric mean over cases passed on both devices of time(target) / time(baseline); "
        "> 1 means slower on the target. Devices that do no computation (torch `meta`) are left out.",
        "",
    ]
    rows = [
        [
            _pair(r),
            r.n_functions,
            r.n_cases,
            f"{fmt.ratio(r.median)} [{fmt.ratio(r.median_lo)}, {fmt.ratio(r.median_hi)}]",
            fmt.ratio(r.p90),
            fmt.ratio(r.max),
            fmt.share_ci(r.faster_share, r.faster_lo, r.faster_hi, r.faster_n),
        ]
        for r in summary.itertuples()
    ]
    out += [
        fmt.markdown_table(
            ["baseline → target", "n functions", "n cases", "median [95% CI]", "p90", "max", "faster on target"],
            rows,
            ["l"] + ["r"] * 6,
        ),
        "",
    ]
    for _key, grp in top.groupby(["baseline_column", "target_column"], sort=True):
        first = next(grp.itertuples())
        out += [f"### Largest slowdowns: {_pair(first)}", ""]
        rows = [
            [
                r.rank,
                r.function,
                fmt.ratio(r.ratio),
                r.n_cases,
                fmt.duration_ns(r.baseline_ns),
                fmt.duration_ns(r.target_ns),
            ]
            for r in grp.sort_values("rank").itertuples()
        ]
        out += [
            fmt.markdown_table(
                ["rank", "function", "slowdown", "cases", f"time {first.baseline}", f"time {first.target}"],
                rows,
                ["r", "l", "r", "r", "r", "r"],
            ),
            "",
        ]
    return out


def _errors(summary: pd.DataFrame) -> list[str]:
    out = ["## Numerical errors of mismatching cases", ""]
    if summary.empty:
        return out + ["No numerical mismatch.", ""]
    rows = [
        [
            r.column,
            r.n_cases,
            r.n_functions,
            fmt.sci(r.abs_median),
            fmt.sci(r.abs_p90),
            fmt.sci(r.abs_max),
            fmt.sci(r.rel_median),
            fmt.sci(r.rel_p90),
            fmt.sci(r.rel_max),
        ]
        for r in summary.itertuples()
    ]
    heads = ["column", "cases", "functions", "abs median", "abs p90", "abs max", "rel median", "rel p90", "rel max"]
    return out + [fmt.markdown_table(heads, rows, ["l"] + ["r"] * 8), ""]


def _dtypes(matrix: pd.DataFrame) -> list[str]:
    out = ["## Dtype support: contradictions of the claims", ""]
    claimed = matrix[matrix["claimed"].notna()] if not matrix.empty else matrix
    if claimed.empty:
        return out + ["No claimed dtypes recorded.", ""]
    differ = claimed[claimed["agree"] == False]  # noqa: E712 (object column)
    judged = claimed[claimed["agree"].notna()]
    untested = int(sum(len(x) > 0 for x in claimed["claimed_not_tested"] if isinstance(x, list)))
    out += [
        f"{len(judged) - len(differ)} of {len(judged)} (column, function) pairs with claimed and tested dtypes "
        f"agree: over the tested dtypes, the claimed ones are exactly those with a passing case. Dtypes that no "
        f"case tested are *not tested*, not unsupported ({untested} pairs have claimed dtypes left untested).",
        "",
    ]
    if differ.empty:
        return out
    rows = [
        [r.column, r.function, fmt.dtypes(r.claimed_not_observed), fmt.dtypes(r.observed_not_claimed)]
        for r in differ.head(MAX_DTYPE_ROWS).itertuples()
    ]
    out += [fmt.markdown_table(["column", "function", "claimed, tested, failing", "working, not claimed"], rows), ""]
    if len(differ) > MAX_DTYPE_ROWS:
        out += [f"… and {len(differ) - MAX_DTYPE_ROWS} more (see the JSON or HTML report).", ""]
    return out
