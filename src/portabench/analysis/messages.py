"""The failure messages no taxonomy rule explains, grouped so the next rule is easy to write.

Failed cases of category ``other`` (or without a category) are grouped per
framework by exception type and a *message pattern*: the first line of the
message with numbers replaced by ``N``, quoted text by ``'…'`` and runs of
whitespace collapsed, cut to :data:`PATTERN_LIMIT` characters.
"""

from __future__ import annotations

import re

import pandas as pd

from portabench.cases import FAILED

UNEXPLAINED = ("other", "uncategorised")
"""Categories that say nothing about the failure."""

PATTERN_LIMIT = 120
"""Characters kept of a message pattern."""
EXAMPLE_CHARS = 400
"""Characters kept of a pattern's example message."""
OTHER_COLUMNS = ["framework", "exc_type", "pattern", "cases", "functions", "columns", "example_function", "example"]

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?(?:e[-+]?\d+)?\b")
"""A number standing alone (not the digits of a name such as ``float64``)."""


def message_pattern(message: object) -> str:
    """The first line of ``message`` with quoted text and numbers blanked (see the module docstring)."""
    text = str(message or "").strip().split("\n", 1)[0]
    text = _QUOTED.sub("'…'", text)
    text = _NUMBER.sub("N", text)
    text = " ".join(text.split())
    return text[:PATTERN_LIMIT]


def other_messages(pooled: pd.DataFrame) -> pd.DataFrame:
    """Unexplained failing cases grouped by (framework, exc_type, pattern), largest groups first."""
    if pooled.empty:
        return pd.DataFrame(columns=OTHER_COLUMNS)
    cat = pooled["category"].astype(object).where(pooled["category"].notna(), "uncategorised")
    f = pooled[(pooled["outcome"] == FAILED) & cat.isin(UNEXPLAINED)].copy()
    if f.empty:
        return pd.DataFrame(columns=OTHER_COLUMNS)
    f["exc_type"] = f["exc_type"].astype(object).where(f["exc_type"].notna(), "")
    f["pattern"] = [message_pattern(m) for m in f["message"]]
    rows = []
    for (fw, exc, pattern), g in f.groupby(["framework", "exc_type", "pattern"], sort=True):
        first = g.iloc[0]
        rows.append({"framework": fw, "exc_type": exc, "pattern": pattern, "cases": len(g),
                     "functions": int(g["function"].nunique()), "columns": "; ".join(sorted(set(g["column"]))),
                     "example_function": first["function"], "example": str(first["message"] or "")[:EXAMPLE_CHARS]})
    out = pd.DataFrame(rows, columns=OTHER_COLUMNS)
    return out.sort_values(["framework", "cases", "pattern"], ascending=[True, False, True]).reset_index(drop=True)
