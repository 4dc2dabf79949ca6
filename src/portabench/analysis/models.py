"""Tables of whole-model cases (sources ``model:<step>@<batch>``, see portabench.models).

Per report column (framework, version, device, mode, origin) of the pooled results:

* ``model_summary``: models tested; *running* = every compared case (forward and
  train step at the compared batch) ran on the device; *matching* = every compared
  case passed (undefined for a reference run, which compares nothing); both with
  95% Wilson intervals. Cases broken on the reference (or
  models that could not be built) are excluded and counted apart.
* ``model_categories``: failing compared cases per failure category.
* ``model_layers``: the module types named as diverging (or raising) layers, most
  often first, with an example model and path.
* ``model_ratios``: per model, step and batch, time(target) / time(baseline) of
  cases that passed on both (baseline: the group's reference device kind, as for functions);
* ``model_slowdowns``: per (group, target, step, batch), the distribution of those ratios
  over models (median with a 95% CI, p90, max).
* ``model_table``: one row per (column, model, step, batch): outcome, category,
  errors, the float64 verdict, the layer, the time.
A crashed case has no details; its layer is read from the faulthandler dump in
its stderr tail (the innermost ``forward`` frame): :func:`crash_frame`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from portabench.analysis.columns import GROUP, KEY, column_label
from portabench.analysis.intervals import ratio_summary, share, wilson_interval
from portabench.cases import FAILED, PASSED, REFERENCE_FAILED
from portabench.frameworks import device_kind
from portabench.models.details import human_message, parse_details
from portabench.models.names import MODEL_CASE_PREFIX

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in forward')


def crash_frame(stderr_tail: object) -> str | None:
    """``file:line`` of the innermost ``forward`` outside torch.nn in a faulthandler dump, if any."""
    if not isinstance(stderr_tail, str):
        return None
    for m in _FRAME.finditer(stderr_tail):
        if "/torch/nn/modules/" not in m.group("file"):
            return f"{m.group('file').rsplit('/', 1)[-1]}:{m.group('line')}"
    return None


def is_model_result(results: pd.DataFrame) -> pd.Series:
    """Boolean mask of the model-case rows of a results frame."""
    if results.empty or "source" not in results:
        return pd.Series(False, index=results.index, dtype=bool)
    return results["source"].astype(str).str.startswith(MODEL_CASE_PREFIX)


@dataclass
class ModelTables:
    summary: pd.DataFrame
    categories: pd.DataFrame
    layers: pd.DataFrame
    slowdowns: pd.DataFrame
    ratios: pd.DataFrame
    table: pd.DataFrame


MESSAGE_CHARS = 300
"""Characters kept of a model case's message in the model table."""
TABLE_COLUMNS = KEY + [
    "column",
    "model",
    "step",
    "batch",
    "has_reference",
    "outcome",
    "category",
    "err",
    "f64_device_err",
    "f64_reference_err",
    "further",
    "layer_path",
    "layer_type",
    "layer_functions",
    "layer_how",
    "time_median_ns",
    "message",
]


