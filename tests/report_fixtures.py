"""Synthetic stores for the analysis and report tests (no framework needed).

Everything is written through the real :class:`portabench.store.Store` API
(``begin_run`` / ``record_result`` / ``record_functions`` / ``record_claimed_dtypes``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portabench.store import CaseResult, RunMeta, Store

_counter = {"n": 0}
_DEFAULT: Any = object()


def case(
    function: str,
    outcome: str = "passed",
    *,
    dtype: str = "float32",
    sample: int = 0,
    source: str = "spec:test",
    category: str | None = _DEFAULT,
    message: str | None = None,
    time_ns: float | None = None,
    max_abs_err: float | None = None,
    max_rel_err: float | None = None,
    **extra: Any,
) -> CaseResult:
    """A :class:`CaseResult` with a consistent ``case_id`` (function|source|dtype|sample).

    A failed case gets category ``runtime_error`` unless ``category`` is passed (``None`` included).
    """
    if category is _DEFAULT:
        category = "runtime_error" if outcome == "failed" else None
    return CaseResult(
        case_id=f"{function}|{source}|{dtype}|{sample}", function=function, source=source, dtype=dtype,
        sample=sample, outcome=outcome, category=category, message=message, time_median_ns=time_ns,
        max_abs_err=max_abs_err, max_rel_err=max_rel_err, **extra,
    )


def add_run(
    store: Store,
    results: list[CaseResult],
    *,
    run_id: str | None = None,
    framework: str = "torch",
    version: str = "2.11",
    device: str = "cpu",
    device_kind: str | None = None,
    device_name: str | None = None,
    mode: str = "eager",
    reference_device: str | None = None,
    origin: str = "portabench",
    status: str = "complete",
    started_at: str | None = None,
    host: str = "testhost",
    functions: list[dict[str, Any]] | None = None,
    claimed: dict[str, dict[str, list[str]]] | None = None,
    numerics: dict[str, Any] | None = None,
) -> str:
    """Write one run and its results; returns its run_id.

    ``device_kind`` defaults to the device without its index; a run on a device
    other than ``cpu`` defaults to ``reference_device='cpu'``, pass ``reference_device=''``
    for a reference run on it. ``started_at`` defaults to an increasing timestamp,
    so later calls are newer runs.
    """
    _counter["n"] += 1
    kind = device_kind if device_kind is not None else device.split(":")[0]
    if reference_device is None and kind != "cpu":
        reference_device = "cpu"
    run_id = run_id or f"run{_counter['n']:04d}"
    meta = RunMeta(
        run_id=run_id,
        framework=framework,
        framework_version=version,
        device=device,
        device_kind=kind,
        device_name=device_name
        if device_name is not None
        else {"cpu": "Test CPU", "cuda": "NVIDIA H100 80GB HBM3"}.get(kind, kind.upper()),
        mode=mode,
        reference_device=reference_device or None,
        host=host,
        platform="Linux-test",
        python="3.11.7",
        portabench_version="0.1.0",
        numerics=numerics or {"allow_tf32": False},
        config={"timeout": 60},
        sample={"preset": "test"},
        origin=origin,
        status=status,
        started_at=started_at or f"2025-01-01T00:{_counter['n'] // 60:02d}:{_counter['n'] % 60:02d}",
        ended_at=None,
    )
    store.begin_run(meta)
    for r in results:
        store.record_result(run_id, r)
    fns = functions
    if fns is None:
        fns = [
            {"function": f, "status": "tested", "frequency": 10, "bucket": "top"}
            for f in sorted({r.function for r in results})
        ]
    store.record_functions(run_id, fns)
    if claimed:
        store.record_claimed_dtypes(run_id, claimed)
    return run_id


def build_demo_store(path: str | Path, n_functions: int = 24) -> Path:
    """A realistic multi-framework store: torch cpu (reference) + cuda + a second torch version,
    jax cpu + tpu (paper origin), with every failure kind, timings and numerical errors."""
    path = Path(path)
    cats = ["not_implemented", "numerical_mismatch", "crash", "timeout", "dtype_unsupported"]
    with Store(path) as store:
        fns = [f"torch.fn{i:02d}" for i in range(n_functions)]
        cpu, cuda = [], []
        for i, fn in enumerate(fns):
            for dt in ["float32", "float16", "float64"]:
                for s in range(2):
                    t = 1000.0 * (i + 1) * (s + 1)
                    if i == 0:  # broken on the reference device too
                        cpu.append(case(fn, "failed", dtype=dt, sample=s, category="crash", message="cpu crash"))
                        cuda.append(case(fn, "reference_failed", dtype=dt, sample=s))
                        continue
                    cpu.append(case(fn, dtype=dt, sample=s, time_ns=t))
                    if i % 5 == 1:  # complete failure
                        cat = cats[(i // 5) % len(cats)]
                        cuda.append(
                            case(
                                fn,
                                "failed",
                                dtype=dt,
                                sample=s,
                                category=cat,
                                message=f"{fn} failed on cuda: {cat} <b>&</b>",
                                max_abs_err=0.5 * (i + 1) if cat == "numerical_mismatch" else None,
                                max_rel_err=0.01 * (i + 1) if cat == "numerical_mismatch" else None,
                            )
                        )
                    elif i % 5 == 2 and dt == "float16":  # partial failure
                        cuda.append(
                            case(
                                fn,
                                "failed",
                                dtype=dt,
                                sample=s,
                                category="numerical_mismatch",
                                message="max abs err 0.125 > atol",
                                max_abs_err=0.125 * (s + 1),
                                max_rel_err=0.002 * (s + 1),
                            )
                        )
                    else:
                        cuda.append(case(fn, dtype=dt, sample=s, time_ns=t * (0.2 + 0.37 * (i % 7))))
        claimed = {
            fn: {"cpu": ["float32", "float16", "float64"], "cuda": ["float32", "float16", "float64", "bfloat16"]}
            for fn in fns
        }
        functions = [
            {"function": f, "status": "tested", "frequency": 100 - i, "bucket": f"d{i % 10}"} for i, f in enumerate(fns)
        ]
        functions += [
            {"function": "torch.nocases", "status": "no_cases", "frequency": 3, "bucket": "d9"},
            {"function": "torch.gone", "status": "missing", "frequency": 1, "bucket": "d9"},
        ]
        add_run(store, cpu, run_id="torch-cpu", functions=functions, claimed=claimed, device_name="AMD EPYC 9654")
        add_run(
            store,
            cuda,
            run_id="torch-cuda",
            device="cuda:0",
            functions=functions,
            claimed=claimed,
            numerics={"allow_tf32": False, "cudnn_benchmark": False},
        )
        # a second torch version: separate column
        add_run(store, [case(fn, time_ns=500.0) for fn in fns[:6]], run_id="torch-new-cpu", version="2.13")
        # jax, imported paper data: cpu reference + tpu target
        jfns = [f"jax.numpy.f{i}" for i in range(8)]
        add_run(
            store,
            [case(fn, time_ns=2000.0 + 100 * i) for i, fn in enumerate(jfns)],
            run_id="jax-cpu",
            framework="jax",
            version="0.4.1",
            origin="paper",
            host="paper",
        )
        add_run(
            store,
            [
                case(fn, time_ns=(2000.0 + 100 * i) * (0.5 if i % 2 else 3.0))
                if i != 3
                else case(fn, "failed", category="not_implemented", message="no TPU lowering")
                for i, fn in enumerate(jfns)
            ],
            run_id="jax-tpu",
            framework="jax",
            version="0.4.1",
            device="tpu:0",
            device_name="TPU v3",
            origin="paper",
            host="paper",
        )
    return path
