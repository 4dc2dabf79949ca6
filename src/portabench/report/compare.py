"""What became portable or broke between two stores, or two runs of one store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from portabench.analysis import StudyTables, analyse_frames, build_tables
from portabench.analysis.portability import MEASURED, PORTABLE
from portabench.errors import PortabenchError
from portabench.report import formatting as fmt
from portabench.store import Store

Side = StudyTables | Store | str | Path

FIXED, BROKE, STILL_FAILING, STILL_PORTABLE, NEW, GONE, UNMEASURED = (
    "fixed", "broke", "still failing", "still portable", "new", "gone", "unmeasured")
CHANGES = (BROKE, FIXED, STILL_FAILING, NEW, GONE, STILL_PORTABLE, UNMEASURED)
COLUMNS = [
    "framework",
    "device",
    "mode",
    "variant",
    "column_a",
    "column_b",
    "function",
    "status_a",
    "status_b",
    "change",
]
_MATCH = ["framework", "device", "mode", "variant"]
"""Columns of two sides are matched on these: a soft-placement column only meets a soft-placement column."""


def change(status_a: str | None, status_b: str | None) -> str:
    """Classify one function's transition from A to B.

    Statuses are per-function statuses (portable / partial / complete, or
    reference_broken / no_cases / missing / None = not measured). Measured in
    both: ``fixed`` (failing -> portable), ``broke`` (portable -> failing),
    ``still failing``, ``still portable``; measured only in B: ``new``; only in
    A: ``gone``; in neither: ``unmeasured``.
    """
    ma, mb = status_a in MEASURED, status_b in MEASURED
    if ma and mb:
        fa, fb = status_a != PORTABLE, status_b != PORTABLE
        return {(True, False): FIXED, (False, True): BROKE, (True, True): STILL_FAILING}.get((fa, fb), STILL_PORTABLE)
    if mb:
        return NEW
    if ma:
        return GONE
    return UNMEASURED


def _tables(side: Side, store: Store | None) -> StudyTables:
    if isinstance(side, StudyTables):
        return side
    if isinstance(side, Store):
        return build_tables(side)
    if store is not None and isinstance(side, str):
        runs = store.runs_frame()
        if side not in set(runs["run_id"]):
            raise PortabenchError(f"no run {side!r} in {store.path}")
        runs = runs[runs["run_id"] == side]
        return analyse_frames(
            runs=runs,
            results=store.results_frame([side]),
            functions=store.table_frame("functions"),
            claimed=store.table_frame("claimed_dtypes"),
            source=f"{store.path}#{side}",
        )
    path = Path(side)
    if not path.exists():
        raise PortabenchError(f"{path} is not a store file (pass store=... to compare run ids)")
    with Store(path, create=False) as s:
        return build_tables(s)


def _pick_columns(per_fn: pd.DataFrame, env: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Keep, per (framework, device, mode, variant), the column with the newest run; notes for dropped ones."""
    notes: list[str] = []
    if per_fn.empty:
        return per_fn, notes
    newest = env.groupby("column")["started_at"].max().to_dict() if not env.empty else {}
    keep = []
    for key, grp in per_fn.groupby(_MATCH, sort=True):
        cols = sorted(set(grp["column"]), key=lambda c: (newest.get(c, ""), c))
        keep.append(cols[-1])
        if len(cols) > 1:
            notes.append(
                f"{' '.join(k for k in key if k)}: several columns ({'; '.join(cols)}); compared the newest, {cols[-1]}"
            )
    return per_fn[per_fn["column"].isin(keep)], notes


