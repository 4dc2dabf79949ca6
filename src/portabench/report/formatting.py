"""Small formatting helpers shared by the Markdown and HTML reports."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd


def is_missing(x: Any) -> bool:
    """True for None, NaN and pandas NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x)) if not isinstance(x, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def pct(x: Any, digits: int = 1) -> str:
    """``0.5651`` -> ``56.5%``; missing -> ``–``."""
    return "–" if is_missing(x) else f"{100 * float(x):.{digits}f}%"


def share_ci(share: Any, lo: Any, hi: Any, n: Any | None = None) -> str:
    """``56.5% [36.8, 74.4]`` (with `` (13)`` appended when a count is given)."""
    if is_missing(share):
        return "–"
    text = f"{100 * share:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"
    return text + (f" ({int(n)})" if n is not None and not is_missing(n) else "")


def ratio(x: Any) -> str:
    """A slowdown ratio: ``2.42×`` (3 significant digits)."""
    if is_missing(x):
        return "–"
    return f"{float(x):.3g}×"


def duration_ns(x: Any) -> str:
    """Nanoseconds as a human duration: ``850 ns``, ``1.2 µs``, ``3.4 ms``, ``2.1 s``."""
    if is_missing(x):
        return "–"
    x = float(x)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g} ns"


def sci(x: Any) -> str:
    """A float in 3 significant digits (``1.25e-05``)."""
    return "–" if is_missing(x) else f"{float(x):.3g}"


def dtypes(x: Any) -> str:
    """A list of dtypes as ``float16, float32``; None -> ``–``; empty -> ``(none)``."""
    if x is None or (not isinstance(x, (list, tuple)) and is_missing(x)):
        return "–"
    return ", ".join(x) if len(x) else "(none)"


# Characters shown of a message (cut by :func:`one_line`), by where it is shown.
TABLE_MESSAGE_CHARS = 140
"""A message in a Markdown table cell."""
HTML_MESSAGE_CHARS = 400
"""A message in an HTML table (broken cases, examples)."""
DETAIL_MESSAGE_CHARS = 600
"""A failing case's message in the HTML report's per-function details."""
STDERR_TAIL_CHARS = 1500
"""The end of a dead worker's stderr shown in the HTML report's details."""
SETTING_CHARS = 80
"""A run's numerics settings in the environment table."""


def one_line(text: Any, limit: int = 160) -> str:
    """Collapse whitespace and cut to ``limit`` characters (with an ellipsis)."""
    if is_missing(text):
        return ""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _md_cell(x: Any) -> str:
    s = "" if is_missing(x) else str(x)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped).

    Uses ``tabulate`` (through the same layout as ``DataFrame.to_markdown``)
    when it is installed, otherwise a built-in formatter producing equivalent
    pipe tables. ``align`` items are ``"l"`` or ``"r"`` (default: left).
    """
    cells = [[_md_cell(c) for c in row] for row in rows]
    heads = [_md_cell(h) for h in headers]
    align = list(align or ["l"] * len(heads))
    try:
        from tabulate import tabulate  # optional
    except ImportError:
        return _plain_markdown(heads, cells, align)
    return tabulate(cells, headers=heads, tablefmt="pipe", disable_numparse=True,
                    colalign=["right" if a == "r" else "left" for a in align])


def _plain_markdown(heads: list[str], cells: list[list[str]], align: list[str]) -> str:
    widths = [max([len(h), 3] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]

    def line(values: list[str]) -> str:
        cells = (v.rjust(w) if a == "r" else v.ljust(w) for v, w, a in zip(values, widths, align, strict=False))
        return "| " + " | ".join(cells) + " |"

    marks = (("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1)) for w, a in zip(widths, align, strict=False))
    rule = "|" + "|".join(marks) + "|"
    return "\n".join([line(heads), rule] + [line(r) for r in cells])


def slug(*parts: Any) -> str:
    """A unique, readable HTML id for ``parts``: ``torch-2-11-cuda-eager--torch-add-1a2b3c``.

    The short hash of the exact text keeps ids distinct when two names differ
    only in punctuation (``torch.add`` vs ``torch_add``).
    """
    out = []
    for p in parts:
        s = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in str(p))
        out.append("-".join(filter(None, s.split("-"))))
    digest = hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()[:6]
    return "--".join(out) + "-" + digest


def finite(x: Any) -> bool:
    """True when ``x`` is a finite number."""
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


_MISSING_TARGETS = re.compile(r"^(?P<framework>[\w.-]+)\b[^`]*?(?:targets? not available|no target device)")


_MISSING_ONE = re.compile(r"^(?P<framework>[\w.-]+)\b[^`]*?: no (?P<device>\S+) run in the store")


def _fact(note: str) -> str:
    """What a note is about: notes saying that a framework lacks target devices share one fact; a note
    on one requested device that is missing is its own fact."""
    m = _MISSING_ONE.match(note)
    if m:
        return f"missing-target:{m.group('framework')}:{m.group('device')}"
    m = _MISSING_TARGETS.match(note)
    return f"missing-targets:{m.group('framework')}" if m else note


def distinct_notes(notes: Sequence[str]) -> list[str]:
    """``notes`` in order with each fact stated once: exact repeats dropped, and of the notes saying that a
    framework has no target device (the analysis's "only cpu runs" and a study's "targets not available on
    this machine"), only the first kept, so the report gives one advice per fact."""
    seen: set[str] = set()
    out = []
    for note in notes:
        key = _fact(note)
        if key not in seen:
            seen.add(key)
            out.append(note)
    return out
