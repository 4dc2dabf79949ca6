"""Grouping runs into report *columns* and pooling their results.

A column is one (framework, framework_version, device, mode, origin, variant)
where ``device`` is the run's ``device_kind`` (``cpu``, ``cuda``, ``tpu``...) or,
when that is empty, the requested ``device`` without its index. ``variant``
separates runs whose *configuration* differs although the five facts agree
(:func:`run_signature`): soft device placement, the numerics switches, and the
hardware (``device_name``). Runs are pooled into one column only when all of it
is the same; hardware is ignored when the caller pools machines explicitly
(``pool_hardware=True``). A soft-placement column is always labelled
``soft placement``, even when it is the only one of its device.

Pooled runs (a run resumed in pieces, runs merged from several machines with
the same hardware) are pooled by ``case_id``: a case recorded by several runs
keeps the newest run's result (``started_at``, then ``run_id``), and
:func:`pool_results` counts the cases whose runs *disagree* in outcome so that
the report can say so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from portabench.frameworks import device_kind as kind_of_device

BASE_KEY = ["framework", "framework_version", "device", "mode", "origin"]
"""A column's key without its configuration variant."""

KEY = BASE_KEY + ["variant"]
"""The columns identifying a report column in every analysis table."""

GROUP = ["framework", "framework_version", "mode", "origin"]
"""A column key without its device and variant: columns of one group are comparable (slowdowns)."""

SOFT = "soft placement"

_ENVIRONMENT_KEY = re.compile(r"(version|count|threads|warm_up|^platform$|^device_kind$|^mode$)", re.IGNORECASE)
"""Numerics entries that describe the environment rather than switch numerics: never split columns
(``compile.warm_up_s`` is a time the worker measured at its start, different in every run)."""

_SOFT_KEYS = ("soft_device_placement", "soft_placement")


def device_label(device_kind: object, device: object) -> str:
    """The column's device: ``device_kind`` if set, else the device string without its index and ``+soft``."""
    kind = str(device_kind or "").strip()
    if kind:
        return kind
    return kind_of_device(str(device or ""))


