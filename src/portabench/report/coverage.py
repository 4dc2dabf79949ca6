"""The report's "Coverage of real usage" section (Markdown and HTML) from ``StudyTables.coverage``.

Definitions: docs/sampling.md ("Coverage"); the table comes from
:func:`portabench.analysis.coverage.coverage_table`.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd
from markupsafe import Markup

TITLE = "Coverage of real usage"
INTRO = ("Share of the frequency table's calls (and names, and top names) whose function has at least one case; "
         "*marked*: not device-dependent (docs/sampling.md). A sampled function without cases counts against coverage.")


def _pct(x: Any) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * float(x):.1f}%"


def _rows(df: pd.DataFrame) -> list[dict[str, str]]:
    out = []
    for r in df.itertuples(index=False):
        sample = f"{r.manifest}" + ("" if r.seed is None or pd.isna(r.seed) else f" (seed {int(r.seed)})")
        with_cases = "–" if r.sample_with_cases is None or pd.isna(r.sample_with_cases) else \
            f"{int(r.sample_with_cases)} of {r.sample_functions}"
        out.append({
            "framework": r.framework, "table": r.table_sources, "calls": f"{r.calls}",
            "covered": _pct(r.covered_volume), "marked": _pct(r.marked_volume),
            "names": f"{r.covered_names} + {r.marked_names} of {r.names}",
            "top": f"{r.covered_top} + {r.marked_top} of {r.top}", "sample": sample, "with_cases": with_cases,
            "without": r.sample_without_cases or "", "uncovered": r.uncovered_top or "",
        })
    return out


def coverage_markdown(df: pd.DataFrame) -> list[str]:
    """Markdown lines of the section (empty when no run recorded coverage)."""
    if df is None or df.empty:
        return []
    out = [
        f"## {TITLE}",
        "",
        INTRO,
        "",
        "| framework | calls | covered | marked | names covered + marked | top covered + marked | sample "
        "| sample functions with cases |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    rows = _rows(df)
    out += [
        f"| {r['framework']} | {r['calls']} | {r['covered']} | {r['marked']} | {r['names']} | {r['top']} "
        f"| {r['sample']} | {r['with_cases']} |"
        for r in rows
    ]
    out.append("")
    for r in rows:
        out.append(f"- {r['framework']} table: {r['table'] or 'sources not recorded'}")
        if r["uncovered"]:
            out.append(f"  - most used without cases: {r['uncovered']}")
        if r["without"]:
            out.append(f"  - sampled without cases: {r['without']}")
    return out + [""]


def coverage_html(df: pd.DataFrame) -> Markup:
    """The section as an HTML fragment (empty when no run recorded coverage)."""
    if df is None or df.empty:
        return Markup("")
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "framework",
            "calls",
            "covered",
            "marked",
            "names covered + marked",
            "top covered + marked",
            "sample",
            "sample functions with cases",
        )
    )
    body = []
    for r in _rows(df):
        cells = [
            r["framework"],
            r["calls"],
            r["covered"],
            r["marked"],
            r["names"],
            r["top"],
            r["sample"],
            r["with_cases"],
        ]
        body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
        for label, text in (("most used without cases", r["uncovered"]), ("sampled without cases", r["without"])):
            if text:
                body.append(f'<tr><td></td><td colspan="7" class="muted">{label}: {escape(text)}</td></tr>')
    return Markup(
        f'<section id="coverage">\n  <h2>{TITLE}</h2>\n'
        f'  <p>{escape(INTRO).replace("*marked*", "<em>marked</em>")}</p>\n'
        f'  <div class="scroll-x"><table class="data"><thead><tr>{head}</tr></thead>\n  <tbody>{"".join(body)}</tbody>'
        f"</table></div>\n</section>\n"
    )
