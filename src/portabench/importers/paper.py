"""Import the paper's published raw data into a store as ordinary runs.

Reads a clone of the layout of the repository of "The Grand Illusion: The Myth of
Software Portability and Implications for ML Progress" (Mince et al., NeurIPS 2023):
``<framework>_timings/<machine>/[<device>/]`` folders holding pytest-json-report
``test_failure_report.json`` files and ``<device>_<n>.json`` timing files. The format,
the mapping to runs and cases, and every choice made here are documented in
``docs/paper-data-format.md``; keep the two in step.

Nothing here is keyed on values of the published data set: folders and files are
found by walking and matching name patterns, devices and test identities are read
from names, and the file-stem -> function mapping is read from the
``sampled_functions.json`` found in the given folder (falling back to the stem).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from portabench.cases import UNKNOWN
from portabench.errors import PortabenchError
from portabench.store.models import CaseResult, RunMeta
from portabench.store.sqlite import Store

ProgressFn = Callable[[int, int, str], None]

ORIGIN = "paper"
FRAMEWORK_VERSION = "unknown (paper)"
REPORT_NAME = "test_failure_report.json"
MAPPING_NAME = "sampled_functions.json"
TIMINGS_SUFFIX = "_timings"

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
# PyTorch's instantiate_device_type_tests suffixes: class TestFooCUDA, test test_bar_cuda[_<dtype>...].
INSTANTIATION_SUFFIX = {"cpu": "cpu", "cuda": "gpu", "xla": "tpu"}

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

TIMING_RE = re.compile(r"^(?P<dev>[a-z]+)_(?P<n>\d+)\.json$")

# dtype names as they appear in test names -> numpy spelling.
DTYPE_NAMES = {
    "bool": "bool",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "long": "int64",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
    "float": "float32",
    "float64": "float64",
    "double": "float64",
    "complex32": "complex32",
    "chalf": "complex32",
    "complex64": "complex64",
    "cfloat": "complex64",
    "complex128": "complex128",
    "cdouble": "complex128",
    "qint8": "qint8",
    "quint8": "quint8",
    "qint32": "qint32",
}

_RECORDED = {"passed": "passed", "xpassed": "passed", "failed": "failed", "error": "failed"}
_NOT_RECORDED = {"skipped", "xfailed"}
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::[ \t]?(?P<msg>.*))?$", re.DOTALL)
_TIMEOUT = re.compile(r"^\+*\s*Timeout\b", re.IGNORECASE)
_MESSAGE_MAX = 4000

HARNESS_ERRORS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (name, re.compile(pattern), reason) for name, pattern, reason in (
        ("timing-wrapper-signature", r"^partial_timed\(\) takes \d+ positional arguments? but \d+ were given",
         "the paper's timing wrapper was called with the wrong arguments: the sampled function never ran"),
        ("test-parameters", r"^The test (?:requires parameters whose arguments were not passed"
                            r"|does not take parameters that were passed)",
         "absl parameterized: the test's parameters do not fit its signature (test code)"),
        ("test-name-error", r"^name '\w+' is not defined",
         "NameError in the test code (a missing import)"),
        ("test-needs-host-copy", r"^can't convert \S+ device type tensor to numpy",
         "the test code calls .numpy() on a device tensor: its own missing host copy, not the function's"),
        ("test-needs-cuda", r"^Found no NVIDIA driver on your system",
         "the test code asks for CUDA on a machine without it"),
    )
)
"""Failures of the paper's *test code* (not of the function on the device): imported as broken cases
(outcome ``reference_failed``), never as portability failures. Each entry: name, message regex, reason."""


def harness_error(message: str | None) -> str | None:
    """The name of the :data:`HARNESS_ERRORS` entry that ``message`` matches, or None."""
    text = (message or "").strip()
    for name, pattern, _reason in HARNESS_ERRORS:
        if pattern.search(text):
            return name
    return None


# ---------------------------------------------------------------------------------------------
# summary


@dataclass
class RunImport:
    """What one imported run holds."""

    run_id: str
    framework: str
    device: str
    host: str
    report: str  # the failure report it came from (relative to the imported folder)
    timing_files: list[str]
    cases: int  # cases in the data for this run (recorded or already present)
    new_cases: int  # cases written by this import (0 when re-importing)
    passed: int
    failed: int
    not_recorded: int  # skipped / xfailed tests: not cases
    with_timings: int
    already_present: bool
    unknown: int = 0  # timing-only runs: cases whose outcome the data does not record
    harness: int = 0  # failures of the paper's test code itself (HARNESS_ERRORS): broken cases
    unmatched: int = 0  # timing-only runs: timing entries no failure report names (own case ids, unpaired)


@dataclass
class ImportSummary:
    """The result of :func:`import_paper`."""

    path: str
    runs: list[RunImport] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    notes: list[str] = field(default_factory=list)

    @property
    def runs_imported(self) -> int:
        return len(self.runs)

    @property
    def cases_per_run(self) -> dict[str, int]:
        return {r.run_id: r.cases for r in self.runs}

    def lines(self) -> list[str]:
        out = [f"imported {self.runs_imported} run(s) from {self.path}"]
        for r in self.runs:
            state = " (already present)" if r.already_present else ""
            if r.unknown:
                out.append(f"  {r.run_id}: {r.cases} cases with timings only (outcome unknown; "
                           f"{r.unmatched} not named by any failure report){state}")
                continue
            harness = f", {r.harness} harness errors kept as broken cases" if r.harness else ""
            out.append(
                f"  {r.run_id}: {r.cases} cases ({r.passed} passed, {r.failed} failed{harness}, "
                f"{r.with_timings} with timings; {r.not_recorded} skipped tests not recorded){state}"
            )
        if self.skipped_files:
            out.append(f"skipped {len(self.skipped_files)} file(s):")
            out.extend(f"  {p}: {why}" for p, why in self.skipped_files)
        out.extend(f"note: {n}" for n in self.notes)
        return out


# ---------------------------------------------------------------------------------------------
# reading files


def _load_json(file: Path, rel: str) -> Any:
    try:
        return json.loads(file.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise PortabenchError(f"{rel}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PortabenchError(f"{rel}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _read_report(file: Path, rel: str) -> dict[str, Any]:
    data = _load_json(file, rel)
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise PortabenchError(f"{rel}: not a pytest-json-report file (no 'tests' list)")
    for i, test in enumerate(data["tests"]):
        if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str) or not isinstance(
            test.get("outcome"), str
        ):
            raise PortabenchError(f"{rel}: test #{i} has no string 'nodeid' and 'outcome'")
        if "::" not in test["nodeid"]:
            raise PortabenchError(f"{rel}: test #{i} nodeid {test['nodeid']!r} is not '<file>::<test>'")
        outcome = test["outcome"]
        if outcome not in _RECORDED and outcome not in _NOT_RECORDED:
            raise PortabenchError(f"{rel}: test {test['nodeid']!r} has unknown outcome {outcome!r}")
        for stage in ("setup", "call", "teardown"):
            if stage in test and not isinstance(test[stage], dict):
                raise PortabenchError(f"{rel}: test {test['nodeid']!r} has a malformed {stage!r} entry")
    return data


def _read_timings(file: Path, rel: str) -> dict[str, dict[str, Any]]:
    data = _load_json(file, rel)
    if not isinstance(data, dict):
        raise PortabenchError(f"{rel}: a timing file must be a JSON object of '<test_file>:<test>' entries")
    for key, value in data.items():
        if ":" not in key:
            raise PortabenchError(f"{rel}: timing key {key!r} is not '<test_file>:<test>'")
        ops = value.get("operations") if isinstance(value, dict) else None
        if not isinstance(ops, list) or not all(_is_number(x) for x in ops):
            raise PortabenchError(f"{rel}: timing entry {key!r} has no 'operations' list of numbers")
        if "test_time" in value and value["test_time"] is not None and not _is_number(value["test_time"]):
            raise PortabenchError(f"{rel}: timing entry {key!r} has a non-numeric 'test_time'")
    return data


def _read_mapping(root: Path) -> dict[str, dict[str, str]]:
    file = root / MAPPING_NAME
    if not file.is_file():
        return {}
    data = _load_json(file, MAPPING_NAME)
    if not isinstance(data, dict):
        raise PortabenchError(f"{MAPPING_NAME}: must be a JSON object of framework -> {{file stem: function}}")
    out: dict[str, dict[str, str]] = {}
    for fw, table in data.items():
        if fw.startswith("_"):
            continue  # comments such as "_about"
        if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
            raise PortabenchError(f"{MAPPING_NAME}: entry {fw!r} must map file stems to function names")
        out[fw] = dict(table)
    return out


# ---------------------------------------------------------------------------------------------
# names


@dataclass(frozen=True)
class TestName:
    test_file: str  # "addr_test.py"
    raw: str  # the nodeid's last part, as in the timing files ("test_addr_bool_xla_bool")
    ident: str  # device-independent "<Class>::<test>" ("TestLinalg::test_addr_bool_bool")
    device: str | None  # cpu / gpu / tpu when the name says (PyTorch instantiated tests), else None
    dtype: str  # numpy spelling or "none"


def _dtype_tail(tokens: list[str]) -> list[str]:
    """The trailing tokens that are dtype names."""
    tail: list[str] = []
    for tok in reversed(tokens):
        if tok in DTYPE_NAMES:
            tail.insert(0, tok)
        else:
            break
    return tail


def parse_test_name(nodeid: str) -> TestName:
    """Split a pytest nodeid into the device-independent test identity, device and dtype.

    ``src/x/addr_test.py::TestLinalgXLA::test_addr_bool_xla_bool`` gives file ``addr_test.py``,
    ident ``TestLinalg::test_addr_bool_bool``, device ``tpu``, dtype ``bool``. The device is
    only read where PyTorch's device-type instantiation left both marks: a class name ending in
    ``CPU``/``CUDA``/``XLA`` and a test name carrying the matching ``_cpu``/``_cuda``/``_xla``
    token (followed only by dtype tokens).
    """
    parts = nodeid.split("::")
    test_file = parts[0].replace("\\", "/").rsplit("/", 1)[-1]
    classes = parts[1:-1]
    raw = parts[-1]
    m = re.match(r"^(?P<name>[^\[]*)(?P<params>\[.*\])?$", raw, re.DOTALL)
    name, params = (m.group("name"), m.group("params") or "") if m else (raw, "")
    tokens = name.split("_")
    device = None
    # Without a device mark, only the name's last token is read as a dtype ("testCast_float32").
    dtypes = tokens[-1:] if len(tokens) > 1 and tokens[-1] in DTYPE_NAMES else []
    if classes:
        cls = classes[-1]
        for suffix, dev in INSTANTIATION_SUFFIX.items():
            if not cls.endswith(suffix.upper()) or len(cls) == len(suffix):
                continue
            tail = _dtype_tail(tokens)
            # The device token is the last one that is followed only by dtype tokens.
            for at in range(len(tokens) - 1, 0, -1):
                if tokens[at] == suffix and len(tokens) - at - 1 <= len(tail):
                    device = dev
                    dtypes = tokens[at + 1 :]
                    tokens = tokens[:at] + tokens[at + 1 :]
                    classes = classes[:-1] + [cls[: -len(suffix)]]
                    break
            break
    dtype = DTYPE_NAMES[dtypes[0]] if dtypes else "none"
    ident = "::".join(classes + ["_".join(tokens) + params])
    return TestName(test_file=test_file, raw=raw, ident=ident, device=device, dtype=dtype)


def _file_key(test_file: str) -> str:
    stem = test_file[:-3] if test_file.endswith(".py") else test_file
    if stem.endswith("_test") and len(stem) > 5:
        return stem[:-5]
    if stem.startswith("test_") and len(stem) > 5:
        return stem[5:]
    return stem


def _function_for(test_file: str, mapping: dict[str, str]) -> str:
    key = _file_key(test_file)
    stem = test_file[:-3] if test_file.endswith(".py") else test_file
    return mapping.get(key) or mapping.get(stem) or key


# ---------------------------------------------------------------------------------------------
# failures


def _stage_failure(test: dict[str, Any]) -> tuple[str | None, str | None]:
    """(exception type, message) of the first failing stage, from pytest's crash record or longrepr."""
    for stage in ("setup", "call", "teardown"):
        info = test.get(stage) or {}
        if info.get("outcome") not in ("failed", "error") and test["outcome"] != "failed":
            continue
        crash = info.get("crash")
        text = crash.get("message") if isinstance(crash, dict) else None
        if not text:
            longrepr = info.get("longrepr")
            if isinstance(longrepr, str):
                elines = [ln[1:].strip() for ln in longrepr.splitlines() if ln.startswith("E ")]
                text = "\n".join(elines) if elines else (longrepr.strip().splitlines() or [""])[-1]
        if text:
            return _split_exception(text)
    return None, None


