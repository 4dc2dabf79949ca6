"""Which functions a command works on: ``--preset`` / ``--functions`` / ``--sample`` (shared by sample, run, study).

A :class:`Selection` says it as data (``commands/options.py`` builds it from the
command line); :func:`resolve_manifest` turns it into the manifest to run.
Names given with ``--functions`` must exist: an unknown name is an error that
suggests the closest real names (:func:`unknown_names_error`); a name that
exists but has no cases is said by name (:func:`no_cases_note`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError
from portabench.frameworks import FrameworkEntry
from portabench.sampling import DEFAULT_PER_DECILE, DEFAULT_TOP


@dataclass(frozen=True)
class Selection:
    """Which functions (or models) to run; at most one of ``preset``, ``functions``, ``sample`` and ``models``.

    ``preset``: ``paper``, ``all``, ``default`` or a model preset; ``functions``:
    qualified names; ``sample``: a manifest file; ``models``: model names as
    ``--models`` spells them (:mod:`portabench.models.selection` reads them). None
    of them: the default sample, drawn with ``seed``, ``per_decile`` and ``top`` from
    the frequency table ``table`` (None: the framework's shipped one).
    """

    preset: str | None = None
    functions: tuple[str, ...] | None = None
    sample: str | None = None
    models: str | None = None
    seed: int = 0
    per_decile: int = DEFAULT_PER_DECILE
    top: int = DEFAULT_TOP
    table: str | None = None


def unknown_names_error(framework: str, unknown: Iterable[str], known: Iterable[str]) -> PortabenchError:
    """The error for ``--functions`` names that do not exist: each with the closest real names (difflib)."""
    candidates = sorted(set(known))
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        parts.append(f"{name!r} (did you mean {', '.join(close)}?)" if close else f"{name!r} (no similar name)")
    names = "; ".join(parts)
    return PortabenchError(f"unknown {framework} function{'s' if len(parts) > 1 else ''}: {names}")


def no_cases_note(names: list[str], dtypes: list[str] | None = None) -> str:
    """What to say of functions that exist but have no cases (by name; in ``dtypes`` when given)."""
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    where = f" in dtypes {','.join(dtypes)}" if dtypes else ""
    return f"no cases for {shown}{where} (add cases with --specs, see docs/cases.md)"


def check_listed_names(entry: FrameworkEntry, names: list[str], specs: list[str] | None = None,
                       warn: Callable[[str], None] | None = None) -> None:
    """Ask a worker which functions exist and have cases; unknown ``names`` raise PortabenchError with the
    closest real names, names without cases are passed to ``warn``."""
    from portabench.protocol import CoverageRequest
    from portabench.runner.session import query_worker

    coverage = query_worker(entry.name, "cpu", CoverageRequest(specs=list(specs or [])))
    with_cases = set(coverage.with_cases)
    known = set(coverage.api) | with_cases
    unknown = [n for n in names if n not in known]
    if unknown:
        raise unknown_names_error(entry.name, unknown, known)
    without = [n for n in names if n not in with_cases]
    if without and warn is not None:
        warn(no_cases_note(without))


def resolve_manifest(entry: FrameworkEntry, selection: Selection, specs: list[str] | None = None,
                     check_names: Callable[[str], None] | None = None) -> Any:
    """Return the manifest to run (``portabench.sampling.Manifest``).

    At most one of the selection's ``preset`` ("paper" | "all" | "default"),
    ``functions``, ``sample`` (a manifest file) and ``models`` may be given; none
    means the default sample drawn from the frequency table. A manifest named "all"
    has no functions: it means every function with cases. With ``check_names`` (a
    warning printer), ``functions`` are checked at once by :func:`check_listed_names`
    (``run`` checks them from its own case listing instead).
    """
    from portabench import sampling
    from portabench.mining import load_frequency_table
    from portabench.models.selection import MODEL_PRESETS, model_manifest

    preset, functions, sample, models = selection.preset, selection.functions, selection.sample, selection.models
    seed, table_path = selection.seed, selection.table
    given = [x for x in (preset, functions, sample, models) if x]
    if len(given) > 1:
        raise PortabenchError("give only one of --preset, --functions, --sample and --models")
    if models or preset in MODEL_PRESETS:  # whole models (portabench.models)
        return model_manifest(entry.name, preset, models, seed)
    if sample:
        manifest = sampling.load_manifest(Path(sample))
        if manifest.framework != entry.name:
            raise PortabenchError(f"manifest {sample} is for {manifest.framework}, not {entry.name}")
        return manifest
    if table_path and (preset not in (None, "default") or functions):
        raise PortabenchError("--table goes with the default sample only")
    table = load_frequency_table(table_path or entry.name)
    if functions:
        manifest = sampling.listed_manifest(entry.name, list(functions), table)
        if check_names is not None:
            check_listed_names(entry, manifest.names(), specs, warn=check_names)
        return manifest
    if preset in (None, "default"):
        from portabench.protocol import CoverageRequest
        from portabench.runner.session import query_worker

        coverage = query_worker(entry.name, "cpu", CoverageRequest(specs=list(specs or [])))
        return sampling.sample_functions(entry.name, table, per_decile=selection.per_decile, top=selection.top,
                                         seed=seed, known=set(coverage.api) | set(coverage.with_cases),
                                         with_cases=set(coverage.with_cases))
    if preset in ("paper", "all"):
        return sampling.preset_manifest(entry.name, preset, table)
    raise PortabenchError(f"unknown preset {preset!r} (choose paper, all, default, models or models-all)")
