"""The scan as one self-contained HTML page (``--format html``), in the report's style.

Rendered from ``report/templates/scan.html.j2`` (the report's template folder, so the
two pages share their look); the page references nothing outside itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2

from portabench.report.html import TEMPLATES
from portabench.scan.model import STATUSES, ScanResult
from portabench.scan.text import device_line, headline

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

#: status -> CSS class (the report's badge classes where they exist)
CSS = {"portable": "s-portable", "partial": "s-partial", "failing": "s-complete", "broken case": "s-reference_broken",
       "untested": "s-missing", "no cases": "s-no_cases"}


def _functions(result: ScanResult) -> list[dict[str, Any]]:
    rows = []
    for (fw, name), sites in result.functions().items():
        cells = []
        for device in result.devices:
            if not result.applies(fw, device):
                cells.append({"status": "", "css": "", "category": None, "message": None, "columns": ""})
                continue
            v = result.function_status((fw, name), device)
            cells.append({"status": v.status, "css": CSS[v.status], "category": v.category, "message": v.message,
                          "columns": ", ".join(v.columns)})
        worst = min((STATUSES.index(c["status"]) for c in cells if c["status"]), default=len(STATUSES))
        rows.append({"framework": fw, "name": name, "sites": sites, "cells": cells, "rank": worst,
                     "kinds": sorted({s.kind for s in sites}), "resolutions": sorted({s.resolution for s in sites})})
    return sorted(rows, key=lambda r: (r["rank"], r["framework"], r["name"]))


def render_html(result: ScanResult) -> str:
    """The page as a string."""
    summaries = ["\n".join([line, *details]) for line, details in (device_line(result, d) for d in result.devices)]
    unresolved: dict[str, int] = {}
    for site in result.unresolved_sites:
        unresolved[site.name] = unresolved.get(site.name, 0) + 1
    return _env.get_template("scan.html.j2").render(
        headline=headline(result), result=result, summaries=summaries, functions=_functions(result),
        unresolved=sorted(unresolved.items(), key=lambda kv: (-kv[1], kv[0])),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"), statuses=STATUSES, css=CSS,
    )