def _split_exception(text: str) -> tuple[str | None, str | None]:
    m = _EXC_LINE.match(text.strip())
    first = text.strip().split("\n", 1)[0]
    if m and (":" in first or "\n" not in text.strip()) and " " not in m.group("type"):
        exc, msg = m.group("type"), (m.group("msg") or "").strip()
        if exc[:1].isupper() or "." in exc:
            return exc, msg[:_MESSAGE_MAX]
    return None, text.strip()[:_MESSAGE_MAX]


def _classify(exc_type: str | None, message: str | None) -> str:
    from portabench.taxonomy import FailureEvidence, classify

    timed_out = bool(exc_type in ("Failed", "_pytest.outcomes.Failed") and message and _TIMEOUT.match(message))
    return classify(FailureEvidence(exc_type=exc_type, message=message, timed_out=timed_out))


# ---------------------------------------------------------------------------------------------
# layout


@dataclass
class _File:
    path: Path
    rel: str  # relative to the imported root, "/"-separated
    machine: str
    sub: str | None  # device folder token, or None for the machine folder itself
    device: str | None = None  # timing files: normalised device token
    repeat: int = 0  # timing files: n of <device>_<n>.json
    data: Any = None  # the parsed file

    @property
    def slot(self) -> tuple[str, str | None]:
        return (self.machine, self.sub)


