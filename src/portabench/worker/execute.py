"""One case, inside a worker: reference, target, placement, comparison, timing.

Returns a :class:`~portabench.protocol.CaseReply`. Failures are reported as
evidence (exception type and message, mismatch and placement flags); the parent
classifies them with :mod:`portabench.taxonomy`, so categories are decided in one place.
"""

from __future__ import annotations

import time
from typing import Any

from portabench.cases import FAILED, PASSED, REFERENCE_FAILED, CaseDescriptor
from portabench.frameworks.base import Adapter, Prepared
from portabench.frameworks.reference import default_mode, reference_device
from portabench.frameworks.timer import TimingConfig, measure
from portabench.models.names import is_model_case
from portabench.protocol import CaseReply, exception_evidence
from portabench.worker.compare import compare_outputs, outputs_differ

#: seeds of the two reference calls that tell random outputs from deterministic ones
SEED_A, SEED_B = 1234, 4321


def _host_output(adapter: Adapter, prepared: Prepared) -> Any:
    """The eager output on the host: ``prepared.call()`` is the eager call in every mode."""
    return adapter.to_host(prepared.postprocess(prepared.call()))


def _compile_fields(adapter: Adapter, prepared: Prepared | None) -> dict[str, Any]:
    info = adapter.compile_info(prepared) if prepared is not None else None
    return {} if info is None else {"compile_info": info}


def _eager_same_device(adapter: Adapter, case: CaseDescriptor, ref_host: Any, properties_only: bool) -> dict[str, Any]:
    """A compiled output differs from the reference: how far is eager on the same device from it?

    Tells "the device differs" (eager differs as much) from "the compiler differs". Eager runs on
    freshly prepared inputs (same seed as the target's): the compiled call may have modified its own
    in place (``torch._foreach_sub_``), and re-running on those would add the op twice.
    """
    try:
        adapter.seed(SEED_A)
        fresh = adapter.prepare(case, adapter.device)
        cmp = compare_outputs(ref_host, _host_output(adapter, fresh), properties_only=properties_only)
    except Exception as exc:  # eager fails where the compiled call ran: say so, keep the mismatch
        return {"eager_same_device_error": exception_evidence(exc)["message"]}
    return {"eager_same_device_err": cmp.max_abs_err, "eager_same_device_rel_err": cmp.max_rel_err,
            "eager_same_device_ok": cmp.ok}


def run_case(adapter: Adapter, case: CaseDescriptor, timing: TimingConfig, do_timing: bool = True) -> CaseReply:
    """Execute ``case`` on ``adapter.device``, compared with ``adapter.reference`` when it is set.

    Outcome ``reference_failed`` when the reference call raises; ``failed``
    with evidence when the target call raises, leaves results on another
    device, or mismatches; ``passed`` otherwise (then timed).
    """
    if is_model_case(case.source):  # a whole model: its adapter runs it (portabench.models), as reply fields
        return CaseReply.from_json(adapter.run_model_case(case, timing, do_timing))
    return CaseReply.from_json(_run_function_case(adapter, case, timing, do_timing))


def _reference_output(adapter: Adapter, case: CaseDescriptor, reference: str) -> tuple[Any, bool]:
    """The reference device's output (on the host) and whether the case's outputs are random.

    Random: the case says so, the call moved the framework's RNG state, or a second call with
    another seed gives other outputs. Raises what the reference call raises.
    """
    adapter.seed(SEED_A)
    ref_prepared = adapter.prepare(case, reference)
    state = adapter.rng_state()
    ref_host = _host_output(adapter, ref_prepared)
    random_outputs = case.random or adapter.rng_state() != state
    if not random_outputs:
        adapter.seed(SEED_B)
        random_outputs = outputs_differ(ref_host, _host_output(adapter, adapter.prepare(case, reference)))
    return ref_host, random_outputs