def model_table(pooled: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per model case of every column (see the module docstring)."""
    rows = pooled[is_model_result(pooled)] if not pooled.empty else pooled
    if rows.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    device_of = dict(zip(runs["run_id"], runs["device"], strict=True))
    pairs = zip(runs["run_id"], runs["reference_device"], strict=True)
    reference_of = {k: v for k, v in pairs if isinstance(v, str) and v}
    out = []
    for r in rows.itertuples():
        d = parse_details(r.message)
        step, _, batch = str(r.source).removeprefix(MODEL_CASE_PREFIX).partition("@")
        layer = d.get("layer") or {}
        f64 = d.get("f64") or {}
        frame = crash_frame(getattr(r, "stderr_tail", None)) if r.outcome == FAILED and not layer else None
        row = {k: getattr(r, k) for k in ("framework", "framework_version", "mode", "origin")}
        row["variant"] = getattr(r, "variant", "") or ""  # configuration variant of the column (analysis/columns.py)
        row["device"] = device_of.get(r.run_id, r.device)
        row["column"] = getattr(r, "column", None) or column_label(row)
        row.update(
            model=r.function,
            step=step,
            batch=int(batch or 0),
            has_reference=bool(reference_of.get(r.run_id)),
            outcome=r.outcome,
            category=r.category,
            err=d.get("err"),
            f64_device_err=f64.get("device_err"),
            f64_reference_err=f64.get("reference_err"),
            further=f64.get("further"),
            layer_path=layer.get("path") or (frame and f"(crashed in {frame})"),
            layer_type=layer.get("type"),
            layer_functions=", ".join(layer.get("functions") or []),
            layer_how=layer.get("how") or ("crash dump" if frame else None),
            time_median_ns=r.time_median_ns,
            message=human_message(r.message)[:MESSAGE_CHARS],
        )
        out.append(row)
    return pd.DataFrame(out, columns=TABLE_COLUMNS)


def _compared(table: pd.DataFrame) -> pd.DataFrame:
    """The compared cases: those at a model's smallest batch (the compared batch)."""
    smallest = table.groupby(KEY + ["model"])["batch"].transform("min")
    return table[table["batch"] == smallest]


def model_summary(table: pd.DataFrame) -> pd.DataFrame:
    cols = KEY + [
        "column",
        "n_models",
        "not_built",
        "running_n",
        "running_share",
        "running_lo",
        "running_hi",
        "matching_n",
        "matching_share",
        "matching_lo",
        "matching_hi",
    ]
    if table.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for key, grp in _compared(table).groupby(KEY, sort=True):
        models = {m: g for m, g in grp.groupby("model")}
        broken = [m for m, g in models.items() if (g["outcome"] == REFERENCE_FAILED).any()]
        judged = [g for m, g in models.items() if m not in broken]
        n = len(judged)
        ran = lambda g: ((g["outcome"] == PASSED) | (g["category"] == "numerical_mismatch")).all()  # noqa: E731
        running = sum(bool(ran(g)) for g in judged)
        matching = sum(bool((g["outcome"] == PASSED).all()) for g in judged)
        row = dict(zip(KEY, key, strict=False))
        row["column"] = grp["column"].iloc[0]
        row.update(n_models=n, not_built=len(broken), running_n=running, running_share=share(running, n))
        row["running_lo"], row["running_hi"] = wilson_interval(running, n)
        if grp["has_reference"].any():  # a reference run compares nothing: its matching share is undefined
            row.update(matching_n=matching, matching_share=share(matching, n))
            row["matching_lo"], row["matching_hi"] = wilson_interval(matching, n)
        else:
            row.update(matching_n=None, matching_share=float("nan"), matching_lo=float("nan"), matching_hi=float("nan"))
        out.append(row)
    return pd.DataFrame(out, columns=cols)


def model_categories(table: pd.DataFrame) -> pd.DataFrame:
    cols = ["column", "category", "cases", "models"]
    failed = _compared(table)[lambda t: t["outcome"] == FAILED] if not table.empty else table
    if failed.empty:
        return pd.DataFrame(columns=cols)
    grp = failed.groupby(["column", "category"])
    out = pd.DataFrame({"cases": grp.size(), "models": grp["model"].nunique()}).reset_index()
    return out.sort_values(["column", "cases"], ascending=[True, False], kind="stable")[cols].reset_index(drop=True)


def model_layers(table: pd.DataFrame) -> pd.DataFrame:
    cols = ["column", "layer_type", "how", "cases", "models", "example"]
    named = table[(table["outcome"] == FAILED) & table["layer_type"].notna()] if not table.empty else table
    if named.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for (column, layer_type, how), grp in named.groupby(["column", "layer_type", "layer_how"], sort=True):
        first = grp.iloc[0]
        out.append(
            {
                "column": column,
                "layer_type": layer_type,
                "how": how,
                "cases": len(grp),
                "models": grp["model"].nunique(),
                "example": f"{first['model']} {first['layer_path']}",
            }
        )
    return (
        pd.DataFrame(out, columns=cols)
        .sort_values(["column", "cases"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
    )


RATIO_COLUMNS = GROUP + ["baseline", "target", "model", "step", "batch", "ratio", "baseline_ns", "target_ns"]


def model_ratios(table: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per (group, target device, model, step, batch): time(target) / time(baseline), largest first."""
    timed = table[(table["outcome"] == PASSED) & (table["time_median_ns"] > 0)] if not table.empty else table
    if timed.empty:
        return pd.DataFrame(columns=RATIO_COLUMNS)
    out = []
    for key, grp in timed.groupby(GROUP, sort=True):
        group_runs = runs[(runs[GROUP] == pd.Series(key, index=GROUP)).all(axis=1)]
        refs = [device_kind(r) for r in group_runs["reference_device"] if isinstance(r, str) and r]
        baseline = max(set(refs), key=refs.count) if refs else "cpu"
        base = grp[grp["device"] == baseline].set_index(["model", "step", "batch"])["time_median_ns"]
        for target, tgrp in grp[grp["device"] != baseline].groupby("device"):
            tt = tgrp.set_index(["model", "step", "batch"])["time_median_ns"]
            paired = pd.concat([base.rename("b"), tt.rename("t")], axis=1, join="inner")
            for (model, step, batch), p in paired.iterrows():
                out.append(
                    {
                        **dict(zip(GROUP, key, strict=False)),
                        "baseline": baseline,
                        "target": target,
                        "model": model,
                        "step": step,
                        "batch": int(batch),
                        "ratio": float(p["t"] / p["b"]),
                        "baseline_ns": float(p["b"]),
                        "target_ns": float(p["t"]),
                    }
                )
    frame = pd.DataFrame(out, columns=RATIO_COLUMNS)
    return frame.sort_values("ratio", ascending=False, kind="stable").reset_index(drop=True)


def model_slowdowns(ratios: pd.DataFrame) -> pd.DataFrame:
    """Per (group, target device, step, batch): the distribution of :func:`model_ratios` over models."""
    cols = GROUP + ["baseline", "target", "step", "batch", "n_models", "median", "median_lo", "median_hi", "p90", "max"]
    if ratios.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for key, grp in ratios.groupby(GROUP + ["baseline", "target", "step", "batch"], sort=True):
        values = grp["ratio"].to_numpy(dtype=float)
        row = dict(zip(GROUP + ["baseline", "target", "step", "batch"], key, strict=False))
        out.append({**row, "n_models": len(values), **ratio_summary(values)})  # columns keep what the table shows
    return pd.DataFrame(out, columns=cols)


def model_tables(pooled: pd.DataFrame, runs: pd.DataFrame) -> ModelTables:
    """Every model table of the pooled results (empty frames when there is no model case)."""
    table = model_table(pooled, runs)
    ratios = model_ratios(table, runs)
    return ModelTables(
        model_summary(table), model_categories(table), model_layers(table), model_slowdowns(ratios), ratios, table
    )
