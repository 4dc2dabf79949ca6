"""Stores -> one :class:`Verdict` per (framework, function, device).

Each store is analysed as ``portabench report`` does (:func:`portabench.analysis.build_tables`,
its ``per_function`` table: cases pooled per column, ``reference_failed`` cases set aside).
A column's status maps to a scan status: ``portable`` -> portable, ``partial`` -> partial,
``complete`` -> failing, ``reference_broken`` -> broken case, ``no_cases`` -> no cases,
``missing`` (the name is not in that framework version) and ``outcome_unknown`` (no usable
outcome) -> untested. Function names are
canonicalised with the API listing (TensorFlow aliases), so results stored under
``tensorflow.add`` answer for a call of ``tf.math.add``.

Several columns of one device (modes, framework versions, stores, the paper's imported
data) are combined: measured columns win over unmeasured ones; if they disagree
(one portable, one failing) the device is ``partial``; otherwise their common status.
The first failing column gives the category and message.
"""

from __future__ import annotations

from collections.abc import Callable

from portabench.analysis import build_tables
from portabench.frameworks import device_kind
from portabench.scan.model import (
    BROKEN,
    FAILING,
    NO_CASES,
    PARTIAL,
    PORTABLE,
    UNTESTED,
    Verdict,
)
from portabench.store import Store

_FROM_ANALYSIS = {
    "portable": PORTABLE, "partial": PARTIAL, "complete": FAILING,
    "reference_broken": BROKEN, "no_cases": NO_CASES, "missing": UNTESTED,
    "outcome_unknown": UNTESTED,  # analysis on main after issue 13: no usable outcome, so no verdict
}
_MEASURED = (PORTABLE, PARTIAL, FAILING)

Rows = dict[tuple[str, str], dict[str, list[Verdict]]]


def _text(value: object) -> str | None:
    """A text cell of a frame: ``None`` for SQL NULL (NaN/None) and empty strings."""
    return value if isinstance(value, str) and value else None


def read_store(path: str, canonical: Callable[[str, str], str]) -> tuple[Rows, list[tuple[str, str, str]]]:
    """Per (framework, function) and device, the verdict of every column of the store at ``path``;
    and the (framework, device, role) of each of its runs.

    ``canonical(framework, name)`` maps a stored name to the name the miner uses.
    """
    with Store(path, create=False) as store:
        tables = build_tables(store)
        runs = store.runs_frame()
    rows: Rows = {}
    for r in tables.per_function.itertuples(index=False):
        status = _FROM_ANALYSIS.get(r.status)
        if status is None:
            continue
        verdict = Verdict(status, _text(r.main_category) if status in (FAILING, PARTIAL) else None,
                          _text(r.message) if status in (FAILING, PARTIAL, BROKEN) else None, (r.column,), path)
        key = (r.framework, canonical(r.framework, r.function))
        rows.setdefault(key, {}).setdefault(r.device, []).append(verdict)
    roles = []
    for r in runs.itertuples(index=False):
        kind = _text(r.device_kind) or device_kind(str(r.device))
        roles.append((r.framework, kind, "reference" if not _text(r.reference_device) else "target"))
    return rows, roles


def combine(verdicts: list[Verdict]) -> Verdict:
    """One verdict from the columns of one device (see the module docstring)."""
    measured = [v for v in verdicts if v.status in _MEASURED]
    pool = measured or verdicts
    statuses = {v.status for v in pool}
    columns = tuple(c for v in pool for c in v.columns)
    failing = next((v for v in pool if v.status in (FAILING, PARTIAL)), None)
    if len(statuses) == 1:
        status = statuses.pop()
    elif measured:
        status = PARTIAL
    else:
        status = min(statuses, key=lambda s: (BROKEN, NO_CASES, UNTESTED).index(s))
    source = failing if failing is not None else next((v for v in pool if v.status == status), pool[0])
    return Verdict(status, source.category, source.message, columns, source.store)


def read_stores(paths: list[str], canonical: Callable[[str, str], str]) -> tuple[
        dict[tuple[str, str], dict[str, Verdict]], dict[str, set[str]]]:
    """Verdicts of every store, combined per (framework, function, device); and, per device with
    target runs, the frameworks that have them, in order of appearance (when the stores hold only
    reference runs, their devices instead)."""
    merged: Rows = {}
    targets: dict[str, set[str]] = {}
    references: dict[str, set[str]] = {}
    for path in paths:
        rows, roles = read_store(path, canonical)
        for key, by_device in rows.items():
            for device, verdicts in by_device.items():
                merged.setdefault(key, {}).setdefault(device, []).extend(verdicts)
        for framework, device, role in roles:
            (targets if role == "target" else references).setdefault(device, set()).add(framework)
    combined = {key: {d: combine(v) for d, v in by.items()} for key, by in merged.items()}
    return combined, targets or references
