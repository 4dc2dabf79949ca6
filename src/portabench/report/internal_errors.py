"""The report's "Internal errors" section: cases of outcome ``error``, counted apart from every share."""

from __future__ import annotations

import pandas as pd

from portabench.report import formatting as fmt


def markdown_section(counts: pd.DataFrame) -> list[str]:
    """Markdown lines of the section; nothing when no case ended in an internal error."""
    if counts is None or counts.empty:
        return []
    out = ["## Internal errors", "",
           "Cases that portabench itself could not run: an adapter bug, or a worker reply it did not understand. "
           "They say nothing about the framework and are excluded from every share above.", ""]
    rows = [[r.column, r.n_errors, r.n_functions, r.exc_types or "–",
             f"`{r.example_function}`: {fmt.one_line(r.example_message, 120) or '–'}"] for r in counts.itertuples()]
    out += [fmt.markdown_table(["column", "cases", "functions", "exception types", "example"], rows,
                               ["l", "r", "r", "l", "l"]), ""]
    return out
