"""Run layout of the paper's data: which files make which run.

``<framework>_timings/<machine>/[<device>/]`` folders hold pytest sessions (``test_failure_report.json``)
and timing files (``<device>_<n>.json``). :func:`plan_framework` finds them, reads and checks every file
(before anything is written), and decides:

* byte-identical reports are one pytest session, attributed to the copy beside its device's timings;
* a session's default device comes from its ``<device>/`` folder, else from the accelerator of its
  machine's timing files or machine name;
* a session takes the timing files of its device beside it (a machine-level report also the ``<device>/``
  folder of its device when that folder has no report of its own);
* one session per (machine, device): the one with timings, then the newest;
* timing files no session takes are grouped per (machine, device folder, device) as timing-only runs.

Each kept session gives one :class:`PlannedRun` per device its tests ran on; each timing-only group one
:class:`PlannedTimingRun` per device its entries name. Files that are not part of the layout, or that
cannot be attributed to a run, are listed in :attr:`ImportPlan.skipped` with the reason.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError
from portabench.importers.paper.files import (
    REPORT_NAME,
    TIMING_RE,
    TIMINGS_SUFFIX,
    Timings,
    is_number,
    read_mapping,
    read_report,
    read_timings,
)
from portabench.importers.paper.names import TestIndex, TestName, index_tests, parse_test_name, timing_name

ORIGIN = "paper"
"""The ``origin`` of imported runs and the prefix of their run ids and case sources."""

# Folder names of frameworks in the paper's layout -> portabench framework names.
FRAMEWORK_ALIASES = {"pytorch": "torch", "torch": "torch", "tensorflow": "tensorflow", "tf": "tensorflow", "jax": "jax"}

# Device tokens used in folder and timing-file names (normalised: cpu / gpu / tpu).
DEVICE_TOKENS = {"cpu": "cpu", "gpu": "gpu", "cuda": "gpu", "tpu": "tpu", "xla": "tpu"}
DEVICE_KIND = {"cpu": "cpu", "gpu": "cuda", "tpu": "tpu"}
# How each framework spells a device when it is asked for one.
DEVICE_SPELLING = {
    "torch": {"cpu": "cpu", "gpu": "cuda", "tpu": "xla"},
    "jax": {"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"},
    "tensorflow": {"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"},
}
_PLAIN_SPELLING = {"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"}

# GPU model tokens that may appear in a machine folder's name.
GPU_MODELS = {
    "t4": "NVIDIA T4",
    "a100": "NVIDIA A100",
    "v100": "NVIDIA V100",
    "p100": "NVIDIA P100",
    "k80": "NVIDIA K80",
    "l4": "NVIDIA L4",
    "h100": "NVIDIA H100",
}
_TPU_VERSION = re.compile(r"^v(\d+[a-z]*)$")

Skipped = list[tuple[str, str]]
"""(file relative to the imported folder, why it is not imported)."""


# ---------------------------------------------------------------------------------------------
# files, sessions, timing groups


@dataclass
class DataFile:
    """A report or timing file of the layout."""

    path: Path
    rel: str  # relative to the imported root, "/"-separated
    machine: str
    sub: str | None  # device folder token, or None for the machine folder itself
    device: str | None = None  # timing files: normalised device token
    repeat: int = 0  # timing files: n of <device>_<n>.json
    data: Timings | None = None  # timing files: the parsed file

    @property
    def slot(self) -> tuple[str, str | None]:
        """(machine, device folder): where the file lies."""
        return (self.machine, self.sub)

    @property
    def timings(self) -> Timings:
        """The parsed timing file (read by :func:`plan_framework` before it is used)."""
        assert self.data is not None, f"{self.rel} was not read"
        return self.data


@dataclass
class Session:
    """One pytest session: a report (byte-identical copies counted once) and the timing files it takes."""

    report: DataFile
    data: dict[str, Any]
    device: str  # default device of the session (normalised token)
    timings: list[DataFile] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)


@dataclass
class TimingGroup:
    """Timing files of one machine and device without a failure report: a run whose outcomes are unknown."""

    machine: str
    sub: str | None
    device: str  # normalised device token of the timing files
    timings: list[DataFile] = field(default_factory=list)


@dataclass
class Pooled:
    """The timings of one test pooled over a run's timing files (their repeats)."""

    ops: list[float] = field(default_factory=list)  # seconds per call
    test_time: list[float] = field(default_factory=list)  # seconds per test