def json_object(value: Any) -> dict:
    """A JSON-object column of the store (``numerics``, ``config``, ``sample``, ``compile_info``) as a dict;
    ``{}`` for anything else (NULL, malformed, not an object)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            out = json.loads(value)
        except ValueError:
            return {}
        return out if isinstance(out, dict) else {}
    return {}


def is_soft(run: pd.Series | dict) -> bool:
    """True when the run used soft device placement: the ``+soft`` device suffix, the numerics switch
    (TensorFlow's ``soft_device_placement``) or the imported ``config.soft_placement``."""
    if str(run.get("device") or "").lower().endswith("+soft"):
        return True
    numerics, config = json_object(run.get("numerics")), json_object(run.get("config"))
    return any(bool(numerics.get(k)) for k in _SOFT_KEYS) or bool(config.get("soft_placement"))


def switches(numerics: Any) -> dict[str, Any]:
    """The numerics switches of a run: its ``numerics`` without soft placement and without the
    environment entries (versions, device/thread counts, platform) that do not change results."""
    return {k: v for k, v in sorted(json_object(numerics).items())
            if k not in _SOFT_KEYS and not _ENVIRONMENT_KEY.search(k)}


@dataclass(frozen=True)
class Signature:
    """What must be equal for two runs of one (framework, version, device, mode, origin) to pool.

    ``machine`` is only a label: imported data names its hardware vaguely ("TPU (version not
    recorded)"), so its columns are labelled by the machine folder (``host``) instead.
    """

    soft: bool
    switches: tuple[tuple[str, str], ...]
    hardware: str
    machine: str = field(default="", compare=False)


def run_signature(run: pd.Series | dict, pool_hardware: bool = False) -> Signature:
    """The configuration of ``run`` that decides pooling (see the module docstring)."""
    sw = tuple((k, json.dumps(v, sort_keys=True)) for k, v in switches(run.get("numerics")).items())
    hardware = "" if pool_hardware else str(run.get("device_name") or "")
    imported = str(run.get("origin") or "portabench") != "portabench"
    return Signature(soft=is_soft(run), switches=sw, hardware=hardware,
                     machine=str(run.get("host") or "") if imported else "")


def _variants(sigs: list[Signature]) -> dict[Signature, str]:
    """Readable, distinct labels for the signatures of one base column: ``soft placement`` when soft;
    plus, when several signatures exist, the switches and hardware that differ between them."""
    distinct = list(dict.fromkeys(sigs))
    keys_differ = set()
    if len(distinct) > 1:
        all_keys = {k for s in distinct for k, _ in s.switches}
        for k in sorted(all_keys):
            if len({dict(s.switches).get(k) for s in distinct}) > 1:
                keys_differ.add(k)
    hw_differ = len({s.hardware for s in distinct}) > 1
    labels: dict[Signature, str] = {}
    for s in distinct:
        parts = [SOFT] if s.soft else []
        parts += [f"{k}={json.loads(v) if v is not None else None}" for k, v in s.switches if k in keys_differ]
        parts += [k + "=unset" for k in sorted(keys_differ) if k not in dict(s.switches)]
        if hw_differ:
            parts.append(s.machine or s.hardware or "hardware not recorded")
        labels[s] = "; ".join(parts)
    seen: dict[str, int] = {}
    for s in distinct:  # signatures that differ only in ways the label does not show stay distinct
        n = seen.get(labels[s], 0)
        seen[labels[s]] = n + 1
        if n:
            labels[s] = f"{labels[s]}; configuration {n + 1}".lstrip("; ")
    return labels


def column_label(row: pd.Series | dict) -> str:
    """Human label of a column, e.g. ``torch 2.11 cuda eager``; the variant in parentheses
    (``tensorflow 2.15 gpu eager (soft placement)``), ``[paper]`` appended for imported data."""
    label = f"{row['framework']} {row['framework_version']} {row['device']} {row['mode']}"
    variant = row.get("variant") or ""
    if variant:
        label += f" ({variant})"
    if row.get("origin", "portabench") != "portabench":
        label += f" [{row['origin']}]"
    return label


def runs_with_columns(runs: pd.DataFrame, pool_hardware: bool = False) -> pd.DataFrame:
    """``runs_frame()`` plus ``run_device`` (as requested), ``device`` (the column's device),
    ``variant``, ``soft``, ``column`` and ``role``.

    Contract: one row per run, ordered by ``started_at, run_id``; ``role`` is
    ``reference`` when the run has no reference device, else ``target``.
    """
    if runs.empty:
        out = runs.copy()
        for col in ("run_device", "column", "role", "variant", "soft"):
            out[col] = pd.Series(dtype=object)
        return out
    out = runs.copy()
    out["run_device"] = out["device"]
    out["device"] = [device_label(k, d) for k, d in zip(out["device_kind"], out["run_device"], strict=True)]
    out["origin"] = out["origin"].fillna("portabench").replace("", "portabench")
    out["role"] = ["reference" if (r is None or pd.isna(r) or r == "") else "target" for r in out["reference_device"]]
    records = out.to_dict("records")
    for rec, run_device in zip(records, out["run_device"], strict=True):
        rec["device"] = run_device  # the +soft suffix lives on the requested device
    sigs = [run_signature(r, pool_hardware) for r in records]
    out["soft"] = [s.soft for s in sigs]
    out["variant"] = ""
    out["_sig"] = sigs
    for idx in out.groupby(BASE_KEY, sort=False).groups.values():
        labels = _variants([out.at[i, "_sig"] for i in idx])
        for i in idx:
            out.at[i, "variant"] = labels[out.at[i, "_sig"]]
    out = out.drop(columns=["_sig"])
    out["column"] = [column_label(r) for _, r in out.iterrows()]
    return out.sort_values(["started_at", "run_id"], kind="stable").reset_index(drop=True)


@dataclass
class Pooling:
    """What pooling did: per column, cases recorded by several runs and those whose outcomes disagree."""

    repeated: dict[str, int] = field(default_factory=dict)  # column -> cases recorded by several runs
    disagreeing: dict[str, int] = field(default_factory=dict)  # column -> of those, cases with different outcomes


def pool_results(results: pd.DataFrame, runs: pd.DataFrame) -> tuple[pd.DataFrame, Pooling]:
    """Pool the results of each column by ``case_id`` (newest run's result shown).

    Args:
        results: ``Store.results_frame()``.
        runs: :func:`runs_with_columns` output.

    Returns:
        ``(pooled, pooling)``: one row per (column, case_id) with ``device``
        replaced by the column's device (the run's requested device is kept as
        ``run_device``), ``variant`` and ``column``; ``pooling`` counts, per column, the
        cases recorded several times (the newest run's result is kept) and those whose outcomes disagree.
    """
    if results.empty:
        cols = list(results.columns) + ["run_device", "variant", "column", "role", "started_at"]
        return pd.DataFrame(columns=list(dict.fromkeys(cols))), Pooling()
    meta = runs[["run_id", "device", "origin", "variant", "column", "role", "started_at", "run_device"]]
    own = results.drop(columns=[c for c in ("device", "origin") if c in results.columns])
    df = own.merge(meta, on="run_id", how="inner")
    df = df.sort_values(["started_at", "run_id"], kind="stable")
    pooling = Pooling()
    dup = df[df.duplicated(subset=["column", "case_id"], keep=False)]
    if len(dup):
        per_case = dup.groupby(["column", "case_id"])["outcome"].nunique()
        pooling.repeated = per_case.groupby(level=0).size().astype(int).to_dict()
        pooling.disagreeing = (per_case > 1).groupby(level=0).sum().astype(int).to_dict()
    df = df.drop_duplicates(subset=["column", "case_id"], keep="last").reset_index(drop=True)
    return df, pooling


def version_notes(runs: pd.DataFrame) -> list[str]:
    """One note per framework (and origin) whose runs have several framework versions."""
    notes: list[str] = []
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


def pooling_notes(runs: pd.DataFrame, pooling: Pooling) -> list[str]:
    """Notes on columns that pool several runs (and how many repeated cases disagree), and on
    configurations kept apart (soft placement, numerics switches, hardware)."""
    notes: list[str] = []
    if runs.empty:
        return notes
    for column, grp in runs.groupby("column", sort=True):
        if len(grp) < 2:
            continue
        hosts = sorted({str(h) for h in grp["host"] if str(h)})
        text = f"column '{column}' pools {len(grp)} runs ({', '.join(grp['run_id'])}) of the same configuration"
        if len(hosts) > 1:
            text += f" from hosts {', '.join(hosts)}"
        repeated = pooling.repeated.get(column, 0)
        if repeated:
            text += (
                f"; {repeated} case(s) were recorded by several of them, {pooling.disagreeing.get(column, 0)} "
                f"with different outcomes (the newest run's result is shown)"
            )
        notes.append(text)
    for key, grp in runs.groupby(BASE_KEY, sort=True):
        variants = sorted(set(grp["variant"]))
        if len(variants) > 1:
            shown = "; ".join(f"'{c}'" for c in sorted(set(grp["column"])))
            notes.append(
                f"{len(variants)} configurations of {key[0]} {key[1]} {key[2]} {key[3]} are kept apart "
                f"(runs pool only when soft placement, numerics switches and hardware agree): {shown}"
            )
    return notes


def _version_key(version: str) -> tuple:
    parts = []
    for piece in str(version).replace("+", ".").replace("-", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)
