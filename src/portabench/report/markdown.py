"""StudyTables -> a Markdown report."""

from __future__ import annotations

import pandas as pd

from portabench.analysis import StudyTables
from portabench.report import compiled as compiled_section
from portabench.report import formatting as fmt
from portabench.report.models import render_models_markdown
from portabench.report.coverage import coverage_markdown

MAX_DTYPE_ROWS = 50


def render_markdown(tables: StudyTables) -> str:
    """The whole study as Markdown: title, environment, portability per framework x device,
    failure categories per device, slowdowns (summary and 10 largest per pair), numerical
    errors, dtype disagreements, notes. Deterministic for given tables (apart from the
    ``generated_at`` line)."""
    parts = ["# portabench report", ""]
    src = f"Store: `{tables.source}` · " if tables.source else ""
    parts += [f"{src}generated {tables.generated_at}. Shares are of functions, with 95% Wilson intervals "
              "[lo, hi] and counts; see docs/statistics.md for the definitions.", ""]
    parts += _environment(tables.environment)
    parts += _portability(tables.portability)
    parts += compiled_section.markdown_section(tables.compiled)
    parts += coverage_markdown(tables.coverage)
    parts += _categories(tables.categories)
    parts += _slowdowns(tables.slowdown_summary, tables.slowdown_top)
    parts += _errors(tables.error_summary)
    parts += _dtypes(tables.dtype_matrix)
    parts += render_models_markdown(tables)  # whole models (report/models.py)
    parts += ["## Notes", ""]
    parts += [f"- {n}" for n in tables.notes] or ["- none"]
    return "\n".join(parts).rstrip() + "\n"


def _environment(env: pd.DataFrame) -> list[str]:
    out = ["## Environment", ""]
    if env.empty:
        return out + ["No runs in the store.", ""]
    rows = [[r.run_id, r.framework, r.framework_version, r.run_device, r.device_name, r.mode, r.role,
             r.host, fmt.one_line(r.numerics, 80), r.status, r.n_cases] for r in env.itertuples()]
    heads = ["run", "framework", "version", "device", "device name", "mode", "role", "host", "numerics", "status", "n cases"]
    return out + [fmt.markdown_table(heads, rows, ["l"] * 10 + ["r"]), ""]


def _portability(port: pd.DataFrame) -> list[str]:
    out = ["## Portability", ""]
    if port.empty:
        return out + ["No results.", ""]
    out += ["Per function: *portable* = every case passed, *partial* = some failed, *complete* = all failed "
            "(cases broken on the reference device excluded). *failing* = partial + complete.", ""]
    heads = ["framework", "device", "version", "mode", "role", "n functions", "portable", "partial", "complete",
             "failing", "ref. broken", "no cases", "missing"]
    rows = []
    for r in port.sort_values(["framework"], kind="stable").itertuples():  # every framework in one table
        dev = r.device + ("" if r.origin == "portabench" else f" [{r.origin}]")
        rows.append([r.framework, dev, r.framework_version, r.mode, r.role, r.n_functions,
                     *(fmt.share_ci(getattr(r, f"{s}_share"), getattr(r, f"{s}_lo"), getattr(r, f"{s}_hi"),
                                    getattr(r, f"{s}_n")) for s in ("portable", "partial", "complete", "failing")),
                     r.reference_broken, r.no_cases, r.missing])
    return out + [fmt.markdown_table(heads, rows, ["l"] * 5 + ["r"] * 8), ""]


def _categories(cats: pd.DataFrame) -> list[str]:
    out = ["## Failure categories", ""]
    if cats.empty:
        return out + ["No failing case.", ""]
    out += ["Failing functions are counted once, under their most frequent category.", ""]
    rows = [[r.column, r.category, f"{r.functions} ({fmt.pct(r.functions_share)})", f"{r.cases} ({fmt.pct(r.cases_share)})"]
            for r in cats.itertuples()]
    return out + [fmt.markdown_table(["column", "category", "failing functions", "failing cases"], rows,
                                     ["l", "l", "r", "r"]), ""]