def pool_timings(files: list[DataFile]) -> dict[str, Pooled]:
    """``'<test file>:<test>' -> Pooled`` over ``files`` (in their order)."""
    pooled: dict[str, Pooled] = {}
    for t in files:
        for key, value in t.timings.items():
            entry = pooled.setdefault(key, Pooled())
            entry.ops.extend(value["operations"])
            if is_number(value.get("test_time")):
                entry.test_time.append(value["test_time"])
    return pooled


# ---------------------------------------------------------------------------------------------
# planned runs


def machine_tokens(machine: str) -> list[str]:
    """The lower-case ``_``/``-``/``.``-separated tokens of a machine folder's name."""
    return [t for t in re.split(r"[_\-.]", machine.lower()) if t]


def device_name(device: str, machine: str) -> str:
    """The device's model as far as the machine folder's name tells it."""
    tokens = machine_tokens(machine)
    if device == "cpu":
        return f"CPU of the {machine} machine (model not recorded)"
    if device == "gpu":
        return next((GPU_MODELS[t] for t in tokens if t in GPU_MODELS), "NVIDIA GPU (model not recorded)")
    if device == "tpu":
        for tok in tokens:
            m = _TPU_VERSION.match(tok)
            if m:
                return f"TPU v{m.group(1)}-8"
        return "TPU (version not recorded; the paper used v2-8 and v3-8)"
    return f"{device} (not recorded)"


def spell_device(framework: str, device: str) -> str:
    """How ``framework`` spells the normalised device token (``torch``: ``gpu`` -> ``cuda``)."""
    return DEVICE_SPELLING.get(framework, _PLAIN_SPELLING)[device]


@dataclass
class PlannedRun:
    """A run of one pytest session on one device: its tests and the timings beside its report."""

    run_id: str
    framework: str
    device: str  # normalised token (cpu / gpu / tpu)
    session: Session
    tests: list[tuple[TestName, dict[str, Any]]]
    pooled: dict[str, Pooled]
    mapping: dict[str, str]  # file stem -> function


@dataclass
class PlannedTimingRun:
    """A run of timing files without a failure report on one device: one case per timed test."""

    run_id: str
    framework: str
    device: str  # normalised token (cpu / gpu / tpu)
    group: TimingGroup
    entries: list[tuple[str, TestName, bool]]  # (timing key, its test, whether a report names it)
    pooled: dict[str, Pooled]
    mapping: dict[str, str]


@dataclass
class ImportPlan:
    """Everything an import will write, decided before any write."""

    mapping: dict[str, dict[str, str]]  # framework -> file stem -> function (sampled_functions.json)
    runs: list[PlannedRun] = field(default_factory=list)
    timing_groups: list[list[PlannedTimingRun]] = field(default_factory=list)  # per timing-only group
    skipped: Skipped = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# planning


def plan_import(root: Path) -> ImportPlan:
    """Read and check every file of the ``*_timings`` folders of ``root`` and plan the runs they make.

    Raises :class:`PortabenchError` for a folder that is not a clone of the paper's data, or naming a
    malformed report, timing or mapping file.
    """
    if not root.is_dir():
        raise PortabenchError(f"paper data folder {root} does not exist or is not a folder")
    fw_dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name.endswith(TIMINGS_SUFFIX))
    if not fw_dirs:
        raise PortabenchError(f"{root} holds no '<framework>{TIMINGS_SUFFIX}' folder (not a clone of the paper's data)")
    plan = ImportPlan(mapping=read_mapping(root))
    for fw_dir in fw_dirs:
        prefix = fw_dir.name[: -len(TIMINGS_SUFFIX)]
        framework = FRAMEWORK_ALIASES.get(prefix.lower(), prefix.lower())
        mapping = plan.mapping.get(framework) or plan.mapping.get(prefix) or {}
        sessions, groups = plan_framework(root, fw_dir, plan.skipped)
        for session in sessions:
            for device, tests in _split_session(session):
                run_id = f"{ORIGIN}:{fw_dir.name}/{session.report.machine}/{spell_device(framework, device)}"
                plan.runs.append(PlannedRun(run_id=run_id, framework=framework, device=device, session=session,
                                            tests=tests, pooled=pool_timings(session.timings), mapping=mapping))
        index = index_tests(test["nodeid"] for s in sessions for test in s.data["tests"])
        plan.timing_groups += [_plan_timing_group(framework, g, index, mapping) for g in groups]
    _name_timing_runs(plan)
    return plan


