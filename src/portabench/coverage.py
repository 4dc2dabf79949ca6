"""How much of what people use has cases: coverage of a frequency table.

For one framework, every name the table counts is put in exactly one class:

* ``covered``: at least one executable case exists under that name (the set of such
  names comes from a worker, :func:`functions_with_cases`; the parent never imports
  a framework);
* ``marked``: no case, and the name is marked *not device-dependent* with a reason in
  ``portabench/data/not_device_dependent.toml`` (pure Python helpers, type objects,
  process-group plumbing, ...): it cannot be exercised on a device;
* ``uncovered``: neither -- a gap, listed by usage.

:func:`measure_coverage` is pure (table + names with cases + marks -> :class:`Coverage`);
:func:`framework_coverage` asks a worker for the names with cases first.
Shares are of call volume (sum of counts), of names, and of the ``top`` most used
names. Only the table's qualified calls (``counts``) are measured: method candidates
(``x.sum(...)`` with an unknown receiver) cannot be attributed to one function.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from portabench.case_options import DEFAULT_CASE_OPTIONS, CaseOptions
from portabench.errors import PortabenchError
from portabench.frameworks import get_framework
from portabench.mining import validate_frequency_table

if TYPE_CHECKING:
    from portabench.protocol import ListingReply

COVERED, MARKED, UNCOVERED = "covered", "marked", "uncovered"
MARKS_FILE = "not_device_dependent.toml"
TOP = 100


@dataclass(frozen=True)
class UsedFunction:
    """A name of the table: its call count, its class (covered / marked / uncovered) and, if marked, why."""

    name: str
    frequency: int
    status: str
    reason: str = ""


@dataclass
class Coverage:
    """Coverage of one frequency table by the cases of one framework (names ranked by use, ties by name)."""

    framework: str
    functions: list[UsedFunction]
    sources: list[dict[str, Any]] = field(default_factory=list)
    top: int = TOP

    @property
    def calls(self) -> int:
        return sum(f.frequency for f in self.functions)

    def volume_share(self, *statuses: str) -> float:
        """Share of call volume whose name has one of ``statuses`` (0 for an empty table)."""
        total = self.calls
        return sum(f.frequency for f in self.functions if f.status in statuses) / total if total else 0.0

    def count(self, *statuses: str, top: int | None = None) -> int:
        """How many names (of the ``top`` most used, if given) have one of ``statuses``."""
        chosen = self.functions if top is None else self.functions[:top]
        return sum(1 for f in chosen if f.status in statuses)

    def uncovered(self) -> list[UsedFunction]:
        """Names with neither a case nor a mark, most used first."""
        return [f for f in self.functions if f.status == UNCOVERED]

    def summary(self, limit: int = 20) -> dict[str, Any]:
        """A JSON-able digest (stored with a sample's manifest and shown in reports)."""
        n_top = min(self.top, len(self.functions))
        return {
            "framework": self.framework,
            "table_sources": [f"{s.get('name')}=={s.get('version')}" for s in self.sources],
            "calls": self.calls,
            "names": len(self.functions),
            "covered_names": self.count(COVERED),
            "marked_names": self.count(MARKED),
            "top": n_top,
            "covered_top": self.count(COVERED, top=n_top),
            "marked_top": self.count(MARKED, top=n_top),
            "covered_volume": round(self.volume_share(COVERED), 4),
            "marked_volume": round(self.volume_share(MARKED), 4),
            "uncovered_top_names": [[f.name, f.frequency] for f in self.uncovered()[:limit]],
        }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Human lines for a :meth:`Coverage.summary` (what ``sample``, ``study`` and ``coverage`` print)."""
    s = summary
    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    lines = [(
        f"{s['framework']} coverage of the usage table ({', '.join(s['table_sources']) or 'no sources'}): "
        f"{pct(s['covered_volume'])} of {s['calls']} calls have cases, {pct(s['marked_volume'])} are marked not "
        f"device-dependent ({pct(s['covered_volume'] + s['marked_volume'])} together); names: "
        f"{s['covered_names']} of {s['names']} covered, {s['marked_names']} marked; top {s['top']}: "
        f"{s['covered_top']} covered, {s['marked_top']} marked"
    )]
    if s["uncovered_top_names"]:
        lines.append("  most used without cases: " + ", ".join(f"{n} ({c})" for n, c in s["uncovered_top_names"]))
    return lines


@cache
def _marks_data() -> dict[str, dict[str, str]]:
    text = (resources.files("portabench.data") / MARKS_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    if data.get("format") != 1:
        raise PortabenchError(f"{MARKS_FILE}: expected 'format = 1'")
    out: dict[str, dict[str, str]] = {}
    for framework, marks in data.items():
        if framework == "format":
            continue
        if not isinstance(marks, dict) or not all(isinstance(r, str) and r.strip() for r in marks.values()):
            raise PortabenchError(f"{MARKS_FILE}: [{framework}] must map names to non-empty reasons")
        out[get_framework(framework).name] = dict(marks)
    return out


def load_marks(framework: str) -> dict[str, str]:
    """The shipped marks of ``framework``: name (or ``prefix.*``) -> why it is not device-dependent."""
    return dict(_marks_data().get(get_framework(framework).name, {}))


def mark_reason(name: str, marks: dict[str, str]) -> str | None:
    """The reason ``name`` is marked: an exact entry, else the longest ``prefix.*`` entry that contains it."""
    if name in marks:
        return marks[name]
    best = None
    for key, reason in marks.items():
        if key.endswith(".*") and name.startswith(key[:-1]) and (best is None or len(key) > len(best[0])):
            best = (key, reason)
    return best[1] if best else None


def measure_coverage(framework: str, table: dict[str, Any], with_cases: set[str],
                     marks: dict[str, str] | None = None, top: int = TOP) -> Coverage:
    """Classify every name of ``table['counts']`` (see the module docstring).

    ``with_cases``: qualified names that have at least one case; ``marks``: name or
    ``prefix.*`` -> reason (default: the shipped marks). A table of another framework
    raises PortabenchError.
    """
    entry = get_framework(framework)
    table = validate_frequency_table(table)
    if get_framework(table["framework"]).name != entry.name:
        raise PortabenchError(f"the frequency table is for {table['framework']}, not {entry.name}")
    marks = load_marks(entry.name) if marks is None else marks
    ranked = sorted(((n, c) for n, c in table["counts"].items() if c >= 1), key=lambda item: (-item[1], item[0]))
    functions = []
    for name, count in ranked:
        if name in with_cases:
            functions.append(UsedFunction(name, count, COVERED))
        elif (reason := mark_reason(name, marks)) is not None:
            functions.append(UsedFunction(name, count, MARKED, reason))
        else:
            functions.append(UsedFunction(name, count, UNCOVERED))
    return Coverage(framework=entry.name, functions=functions, sources=list(table.get("sources", [])), top=top)


def functions_with_cases(framework: str, specs: list[str] | None = None) -> set[str]:
    """The names with at least one case, asked of a CPU worker (built-in cases plus ``specs`` files)."""
    from portabench.protocol import CoverageRequest
    from portabench.runner.session import query_worker

    reply = query_worker(get_framework(framework).name, "cpu", CoverageRequest(specs=list(specs or [])))
    return set(reply.with_cases)


def framework_coverage(framework: str, table_path: str | None = None, specs: list[str] | None = None,
                       top: int = TOP) -> Coverage:
    """Coverage of a frequency table (default: the shipped one) by the installed framework's cases."""
    from portabench.mining import load_frequency_table

    entry = get_framework(framework)
    table = load_frequency_table(table_path or entry.name)
    return measure_coverage(entry.name, table, functions_with_cases(entry.name, specs), top=top)


def manifest_coverage_lines(manifest: Any) -> list[str]:
    """What ``sample`` and ``study`` print for a manifest (``portabench.sampling.Manifest``):
    the table's coverage when the manifest records it, and how many of its functions
    have cases (from ``params`` or from per-function case counts). Empty when unknown."""
    params = manifest.params or {}
    lines = summary_lines(params["coverage"]) if isinstance(params.get("coverage"), dict) else []
    n = len(manifest.functions)
    if manifest.functions and all(f.cases is not None for f in manifest.functions):  # counted: the most precise
        with_cases = sum(1 for f in manifest.functions if f.cases)
        without = [f.function for f in manifest.functions if not f.cases]
    elif "with_cases" in params:
        with_cases, without = int(params["with_cases"]), list(params.get("drawn_without_cases", []))
    else:
        return lines
    line = f"{manifest.framework} {manifest.name} manifest: {with_cases} of {n} functions have cases"
    if without:
        line += f"; without cases (reported as no_cases, counted against coverage): {', '.join(without)}"
    return lines + [line]


def case_listing(framework: str, functions: list[str] | None, options: CaseOptions = DEFAULT_CASE_OPTIONS, *,
                 device: str = "cpu", mode: str | None = None) -> ListingReply:
    """A worker's case listing (``functions`` None: every function with cases) on ``device`` in ``mode``
    with the options' dtypes, specs and max samples, as a run lists its cases."""
    from portabench.protocol import ListCasesRequest
    from portabench.runner.session import query_worker

    return query_worker(get_framework(framework).name, device, ListCasesRequest(
        functions=functions, dtypes=list(options.dtypes), specs=list(options.specs),
        max_samples=options.max_samples), mode=mode)


def case_counts(framework: str, functions: list[str] | None,
                options: CaseOptions = DEFAULT_CASE_OPTIONS) -> dict[str, int]:
    """Number of cases per function (``None``: every function with cases), as a CPU worker lists them."""
    counts: dict[str, int] = {}
    for case in case_listing(framework, functions, options).cases:
        counts[case.function] = counts.get(case.function, 0) + 1
    return counts


def annotate_manifest(manifest: Any, specs: list[str] | None = None) -> None:
    """Record in ``manifest.params`` what a sample would: ``coverage`` (of the framework's shipped
    table) and, when the manifest lists functions, ``with_cases`` and ``drawn_without_cases``.
    Used for presets and listed names (the default sample records them when it is drawn)."""
    from portabench.mining import load_frequency_table

    with_cases = functions_with_cases(manifest.framework, specs)
    params = manifest.params
    if "coverage" not in params:
        table = load_frequency_table(manifest.framework)
        params["coverage"] = measure_coverage(manifest.framework, table, with_cases).summary()
    if manifest.functions and "with_cases" not in params:
        params["with_cases"] = sum(1 for n in manifest.names() if n in with_cases)
        params["drawn_without_cases"] = [n for n in manifest.names() if n not in with_cases]