def _pair(r: object) -> str:
    origin = "" if r.origin == "portabench" else f" [{r.origin}]"
    return f"{r.framework} {r.framework_version} {r.mode}{origin}: {r.baseline} → {r.target}"


def _slowdowns(summary: pd.DataFrame, top: pd.DataFrame) -> list[str]:
    out = ["## Slowdowns", ""]
    if summary.empty:
        return out + ["No baseline/target pair with timings (see the notes).", ""]
    out += ["Per function: geometric mean over cases passed on both devices of time(target) / time(baseline); "
            "> 1 means slower on the target.", ""]
    rows = [[_pair(r), r.n_functions, r.n_cases,
             f"{fmt.ratio(r.median)} [{fmt.ratio(r.median_lo)}, {fmt.ratio(r.median_hi)}]",
             fmt.ratio(r.p90), fmt.ratio(r.max), fmt.share_ci(r.faster_share, r.faster_lo, r.faster_hi, r.faster_n)]
            for r in summary.itertuples()]
    out += [fmt.markdown_table(["framework: baseline → target", "n functions", "n cases", "median [95% CI]",
                                "p90", "max", "faster on target"], rows, ["l"] + ["r"] * 6), ""]
    for key, grp in top.groupby(["framework", "framework_version", "mode", "origin", "baseline", "target"], sort=True):
        first = next(grp.itertuples())
        out += [f"### Largest slowdowns: {_pair(first)}", ""]
        rows = [[r.rank, r.function, fmt.ratio(r.ratio), r.n_cases, fmt.duration_ns(r.baseline_ns), fmt.duration_ns(r.target_ns)]
                for r in grp.sort_values("rank").itertuples()]
        out += [fmt.markdown_table(["rank", "function", "slowdown", "cases", f"time {first.baseline}", f"time {first.target}"],
                                   rows, ["r", "l", "r", "r", "r", "r"]), ""]
    return out


def _errors(summary: pd.DataFrame) -> list[str]:
    out = ["## Numerical errors of mismatching cases", ""]
    if summary.empty:
        return out + ["No numerical mismatch.", ""]
    rows = [[r.column, r.n_cases, r.n_functions, fmt.sci(r.abs_median), fmt.sci(r.abs_p90), fmt.sci(r.abs_max),
             fmt.sci(r.rel_median), fmt.sci(r.rel_p90), fmt.sci(r.rel_max)] for r in summary.itertuples()]
    heads = ["column", "cases", "functions", "abs median", "abs p90", "abs max", "rel median", "rel p90", "rel max"]
    return out + [fmt.markdown_table(heads, rows, ["l"] + ["r"] * 8), ""]


def _dtypes(matrix: pd.DataFrame) -> list[str]:
    out = ["## Dtype support: claimed vs observed", ""]
    claimed = matrix[matrix["claimed"].notna()] if not matrix.empty else matrix
    if claimed.empty:
        return out + ["No claimed dtypes recorded.", ""]
    differ = claimed[claimed["agree"] == False]  # noqa: E712 (object column)
    out += [f"{len(claimed) - len(differ)} of {len(claimed)} (column, function) pairs with claimed dtypes observe "
            f"exactly the claimed dtypes (observed = at least one passed case).", ""]
    if differ.empty:
        return out
    rows = [[r.column, r.function, fmt.dtypes(r.claimed), fmt.dtypes(r.observed), fmt.dtypes(r.claimed_not_observed),
             fmt.dtypes(r.observed_not_claimed)] for r in differ.head(MAX_DTYPE_ROWS).itertuples()]
    out += [fmt.markdown_table(["column", "function", "claimed", "observed", "claimed, not observed",
                                "observed, not claimed"], rows), ""]
    if len(differ) > MAX_DTYPE_ROWS:
        out += [f"… and {len(differ) - MAX_DTYPE_ROWS} more (see the JSON or HTML report).", ""]
    return out