def _name_timing_runs(plan: ImportPlan) -> None:
    """Run ids of timing-only runs: ``paper:<fw dir>/<machine>[/<device folder>]/<device>``, with ``+timings``
    appended when a run planned before has that id."""
    taken = {r.run_id for r in plan.runs}
    for runs in plan.timing_groups:
        for run in runs:
            g = run.group
            fw_dir = g.timings[0].rel.split("/", 1)[0]
            where = g.machine + (f"/{g.sub}" if g.sub and g.sub != run.device else "")
            run.run_id = f"{ORIGIN}:{fw_dir}/{where}/{spell_device(run.framework, run.device)}"
            if run.run_id in taken:
                run.run_id += "+timings"
            taken.add(run.run_id)


def _plan_timing_group(
    framework: str, group: TimingGroup, index: TestIndex, mapping: dict[str, str]
) -> list[PlannedTimingRun]:
    """Per device named by the entries of a timing-only group: its entries and the pooled timings."""
    pooled = pool_timings(group.timings)
    per_device: dict[str, list[tuple[str, TestName, bool]]] = defaultdict(list)
    for key in sorted(pooled):
        name, matched = timing_name(key, group.device, index)
        per_device[name.device or group.device].append((key, name, matched))
    return [
        PlannedTimingRun(run_id="", framework=framework, device=d, group=group, entries=per_device[d],
                         pooled=pooled, mapping=mapping)
        for d in sorted(per_device, key=lambda d: (d != group.device, d))
    ]


def _split_session(session: Session) -> list[tuple[str, list[tuple[TestName, dict[str, Any]]]]]:
    """Per device of the session (its default device first): its tests."""
    per_device: dict[str, list[tuple[TestName, dict[str, Any]]]] = defaultdict(list)
    for test in session.data["tests"]:
        name = parse_test_name(test["nodeid"])
        per_device[name.device or session.device].append((name, test))
    return [(d, per_device[d]) for d in sorted(per_device, key=lambda d: (d != session.device, d))]


def plan_framework(root: Path, fw_dir: Path, skipped: Skipped) -> tuple[list[Session], list[TimingGroup]]:
    """The pytest sessions of one framework folder, and the timing files no session uses,
    grouped per (machine, device folder, device) as timing-only runs."""
    reports, timings = _find_files(root, fw_dir, skipped)
    # Read and check everything first: a malformed file stops the import before any write.
    report_data = {r.rel: read_report(r.path, r.rel) for r in reports}
    for t in timings:
        t.data = read_timings(t.path, t.rel)
    sessions = _sessions(reports, report_data, timings, skipped)
    _attach_timings(sessions, timings)
    kept = _one_per_device(sessions, skipped)
    return kept, _timing_groups(timings, kept)