@dataclass
class _Session:
    report: _File
    data: dict[str, Any]
    device: str  # default device of the session (normalised token)
    timings: list[_File] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)


@dataclass
class _TimingOnly:
    """Timing files of one machine and device without a failure report: a run whose outcomes are unknown."""

    machine: str
    sub: str | None
    device: str  # normalised device token of the timing files
    timings: list[_File] = field(default_factory=list)


def _machine_tokens(machine: str) -> list[str]:
    return [t for t in re.split(r"[_\-.]", machine.lower()) if t]


def _device_name(device: str, machine: str) -> str:
    tokens = _machine_tokens(machine)
    if device == "cpu":
        return f"CPU of the {machine} machine (model not recorded)"
    if device == "gpu":
        for tok in tokens:
            if tok in GPU_MODELS:
                return GPU_MODELS[tok]
        return "NVIDIA GPU (model not recorded)"
    if device == "tpu":
        for tok in tokens:
            m = _TPU_VERSION.match(tok)
            if m:
                return f"TPU v{m.group(1)}-8"
        return "TPU (version not recorded; the paper used v2-8 and v3-8)"
    return f"{device} (not recorded)"


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def _timing_stats(samples_s: list[float]) -> tuple[list[float], float, float]:
    ns = [float(s) * 1e9 for s in samples_s]
    q25, q50, q75 = np.percentile(np.asarray(ns, dtype=float), [25, 50, 75])
    return ns, float(q50), float(q75 - q25)


