"""StudyTables -> one self-contained ``index.html`` (jinja2 template, embedded PNG plots, inline CSS/JS).

The page references nothing outside itself: no external URL, script, font or
stylesheet; plots are ``data:image/png;base64`` URIs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from portabench.analysis import StudyTables
from portabench.report import compiled as compiled_section
from portabench.report import formatting as fmt
from portabench.report import plots
from portabench.report.compare import CHANGES, STILL_PORTABLE, device_with_variant, summarise
from portabench.report.coverage import coverage_html
from portabench.report.internal_errors import html_section as internal_errors_html
from portabench.report.models import render_models_html

TEMPLATES = Path(__file__).parent / "templates"
MAX_CASES_PER_FUNCTION = 20
"""Failing cases listed per (column, function) on the page (the JSON report has all of them)."""
MAX_BROKEN_ROWS = 200
"""Broken cases listed on the page (the JSON report has all of them)."""

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


_CODE = re.compile(r"`([^`]+)`")


def note_html(note: str) -> Markup:
    """A note as HTML: escaped, with its Markdown code spans (`portabench merge ...`) as ``<code>``."""
    return Markup(_CODE.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(note))))


def _portability_rows(port: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in port.itertuples():
        rows.append({
            "column": r.column, "framework": r.framework, "version": r.framework_version, "device": r.device,
            "device_name": r.device_name, "mode": r.mode, "origin": r.origin, "role": r.role, "n": r.n_functions,
            **{s: {"share": f"{fmt.pct(getattr(r, f'{s}_share'))} ({getattr(r, f'{s}_n')})",
                   "ci": "" if fmt.is_missing(getattr(r, f"{s}_lo")) else
                   f"[{100 * getattr(r, f'{s}_lo'):.1f}, {100 * getattr(r, f'{s}_hi'):.1f}]"}
               for s in ("portable", "partial", "complete", "failing")},
            "reference_broken": r.reference_broken, "no_cases": r.no_cases, "missing": r.missing,
            "outcome_unknown": r.outcome_unknown, "variant": r.variant, "disagreeing": r.cases_disagreeing,
            "cases": f"{r.cases_passed} / {r.cases_failed} / {r.cases_reference_failed}"
                     + (f" / {r.cases_unknown}" if r.cases_unknown else ""),
        })
    return rows


def _function_table(tables: StudyTables) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    """Columns, one row per function (a cell per column), and failing-case details with their anchors."""
    pf, fails = tables.per_function, tables.failures
    columns = list(tables.portability["column"]) if not tables.portability.empty else []
    details: list[dict[str, Any]] = []
    anchors: dict[tuple[str, str], str] = {}
    status_of = {}
    if not pf.empty:
        status_of = dict(zip(zip(pf["column"], pf["function"], strict=True), pf["status"], strict=True))
    if not fails.empty:
        ordered = fails.sort_values(["column", "function", "case_id"], kind="stable")
        sizes = ordered.groupby(["column", "function"], sort=False).size().to_dict()
        shown = ordered.groupby(["column", "function"], sort=False).head(MAX_CASES_PER_FUNCTION)
        current: dict[str, Any] | None = None
        for c in shown.itertuples(index=False):
            key = (c.column, c.function)
            if current is None or (current["column"], current["function"]) != key:
                anchor = "fail-" + fmt.slug(c.column, c.function)
                anchors[key] = anchor
                current = {"id": anchor, "column": c.column, "function": c.function,
                           "status": status_of.get(key, ""), "cases": [],
                           "more": max(0, int(sizes[key]) - MAX_CASES_PER_FUNCTION)}
                details.append(current)
            current["cases"].append({
                "case_id": c.case_id, "dtype": c.dtype, "category": c.category,
                "exc_type": "" if fmt.is_missing(c.exc_type) else c.exc_type,
                "message": fmt.one_line(c.message, fmt.DETAIL_MESSAGE_CHARS),
                "stderr": "" if fmt.is_missing(c.stderr_tail) else str(c.stderr_tail)[-fmt.STDERR_TAIL_CHARS :],
                "errors": "" if fmt.is_missing(c.max_abs_err) and fmt.is_missing(c.max_rel_err)
                else f"abs {fmt.sci(c.max_abs_err)}, rel {fmt.sci(c.max_rel_err)}",
            })
    rows = []
    if not pf.empty:
        status = {(r.column, r.function): r for r in pf.itertuples()}
        for function in sorted(set(pf["function"])):
            cells, failing = [], False
            for column in columns:
                r = status.get((column, function))
                if r is None:
                    cells.append({"status": "", "text": "", "href": None, "title": "not in this column"})
                    continue
                failing = failing or r.status in ("partial", "complete")
                target = anchors.get((column, function))
                title = f"{r.n_passed} passed, {r.n_failed} failed, {r.n_reference_failed} reference failed"
                if not fmt.is_missing(r.main_category):
                    title += f"; mostly {r.main_category}"
                cells.append({"status": r.status, "text": r.status.replace("_", " "),
                              "href": f"#{target}" if target else None, "title": title})
            rows.append({"function": function, "key": function.lower(), "failing": failing, "cells": cells})
    return columns, rows, details


def _dtype_view(matrix: pd.DataFrame) -> tuple[list[str], list[dict[str, Any]]]:
    """Dtype columns and rows of cells: ok (claimed+observed), fail (claimed, tested, none passed),
    untested (claimed, never tested), extra (observed, not claimed), seen (observed, nothing claimed)."""
    if matrix.empty:
        return [], []
    dts: set[str] = set()
    for col in ("claimed", "tested"):
        for v in matrix[col]:
            if isinstance(v, list):
                dts.update(v)
    dtypes = sorted(dts)
    rows = []
    for r in matrix.itertuples():
        claimed = set(r.claimed) if isinstance(r.claimed, list) else None
        tested, observed = set(r.tested), set(r.observed)
        cells = []
        for d in dtypes:
            if claimed is not None and d in claimed:
                kind = "ok" if d in observed else ("fail" if d in tested else "untested")
            elif d in observed:
                kind = "extra" if claimed is not None else "seen"
            elif d in tested:
                kind = "failnc"
            else:
                kind = ""
            cells.append(kind)
        rows.append({"column": r.column, "function": r.function, "cells": cells,
                     "agree": None if fmt.is_missing(r.agree) else bool(r.agree)})
    return dtypes, rows


def comparison_context(df: pd.DataFrame) -> dict[str, Any]:
    """Template data of a :func:`portabench.report.compare` result."""
    summ = summarise(df)
    changed = df[df["change"] != STILL_PORTABLE] if not df.empty else df
    return {
        "a": df.attrs.get("a", ""),
        "b": df.attrs.get("b", ""),
        "changes": list(CHANGES),
        "summary": [{**dict(r), "device": device_with_variant(r["device"], r["variant"])} for _, r in summ.iterrows()],
        "rows": [
            {
                "framework": r.framework,
                "device": device_with_variant(r.device, r.variant),
                "mode": r.mode,
                "function": r.function,
                "status_a": r.status_a or "–",
                "status_b": r.status_b or "–",
                "change": r.change,
                "css": r.change.replace(" ", "-"),
            }
            for r in changed.itertuples()
        ],
        "notes": list(df.attrs.get("notes") or []),
    }


def render_compare_html(df: pd.DataFrame) -> str:
    """An HTML ``<section id="comparison">`` for a :func:`compare` result (embeddable fragment)."""
    return _env.get_template("compare.html.j2").render(cmp=comparison_context(df))


def render_html(tables: StudyTables, *, comparison: pd.DataFrame | None = None) -> str:
    """The whole report as one HTML string (see :func:`write_html`)."""
    columns, fn_rows, details = _function_table(tables)
    dtypes, dtype_rows = _dtype_view(tables.dtype_matrix)
    frameworks = sorted(set(tables.slowdown_functions["framework"])) if not tables.slowdown_functions.empty else []
    top_groups = []
    if not tables.slowdown_top.empty:
        for key, grp in tables.slowdown_top.groupby(["baseline_column", "target_column"], sort=True):
            first = grp.iloc[0]
            top_groups.append(
                {
                    "title": f"{key[0]} → {key[1]}",
                    "baseline": first["baseline"],
                    "target": first["target"],
                    "rows": [
                        {
                            "rank": r.rank,
                            "function": r.function,
                            "ratio": fmt.ratio(r.ratio),
                            "n": r.n_cases,
                            "b": fmt.duration_ns(r.baseline_ns),
                            "t": fmt.duration_ns(r.target_ns),
                        }
                        for r in grp.sort_values("rank").itertuples()
                    ],
                }
            )
    context = {
        "tables": tables,
        "portability": _portability_rows(tables.portability),
        "portability_img": plots.portability_plot(tables.portability),
        "categories": [
            {
                "column": r.column,
                "category": r.category,
                "functions": r.functions,
                "functions_share": fmt.pct(r.functions_share),
                "cases": r.cases,
                "cases_share": fmt.pct(r.cases_share),
            }
            for r in tables.categories.itertuples()
        ],
        "categories_img": plots.categories_plot(tables.categories),
        "slowdown": [
            {
                "pair": f"{r.baseline_column} → {r.target_column}",
                "n": r.n_functions,
                "cases": r.n_cases,
                "median": fmt.ratio(r.median),
                "ci": f"[{fmt.ratio(r.median_lo)}, {fmt.ratio(r.median_hi)}]",
                "p90": fmt.ratio(r.p90),
                "max": fmt.ratio(r.max),
                "faster": fmt.share_ci(r.faster_share, r.faster_lo, r.faster_hi, r.faster_n),
                "slower": fmt.pct(r.slower_share),
            }
            for r in tables.slowdown_summary.itertuples()
        ],
        "slowdown_imgs": [
            (fw, plots.slowdown_ecdf(tables.slowdown_functions, tables.slowdown_summary, fw)) for fw in frameworks
        ],
        "top_groups": top_groups,
        "dtypes": dtypes,
        "dtype_rows": dtype_rows,
        "error_summary": [
            {
                "column": r.column,
                "n": r.n_cases,
                "functions": r.n_functions,
                "abs": [fmt.sci(r.abs_median), fmt.sci(r.abs_p90), fmt.sci(r.abs_max)],
                "rel": [fmt.sci(r.rel_median), fmt.sci(r.rel_p90), fmt.sci(r.rel_max)],
            }
            for r in tables.error_summary.itertuples()
        ],
        "errors_img": plots.errors_plot(tables.errors),
        "columns": columns,
        "function_rows": fn_rows,
        "details": details,
        "max_cases": MAX_CASES_PER_FUNCTION,
        "environment": [
            {**{k: ("" if fmt.is_missing(v) else v) for k, v in r._asdict().items()}}
            for r in tables.environment.itertuples(index=False)
        ],
        "broken_summary": [
            {
                "group": f"{r.framework} {r.framework_version} {r.mode}"
                + ("" if r.origin == "portabench" else f" [{r.origin}]"),
                "cases": r.n_cases,
                "broken": r.n_broken,
                "functions": r.n_functions_broken,
                "share": fmt.share_ci(r.broken_share, r.broken_lo, r.broken_hi),
            }
            for r in tables.broken_summary.itertuples()
        ]
        if not tables.broken_summary.empty
        else [],
        "broken": [
            {
                "group": f"{r.framework} {r.framework_version} {r.mode}"
                + ("" if r.origin == "portabench" else f" [{r.origin}]"),
                "function": r.function,
                "dtype": r.dtype,
                "case_id": r.case_id,
                "message": fmt.one_line(r.message, fmt.HTML_MESSAGE_CHARS) or "–",
                "exc_type": "" if fmt.is_missing(r.exc_type) else r.exc_type,
            }
            for r in tables.broken.head(MAX_BROKEN_ROWS).itertuples()
        ]
        if not tables.broken.empty
        else [],
        "broken_more": max(0, len(tables.broken) - MAX_BROKEN_ROWS),
        "other_messages": [
            {
                "framework": r.framework,
                "exc_type": r.exc_type or "–",
                "pattern": r.pattern,
                "cases": r.cases,
                "functions": r.functions,
                "example_function": r.example_function,
                "example": fmt.one_line(r.example, fmt.HTML_MESSAGE_CHARS),
            }
            for r in tables.other_messages.itertuples()
        ]
        if not tables.other_messages.empty
        else [],
        "notes": [note_html(n) for n in fmt.distinct_notes(tables.notes)],
        "comparison": comparison_context(comparison) if comparison is not None else None,
        "compiled": compiled_section.html_context(tables.compiled),
        "models_html": render_models_html(tables),  # whole models (report/models.py)
        "coverage_html": coverage_html(tables.coverage),
        "internal_errors_html": internal_errors_html(tables.internal_errors),
    }
    return _env.get_template("report.html.j2").render(**context)


def write_html(tables: StudyTables, directory: str | Path, *, comparison: pd.DataFrame | None = None) -> Path:
    """Write ``directory/index.html`` (directory created if needed) and return its path.

    The file is self-contained: inline CSS and JS, plots as embedded base64 PNG,
    no external URL. ``comparison`` (a :func:`compare` result) adds a section.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(render_html(tables, comparison=comparison), encoding="utf-8")
    return path