def _find_files(root: Path, fw_dir: Path, skipped: Skipped) -> tuple[list[DataFile], list[DataFile]]:
    """The report and timing files of a framework folder that lie where the layout expects them."""
    reports: list[DataFile] = []
    timings: list[DataFile] = []
    for file in sorted(p for p in fw_dir.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        parts = file.relative_to(fw_dir).parts
        m = TIMING_RE.match(file.name)
        is_report = file.name == REPORT_NAME
        if not is_report and not (m and m.group("dev") in DEVICE_TOKENS):
            skipped.append((rel, "not a test_failure_report.json or <device>_<n>.json timing file"))
        elif len(parts) == 1:
            skipped.append(
                (rel, "directly in the framework folder, outside any machine folder: machine unknown, not imported")
            )
        elif len(parts) > 3 or (len(parts) == 3 and parts[1].lower() not in DEVICE_TOKENS):
            skipped.append((rel, "deeper than <machine>/<device>/: not part of the layout"))
        else:
            sub = DEVICE_TOKENS[parts[1].lower()] if len(parts) == 3 else None
            entry = DataFile(path=file, rel=rel, machine=parts[0], sub=sub)
            if m is None or is_report:
                reports.append(entry)
            else:
                entry.device = DEVICE_TOKENS[m.group("dev")]
                entry.repeat = int(m.group("n"))
                timings.append(entry)
    return reports, timings


def _depth(f: DataFile) -> int:
    return len(f.rel.split("/"))


def _sessions(
    reports: list[DataFile], report_data: dict[str, dict[str, Any]], timings: list[DataFile], skipped: Skipped
) -> list[Session]:
    """One session per set of byte-identical reports, attributed to one copy (the deepest, beside timings)."""
    slots_with_timings = {t.slot for t in timings}
    by_hash: dict[str, list[DataFile]] = defaultdict(list)
    for r in reports:
        by_hash[hashlib.sha256(r.path.read_bytes()).hexdigest()].append(r)
    sessions: list[Session] = []
    for copies in by_hash.values():
        copies.sort(key=lambda f: (-_depth(f), f.slot not in slots_with_timings, f.rel))
        primary = copies[0]
        if len({c.machine for c in copies}) > 1 and sum(_depth(c) == _depth(primary) for c in copies) > 1:
            skipped.extend(
                (c.rel, "byte-identical report in several machine folders: which machine ran it is ambiguous")
                for c in copies
            )
            continue
        for c in copies[1:]:
            where = "the same pytest session" if c.machine == primary.machine else (
                "one pytest session cannot describe two machines; attributed to the copy beside its device's timings"
            )
            skipped.append((c.rel, f"byte-identical copy of {primary.rel} ({where})"))
        device = _session_device(primary, timings)
        if device is None:
            skipped.append((primary.rel, "cannot tell which device this report's session ran on"))
            continue
        sessions.append(
            Session(report=primary, data=report_data[primary.rel], device=device, copies=[c.rel for c in copies[1:]])
        )
    return sessions


def _session_device(report: DataFile, timings: list[DataFile]) -> str | None:
    if report.sub is not None:
        return report.sub
    accel = {t.device for t in timings if t.machine == report.machine and t.device not in (None, "cpu")}
    accel |= {t.sub for t in timings if t.machine == report.machine and t.sub not in (None, "cpu")}
    if len(accel) == 1:
        return accel.pop()
    named = {DEVICE_TOKENS[t] for t in machine_tokens(report.machine) if t in DEVICE_TOKENS and t != "cpu"}
    if len(named) == 1:
        return named.pop()
    return None


def _attach_timings(sessions: list[Session], timings: list[DataFile]) -> None:
    """Timing files of a session: those beside the report for its device; a machine-level report also
    takes the <device>/ folder of its device when that folder has no report of its own."""
    report_slots = {s.report.slot for s in sessions}
    for s in sessions:
        s.timings = [t for t in timings if t.slot == s.report.slot and t.device == s.device]
        if not s.timings and s.report.sub is None and (s.report.machine, s.device) not in report_slots:
            s.timings = [t for t in timings if t.slot == (s.report.machine, s.device) and t.device == s.device]
        s.timings.sort(key=lambda t: (t.repeat, t.rel))


def _one_per_device(sessions: list[Session], skipped: Skipped) -> list[Session]:
    """One session per (machine, device): prefer the one with timings, then the newest."""
    kept: dict[tuple[str, str], Session] = {}
    for s in sorted(sessions, key=lambda s: (bool(s.timings), s.data.get("created") or 0), reverse=True):
        key = (s.report.machine, s.device)
        if key in kept:
            why = f"another pytest session for the same machine and device; {kept[key].report.rel} is imported"
            skipped.append((s.report.rel, why))
            continue
        kept[key] = s
    return sorted(kept.values(), key=lambda s: s.report.rel)


def _timing_groups(timings: list[DataFile], kept: list[Session]) -> list[TimingGroup]:
    """The timing files no kept session uses, per (machine, device folder, device)."""
    used = {t.rel for s in kept for t in s.timings}
    groups: dict[tuple[str, str | None, str], TimingGroup] = {}
    for t in timings:
        if t.rel not in used:
            assert t.device is not None
            group = groups.setdefault((t.machine, t.sub, t.device),
                                      TimingGroup(machine=t.machine, sub=t.sub, device=t.device))
            group.timings.append(t)
    for g in groups.values():
        g.timings.sort(key=lambda t: (t.repeat, t.rel))
    return sorted(groups.values(), key=lambda g: g.timings[0].rel)
