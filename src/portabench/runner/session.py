"""The run loop: one (framework, device, mode) run written to the store case by case.

:func:`execute_run` is the library entry point behind ``portabench run``. It
never imports a framework: it asks a worker for the cases, sends them one at a
time with a wall-clock deadline, classifies every failure with
:mod:`portabench.taxonomy`, and commits each result before sending the next
case. A worker that dies or hangs is killed (its whole process group), the case
is recorded with the worker's exit status and stderr tail, and a fresh worker
takes the next case. A run stopped by Ctrl-C, SIGTERM, SIGHUP, kill -9 or its
time budget can be continued with ``resume=True``: recorded cases are skipped,
none is repeated, and the run's function and claimed-dtype rows are rebuilt as a
fresh run writes them. SIGTERM and SIGHUP are handled as Ctrl-C is (workers
killed, run marked ``interrupted``, :class:`RunInterrupted` raised, which is a
:class:`KeyboardInterrupt`). Resuming is refused when the options or the spec
files' contents differ from the run's, and when the newest matching run is
already complete (nothing to resume; nothing is written).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import portabench
from portabench.case_options import DEFAULT_COMPILE_TIMEOUT_S, DEFAULT_MAX_SAMPLES, DEFAULT_TIMEOUT_S, DEFAULT_TIMING
from portabench.cases import ERROR, FAILED, CaseDescriptor
from portabench.errors import PortabenchError
from portabench.frameworks import FrameworkEntry, get_framework
from portabench.frameworks.timer import TimingConfig
from portabench.protocol import (
    CaseReply,
    CoverageRequest,
    HelloRequest,
    ListCasesRequest,
    ListingReply,
    Message,
    Request,
    RunCaseRequest,
    WorkerInfo,
)
from portabench.runner.dispatch import Dispatcher, slot_environments, worker_count
from portabench.runner.install_hint import install_hint
from portabench.runner.process import WorkerError, WorkerFailure, WorkerProcess, WorkerProtocolError
from portabench.selection import no_cases_note, unknown_names_error
from portabench.specs import read_spec_text
from portabench.store import CaseResult, RunMeta, Store
from portabench.taxonomy import FailureEvidence, classify

#: signals that stop a run as Ctrl-C does (the run stays resumable)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGTERM or SIGHUP; handled everywhere as Ctrl-C (exit 130 from the CLI)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise :class:`RunInterrupted` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    raised: list[int] = []

    def _raise(signum: int, _frame: object) -> None:
        if not raised:  # once: a second signal must not cut the cleanup that marks the run interrupted
            raised.append(signum)
            raise RunInterrupted(signum)

    previous = {sig: signal.signal(sig, _raise) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ProgressFn(Protocol):
    """``progress(done, total, current, failed=n)``: cases done of this command's total, failures so far."""

    def __call__(self, done: int, total: int, current: str, failed: int = 0) -> None: ...


@dataclass
class RunRequest:
    """Everything that defines a run (recorded in the run's ``config``)."""

    framework: str
    device: str
    mode: str | None = None
    reference: str | None = "cpu"  # None, or equal to device: a reference run (no comparison)
    functions: list[str] | None = None  # None: every function that has cases (preset "all")
    sample: dict[str, Any] = field(default_factory=dict)  # manifest JSON: name, functions with frequency/bucket
    dtypes: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)
    max_samples: int = DEFAULT_MAX_SAMPLES  # defaults: portabench.case_options (study.request_for builds it)
    timeout_s: float = DEFAULT_TIMEOUT_S
    startup_timeout_s: float = 600.0
    timing: TimingConfig = DEFAULT_TIMING
    resume: bool = False
    budget_s: float | None = None  # stop (resumably) once this much wall time is spent
    env: dict[str, str] | None = None  # extra environment of the workers
    do_timing: bool = True
    workers: int | None = None  # None: one per device the device string covers (one per GPU); not part of config
    fullgraph: bool = False  # compiled modes: a graph break / eager fallback fails the case (torch --fullgraph)
    compile_timeout_s: float = DEFAULT_COMPILE_TIMEOUT_S  # compiled modes: extra deadline of each case for its first compile
    strict_functions: bool = False  # names given by the user (--functions): unknown ones are an error, not "missing"


def effective_reference(request: RunRequest, mode: str) -> str | None:
    """The run's reference device, None for a reference run.

    In the framework's default mode the reference on the run's own device is no
    reference; in another mode (jit, compile...) it is: the mode is compared with
    eager on the same device.
    """
    if request.reference is None:
        return None
    if request.reference == request.device and mode == get_framework(request.framework).modes[0]:
        return None
    return request.reference


