"""The report's "Internal errors" section: cases of outcome ``error``, counted apart from every share.

Markdown (:func:`markdown_section`) and HTML (:func:`html_section`); both empty when no case
ended in an internal error. The JSON report carries the table as ``internal_errors``.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup, escape

from portabench.report import formatting as fmt

TITLE = "Internal errors"
INTRO = ("Cases that portabench itself could not run: an adapter bug, or a worker reply it did not understand. "
         "They say nothing about the framework and are excluded from every share.")
HEADERS = ("column", "cases", "functions", "exception types", "example")


def _rows(counts: pd.DataFrame) -> list[list[str]]:
    return [[str(r.column), str(r.n_errors), str(r.n_functions), r.exc_types or "–", str(r.example_function),
             fmt.one_line(r.example_message, 160) or "–"] for r in counts.itertuples()]


def markdown_section(counts: pd.DataFrame) -> list[str]:
    """Markdown lines of the section; nothing when no case ended in an internal error."""
    if counts is None or counts.empty:
        return []
    rows = [[*r[:4], f"`{r[4]}`: {r[5]}"] for r in _rows(counts)]
    return [f"## {TITLE}", "", INTRO, "",
            fmt.markdown_table(list(HEADERS), rows, ["l", "r", "r", "l", "l"]), ""]


def html_section(counts: pd.DataFrame) -> Markup:
    """The section as an HTML fragment (empty when no case ended in an internal error)."""
    if counts is None or counts.empty:
        return Markup("")
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    body = "".join(
        f"<tr><td>{escape(r[0])}</td><td class=\"num\">{escape(r[1])}</td><td class=\"num\">{escape(r[2])}</td>"
        f"<td>{escape(r[3])}</td><td><code>{escape(r[4])}</code>: <div class=\"msg\">{escape(r[5])}</div></td></tr>"
        for r in _rows(counts))
    return Markup(f'<section id="internal-errors">\n  <h2>{TITLE}</h2>\n  <p class="muted">{escape(INTRO)}</p>\n'
                  f'  <table class="data"><thead><tr>{head}</tr></thead>\n  <tbody>{body}</tbody></table>\n</section>\n')
