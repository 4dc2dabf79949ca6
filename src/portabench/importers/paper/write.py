"""Writing planned runs of the paper's data into a store: run metadata, one case per test, the functions.

Re-importing is idempotent: run ids and case ids are deterministic, a run already in the store is not
begun again and :meth:`Store.record_result` writes a case once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from portabench import __version__
from portabench.cases import UNKNOWN
from portabench.importers.paper.failures import read_failure
from portabench.importers.paper.files import RECORDED, is_number
from portabench.importers.paper.layout import (
    DEVICE_KIND,
    DEVICE_TOKENS,
    ORIGIN,
    PlannedRun,
    PlannedTimingRun,
    Pooled,
    device_name,
    machine_tokens,
    spell_device,
)
from portabench.importers.paper.names import TestName, function_for
from portabench.importers.paper.placement import parse_log
from portabench.importers.paper.summary import ImportSummary, RunImport
from portabench.store.models import CaseResult, RunMeta
from portabench.store.sqlite import Store

FRAMEWORK_VERSION = "unknown (paper)"
PLACEMENT_DIR = "device_logging"
NS_PER_S = 1e9


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def _timing_stats(samples_s: list[float]) -> tuple[list[float], float, float]:
    """(samples in ns, median, interquartile range) with numpy's linear percentiles."""
    ns = [float(s) * NS_PER_S for s in samples_s]
    q25, q50, q75 = np.percentile(np.asarray(ns, dtype=float), [25, 50, 75])
    return ns, float(q50), float(q75 - q25)


def _case_id(function: str, name: TestName) -> tuple[str, str]:
    """(case id, source) of a test of the paper."""
    source = f"{ORIGIN}:{name.source}"
    return f"{function}|{source}|{name.dtype}|0", source


def _add_timings(result: CaseResult, timing: Pooled | None) -> bool:
    """Set the case's timing fields from the pooled timings; True when it has call timings."""
    if timing is None:
        return False
    if timing.ops:
        samples, median, iqr = _timing_stats(timing.ops)
        result.time_samples_ns = samples
        result.time_median_ns = median
        result.time_iqr_ns = iqr
        result.time_repeats = len(samples)
    if timing.test_time:
        result.wall_ns = float(np.median(timing.test_time)) * NS_PER_S
    return bool(timing.ops)


def _begin(store: Store, existing: set[str], meta: RunMeta) -> bool:
    """Begin the run unless it is in the store; True when it already was."""
    if meta.run_id in existing:
        return True
    store.begin_run(meta)
    existing.add(meta.run_id)
    return False


def _paper_run_meta(run_id: str, framework: str, device: str, machine: str, functions: list[str],
                    config: dict[str, Any], platform: str = "", python: str = "", started_at: str = "",
                    ended_at: str | None = None) -> RunMeta:
    """The run row of an imported paper run: eager, no reference, the paper's framework version."""
    return RunMeta(
        run_id=run_id,
        framework=framework,
        framework_version=FRAMEWORK_VERSION,
        device=spell_device(framework, device),
        device_kind=DEVICE_KIND[device],
        device_name=device_name(device, machine),
        mode="eager",
        reference_device=None,
        host=machine,
        platform=platform,
        python=python,
        portabench_version=__version__,
        numerics={},
        config={"imported_from": "paper", **config, "soft_placement": "soft" in machine_tokens(machine)},
        sample={"name": "paper", "functions": functions},
        origin=ORIGIN,
        status="complete",
        started_at=started_at,
        ended_at=ended_at,
    )


def _run_meta(run: PlannedRun, functions: list[str]) -> RunMeta:
    report, data = run.session.report, run.session.data
    env = data["environment"] if isinstance(data.get("environment"), dict) else {}
    created = data.get("created") if is_number(data.get("created")) else None
    duration = data.get("duration") if is_number(data.get("duration")) else 0.0
    config = {"report": report.rel, "report_copies": run.session.copies,
              "timing_files": [t.rel for t in run.session.timings], "session_device": run.session.device}
    return _paper_run_meta(
        run.run_id, run.framework, run.device, report.machine, functions, config,
        platform=str(env.get("Platform", "")), python=str(env.get("Python", "")),
        started_at=_iso(created - duration) if created is not None else "",
        ended_at=_iso(created) if created is not None else None,
    )


def _test_case(run: PlannedRun, name: TestName, test: dict[str, Any], function: str) -> CaseResult:
    case_id, source = _case_id(function, name)
    result = CaseResult(case_id=case_id, function=function, source=source, dtype=name.dtype, sample=0,
                        outcome=RECORDED[test["outcome"]], check="none")
    if result.outcome == "failed":
        failure = read_failure(test)
        result.exc_type = failure.exc_type
        result.message = failure.message
        result.category = failure.category
        if failure.harness:
            result.outcome = "reference_failed"
    return result


