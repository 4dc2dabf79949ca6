"""Grouping runs into report *columns* and pooling their results.

A column is one (framework, framework_version, device, mode, origin) where
``device`` is the run's ``device_kind`` (``cpu``, ``cuda``, ``tpu``...) or, when
that is empty, the requested ``device``. Runs sharing a column (a run resumed in
pieces, or runs merged from several machines) are pooled by ``case_id``: a case
recorded by several runs keeps the result of the newest run (``started_at``,
then ``run_id``). Runs of one framework with different versions, and imported
(``origin='paper'``) runs, always form separate columns.
"""

from __future__ import annotations

import pandas as pd

KEY = ["framework", "framework_version", "device", "mode", "origin"]
"""The columns identifying a report column in every analysis table."""

GROUP = ["framework", "framework_version", "mode", "origin"]
"""A column key without its device: columns of one group are comparable (slowdowns)."""


def device_label(device_kind: object, device: object) -> str:
    """The column's device: ``device_kind`` if set, else the device string without its index."""
    kind = str(device_kind or "").strip()
    if kind:
        return kind
    return str(device or "").split(":")[0] or "unknown"


def column_label(row: pd.Series | dict) -> str:
    """Human label of a column, e.g. ``torch 2.11 cuda eager`` (``[paper]`` appended for imported data)."""
    label = f"{row['framework']} {row['framework_version']} {row['device']} {row['mode']}"
    if row.get("origin", "portabench") != "portabench":
        label += f" [{row['origin']}]"
    return label


def runs_with_columns(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs_frame()`` plus ``run_device`` (as requested), ``device`` (the column's device) and ``column``.

    Contract: one row per run, ordered by ``started_at, run_id``; ``role`` is
    ``reference`` when the run has no reference device, else ``target``.
    """
    if runs.empty:
        out = runs.copy()
        for col in ("run_device", "column", "role"):
            out[col] = pd.Series(dtype=object)
        return out
    out = runs.copy()
    out["run_device"] = out["device"]
    out["device"] = [device_label(k, d) for k, d in zip(out["device_kind"], out["run_device"])]
    out["origin"] = out["origin"].fillna("portabench").replace("", "portabench")
    out["role"] = ["reference" if (r is None or pd.isna(r) or r == "") else "target" for r in out["reference_device"]]
    out["column"] = [column_label(r) for _, r in out.iterrows()]
    return out.sort_values(["started_at", "run_id"], kind="stable").reset_index(drop=True)


def pool_results(results: pd.DataFrame, runs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Pool the results of each column by ``case_id`` (newest run wins).

    Args:
        results: ``Store.results_frame()``.
        runs: :func:`runs_with_columns` output.

    Returns:
        ``(pooled, n_superseded)``: one row per (column, case_id) with ``device``
        replaced by the column's device (the run's requested device is kept as
        ``run_device``) and a ``column`` label; ``n_superseded`` counts results
        dropped because a newer run of the same column recorded the same case.
    """
    if results.empty:
        cols = list(results.columns) + ["run_device", "column", "role", "started_at"]
        return pd.DataFrame(columns=list(dict.fromkeys(cols))), 0
    meta = runs[["run_id", "device", "origin", "column", "role", "started_at"]]
    df = results.drop(columns=["device", "origin"]).merge(meta, on="run_id", how="inner")
    df = df.merge(runs[["run_id", "run_device"]], on="run_id", how="left")
    df = df.sort_values(["started_at", "run_id"], kind="stable")
    before = len(df)
    df = df.drop_duplicates(subset=KEY + ["case_id"], keep="last").reset_index(drop=True)
    return df, before - len(df)


def version_notes(runs: pd.DataFrame) -> list[str]:
    """One note per framework (and origin) whose runs have several framework versions."""
    notes = []
    if runs.empty:
        return notes
    for (fw, origin), grp in runs.groupby(["framework", "origin"], sort=True):
        versions = sorted(set(grp["framework_version"]), key=_version_key)
        if len(versions) > 1:
            where = "" if origin == "portabench" else f" ({origin} data)"
            notes.append(
                f"{fw}{where} has runs of versions {', '.join(versions[:-1])} and {versions[-1]}: shown separately "
                f"(results of different versions are never pooled)"
            )
    return notes


def pooling_notes(runs: pd.DataFrame) -> list[str]:
    """Notes on columns that pool several runs, especially from different hardware or hosts."""
    notes = []
    if runs.empty:
        return notes
    for column, grp in runs.groupby("column", sort=True):
        if len(grp) < 2:
            continue
        names = sorted({str(n) for n in grp["device_name"] if str(n)})
        hosts = sorted({str(h) for h in grp["host"] if str(h)})
        text = f"column '{column}' pools {len(grp)} runs ({', '.join(grp['run_id'])}); a case recorded twice keeps the newest run's result"
        if len(names) > 1:
            text += f"; WARNING: different hardware ({'; '.join(names)})"
        if len(hosts) > 1:
            text += f"; hosts: {', '.join(hosts)}"
        notes.append(text)
    return notes


def _version_key(version: str) -> tuple:
    parts = []
    for piece in str(version).replace("+", ".").replace("-", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)
