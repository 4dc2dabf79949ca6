"""The whole study in one call: every framework x device run, then the report.

:func:`run_study` is what ``portabench study`` calls. Defaults: installed
frameworks, each framework's default mode, the default sample, ``cpu`` as the
reference, every accelerator the framework sees as a target. Every run is
resumable: by default the study resumes unfinished runs of the store and skips
runs it already completed with the same options, so a study cut into several
commands (``--budget``) continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from portabench.case_options import CaseOptions
from portabench.cluster.options import ClusterOptions
from portabench.errors import PortabenchError
from portabench.frameworks import FrameworkEntry, get_framework, installed_frameworks
from portabench.protocol import DevicesRequest
from portabench.runner.session import RunRequest, RunSummary, execute_run, find_complete_run, query_worker
from portabench.selection import Selection, resolve_manifest
from portabench.store import Store
from portabench.study_plan import mode_columns_note, plan_runs


@dataclass(frozen=True)
class StudyOptions:
    """What a study is asked to do (``portabench study``'s options as data).

    ``frameworks`` None: every installed one; ``devices`` None: ``cpu`` plus every
    accelerator each framework sees; ``modes`` None: the default mode plus the mode
    columns (:mod:`portabench.study_plan`); ``budget_s`` stops the study (resumably)
    after that much wall time; ``fresh`` starts new runs instead of resuming;
    ``cluster`` runs it on a Ray cluster (:mod:`portabench.cluster`).
    """

    frameworks: tuple[str, ...] | None = None
    devices: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None
    selection: Selection = Selection()
    cases: CaseOptions = CaseOptions()
    budget_s: float | None = None
    fresh: bool = False
    cluster: ClusterOptions | None = None


def request_for(entry: FrameworkEntry, device: str, reference: str | None, mode: str | None, manifest: Any,
                options: CaseOptions, *, resume: bool, budget_s: float | None = None) -> RunRequest:
    """The one place a :class:`RunRequest` is built: a manifest's functions with the case options."""
    functions = None if manifest.name == "all" and not manifest.functions else manifest.names()
    return RunRequest(
        framework=entry.name, device=device, mode=mode, reference=reference, functions=functions,
        sample=manifest.to_json(), dtypes=list(options.dtypes), specs=list(options.specs),
        max_samples=options.max_samples, timeout_s=options.timeout_s, timing=options.timing,
        resume=resume, budget_s=budget_s, do_timing=options.do_timing, workers=options.workers,
        strict_functions=manifest.name == "listed", fullgraph=options.fullgraph,
        compile_timeout_s=options.compile_timeout_s,
    )


def _names(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def summary_line(framework: str, device: str, summary: RunSummary) -> str:
    """One line per run: the run's totals (a resumed run's earlier cases included), then what was left out, by name."""
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.counts.items())) or "no cases"
    if summary.resumed:
        counts += f"; {summary.new_cases} of them run now"
    extra = f"; not in this version: {_names(summary.missing)}" if summary.missing else ""
    extra += f"; without cases: {_names(summary.no_cases)}" if summary.no_cases else ""
    return f"{framework} on {device}: run {summary.run_id} {summary.status} ({counts}){extra}"


@dataclass
class StudyResult:
    runs: list[tuple[str, str, str, RunSummary]] = field(default_factory=list)  # framework, device, mode, summary
    skipped: dict[str, str] = field(default_factory=dict)  # framework -> why it could not be studied
    unavailable: dict[str, list[str]] = field(default_factory=dict)  # framework -> targets absent here
    stopped_by_budget: bool = False
    mode_notes: list[str] = field(default_factory=list)  # what the default study's mode columns ran
    studied: list[str] = field(default_factory=list)  # frameworks whose devices were planned (run or found complete)

    def ran_nothing(self) -> bool:
        """True when no framework could be studied at all (each one was skipped)."""
        return not self.studied

    def notes(self) -> list[str]:
        out = list(self.mode_notes)
        for fw, targets in self.unavailable.items():
            if targets:
                out.append(
                    f"{fw}: targets not available on this machine: {', '.join(targets)}. To add one, run "
                    f"`portabench study --framework {fw} --devices cpu,<device>` on a machine that has it, then "
                    f"`portabench merge this.sqlite that.sqlite -o both.sqlite`."
                )
        for fw, why in self.skipped.items():
            out.append(f"{fw} was not studied: {why}")
        if self.stopped_by_budget:
            out.append("The study stopped at its time budget; run the same command again to continue it.")
        return out


