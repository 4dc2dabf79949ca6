"""Matplotlib (Agg) figures as ``data:image/png;base64`` URIs, for the self-contained HTML page.

Every function returns ``None`` when there is nothing to plot, so the page can
say so instead of showing an empty image.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

STATUS_COLOURS = {"portable": "#4c9a5f", "partial": "#e0a030", "complete": "#c8443c"}
PALETTE = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#332288", "#117733", "#882255"]


def _to_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def portability_plot(port: pd.DataFrame) -> str | None:
    """Stacked horizontal bars (portable / partial / complete shares) per column, with the 95%
    Wilson interval of the portable share drawn at the portable/failing boundary."""
    port = port[port["n_functions"] > 0] if not port.empty else port
    if port.empty:
        return None
    port = port.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(port) + 1.2))
    y = np.arange(len(port))
    left = np.zeros(len(port))
    for status, colour in STATUS_COLOURS.items():
        vals = port[f"{status}_share"].to_numpy(dtype=float)
        ax.barh(y, vals, left=left, color=colour, label=status, height=0.6)
        left += vals
    share = port["portable_share"].to_numpy(dtype=float)
    err = np.vstack(
        [share - port["portable_lo"].to_numpy(dtype=float), port["portable_hi"].to_numpy(dtype=float) - share]
    )
    ax.errorbar(share, y, xerr=err, fmt="none", ecolor="black", capsize=4, lw=1.2, label="95% CI (portable)")
    ax.set_yticks(y, [f"{c}  (n={n})" for c, n in zip(port["column"], port["n_functions"], strict=True)])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of functions")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.6 / (len(port) + 1)), ncol=4, frameon=False)
    ax.set_title("Portability per framework × device")
    return _to_uri(fig)


def categories_plot(cats: pd.DataFrame) -> str | None:
    """Stacked horizontal bars: failing functions per category, one bar per column."""
    if cats.empty or cats["functions"].sum() == 0:
        return None
    pivot = cats.pivot_table(index="column", columns="category", values="functions", aggfunc="sum", fill_value=0)
    pivot = pivot[pivot.sum().sort_values(ascending=False).index].iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(pivot) + 1.6))
    left = np.zeros(len(pivot))
    for i, cat in enumerate(pivot.columns):
        vals = pivot[cat].to_numpy(dtype=float)
        ax.barh(pivot.index, vals, left=left, color=PALETTE[i % len(PALETTE)], label=cat, height=0.6)
        left += vals
    ax.set_xlabel("failing functions (each under its most frequent category)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 - 0.5 / (len(pivot) + 1)), ncol=3, frameon=False)
    ax.set_title("Failure categories per framework × device")
    return _to_uri(fig)


def _short(column: str, device: str, mode: str) -> str:
    """``device`` plus the column's configuration variant, if any: ``gpu (soft placement)``."""
    marker = f" {device} {mode} ("
    if marker not in column:
        return device
    return f"{device} ({column.split(marker, 1)[1].rsplit(')', 1)[0]})"


def slowdown_ecdf(functions: pd.DataFrame, summary: pd.DataFrame, framework: str) -> str | None:
    """ECDF of per-function slowdown ratios (log x axis) for one framework, one line per
    (version, mode, baseline -> target) pair; the legend gives the share faster on the target."""
    fn = functions[functions["framework"] == framework] if not functions.empty else functions
    if fn.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.2))
    keys = ["framework_version", "mode", "origin", "baseline", "target", "baseline_column", "target_column"]
    for i, (key, grp) in enumerate(fn.groupby(keys, sort=True)):
        ver, mode, origin, b, t, b_col, t_col = key
        b, t = _short(b_col, b, mode), _short(t_col, t, mode)
        r = np.sort(grp["ratio"].to_numpy(dtype=float))
        y = np.concatenate([[0.0], np.arange(1, len(r) + 1) / len(r)])
        r = np.concatenate([[r[0]], r])
        ratios = grp["ratio"].to_numpy(dtype=float)
        label = (
            f"{b}→{t} ({ver} {mode}{'' if origin == 'portabench' else ' ' + origin}): "
            f"{float((ratios < 1).mean()):.0%} faster, {float((ratios > 1).mean()):.0%} slower, n={len(ratios)}"
        )
        ax.step(r, y, where="post", color=PALETTE[i % len(PALETTE)], label=label, lw=1.8)
    ax.axvline(1.0, color="black", ls="--", lw=1)
    ax.set_xscale("log")
    ticks = matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}×")
    ax.xaxis.set_major_formatter(ticks)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    lo, hi = float(fn["ratio"].min()), float(fn["ratio"].max())
    span = [v for v in (0.001, 0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100, 1000) if lo / 1.5 <= v <= hi * 1.5]
    if len(span) >= 2:
        ax.set_xticks(span)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("slowdown = time(target) / time(baseline)  (log scale; < 1: faster on target)")
    ax.set_ylabel("share of functions ≤ x")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{framework}: distribution of per-function slowdowns")
    return _to_uri(fig)


def errors_plot(errors: pd.DataFrame) -> str | None:
    """Histograms of log10 max_abs_err and max_rel_err of mismatching cases, per column."""
    if errors.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    drew = False
    for ax, col, title in (
        (axes[0], "max_abs_err", "max absolute error"),
        (axes[1], "max_rel_err", "max relative error"),
    ):
        vals_all = pd.to_numeric(errors[col], errors="coerce")
        pos = vals_all[vals_all > 0]
        if pos.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(title)
            continue
        lo, hi = np.floor(np.log10(pos.min())), np.ceil(np.log10(pos.max()))
        bins = np.logspace(lo, hi if hi > lo else lo + 1, 25)
        for i, (column, grp) in enumerate(errors.groupby("column", sort=True)):
            v = pd.to_numeric(grp[col], errors="coerce")
            v = v[v > 0]
            if len(v):
                ax.hist(v, bins=bins, alpha=0.6, color=PALETTE[i % len(PALETTE)], label=column)
                drew = True
        ax.set_xscale("log")
        ax.set_xlabel(title)
        ax.set_ylabel("cases")
        ax.set_title(title)
        ax.legend(fontsize=7)
    if not drew:
        plt.close(fig)
        return None
    return _to_uri(fig)