def write_run(store: Store, existing: set[str], run: PlannedRun) -> RunImport:
    """Write one planned run of a pytest session: one case per recorded test (skipped and xfailed tests
    are counted, not recorded), timings attached when the test's timing key names one test of the session."""
    functions = sorted({function_for(n.test_file, run.mapping) for n, _ in run.tests})
    already = _begin(store, existing, _run_meta(run, functions))
    raw_counts = Counter((n.test_file, n.raw) for n, _ in run.tests)
    counts: Counter[str] = Counter()
    tested: set[str] = set()
    seen: set[str] = set()
    for name, test in run.tests:
        if test["outcome"] not in RECORDED:
            counts["not_recorded"] += 1
            continue
        function = function_for(name.test_file, run.mapping)
        result = _test_case(run, name, test, function)
        if result.case_id in seen:
            counts["duplicate"] += 1
            continue
        seen.add(result.case_id)
        tested.add(function)
        counts["harness"] += result.outcome == "reference_failed"
        unique = raw_counts[(name.test_file, name.raw)] == 1
        timing = run.pooled.get(f"{name.test_file}:{name.raw}") if unique else None
        counts["with_timings"] += _add_timings(result, timing)
        counts[result.outcome] += 1
        counts["new"] += store.record_result(run.run_id, result)

    rows = [{"function": f, "status": "tested"} for f in sorted(tested)]
    rows += [{"function": f, "status": "no_cases"} for f in functions if f not in tested]
    rows += [{"function": f, "status": "missing"} for f in sorted(set(run.mapping.values()) - set(functions))]
    store.record_functions(run.run_id, rows)
    report = run.session.report
    return RunImport(
        run_id=run.run_id,
        framework=run.framework,
        device=spell_device(run.framework, run.device),
        host=report.machine,
        report=report.rel,
        timing_files=[t.rel for t in run.session.timings],
        cases=counts["passed"] + counts["failed"] + counts["reference_failed"],
        new_cases=counts["new"],
        passed=counts["passed"],
        failed=counts["failed"],
        not_recorded=counts["not_recorded"],
        with_timings=counts["with_timings"],
        already_present=already,
        harness=counts["harness"],
    )


def _timing_run_meta(run: PlannedTimingRun, functions: list[str]) -> RunMeta:
    group = run.group
    config = {"report": None, "timings_only": True, "timing_files": [t.rel for t in group.timings],
              "session_device": group.device}  # the device of the timing files' names
    return _paper_run_meta(run.run_id, run.framework, run.device, group.machine, functions, config)


def write_timing_run(store: Store, existing: set[str], run: PlannedTimingRun) -> RunImport:
    """Write a run of timing files without a failure report: one case per timed test, outcome ``unknown``."""
    functions = sorted({function_for(n.test_file, run.mapping) for _, n, _ in run.entries})
    already = _begin(store, existing, _timing_run_meta(run, functions))
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for key, name, matched in run.entries:
        timing = run.pooled[key]
        if not timing.ops:
            continue
        function = function_for(name.test_file, run.mapping)
        case_id, source = _case_id(function, name)
        if case_id in seen:
            continue
        seen.add(case_id)
        result = CaseResult(
            case_id=case_id, function=function, source=source, dtype=name.dtype, sample=0, outcome=UNKNOWN, check="none"
        )
        _add_timings(result, timing)
        counts["unknown"] += 1
        counts["unmatched"] += not matched
        counts["new"] += store.record_result(run.run_id, result)
    tested = sorted({c.split("|", 1)[0] for c in seen})
    store.record_functions(run.run_id, [{"function": f, "status": "tested"} for f in tested])
    return RunImport(
        run_id=run.run_id,
        framework=run.framework,
        device=spell_device(run.framework, run.device),
        host=run.group.machine,
        report="",
        timing_files=[t.rel for t in run.group.timings],
        cases=counts["unknown"],
        new_cases=counts["new"],
        passed=0,
        failed=0,
        not_recorded=0,
        with_timings=counts["unknown"],
        already_present=already,
        unknown=counts["unknown"],
        unmatched=counts["unmatched"],
    )


def write_placement_logs(root: Path, store: Store, summary: ImportSummary, mapping: dict[str, str]) -> None:
    """``device_logging/*.txt`` -> one case per log in the TensorFlow soft-placement run of its accelerator
    (see :mod:`portabench.importers.paper.placement`); logs without such a run are skipped with the reason."""
    folder = root / PLACEMENT_DIR
    if not folder.is_dir():
        return
    soft_runs: dict[str, RunImport] = {}
    for r in summary.runs:
        run = store.run(r.run_id)
        if run.framework == "tensorflow" and run.config.get("soft_placement") and run.config.get("report"):
            soft_runs.setdefault(DEVICE_TOKENS.get(run.device, run.device), r)
    recorded: Counter[str] = Counter()
    for file in sorted(p for p in folder.iterdir() if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if file.suffix != ".txt":
            summary.skipped_files.append((rel, "not a <test file>.txt placement log"))
            continue
        log = parse_log(file)
        accel = sorted(log.accelerators)
        if not accel:
            summary.skipped_files.append((rel, "no op placed on an accelerator: says nothing about fallback"))
            continue
        target = next((soft_runs[a] for a in accel if a in soft_runs), None)
        if target is None:
            summary.skipped_files.append(
                (rel, f"no TensorFlow soft-placement run on {'/'.join(accel)} to attach it to")
            )
            continue
        function = function_for(file.stem + ".py", mapping)
        source = f"{ORIGIN}:{PLACEMENT_DIR}/{file.name}"
        fallback = log.fallback_ops()
        outcome = "failed" if fallback else "passed"
        result = CaseResult(
            case_id=f"{function}|{source}|none|0",
            function=function,
            source=source,
            dtype="none",
            sample=0,
            outcome=outcome,
            check="placement",
        )
        if fallback:
            result.category = "wrong_device"
            result.message = log.message()
            target.failed += 1
        else:
            target.passed += 1
        store.record_result(target.run_id, result)
        recorded[outcome] += 1
        target.cases += 1
    if recorded:
        summary.notes.append(
            f"{PLACEMENT_DIR}: {sum(recorded.values())} placement logs recorded in the soft-placement run(s); "
            f"{recorded['failed']} show ops silently placed on the CPU (wrong_device)"
        )