def compare(a: Side, b: Side, *, store: Store | None = None) -> pd.DataFrame:
    """Per-function changes from A to B.

    Args:
        a, b: each a :class:`StudyTables`, an open :class:`Store`, or a store path;
            or, with ``store`` given, two run ids of that store.
        store: the store holding run ids ``a`` and ``b``.

    Returns:
        DataFrame with columns ``framework, device, mode, variant, column_a, column_b, function,
        status_a, status_b, change`` (``change`` in :data:`CHANGES`), sorted by
        framework, device, mode, change (breakages first), function. Columns are
        matched on (framework, device, mode, variant: soft placement and other configurations
        only meet their own kind), so different framework versions and
        imported (paper) data compare against each other; when each side is a
        single column (two run ids) they are matched whatever their device.
        Caveats are in ``result.attrs["notes"]``; the sources in ``attrs["a"]``/``attrs["b"]``.
    """
    ta, tb = _tables(a, store), _tables(b, store)
    pa, notes_a = _pick_columns(ta.per_function, ta.environment)
    pb, notes_b = _pick_columns(tb.per_function, tb.environment)
    keep = _MATCH + ["column", "function", "status"]
    pa = pa[keep] if not pa.empty else pd.DataFrame(columns=keep)
    pb = pb[keep] if not pb.empty else pd.DataFrame(columns=keep)
    single = pa["column"].nunique() == 1 and pb["column"].nunique() == 1
    if single:
        on = ["function"]
        pb = pb.rename(columns={c: f"{c}_b" for c in _MATCH})
    else:
        on = _MATCH + ["function"]
    m = pa.merge(pb, on=on, how="outer", suffixes=("_a", "_b"))
    if single:
        for c in _MATCH:
            m[c] = m[c].where(m[c].notna(), m[f"{c}_b"])
            if set(pa[c]) != set(pb[f"{c}_b"]):
                m[c] = f"{pa[c].iloc[0]} → {pb[f'{c}_b'].iloc[0]}"
        m["column_a"] = m["column_a"].fillna(pa["column"].iloc[0])
        m["column_b"] = m["column_b"].fillna(pb["column"].iloc[0])
    for c in ("column_a", "column_b", "status_a", "status_b"):
        m[c] = m[c].astype(object).where(m[c].notna(), None)
    if m.empty:
        out = pd.DataFrame(columns=COLUMNS)
    else:
        m["change"] = [change(x, y) for x, y in zip(m["status_a"], m["status_b"], strict=True)]
        # a column missing on one side entirely: fill its label from the other side's key
        for side in ("a", "b"):
            m[f"column_{side}"] = m[f"column_{side}"].where(m[f"column_{side}"].notna(), "(absent)")
        order = {c: i for i, c in enumerate(CHANGES)}
        m["_order"] = m["change"].map(order)
        out = m.sort_values(["framework", "device", "mode", "variant", "_order", "function"])[COLUMNS].reset_index(
            drop=True
        )
    out.attrs["notes"] = list(dict.fromkeys(notes_a + notes_b))
    out.attrs["a"], out.attrs["b"] = ta.source, tb.source
    return out


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Counts of each change per (framework, device, mode, variant, column_a, column_b)."""
    if df.empty:
        return pd.DataFrame(columns=["framework", "device", "mode", "variant", "column_a", "column_b", *CHANGES])
    counts = pd.crosstab(
        [df["framework"], df["device"], df["mode"], df["variant"], df["column_a"], df["column_b"]], df["change"]
    )
    for c in CHANGES:
        if c not in counts.columns:
            counts[c] = 0
    return counts[list(CHANGES)].reset_index()


def render_compare_markdown(df: pd.DataFrame, *, show_unchanged: bool = False) -> str:
    """Markdown: a summary of changes per matched column pair, then every function whose
    change is not ``still portable`` (all rows with ``show_unchanged``)."""
    out = ["# portabench comparison", ""]
    if df.attrs.get("a") or df.attrs.get("b"):
        out += [f"A: `{df.attrs.get('a', '')}` · B: `{df.attrs.get('b', '')}`", ""]
    if df.empty:
        return "\n".join(out + ["Nothing to compare: no function measured in either side.", ""])
    summ = summarise(df)
    out += [
        "## Summary",
        "",
        fmt.markdown_table(
            ["framework", "device", "mode", "A", "B", *CHANGES],
            [
                [
                    r["framework"],
                    device_with_variant(r["device"], r["variant"]),
                    r["mode"],
                    r["column_a"],
                    r["column_b"],
                    *(int(r[c]) for c in CHANGES),
                ]
                for _, r in summ.iterrows()
            ],
            ["l"] * 5 + ["r"] * len(CHANGES),
        ),
        "",
    ]
    rows = df if show_unchanged else df[df["change"] != STILL_PORTABLE]
    out += ["## Functions" + ("" if show_unchanged else " (still-portable ones omitted)"), ""]
    if rows.empty:
        out += ["No change.", ""]
    else:
        out += [
            fmt.markdown_table(
                ["framework", "device", "mode", "function", "status in A", "status in B", "change"],
                [
                    [
                        r.framework,
                        device_with_variant(r.device, r.variant),
                        r.mode,
                        r.function,
                        r.status_a or "–",
                        r.status_b or "–",
                        r.change,
                    ]
                    for r in rows.itertuples()
                ],
            ),
            "",
        ]
    notes = df.attrs.get("notes") or []
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def device_with_variant(device: str, variant: str) -> str:
    """``cuda`` or, for a column with a configuration variant, ``cuda (soft placement)``."""
    return f"{device} ({variant})" if variant else device


def compare_command(a: str, b: str, store: str | Path | None = None, *, show_unchanged: bool = False) -> str:
    """``portabench compare A B [--store S]``: the Markdown comparison of two store files, or of two
    run ids of store ``S``. Missing files / unknown run ids raise :class:`PortabenchError`."""
    if store is not None:
        with Store(store, create=False) as s:
            return render_compare_markdown(compare(a, b, store=s), show_unchanged=show_unchanged)
    return render_compare_markdown(compare(a, b), show_unchanged=show_unchanged)
