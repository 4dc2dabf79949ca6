"""The report's "Models" section (Markdown and an HTML fragment) from a study's model tables.

Per framework x device x mode column: share of models running and matching (95%
Wilson intervals), failure categories, the diverging layers most often named (by
module type), the slowdown distribution at real batch sizes, and the model table
(searchable in the HTML) with each failure's layer. See analysis/models.py.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from portabench.analysis import StudyTables
from portabench.report import formatting as fmt

#: at most this many rows of the model table in Markdown (the HTML has all of them)
MAX_MARKDOWN_ROWS = 60
MARKDOWN_MESSAGE_CHARS = 100
"""A model case's message in the Markdown table."""
HTML_MESSAGE_CHARS = 200
"""A model case's message in the HTML table."""
#: model slowdowns listed, largest first
TOP_MODELS = 10


def _failures(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["outcome"] != "passed"] if not table.empty else table


def render_models_markdown(tables: StudyTables) -> list[str]:
    """The "Models" section as Markdown lines ([] when the store has no model case)."""
    if tables.model_table.empty:
        return []
    out = ["## Models", "",
           "Whole models (portabench.models): eval forward and one training step at the compared batch, outputs, loss "
           "and gradients compared relative to scale; on a disagreement a float64 run on the reference decides which "
           "side is further from exact. *running*: both steps ran; *matching*: both agreed. Models that could not be "
           "built here (or failed on the reference) are counted apart.", ""]
    rows = [[r.column, r.n_models, fmt.share_ci(r.running_share, r.running_lo, r.running_hi, r.running_n),
             fmt.share_ci(r.matching_share, r.matching_lo, r.matching_hi, r.matching_n), r.not_built]
            for r in tables.model_summary.itertuples()]
    out += [fmt.markdown_table(["column", "models", "running", "matching", "not built / ref. failed"], rows,
                               ["l", "r", "r", "r", "r"]), ""]
    if not tables.model_categories.empty:
        rows = [[r.column, r.category, r.cases, r.models] for r in tables.model_categories.itertuples()]
        out += ["### Model failure categories", "",
                fmt.markdown_table(["column", "category", "cases", "models"], rows, ["l", "l", "r", "r"]), ""]
    if not tables.model_layers.empty:
        rows = [[r.column, r.layer_type, r.how, r.cases, r.models, r.example] for r in tables.model_layers.itertuples()]
        out += [
            "### Diverging layers most often named",
            "",
            "*re-run alone*: the module's output differs when it is given the reference's input; *raised*: the "
            "module whose forward raised; *gradient*: the forward agrees, this module's parameter gradient differs.",
            "",
            fmt.markdown_table(
                ["column", "module type", "how", "cases", "models", "example"], rows, ["l", "l", "l", "r", "r", "l"]
            ),
            "",
        ]
    if not tables.model_slowdowns.empty:
        rows = [
            [
                f"{r.framework} {r.framework_version} {r.mode}: {r.baseline} → {r.target}",
                f"{r.step} @{r.batch}",
                r.n_models,
                f"{fmt.ratio(r.median)} [{fmt.ratio(r.median_lo)}, {fmt.ratio(r.median_hi)}]",
                fmt.ratio(r.p90),
                fmt.ratio(r.max),
            ]
            for r in tables.model_slowdowns.itertuples()
        ]
        out += [
            "### Model slowdowns at real batch sizes",
            "",
            "time(target) / time(baseline) per model; < 1 means faster on the target.",
            "",
            fmt.markdown_table(
                ["pair", "step @batch", "models", "median [95% CI]", "p90", "max"], rows, ["l", "l", "r", "r", "r", "r"]
            ),
            "",
        ]
    if not tables.model_ratios.empty:
        rows = [
            [
                r.model,
                f"{r.step} @{r.batch}",
                f"{r.baseline} → {r.target}",
                fmt.ratio(r.ratio),
                fmt.duration_ns(r.baseline_ns),
                fmt.duration_ns(r.target_ns),
            ]
            for r in tables.model_ratios.head(TOP_MODELS).itertuples()
        ]
        out += [
            f"### Largest model slowdowns (top {TOP_MODELS})",
            "",
            fmt.markdown_table(
                ["model", "step @batch", "pair", "slowdown", "time baseline", "time target"],
                rows,
                ["l", "l", "l", "r", "r", "r"],
            ),
            "",
        ]
    failures = _failures(tables.model_table)
    if not failures.empty:
        rows = [
            [
                r.column,
                r.model,
                f"{r.step} @{r.batch}",
                r.category or r.outcome,
                fmt.sci(r.err),
                _f64(r),
                _layer(r),
                fmt.one_line(r.message, MARKDOWN_MESSAGE_CHARS),
            ]
            for r in failures.head(MAX_MARKDOWN_ROWS).itertuples()
        ]
        out += [
            "### Failing model cases",
            "",
            fmt.markdown_table(
                ["column", "model", "step", "category", "error", "float64: device / ref.", "layer", "message"], rows
            ),
            "",
        ]
        if len(failures) > MAX_MARKDOWN_ROWS:
            out += [f"… and {len(failures) - MAX_MARKDOWN_ROWS} more (see the JSON or HTML report).", ""]
    return out


