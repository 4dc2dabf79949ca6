"""Import the paper's published raw data into a store as ordinary runs.

Reads a clone of the layout of the repository of "The Grand Illusion: The Myth of
Software Portability and Implications for ML Progress" (Mince et al., NeurIPS 2023):
``<framework>_timings/<machine>/[<device>/]`` folders holding pytest-json-report
``test_failure_report.json`` files and ``<device>_<n>.json`` timing files. The format,
the mapping to runs and cases, and every choice made here are documented in
``docs/paper-data-format.md``; keep the two in step.

One module per concern:

* :mod:`.files` — the file formats (read and check one report, timing or mapping file);
* :mod:`.names` — test names (pytest node ids and timing keys -> test identity, device, dtype, function);
* :mod:`.failures` — a failed test's exception, message and category (through :mod:`portabench.pytest_text`,
  the reader the taxonomy survey uses too) and the paper's harness errors;
* :mod:`.layout` — run layout (which files make which run: :class:`~.layout.PlannedRun`);
* :mod:`.placement` — TensorFlow device-placement logs;
* :mod:`.write` — writing planned runs into the store; :mod:`.summary` — what was imported.

Nothing here is keyed on values of the published data set: folders and files are
found by walking and matching name patterns, devices and test identities are read
from names, and the file-stem -> function mapping is read from the
``sampled_functions.json`` found in the given folder (falling back to the stem).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from portabench.importers.paper.files import MAPPING_NAME
from portabench.importers.paper.layout import plan_import
from portabench.importers.paper.names import TestName, parse_test_name
from portabench.importers.paper.summary import ImportSummary, RunImport
from portabench.importers.paper.write import write_placement_logs, write_run, write_timing_run
from portabench.store.sqlite import Store

__all__ = ["ImportSummary", "ProgressFn", "RunImport", "TestName", "import_paper", "parse_test_name"]

ProgressFn = Callable[[int, int, str], None]


def import_paper(path: Path, store: Store, progress: ProgressFn | None = None) -> ImportSummary:
    """Import a clone of the paper's data layout at ``path`` into ``store``.

    Each pytest session (one ``test_failure_report.json``, byte-identical copies counted once)
    becomes one run per device its tests ran on, with one case per recorded test and the
    timings of the ``<device>_<n>.json`` files beside it pooled over the repeats. Re-importing
    is idempotent (deterministic run ids, cases written once). Every file of the
    ``*_timings`` folders is read and checked before anything is written: a malformed report,
    timing or mapping file raises :class:`PortabenchError` naming it; files that are not part
    of the format, or that cannot be attributed to a run, are skipped and listed with the reason.
    ``progress(done, total, run_id)`` is called after each run of a report and each group of timing-only runs.
    """
    root = Path(path)
    plan = plan_import(root)
    summary = ImportSummary(path=str(root), skipped_files=plan.skipped)
    if not plan.mapping:
        summary.notes.append(f"no {MAPPING_NAME}: functions are named after their test files' stems")
    total = len(plan.runs) + len(plan.timing_groups)
    existing = {r.run_id for r in store.runs()}
    for done, run in enumerate(plan.runs, start=1):
        summary.runs.append(write_run(store, existing, run))
        if progress is not None:
            progress(done, total, summary.runs[-1].run_id)
    for done, group in enumerate(plan.timing_groups, start=len(plan.runs) + 1):
        summary.runs.extend(write_timing_run(store, existing, run) for run in group)
        if progress is not None:
            progress(done, total, summary.runs[-1].run_id)
    write_placement_logs(root, store, summary, plan.mapping.get("tensorflow") or {})
    summary.skipped_files.sort()
    return summary