def _timing_fields(adapter: Adapter, prepared: Prepared, timing: TimingConfig, first_call_ns: int) -> dict[str, Any]:
    """Time a passed case: median, IQR and repeats, compile time in a compiled mode; or why timing failed."""
    try:
        t = measure(lambda: adapter.execute(prepared), adapter.timer(adapter.device), timing)
    except Exception as exc:  # ran once but not again: keep it passed, untimed, say why
        adapter.after_failure()
        return {"timing_error": exception_evidence(exc)["message"]}
    fields: dict[str, Any] = {"time_median_ns": t.median_ns, "time_iqr_ns": t.iqr_ns, "time_repeats": t.repeats}
    if prepared.compile_ns is not None:  # measured by the adapter (e.g. lower().compile())
        fields["compile_ns"] = float(prepared.compile_ns)
    elif adapter.mode != default_mode(adapter):  # otherwise: the first call's excess over a steady call
        fields["compile_ns"] = max(first_call_ns - t.median_ns, 0.0)
    return fields


def _run_function_case(adapter: Adapter, case: CaseDescriptor, timing: TimingConfig, do_timing: bool) -> dict[str, Any]:
    """:func:`run_case` of a function case, as the fields of its :class:`CaseReply`."""
    started = time.perf_counter_ns()
    result: dict[str, Any] = {"case_id": case.case_id}
    reference = reference_device(adapter)
    compiled_mode = adapter.mode != default_mode(adapter)
    random_outputs = case.random
    ref_host = None
    if reference is not None:
        try:
            ref_host, random_outputs = _reference_output(adapter, case, reference)
        except Exception as exc:  # the case is broken on the reference device itself
            adapter.after_failure()
            return {**result, "outcome": REFERENCE_FAILED, **exception_evidence(exc), "wall_ns": time.perf_counter_ns() - started}

    prepared: Prepared | None = None
    try:
        adapter.seed(SEED_A)
        prepared = adapter.prepare(case, adapter.device)
        compile_start = time.perf_counter_ns()
        output = adapter.execute(prepared)
        adapter.timer(adapter.device).sync(output)
        first_call_ns = time.perf_counter_ns() - compile_start
        placement = adapter.placement_error(output, adapter.device)
        got_host = adapter.to_host(prepared.postprocess(output))
    except Exception as exc:
        adapter.after_failure()
        evidence = exception_evidence(exc)
        restart = adapter.needs_restart(evidence["message"])
        return {**result, "outcome": FAILED, **evidence, **_compile_fields(adapter, prepared), "restart_worker": restart,
                "wall_ns": time.perf_counter_ns() - started}

    if case.extra.get("any_device"):
        placement = None
    if placement is not None:
        return {**result, "outcome": FAILED, "wrong_device": True, "message": placement, **_compile_fields(adapter, prepared),
                "wall_ns": time.perf_counter_ns() - started}
    if ref_host is not None:
        cmp = compare_outputs(ref_host, got_host, properties_only=random_outputs)
        result.update(check=cmp.check, max_abs_err=cmp.max_abs_err, max_rel_err=cmp.max_rel_err)
        if not cmp.ok:
            eager = _eager_same_device(adapter, case, ref_host, random_outputs) if compiled_mode else {}
            return {**result, "outcome": FAILED, "mismatch": True, "message": cmp.message, **eager,
                    **_compile_fields(adapter, prepared), "wall_ns": time.perf_counter_ns() - started}
    else:
        result["check"] = "none"
    result["outcome"] = PASSED
    result["random"] = random_outputs
    if do_timing:
        result.update(_timing_fields(adapter, prepared, timing, first_call_ns))
    if compiled_mode and "compile_ns" not in result:  # untimed: the first call (compile + one run) is the bound
        result["compile_ns"] = float(prepared.compile_ns if prepared.compile_ns is not None else first_call_ns)
    result.update(_compile_fields(adapter, prepared))  # after timing: recompiles during the repeats count
    result["wall_ns"] = time.perf_counter_ns() - started
    return result