def plan_devices(entry: FrameworkEntry, devices: list[str] | tuple[str, ...] | None) -> tuple[list[str], list[str]]:
    """(devices to run, expected targets not available). The reference ``cpu`` always comes first.

    Device strings are read by the registry (``gpu+soft`` is a ``gpu``); a malformed one is an error.
    """
    wanted = [entry.parse_device(d) for d in devices] if devices is not None else None
    available = query_worker(entry.name, "cpu", DevicesRequest()).devices
    kinds = {entry.device_kind(d) for d in available}
    if wanted is None:  # one run per kind ("cuda", not "cuda:0", "cuda:1"): its cases spread over every device
        chosen = ["cpu"] + list(dict.fromkeys(entry.device_kind(d) for d in available if d != "cpu"))
        missing = [k for k in entry.expected_targets if k not in kinds]
        return chosen, missing
    study_kinds = {entry.device_kind(d) for d in entry.study_devices}  # torch meta: there on any machine
    chosen, missing = [], []
    for spec in wanted:
        d = spec.text
        if d == "cpu" or d in available or spec.kind in kinds or spec.kind in study_kinds:
            chosen.append(d)
        else:
            missing.append(d)
    if "cpu" not in chosen:
        chosen.insert(0, "cpu")
    return chosen, missing


def _manifest_and_devices(entry: FrameworkEntry, options: StudyOptions,
                          say: Callable[[str], None]) -> tuple[Any, list[str], list[str]]:
    """The framework's manifest (its coverage said) and (devices to run, expected targets absent here)."""
    from portabench.coverage import annotate_manifest, manifest_coverage_lines
    from portabench.models.selection import is_model_manifest

    specs = list(options.cases.specs)
    manifest = resolve_manifest(entry, options.selection, specs=specs)
    chosen, missing = plan_devices(entry, options.devices)
    if not is_model_manifest(manifest) and "coverage" not in manifest.params:  # presets and listed names
        annotate_manifest(manifest, specs)  # say what the table's coverage is too
    for line in manifest_coverage_lines(manifest):
        say(line)
    return manifest, chosen, missing


def run_study(store: Store, options: StudyOptions, progress_for: Callable[[str], Any],
              say: Callable[[str], None]) -> StudyResult:
    """Run the reference and target devices for each framework (and mode), resuming unfinished runs."""
    if options.cluster is not None:  # --cluster: the same plan as Ray tasks on the nodes offering each device
        from portabench.cluster.study import run_cluster_study

        return run_cluster_study(store, options, progress_for, say)
    frameworks, devices, modes, cases = options.frameworks, options.devices, options.modes, options.cases
    entries = [get_framework(f) for f in frameworks] if frameworks else installed_frameworks()
    if not entries:
        raise PortabenchError("no framework is installed (pip install 'portabench[torch]')")
    for entry in entries:
        entry.require_installed()
    result = StudyResult()
    deadline = None if options.budget_s is None else time.monotonic() + options.budget_s
    for entry in entries:
        try:
            manifest, chosen, missing = _manifest_and_devices(entry, options, say)
        except PortabenchError as exc:
            if frameworks:  # asked for by name: its failure is the command's failure
                raise
            result.skipped[entry.name] = str(exc)  # found installed: study the others, say why in the report
            say(f"{entry.name} skipped: {exc}")
            continue
        result.unavailable[entry.name] = missing
        result.studied.append(entry.name)
        planned = plan_runs(entry, chosen, list(modes) if modes is not None else None, devices is not None, manifest,
                            list(cases.dtypes), cases.max_samples)
        note = mode_columns_note(entry, planned)
        if note:
            result.mode_notes.append(note)
        for run in planned:
            device, mode = run.device, run.mode
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                result.stopped_by_budget = True
                return result
            run_cases = replace(cases, dtypes=tuple(run.dtypes), max_samples=run.max_samples)
            request = request_for(entry, device, "cpu", mode, run.manifest, run_cases,
                                  resume=not options.fresh, budget_s=remaining)
            done = None if options.fresh else find_complete_run(store, request, mode)
            if done is not None:  # a study continued across commands: this run is finished already
                say(f"{entry.name} on {device} ({mode}): run {done.run_id} already complete in this store")
                continue
            with progress_for(f"{entry.name} {mode} on {device}") as progress:
                summary = execute_run(store, request, progress)
            say(summary_line(entry.name, f"{device} ({mode})", summary))
            result.runs.append((entry.name, device, mode, summary))
            if summary.status != "complete":
                result.stopped_by_budget = True
                return result
    return result