# ---------------------------------------------------------------------------------------------
# the importer


def import_paper(path: Path, store: Store, progress: ProgressFn | None = None) -> ImportSummary:
    """Import a clone of the paper's data layout at ``path`` into ``store``.

    Each pytest session (one ``test_failure_report.json``, byte-identical copies counted once)
    becomes one run per device its tests ran on, with one case per recorded test and the
    timings of the ``<device>_<n>.json`` files beside it pooled over the repeats. Re-importing
    is idempotent (deterministic run ids, cases written once). Every file of the
    ``*_timings`` folders is read and checked before anything is written: a malformed report,
    timing or mapping file raises :class:`PortabenchError` naming it; files that are not part
    of the format, or that cannot be attributed to a run, are skipped and listed with the reason.
    ``progress(done, total, run_id)`` is called after each run.
    """
    root = Path(path)
    if not root.is_dir():
        raise PortabenchError(f"paper data folder {root} does not exist or is not a folder")
    fw_dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name.endswith(TIMINGS_SUFFIX))
    if not fw_dirs:
        raise PortabenchError(f"{root} holds no '<framework>{TIMINGS_SUFFIX}' folder (not a clone of the paper's data)")
    summary = ImportSummary(path=str(root))
    mapping_all = _read_mapping(root)
    if not mapping_all:
        summary.notes.append(f"no {MAPPING_NAME}: functions are named after their test files' stems")

    planned: list[tuple[str, str, _Session, list[tuple[TestName, dict[str, Any]]], dict[str, Any]]] = []
    timing_only: list[tuple[str, _TimingOnly, dict[str, str], dict[tuple[str, str], list[TestName]]]] = []
    for fw_dir in fw_dirs:
        prefix = fw_dir.name[: -len(TIMINGS_SUFFIX)]
        framework = FRAMEWORK_ALIASES.get(prefix.lower(), prefix.lower())
        mapping = mapping_all.get(framework) or mapping_all.get(prefix) or {}
        sessions, orphans = _plan_framework(root, fw_dir, summary)
        for session in sessions:
            for device, tests, timings in _split_session(session, summary):
                planned.append((framework, device, session, tests, {"timings": timings, "mapping": mapping}))
        index = _test_index(sessions)
        timing_only += [(framework, group, mapping, index) for group in orphans]

    total = len(planned) + len(timing_only)
    existing = {r.run_id for r in store.runs()}
    taken = set()
    for done, (framework, device, session, tests, extra) in enumerate(planned, start=1):
        result = _write_run(store, existing, framework, device, session, tests, extra["timings"], extra["mapping"])
        taken.add(result.run_id)
        summary.runs.append(result)
        if progress is not None:
            progress(done, total, result.run_id)
    for done, (framework, group, mapping, index) in enumerate(timing_only, start=len(planned) + 1):
        for device, names, pooled in _split_timing_group(group, index):
            result = _write_timing_run(store, existing, taken, framework, group, device, names, pooled, mapping)
            taken.add(result.run_id)
            summary.runs.append(result)
        if progress is not None:
            progress(done, total, summary.runs[-1].run_id)
    _import_placement_logs(root, store, summary, mapping_all.get("tensorflow") or {})
    summary.skipped_files.sort()
    return summary