def compiled_mode(request: RunRequest) -> bool:
    """True when the run's mode is not the framework's default (eager) mode."""
    return request.mode not in (None, get_framework(request.framework).modes[0])


@dataclass
class RunSummary:
    run_id: str
    status: str
    counts: dict[str, int]  # outcome -> cases of the whole run (a resumed run: earlier commands' cases too)
    total_cases: int
    resumed: bool
    missing: list[str]
    no_cases: list[str]
    new_cases: int = 0  # cases run by this command


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _start_worker(request: RunRequest, mode: str, reference: str | None,
                  slot_env: dict[str, str] | None = None) -> tuple[WorkerProcess, WorkerInfo]:
    """A worker for the run, with the registry's ``worker_env`` defaults (the parent's own environment wins),
    the run's ``env`` and the slot's pinning; and its ``hello`` reply."""
    defaults = {k: v for k, v in get_framework(request.framework).worker_env.items() if k not in os.environ}
    env = {**defaults, **(request.env or {}), **(slot_env or {})}
    if request.fullgraph:
        env["PORTABENCH_TORCH_FULLGRAPH"] = "1"
    worker = WorkerProcess(request.framework, request.device, mode, reference, env)
    try:
        info = worker.request(HelloRequest(), request.startup_timeout_s)
    except WorkerError as exc:
        worker.close()
        if exc.error.type == "DeviceUnavailable":
            raise PortabenchError(f"device {request.device!r} is not available for {request.framework}: {exc}") from None
        hint = install_hint(get_framework(request.framework), str(exc))
        raise PortabenchError(f"{request.framework} worker could not start: {exc.error.type}: {exc}{hint}") from None
    except WorkerFailure as exc:
        tail = exc.stderr_tail.strip().splitlines()[-1:] or [""]
        hint = install_hint(get_framework(request.framework), exc.stderr_tail)
        raise PortabenchError(f"{request.framework} worker failed to start: {exc} {tail[0]}".strip() + hint) from None
    return worker, info


def _spec_digest(ref: str) -> str:
    try:
        return hashlib.sha256(read_spec_text(ref).encode()).hexdigest()[:16]
    except (PortabenchError, OSError, UnicodeDecodeError):
        return "unreadable"


def run_config(request: RunRequest) -> dict[str, Any]:
    """The options recorded in a run's ``config``; a run is resumed or reused only when they are equal.

    ``spec_sha256`` pins the spec files' contents (a file edited between a run and its resume
    would give the same case ids other inputs) and ``timing`` whether cases are timed at all.
    """
    config = {
        "dtypes": request.dtypes, "specs": request.specs, "max_samples": request.max_samples,
        "timeout_s": request.timeout_s, "timing": request.timing.to_json(), "functions": request.functions,
        "spec_sha256": {ref: _spec_digest(ref) for ref in request.specs}, "do_timing": request.do_timing,
    }
    if compiled_mode(request):  # only there, so that eager runs of older stores still resume
        config["compile_timeout_s"] = request.compile_timeout_s
    if request.fullgraph:
        config["fullgraph"] = True
    return config


