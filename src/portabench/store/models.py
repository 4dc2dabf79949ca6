"""Plain records written to and read from the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunMeta:
    """Everything that makes a run self-describing.

    Two runs are comparable only when their framework, framework_version and mode
    agree (analysis checks this and says so when they do not).
    """

    run_id: str
    framework: str
    framework_version: str
    device: str  # as requested: "cuda:1", "cpu", "meta", "gpu:0"
    device_kind: str  # normalised kind: "cpu", "cuda", "tpu", "mps", "meta", ...
    device_name: str  # human name reported by the framework ("NVIDIA H100 80GB HBM3")
    mode: str = "eager"
    reference_device: str | None = None  # None on a reference run
    host: str = ""
    platform: str = ""
    python: str = ""
    portabench_version: str = ""
    numerics: dict[str, Any] = field(default_factory=dict)  # e.g. TF32 flags, matmul precision
    config: dict[str, Any] = field(default_factory=dict)  # dtypes, timeout, timing budget, specs
    sample: dict[str, Any] = field(default_factory=dict)  # preset/manifest name and its functions
    origin: str = "portabench"  # "portabench" or "paper" (imported published data)
    status: str = "running"  # running | complete | interrupted
    started_at: str = ""
    ended_at: str | None = None


@dataclass
class CaseResult:
    """The outcome of one case in one run (written once, never updated)."""

    case_id: str
    function: str
    source: str
    dtype: str
    sample: int
    outcome: str  # passed | failed | reference_failed (see portabench.cases)
    category: str | None = None  # failure category (see portabench.taxonomy) when not passed
    message: str | None = None  # exception text or a description of the failure
    exc_type: str | None = None
    exit_status: int | None = None  # worker exit status when it died (negative: signal)
    stderr_tail: str | None = None  # last lines of the worker's stderr when it died or timed out
    check: str | None = None  # how outputs were compared: values | properties | shape_dtype | none
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    time_median_ns: float | None = None
    time_iqr_ns: float | None = None
    time_repeats: int | None = None
    time_samples_ns: list[float] | None = None  # per-call times when kept (imported data)
    compile_ns: float | None = None  # compile/trace time, apart from run time (jit modes)
    wall_ns: float | None = None  # wall-clock of the whole case in the worker
    # compiled modes (schema version 2; NULL in eager mode and in older stores)
    graph_breaks: int | None = None  # Dynamo graph breaks of the case (torch compile)
    recompiles: int | None = None  # compilations after the first call
    fallback: bool | None = None  # the case ran (partly) eagerly: a graph break, or no graph captured
    compile_info: dict[str, Any] | None = None  # what the compiler did: break reasons, graphs, frames, fullgraph...
    eager_same_device_err: float | None = None  # a compiled output differs: eager's max abs error on the same device
    eager_same_device_rel_err: float | None = None  # ... and its max relative error