def _f64(r: Any) -> str:
    if fmt.is_missing(r.f64_device_err):
        return ""
    return f"{fmt.sci(r.f64_device_err)} / {fmt.sci(r.f64_reference_err)}"


def _layer(r: Any) -> str:
    if fmt.is_missing(r.layer_path) or not r.layer_path:
        return ""
    text = f"{r.layer_path}" + ("" if fmt.is_missing(r.layer_type) or not r.layer_type else f" ({r.layer_type})")
    return text + ("" if not r.layer_functions or fmt.is_missing(r.layer_functions) else f": {r.layer_functions}")


def render_models_html(tables: StudyTables) -> str:
    """A ``<section id="models">`` fragment ('' when the store has no model case): the Markdown tables and
    the whole model table with a filter box."""
    if tables.model_table.empty:
        return ""
    summary = "".join(
        f"<tr><td>{html.escape(r.column)}</td><td>{r.n_models}</td>"
        f"<td>{html.escape(fmt.share_ci(r.running_share, r.running_lo, r.running_hi, r.running_n))}</td>"
        f"<td>{html.escape(fmt.share_ci(r.matching_share, r.matching_lo, r.matching_hi, r.matching_n))}</td>"
        f"<td>{r.not_built}</td></tr>"
        for r in tables.model_summary.itertuples()
    )
    layers = "".join(
        f"<tr><td>{html.escape(r.column)}</td><td>{html.escape(str(r.layer_type))}</td><td>{html.escape(str(r.how))}</td>"
        f"<td>{r.cases}</td><td>{r.models}</td><td>{html.escape(r.example)}</td></tr>"
        for r in tables.model_layers.itertuples()
    )
    rows = "".join(
        f"<tr><td>{html.escape(r.column)}</td><td>{html.escape(r.model)}</td><td>{html.escape(r.step)} @{r.batch}</td>"
        f"<td>{html.escape(str(r.category or r.outcome))}</td><td>{html.escape(fmt.sci(r.err))}</td>"
        f"<td>{html.escape(_f64(r))}</td><td>{html.escape(_layer(r))}</td>"
        f"<td>{html.escape(fmt.duration_ns(r.time_median_ns))}</td>"
        f"<td>{html.escape(fmt.one_line(r.message, HTML_MESSAGE_CHARS))}</td></tr>"
        for r in tables.model_table.itertuples()
    )
    return f"""<section id="models">
<h2>Models</h2>
<table><thead><tr><th>column</th><th>models</th><th>running</th><th>matching</th>
<th>not built / ref. failed</th></tr></thead>
<tbody>{summary}</tbody></table>
<h3>Diverging layers most often named</h3>
<table><thead><tr><th>column</th><th>module type</th><th>how</th><th>cases</th><th>models</th><th>example</th>
</tr></thead>
<tbody>{layers}</tbody></table>
<h3>Model cases</h3>
<input id="model-search" type="search" placeholder="Filter models, e.g. resnet or Conv2d" autocomplete="off"
 aria-label="Filter models">
<table id="model-table"><thead><tr><th>column</th><th>model</th><th>step</th><th>outcome</th><th>error</th>
<th>float64: device / ref.</th><th>layer</th><th>time</th><th>message</th></tr></thead>
<tbody>{rows}</tbody></table>
<script>
(function () {{
  var box = document.getElementById("model-search");
  var rows = document.querySelectorAll("#model-table tbody tr");
  box.addEventListener("input", function () {{
    var q = box.value.toLowerCase();
    rows.forEach(function (tr) {{ tr.style.display = tr.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none"; }});
  }});
}})();
</script>
</section>
"""