PLACEMENT_DIR = "device_logging"


def _import_placement_logs(root: Path, store: Store, summary: ImportSummary, mapping: dict[str, str]) -> None:
    """``device_logging/*.txt`` -> one case per log in the TensorFlow soft-placement run of its accelerator
    (see :mod:`portabench.importers.placement`); logs without such a run are skipped with the reason."""
    from portabench.importers.placement import parse_log

    folder = root / PLACEMENT_DIR
    if not folder.is_dir():
        return
    soft_runs = {}
    for r in summary.runs:
        run = store.run(r.run_id)
        if run.framework == "tensorflow" and run.config.get("soft_placement") and run.config.get("report"):
            soft_runs.setdefault(DEVICE_TOKENS.get(run.device, run.device), r)
    recorded = Counter()
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
            summary.skipped_files.append((rel, f"no TensorFlow soft-placement run on {'/'.join(accel)} to attach it to"))
            continue
        test_file = file.stem + ".py"
        function = _function_for(test_file, mapping)
        source = f"{ORIGIN}:{PLACEMENT_DIR}/{file.name}"
        fallback = log.fallback_ops()
        result = CaseResult(case_id=f"{function}|{source}|none|0", function=function, source=source, dtype="none",
                            sample=0, outcome="failed" if fallback else "passed", check="placement")
        if fallback:
            result.category = "wrong_device"
            result.message = log.message()
        store.record_result(target.run_id, result)
        recorded["failed" if fallback else "passed"] += 1
        if fallback:
            target.failed += 1
        else:
            target.passed += 1
        target.cases += 1
    if recorded:
        summary.notes.append(
            f"{PLACEMENT_DIR}: {sum(recorded.values())} placement logs recorded in the soft-placement run(s); "
            f"{recorded['failed']} show ops silently placed on the CPU (wrong_device)"
        )