def changed_options(recorded: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """Options of ``config`` that differ from a run's ``recorded`` config.

    Keys a run recorded before they existed (runs of older versions) are not compared.
    """
    return sorted(k for k in config if k in recorded and recorded[k] != config[k])


def find_complete_run(store: Store, request: RunRequest, mode: str) -> RunMeta | None:
    """A complete run of this framework, device and mode with the same options, if the store has one."""
    config = run_config(request)
    reference = effective_reference(request, mode)
    for run in reversed(store.runs()):
        if (run.framework, run.device, run.mode, run.status, run.origin) == (request.framework, request.device, mode, "complete", "portabench") \
                and run.reference_device == reference and not changed_options(run.config, config):
            return run
    return None


def _run_to_resume(store: Store, request: RunRequest, mode: str, reference: str | None) -> RunMeta | None:
    """The unfinished run ``--resume`` continues (None: start one); refuses when the newest matching run is complete."""
    latest = store.latest_run(request.framework, request.device, mode)
    if latest is not None and latest.status == "complete" and latest.reference_device == reference \
            and not changed_options(latest.config, run_config(request)):
        raise PortabenchError(
            f"nothing to resume: the newest {request.framework} run on {request.device} ({mode}), "
            f"{latest.run_id}, is complete; start a new run without --resume"
        )
    return store.find_resumable(request.framework, request.device, mode)


def _result_from_reply(case: CaseDescriptor, reply: CaseReply) -> CaseResult:
    result = CaseResult(
        case_id=case.case_id, function=case.function, source=case.source, dtype=case.dtype, sample=case.sample,
        outcome=reply.outcome, message=reply.message, exc_type=reply.exc_type,
        check=reply.check, max_abs_err=reply.max_abs_err, max_rel_err=reply.max_rel_err,
        time_median_ns=reply.time_median_ns, time_iqr_ns=reply.time_iqr_ns,
        time_repeats=reply.time_repeats, compile_ns=reply.compile_ns, wall_ns=reply.wall_ns,
        **compile_columns(reply),
    )
    if result.outcome != "passed":
        result.category = classify(FailureEvidence(
            exc_type=reply.exc_type, message=reply.message, mismatch=reply.mismatch, wrong_device=reply.wrong_device,
        ))
    if reply.left_behind:  # the finding belongs to this case (classified above without it)
        note = "left behind by this case: " + "; ".join(str(x) for x in reply.left_behind)
        result.message = note if not result.message else f"{result.message} [{note}]"
    return result


def compile_columns(reply: CaseReply) -> dict[str, Any]:
    """The compiled-mode fields of a worker reply, as :class:`CaseResult` keywords (empty in eager mode)."""
    info = reply.compile_info
    out: dict[str, Any] = {}
    if info is not None:
        out.update(graph_breaks=info.get("graph_breaks"), recompiles=info.get("recompiles"),
                   fallback=info.get("fallback"), compile_info=info)
    if reply.eager_same_device_err is not None:
        out["eager_same_device_err"] = reply.eager_same_device_err
    if reply.eager_same_device_rel_err is not None:
        out["eager_same_device_rel_err"] = reply.eager_same_device_rel_err
    eager = {"eager_same_device_ok": reply.eager_same_device_ok, "eager_same_device_error": reply.eager_same_device_error}
    for key, value in eager.items():  # did eager on the same device match / raise?
        if value is not None:
            out["compile_info"] = {**out.get("compile_info", {}), key: value}
    return out


def _internal_error(case: CaseDescriptor, what: str, message: str, exc_type: str | None = None) -> CaseResult:
    """Outcome ``error``: portabench's or the adapter's fault (a case it cannot build, a reply it cannot read),
    not data about the framework; counted apart and kept out of every portability share."""
    return CaseResult(
        case_id=case.case_id, function=case.function, source=case.source, dtype=case.dtype, sample=case.sample,
        outcome=ERROR, category=None, message=f"{what}: {message}", exc_type=exc_type,
    )


def _result_from_failure(case: CaseDescriptor, failure: WorkerFailure) -> CaseResult:
    evidence = FailureEvidence(
        timed_out=failure.timed_out, exit_status=failure.exit_status, stderr_tail=failure.stderr_tail,
    )
    return CaseResult(
        case_id=case.case_id, function=case.function, source=case.source, dtype=case.dtype, sample=case.sample,
        outcome=FAILED, category=classify(evidence), message=str(failure), exit_status=failure.exit_status,
        stderr_tail=_useful_tail(failure.stderr_tail),
    )


def _useful_tail(tail: str, limit: int = 3000) -> str:
    """The part of a dead worker's log worth keeping: from Python's fatal-error dump if any, else the end."""
    start = tail.rfind("Fatal Python error")
    return tail[start:start + limit] if start >= 0 else tail[-limit:]


def _run_one(request: RunRequest, worker: WorkerProcess, case: CaseDescriptor) -> tuple[CaseResult, bool]:
    """Run one case on ``worker``: its result, and whether the worker may take the next case."""
    try:
        deadline = request.timeout_s + (request.compile_timeout_s if compiled_mode(request) else 0.0)
        reply = worker.request(RunCaseRequest(case=case, timing=request.timing, do_timing=request.do_timing), deadline)
    except WorkerProtocolError as exc:  # a reply that is not ours: the worker was killed; an internal error
        return _internal_error(case, "worker reply not understood", str(exc), "ProtocolError"), False
    except WorkerFailure as failure:  # the worker is dead (crash, deadline): record its evidence
        return _result_from_failure(case, failure), False
    except WorkerError as exc:  # the worker could not even rebuild the case: an error of ours, the adapter's or the spec's
        return _internal_error(case, "case could not be run", str(exc), exc.error.type), True
    if reply.case_id != case.case_id:
        return _internal_error(case, "worker reply not understood",
                               f"reply for case {reply.case_id!r}", "ProtocolError"), False
    # a poisoned device context (illegal memory access, device-side assert) recycles the worker
    return _result_from_reply(case, reply), not reply.restart_worker


def _dispatcher(request: RunRequest, entry: FrameworkEntry, mode: str, reference: str | None, info: WorkerInfo,
                first_worker: WorkerProcess, *, cases_left: int) -> Dispatcher[CaseDescriptor, CaseResult]:
    """Workers for the run: ``request.workers``, or one per device the device string covers (``device_count``),
    never more than there are cases left.

    Pinned workers must all report the device name of the first one: a run is
    never spread over different models.
    """
    device_count = max(1, info.device_count)
    workers = max(1, min(worker_count(request.workers, device_count), cases_left))
    pin = entry.visible_devices_env.get(info.device_kind)
    if reference is not None and entry.parse_device(reference).kind == entry.parse_device(request.device).kind:
        pin = None  # the reference is on the same kind of device: hiding devices would hide it
    visible = (request.env or {}).get(pin or "", os.environ.get(pin or ""))
    environments = slot_environments(pin, device_count, workers, visible)

    def start(env: dict[str, str]) -> WorkerProcess:
        worker, slot_info = _start_worker(request, mode, reference, env)
        if slot_info.device_name != info.device_name:
            worker.close()
            raise PortabenchError(
                f"the {request.device} devices differ ({info.device_name} and {slot_info.device_name}, "
                f"seen with {env}): run each one as its own device (e.g. {request.device}:1)"
            )
        return worker

    return Dispatcher(start_worker=start, execute=lambda w, c: _run_one(request, w, c), environments=environments,
                      first_worker=first_worker)


def execute_run(store: Store, request: RunRequest, progress: ProgressFn | None = None) -> RunSummary:
    """Run (or resume) one run; results are committed to ``store`` as they arrive.

    Raises :class:`PortabenchError` for an unknown or uninstalled framework, an
    unavailable device or a worker that cannot start. KeyboardInterrupt (and
    SIGTERM/SIGHUP, as :class:`RunInterrupted`) marks the run ``interrupted``
    (resumable) and propagates.
    """
    with stop_signals_interrupt():
        return _execute_run(store, request, progress)


def _check_resumable(previous: RunMeta, framework: str, info: WorkerInfo, config: dict[str, Any],
                     reference: str | None) -> None:
    """Refuse (one-line error) to resume ``previous`` with another framework version, options or reference."""
    if previous.framework_version != info.framework_version:
        raise PortabenchError(
            f"cannot resume run {previous.run_id}: it used {framework} {previous.framework_version}, "
            f"this machine has {info.framework_version}"
        )
    changed = changed_options(previous.config, config) + (["reference"] if previous.reference_device != reference else [])
    if changed:
        raise PortabenchError(
            f"cannot resume run {previous.run_id}: it was started with other options ({', '.join(changed)}); "
            "give the same options, or start a new run without --resume"
        )


def _execute_run(store: Store, request: RunRequest, progress: ProgressFn | None) -> RunSummary:
    entry = get_framework(request.framework)
    entry.require_installed()
    mode = entry.check_mode(request.mode)
    worker_count(request.workers, 1)  # a bad --workers fails before any worker starts
    reference = effective_reference(request, mode)
    previous = _run_to_resume(store, request, mode, reference) if request.resume else None

    worker, info = _start_worker(request, mode, reference)
    try:
        listing = worker.request(ListCasesRequest(
            functions=request.functions, dtypes=request.dtypes, specs=request.specs, max_samples=request.max_samples,
        ), request.startup_timeout_s)
    except (WorkerError, WorkerFailure) as exc:
        worker.close()
        raise PortabenchError(f"listing {entry.name} cases failed: {exc}{install_hint(entry, str(exc))}") from None
    except BaseException:  # Ctrl-C, SIGTERM: no run row yet, nothing to mark
        worker.kill()
        raise
    if request.strict_functions:
        _check_listed(request, worker, listing)
    cases = listing.cases
    config = run_config(request)
    if previous is not None:
        try:
            _check_resumable(previous, entry.name, info, config, reference)
        except PortabenchError:
            worker.close()
            raise
        run_id = previous.run_id
        # what a fresh run writes with its run row: a run killed right after that row gets it now
        store.resume_run(run_id, listing.claimed, _function_rows(request, cases, listing))
        done = store.done_case_ids(run_id)
    else:
        run_id = uuid.uuid4().hex[:16]
        store.begin_run(RunMeta(
            run_id=run_id, framework=entry.name, framework_version=info.framework_version,
            device=request.device, device_kind=info.device_kind, device_name=info.device_name, mode=mode,
            reference_device=reference, host=socket.gethostname(), platform=platform.platform(),
            python=platform.python_version(), portabench_version=portabench.__version__,
            numerics=info.numerics, config=config, sample=request.sample, started_at=_now(),
        ), claimed=listing.claimed, functions=_function_rows(request, cases, listing))
        done = set()

    todo = [c for c in cases if c.case_id not in done]
    counts: dict[str, int] = {}
    failed = 0
    started = time.monotonic()
    over_budget = lambda: request.budget_s is not None and time.monotonic() - started > request.budget_s  # noqa: E731
    dispatcher: Dispatcher[CaseDescriptor, CaseResult] | None = None
    results = None
    try:
        dispatcher = _dispatcher(request, entry, mode, reference, info, worker, cases_left=len(todo))
        results = dispatcher.run(todo, should_stop=over_budget)
        if progress:
            progress(0, len(todo), todo[0].function if todo else "")
        for index, result in enumerate(results, start=1):
            store.record_result(run_id, result)
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
            failed += result.outcome == FAILED
            if progress:
                progress(index, len(todo), result.function, failed=failed)
    except BaseException:  # Ctrl-C, SIGTERM/SIGHUP, or a worker that cannot start: stop now, keep the run resumable
        if dispatcher is not None:
            dispatcher.kill()
        else:
            worker.kill()
        if results is not None:
            results.close()
        store.finish_run(run_id, "interrupted", _now())
        raise
    status = "complete" if sum(counts.values()) == len(todo) else "interrupted"
    store.finish_run(run_id, status, _now())
    totals = store.results_frame([run_id])["outcome"].value_counts().to_dict() if previous is not None else counts
    return RunSummary(run_id, status, {k: int(v) for k, v in totals.items()}, len(cases), previous is not None,
                      listing.missing, listing.no_cases, new_cases=sum(counts.values()))


def _check_listed(request: RunRequest, worker: WorkerProcess, listing: ListingReply) -> None:
    """Names the user listed: unknown ones are an error with the closest real names; nothing to run is an error."""
    error: PortabenchError | None = None
    if listing.missing:
        try:
            coverage = worker.request(CoverageRequest(specs=request.specs), request.startup_timeout_s)
            known = set(coverage.api) | set(coverage.with_cases)
        except (WorkerError, WorkerFailure):
            known = set()
        error = unknown_names_error(request.framework, listing.missing, known)
    elif not listing.cases:
        error = PortabenchError(f"nothing to run: {no_cases_note(listing.no_cases, request.dtypes)}")
    if error is not None:
        worker.close()
        raise error


def _function_rows(request: RunRequest, cases: list[CaseDescriptor], listing: ListingReply) -> list[dict[str, Any]]:
    sampled = {f["function"]: f for f in request.sample.get("functions", [])}
    rows = []
    for name in sorted({c.function for c in cases}):
        info = sampled.get(name, {})
        rows.append({"function": name, "status": "tested", "frequency": info.get("frequency"), "bucket": info.get("bucket")})
    for status, names in (("missing", listing.missing), ("no_cases", listing.no_cases)):
        for name in names:
            info = sampled.get(name, {})
            rows.append({"function": name, "status": status, "frequency": info.get("frequency"), "bucket": info.get("bucket")})
    return rows


R = TypeVar("R", bound=Message)


def query_worker(framework: str, device: str, request: Request[R], timeout: float = 600.0, *,
                 mode: str | None = None) -> R:
    """Start a worker (in ``mode``, default the framework's first), send one request (``ApiRequest()``,
    ``DevicesRequest()``, ``HelloRequest()``, ``ListCasesRequest(...)``...), stop it, and return its typed reply."""
    entry = get_framework(framework)
    entry.require_installed()
    run = RunRequest(framework=entry.name, device=device, startup_timeout_s=timeout)
    worker, info = _start_worker(run, entry.check_mode(mode), None)
    try:
        if isinstance(request, HelloRequest):
            return info  # type: ignore[return-value]  # R is WorkerInfo here
        return worker.request(request, timeout)
    except (WorkerError, WorkerFailure) as exc:
        raise PortabenchError(
            f"{entry.name} worker failed on {request.op.value!r}: {exc}{install_hint(entry, str(exc))}"
        ) from None
    finally:
        worker.close()