def _plan_framework(root: Path, fw_dir: Path, summary: ImportSummary) -> tuple[list[_Session], list[_TimingOnly]]:
    """The pytest sessions of one framework folder, and the timing files no session uses,
    grouped per (machine, device folder, device) as timing-only runs."""
    reports: list[_File] = []
    timings: list[_File] = []
    for file in sorted(p for p in fw_dir.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        parts = file.relative_to(fw_dir).parts
        m = TIMING_RE.match(file.name)
        is_report = file.name == REPORT_NAME
        is_timing = bool(m) and m.group("dev") in DEVICE_TOKENS
        if not (is_report or is_timing):
            summary.skipped_files.append((rel, "not a test_failure_report.json or <device>_<n>.json timing file"))
            continue
        if len(parts) == 1:
            summary.skipped_files.append(
                (rel, "directly in the framework folder, outside any machine folder: machine unknown, not imported")
            )
            continue
        if len(parts) > 3 or (len(parts) == 3 and parts[1].lower() not in DEVICE_TOKENS):
            summary.skipped_files.append((rel, "deeper than <machine>/<device>/: not part of the layout"))
            continue
        sub = DEVICE_TOKENS[parts[1].lower()] if len(parts) == 3 else None
        entry = _File(path=file, rel=rel, machine=parts[0], sub=sub)
        if is_report:
            reports.append(entry)
        else:
            entry.device = DEVICE_TOKENS[m.group("dev")]
            entry.repeat = int(m.group("n"))
            timings.append(entry)

    # Read and check everything first: a malformed file stops the import before any write.
    report_data = {r.rel: _read_report(r.path, r.rel) for r in reports}
    for t in timings:
        t.data = _read_timings(t.path, t.rel)

    slots_with_timings = {t.slot for t in timings}

    # Byte-identical reports are one pytest session.
    by_hash: dict[str, list[_File]] = defaultdict(list)
    for r in reports:
        by_hash[hashlib.sha256(r.path.read_bytes()).hexdigest()].append(r)
    sessions: list[_Session] = []
    for copies in by_hash.values():
        copies.sort(key=lambda f: (-len(f.rel.split("/")), f.slot not in slots_with_timings, f.rel))
        machines = {c.machine for c in copies}
        primary = copies[0]
        if len(machines) > 1:
            deepest = [c for c in copies if len(c.rel.split("/")) == len(primary.rel.split("/"))]
            if len(deepest) > 1:
                for c in copies:
                    summary.skipped_files.append(
                        (c.rel, "byte-identical report in several machine folders: which machine ran it is ambiguous")
                    )
                continue
        for c in copies[1:]:
            where = "the same pytest session" if c.machine == primary.machine else (
                "one pytest session cannot describe two machines; attributed to the copy beside its device's timings"
            )
            summary.skipped_files.append((c.rel, f"byte-identical copy of {primary.rel} ({where})"))
        device = _session_device(primary, timings)
        if device is None:
            summary.skipped_files.append((primary.rel, "cannot tell which device this report's session ran on"))
            continue
        sessions.append(
            _Session(report=primary, data=report_data[primary.rel], device=device, copies=[c.rel for c in copies[1:]])
        )

    # Attach timing files: those beside the report for its device; a machine-level report also
    # takes the <device>/ folder of its device when that folder has no report of its own.
    report_slots = {s.report.slot for s in sessions}
    for s in sessions:
        s.timings = [t for t in timings if t.slot == s.report.slot and t.device == s.device]
        if not s.timings and s.report.sub is None and (s.report.machine, s.device) not in report_slots:
            s.timings = [t for t in timings if t.slot == (s.report.machine, s.device) and t.device == s.device]
        s.timings.sort(key=lambda t: (t.repeat, t.rel))

    # One session per (machine, device): prefer the one with timings, then the newest.
    kept: dict[tuple[str, str], _Session] = {}
    for s in sorted(sessions, key=lambda s: (bool(s.timings), s.data.get("created") or 0), reverse=True):
        key = (s.report.machine, s.device)
        if key in kept:
            summary.skipped_files.append(
                (s.report.rel, f"another pytest session for the same machine and device; {kept[key].report.rel} is imported")
            )
            continue
        kept[key] = s
    used = {t.rel for s in kept.values() for t in s.timings}
    groups: dict[tuple[str, str | None, str], _TimingOnly] = {}
    for t in timings:
        if t.rel not in used:
            group = groups.setdefault((t.machine, t.sub, t.device), _TimingOnly(machine=t.machine, sub=t.sub, device=t.device))
            group.timings.append(t)
    for g in groups.values():
        g.timings.sort(key=lambda t: (t.repeat, t.rel))
    return sorted(kept.values(), key=lambda s: s.report.rel), sorted(groups.values(), key=lambda g: g.timings[0].rel)


def _session_device(report: _File, timings: list[_File]) -> str | None:
    if report.sub is not None:
        return report.sub
    accel = {t.device for t in timings if t.machine == report.machine and t.device != "cpu"}
    accel |= {t.sub for t in timings if t.machine == report.machine and t.sub not in (None, "cpu")}
    if len(accel) == 1:
        return accel.pop()
    named = {DEVICE_TOKENS[t] for t in _machine_tokens(report.machine) if t in DEVICE_TOKENS and t != "cpu"}
    if len(named) == 1:
        return named.pop()
    return None


def _split_session(
    session: _Session, summary: ImportSummary
) -> list[tuple[str, list[tuple[TestName, dict[str, Any]]], dict[str, list[float | None]]]]:
    """Per device of the session: its tests and the pooled timings keyed by '<file>:<raw name>'."""
    per_device: dict[str, list[tuple[TestName, dict[str, Any]]]] = defaultdict(list)
    for test in session.data["tests"]:
        name = parse_test_name(test["nodeid"])
        per_device[name.device or session.device].append((name, test))
    pooled: dict[str, dict[str, list[Any]]] = {}
    for t in session.timings:
        for key, value in t.data.items():
            entry = pooled.setdefault(key, {"ops": [], "test_time": []})
            entry["ops"].extend(value["operations"])
            if _is_number(value.get("test_time")):
                entry["test_time"].append(value["test_time"])
    out = []
    for device in sorted(per_device, key=lambda d: (d != session.device, d)):
        out.append((device, per_device[device], pooled))
    return out


def _write_run(
    store: Store,
    existing: set[str],
    framework: str,
    device: str,
    session: _Session,
    tests: list[tuple[TestName, dict[str, Any]]],
    pooled: dict[str, dict[str, list[Any]]],
    mapping: dict[str, str],
) -> RunImport:
    report = session.report
    fw_dir = report.rel.split("/", 1)[0]
    spelled = DEVICE_SPELLING.get(framework, {"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"})[device]
    run_id = f"{ORIGIN}:{fw_dir}/{report.machine}/{spelled}"
    data = session.data
    env = data.get("environment") if isinstance(data.get("environment"), dict) else {}
    created = data.get("created") if _is_number(data.get("created")) else None
    duration = data.get("duration") if _is_number(data.get("duration")) else 0.0
    soft = "soft" in _machine_tokens(report.machine)
    functions = sorted({_function_for(n.test_file, mapping) for n, _ in tests})
    meta = RunMeta(
        run_id=run_id,
        framework=framework,
        framework_version=FRAMEWORK_VERSION,
        device=spelled,
        device_kind=DEVICE_KIND[device],
        device_name=_device_name(device, report.machine),
        mode="eager",
        reference_device=None,
        host=report.machine,
        platform=str(env.get("Platform", "")),
        python=str(env.get("Python", "")),
        portabench_version=_portabench_version(),
        numerics={},
        config={
            "imported_from": "paper",
            "report": report.rel,
            "report_copies": session.copies,
            "timing_files": [t.rel for t in session.timings],
            "soft_placement": soft,
            "session_device": session.device,
        },
        sample={"name": "paper", "functions": functions},
        origin=ORIGIN,
        status="complete",
        started_at=_iso(created - duration) if created is not None else "",
        ended_at=_iso(created) if created is not None else None,
    )
    already = run_id in existing
    if not already:
        store.begin_run(meta)
        existing.add(run_id)

    raw_counts = Counter((n.test_file, n.raw) for n, _ in tests)
    counts: Counter[str] = Counter()
    tested: set[str] = set()
    seen: set[str] = set()
    for name, test in tests:
        outcome = _RECORDED.get(test["outcome"])
        function = _function_for(name.test_file, mapping)
        if outcome is None:
            counts["not_recorded"] += 1
            continue
        source = f"{ORIGIN}:{name.test_file}::{name.ident}"
        case_id = f"{function}|{source}|{name.dtype}|0"
        if case_id in seen:
            counts["duplicate"] += 1
            continue
        seen.add(case_id)
        tested.add(function)
        result = CaseResult(
            case_id=case_id,
            function=function,
            source=source,
            dtype=name.dtype,
            sample=0,
            outcome=outcome,
            check="none",
        )
        if outcome == "failed":
            exc_type, message = _stage_failure(test)
            result.exc_type = exc_type
            result.message = message
            result.category = _classify(exc_type, message)
            if harness_error(message):
                result.outcome = "reference_failed"
                counts["harness"] += 1
        timing = pooled.get(f"{name.test_file}:{name.raw}") if raw_counts[(name.test_file, name.raw)] == 1 else None
        if timing and timing["ops"]:
            samples, median, iqr = _timing_stats(timing["ops"])
            result.time_samples_ns = samples
            result.time_median_ns = median
            result.time_iqr_ns = iqr
            result.time_repeats = len(samples)
            counts["with_timings"] += 1
        if timing and timing["test_time"]:
            result.wall_ns = float(np.median(timing["test_time"])) * 1e9
        counts[result.outcome] += 1
        if store.record_result(run_id, result):
            counts["new"] += 1

    rows = [{"function": f, "status": "tested"} for f in sorted(tested)]
    rows += [{"function": f, "status": "no_cases"} for f in functions if f not in tested]
    covered = set(functions)
    rows += [{"function": f, "status": "missing"} for f in sorted(set(mapping.values()) - covered)]
    store.record_functions(run_id, rows)
    return RunImport(
        run_id=run_id,
        framework=framework,
        device=spelled,
        host=report.machine,
        report=report.rel,
        timing_files=[t.rel for t in session.timings],
        cases=counts["passed"] + counts["failed"] + counts["reference_failed"],
        new_cases=counts["new"],
        passed=counts["passed"],
        failed=counts["failed"],
        not_recorded=counts["not_recorded"],
        with_timings=counts["with_timings"],
        already_present=already,
        harness=counts["harness"],
    )


def _test_index(sessions: list[_Session]) -> dict[tuple[str, str], list[TestName]]:
    """``(test file, test name without device marks) -> parsed names`` over every report of a framework,
    to give timing-only entries the case ids of the same tests elsewhere."""
    index: dict[tuple[str, str], list[TestName]] = defaultdict(list)
    for s in sessions:
        for test in s.data["tests"]:
            name = parse_test_name(test["nodeid"])
            key = (name.test_file, name.ident.split("::")[-1])
            if all(n.ident != name.ident for n in index[key]):
                index[key].append(name)
    return index


_CLASS_SUFFIX = {dev: suffix.upper() for suffix, dev in INSTANTIATION_SUFFIX.items()}


def _timing_name(key: str, device: str, index: dict[tuple[str, str], list[TestName]]) -> tuple[TestName, bool]:
    """The test of a timing entry ``'<file>.py:<raw name>'`` of a ``device`` timing file, and whether a
    report names it.

    The raw name is read as PyTorch's instantiated name, for ``device`` first, then for the other
    devices (a GPU machine's file also times its CPU-instantiated tests): the device token is stripped,
    the dtype read, and the name looked up in ``index``. The returned ``device`` is the one the name
    carries (else ``device``); unmatched or ambiguous names keep their own identity (they pair with nothing).
    """
    test_file, raw = key.split(":", 1)
    plain = parse_test_name(f"{test_file}::Portabench::{raw}")
    probes = [parse_test_name(f"{test_file}::Portabench{_CLASS_SUFFIX[d]}::{raw}")
              for d in [device] + [d for d in _CLASS_SUFFIX if d != device]]
    for probe in [p for p in probes if p.device is not None] + [plain]:
        found = index.get((test_file, probe.ident.split("::")[-1]), [])
        if len(found) == 1:
            n = found[0]
            return TestName(test_file=test_file, raw=raw, ident=n.ident, device=probe.device or device, dtype=n.dtype), True
    return TestName(test_file=test_file, raw=raw, ident=plain.ident.split("::")[-1], device=device,
                    dtype=plain.dtype), False


def _split_timing_group(
    group: _TimingOnly, index: dict[tuple[str, str], list[TestName]]
) -> list[tuple[str, list[tuple[str, TestName, bool]], dict[str, dict[str, list[Any]]]]]:
    """Per device named by the entries of a timing-only group: its entries and the pooled timings."""
    pooled: dict[str, dict[str, list[Any]]] = {}
    for t in group.timings:
        for key, value in t.data.items():
            entry = pooled.setdefault(key, {"ops": [], "test_time": []})
            entry["ops"].extend(value["operations"])
            if _is_number(value.get("test_time")):
                entry["test_time"].append(value["test_time"])
    per_device: dict[str, list[tuple[str, TestName, bool]]] = defaultdict(list)
    for key in sorted(pooled):
        name, matched = _timing_name(key, group.device, index)
        per_device[name.device or group.device].append((key, name, matched))
    return [(d, per_device[d], pooled) for d in sorted(per_device, key=lambda d: (d != group.device, d))]


def _write_timing_run(
    store: Store,
    existing: set[str],
    taken: set[str],
    framework: str,
    group: _TimingOnly,
    device: str,
    names: list[tuple[str, TestName, bool]],
    pooled: dict[str, dict[str, list[Any]]],
    mapping: dict[str, str],
) -> RunImport:
    """A run of timing files without a failure report on ``device``: one case per timed test, outcome ``unknown``."""
    first = group.timings[0]
    fw_dir = first.rel.split("/", 1)[0]
    spelled = DEVICE_SPELLING.get(framework, {"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"})[device]
    where = group.machine + (f"/{group.sub}" if group.sub and group.sub != device else "")
    run_id = f"{ORIGIN}:{fw_dir}/{where}/{spelled}"
    if run_id in taken:
        run_id += "+timings"
    functions = sorted({_function_for(n.test_file, mapping) for _, n, _ in names})
    meta = RunMeta(
        run_id=run_id, framework=framework, framework_version=FRAMEWORK_VERSION, device=spelled,
        device_kind=DEVICE_KIND[device], device_name=_device_name(device, group.machine), mode="eager",
        reference_device=None, host=group.machine, platform="", python="", portabench_version=_portabench_version(),
        numerics={},
        config={"imported_from": "paper", "report": None, "timings_only": True,
                "timing_files": [t.rel for t in group.timings], "soft_placement": "soft" in _machine_tokens(group.machine),
                "session_device": group.device},  # the device of the timing files' names
        sample={"name": "paper", "functions": functions}, origin=ORIGIN, status="complete", started_at="", ended_at=None,
    )
    already = run_id in existing
    if not already:
        store.begin_run(meta)
        existing.add(run_id)
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for key, name, matched in names:
        timing = pooled[key]
        if not timing["ops"]:
            continue
        function = _function_for(name.test_file, mapping)
        source = f"{ORIGIN}:{name.test_file}::{name.ident}"
        case_id = f"{function}|{source}|{name.dtype}|0"
        if case_id in seen:
            continue
        seen.add(case_id)
        samples, median, iqr = _timing_stats(timing["ops"])
        result = CaseResult(case_id=case_id, function=function, source=source, dtype=name.dtype, sample=0,
                            outcome=UNKNOWN, check="none", time_samples_ns=samples, time_median_ns=median,
                            time_iqr_ns=iqr, time_repeats=len(samples))
        if timing["test_time"]:
            result.wall_ns = float(np.median(timing["test_time"])) * 1e9
        counts["unknown"] += 1
        counts["unmatched"] += 0 if matched else 1
        if store.record_result(run_id, result):
            counts["new"] += 1
    tested = sorted({c.split("|", 1)[0] for c in seen})
    store.record_functions(run_id, [{"function": f, "status": "tested"} for f in tested])
    return RunImport(
        run_id=run_id, framework=framework, device=spelled, host=group.machine, report="",
        timing_files=[t.rel for t in group.timings], cases=counts["unknown"], new_cases=counts["new"], passed=0,
        failed=0, not_recorded=0, with_timings=counts["unknown"], already_present=already, unknown=counts["unknown"],
        unmatched=counts["unmatched"],
    )


def _portabench_version() -> str:
    try:
        from portabench import __version__

        return str(__version__)
    except ImportError:
        return ""
