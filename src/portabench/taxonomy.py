"""Failure taxonomy: the evidence of one failing case -> exactly one category.

A worker runs a case on the requested device; when the case does not pass,
the runner collects a :class:`FailureEvidence` (what the worker reported, or
how it died) and :func:`classify` turns it into one of :data:`CATEGORIES`.
:func:`explain` says why, naming the rule that decided.

Precedence (first that applies wins; see ``docs/taxonomy.md``):

1. ``timed_out``                                   -> :data:`TIMEOUT`
2. dead worker (``exit_status`` set, no exception) -> :data:`MEMORY` when the
   stderr tail (or message) shows an out-of-memory condition
   (:data:`DEAD_WORKER_MEMORY_PATTERNS`), else :data:`CRASH`
3. exception rules, the ordered table :data:`RULES` (first match wins)
4. ``wrong_device``                                -> :data:`WRONG_DEVICE`
5. ``mismatch``                                    -> :data:`NUMERICAL_MISMATCH`
6. anything else                                   -> :data:`OTHER`

The module is pure: it imports no framework and is safe in the parent.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portabench.pytest_text import PytestFailure, iter_failures, split_exception

__all__ = [
    "COMPILE_FAILED",
    "NOT_IMPLEMENTED",
    "DTYPE_UNSUPPORTED",
    "NUMERICAL_MISMATCH",
    "TIMEOUT",
    "MEMORY",
    "CRASH",
    "WRONG_DEVICE",
    "OTHER",
    "CATEGORIES",
    "FailureEvidence",
    "Rule",
    "RULES",
    "DEAD_WORKER_MEMORY_PATTERNS",
    "classify",
    "explain",
    "match_rule",
    "evidence_from_exception_text",
    "evidence_from_pytest_failure",
    "iter_pytest_report_failures",
    "survey_pytest_reports",
]

# --------------------------------------------------------------------------- categories

NOT_IMPLEMENTED = "not_implemented"
"""No kernel / lowering / feature for this backend or device."""
DTYPE_UNSUPPORTED = "dtype_unsupported"
"""The operation exists, but not for this dtype (or dtypes were mixed)."""
NUMERICAL_MISMATCH = "numerical_mismatch"
"""It ran, but the result differs from the reference beyond tolerance."""
TIMEOUT = "timeout"
"""The deadline expired."""
MEMORY = "memory"
"""Out of (device or host) memory, or an illegal memory access."""
CRASH = "crash"
"""The worker died (signal / abnormal exit) or hit a fatal device error."""
WRONG_DEVICE = "wrong_device"
"""It ran, but silently on another device than requested."""
OTHER = "other"
"""Anything else, including errors of the case code and missing devices."""
COMPILE_FAILED = "compile_failed"
"""A compiler (torch.compile: Dynamo, AOTAutograd, Inductor; torch.export) failed where eager ran."""

CATEGORIES: tuple[str, ...] = (
    NOT_IMPLEMENTED,
    DTYPE_UNSUPPORTED,
    NUMERICAL_MISMATCH,
    TIMEOUT,
    MEMORY,
    CRASH,
    WRONG_DEVICE,
    OTHER,
    COMPILE_FAILED,
)

# Only this many leading characters of a message are searched (guards the
# regexes against pathological multi-megabyte messages).
_MAX_SEARCH_CHARS = 200_000


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class FailureEvidence:
    """What is known about one failing case.

    Attributes:
        exc_type: exception class name as the worker reports it, short or
            qualified (``"NotImplementedError"``, ``"torch.OutOfMemoryError"``,
            ``"tensorflow.python.framework.errors_impl.NotFoundError"``).
            ``None`` when no exception was reported.
        message: ``str(exception)``; may be long and multi-line.
        timed_out: the parent's deadline expired.
        exit_status: the worker died with this exit code; negative = killed
            by that signal (``subprocess`` convention). ``None`` = alive.
        stderr_tail: the last lines of a dead worker's stderr.
        mismatch: it ran, but outputs differ from the reference.
        wrong_device: it ran, but a result lives on another device than
            requested (silent fallback).
    """

    exc_type: str | None = None
    message: str | None = None
    timed_out: bool = False
    exit_status: int | None = None
    stderr_tail: str | None = None
    mismatch: bool = False
    wrong_device: bool = False


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One row of the exception-rule table.

    A rule matches when both of its patterns match (a ``None`` pattern
    matches anything, but at least one pattern must be given):

    * ``type_pattern``: regex that must *fully* match either the short class
      name (last dotted component, e.g. ``OutOfMemoryError``) or the whole
      qualified name as reported (e.g. ``torch.cuda.OutOfMemoryError``).
      A rule with a type pattern never matches evidence without ``exc_type``.
    * ``message_regex``: regex *searched* in the message (``re.DOTALL`` and
      ``re.MULTILINE``; case-sensitive unless the pattern says ``(?i)``).
      A rule with a message regex never matches evidence without a message.
    """

    name: str
    category: str
    type_pattern: str | None
    message_regex: str | None
    description: str = ""
    _type_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _msg_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.name!r}: unknown category {self.category!r}")
        if self.type_pattern is None and self.message_regex is None:
            raise ValueError(f"rule {self.name!r}: needs a type pattern or a message regex")
        if self.type_pattern is not None:
            object.__setattr__(self, "_type_re", re.compile(self.type_pattern))
        if self.message_regex is not None:
            object.__setattr__(
                self, "_msg_re", re.compile(self.message_regex, re.DOTALL | re.MULTILINE)
            )

    def type_matches(self, exc_type: str | None) -> bool:
        """True when the type pattern is absent or fully matches ``exc_type``."""
        if self._type_re is None:
            return True
        if not exc_type:
            return False
        full = _normalise_type(exc_type)
        short = full.rsplit(".", 1)[-1]
        return bool(self._type_re.fullmatch(short) or self._type_re.fullmatch(full))

    def search_message(self, message: str | None) -> re.Match[str] | None | bool:
        """The regex match in ``message``; ``True`` when the rule has no regex;
        ``None`` when it does not match."""
        if self._msg_re is None:
            return True
        if not message:
            return None
        return self._msg_re.search(message[:_MAX_SEARCH_CHARS])

    def matches(self, exc_type: str | None, message: str | None) -> bool:
        """True when both patterns match."""
        return self.type_matches(exc_type) and bool(self.search_message(message))


R = Rule  # short alias for the table below

# The ordered table. FIRST MATCH WINS, so order encodes precedence among
# exception rules: timeouts, memory, fatal device errors, missing devices and
# misuse (-> other), dtype rules, then not-implemented rules (dtype rules must
# come first: torch says `"addmm_impl_cpu_" not implemented for 'Half'`), and
# last the comparison failures raised by assertion helpers.
# Every rule is tested against a real framework message in tests/test_taxonomy.py.
RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------- timeout
    R("pytest-timeout", TIMEOUT, r"Failed", r"^Timeout >",
      "pytest-timeout stopped the test"),
    R("timeout-exception", TIMEOUT, r"TimeoutError|TimeoutExpired|DeadlineExceededError", None,
      "a timeout exception (Python, subprocess, TF DEADLINE_EXCEEDED)"),
    # ---------------------------------------------------------------- memory
    R("torch-oom-error", MEMORY, r"OutOfMemoryError", None,
      "torch.OutOfMemoryError / torch.cuda.OutOfMemoryError"),
    R("device-out-of-memory", MEMORY, None,
      r"CUDA out of memory|CUDA error: out of memory|MPS backend out of memory"
      r"|XPU out of memory|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED",
      "an accelerator allocator ran out of memory"),
    R("illegal-memory-access", MEMORY, None, r"illegal memory access",
      "CUDA 'an illegal memory access was encountered'"),
    R("host-allocation-failed", MEMORY, None,
      r"DefaultCPUAllocator: can't allocate memory|std::bad_alloc|Cannot allocate memory"
      r"|Unable to allocate [\d.]+ [KMGTP]?i?B for an array",
      "host (CPU) allocation failed: torch allocator, C++ bad_alloc, ENOMEM, numpy"),
    R("python-memory-error", MEMORY, r"MemoryError|_ArrayMemoryError", None,
      "Python MemoryError (and numpy's subclass)"),
    R("xla-resource-exhausted", MEMORY, None,
      r"\bRESOURCE_EXHAUSTED\b|Ran out of memory in memory space"
      r"|Out of memory (?:while trying to allocate|allocating)",
      "XLA status RESOURCE_EXHAUSTED / TPU HBM exhausted"),
    R("tf-oom", MEMORY, None, r"\bOOM when allocating",
      "TensorFlow allocator 'OOM when allocating tensor'"),
    # ---------------------------------------------------------------- crash (raised, but fatal)
    R("cuda-fatal-error", CRASH, None,
      r"CUDA error: (?:device-side assert triggered|unspecified launch failure"
      r"|misaligned address|an illegal instruction was encountered"
      r"|the launch timed out and was terminated)",
      "a sticky CUDA error: the CUDA context is unusable afterwards"),
    # ---------------------------------------------------------------- other (named causes)
    R("device-unavailable", OTHER, None,
      r"Unknown backend: '\w+' requested, but no platforms"
      r"|Backend '\w+' failed to initialize"
      r"|Torch not compiled with CUDA enabled|Found no NVIDIA driver on your system"
      r"|No CUDA GPUs are available"
      r"|Unable to find any devices for spec"
      r"|was explicitly assigned to \S+ but available devices are"
      r"|Could not satisfy device specification '([^']+)'[^\n]*?"
      r"All available devices \[(?![^\]]*\1)",
      "the requested device/platform does not exist here (setup, not portability)"),
    R("device-mismatch-error", OTHER, None,
      r"Expected all tensors to be on the same device"
      r"|Tensor on device \S+ is not on the expected device"
      r"|can't convert \S+ device type tensor to numpy",
      "the case code mixed devices / needs an explicit host copy (raised error, "
      "not a silent fallback)"),
    # ---------------------------------------------------------------- compile_failed (torch compile / export)
    # After memory and crash rules (an OOM inside Inductor is still memory), before the dtype and
    # not-implemented rules: a compiler's wrapper exception quotes the eager error it met while tracing.
    R("dynamo-unsupported", COMPILE_FAILED, r"Unsupported|UncapturedHigherOrderOpError|FullgraphFallback", None,
      "Dynamo cannot trace it (a graph break under fullgraph, an unsupported construct or output); "
      "FullgraphFallback: portabench's --fullgraph found a (partly) eager run"),
    R("dynamo-recompile-limit", COMPILE_FAILED,
      r"FailOnRecompileLimitHit|RecompileLimitExceeded|CacheLimitExceeded", None,
      "Dynamo recompiled more often than its limit allows (portabench makes this an error)"),
    R("dynamo-trace-error", COMPILE_FAILED, r"TorchRuntimeError|InternalTorchDynamoError", None,
      "Dynamo failed while tracing (fake-tensor propagation, an internal error)"),
    R("inductor-backend-failed", COMPILE_FAILED,
      r"InductorError|BackendCompilerFailed|LoweringException|CppCompileError|InvalidCxxCompiler|TritonMissing", None,
      "the backend compiler (Inductor: lowering, C++/Triton code generation, a missing C++ compiler or Triton) failed"),
    R("compile-feature-unsupported", COMPILE_FAILED, None,
      r"torch\.compile with aot_autograd does not currently support",
      "a feature torch.compile's AOTAutograd does not support (e.g. double backward)"),
    R("fake-tensor-data-access", COMPILE_FAILED, None,
      r"Cannot access data pointer of Tensor \(e\.g\. FakeTensor",
      "tracing (compile/export) reached an operation that needs the tensor's memory (data_ptr)"),
    R("export-failed", COMPILE_FAILED,
      r"GuardOnDataDependentSymNode|UserError|ExportError|SpecViolationError", None,
      "torch.export could not capture one graph (data-dependent control flow, unsupported inputs/outputs)"),
    # ---------------------------------------------------------------- dtype (before not_implemented!)
    R("torch-dtype-dispatch", DTYPE_UNSUPPORTED, None,
      r"\"[^\"\n]+\" not implemented for '[^'\n]+'",
      "torch AT_DISPATCH: kernel exists, but not for this dtype"),
    R("dtype-mismatch", DTYPE_UNSUPPORTED, None,
      r"expected scalar type \w+ but found \w+"
      r"|to have the same dtypes?\b|requires the source and destination dtypes match"
      r"|input tensors must have the same dtype|mixed dtype \(\w+\)"
      r"|\b(?:Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool|ComplexFloat"
      r"|ComplexDouble) did not match (?:Float|Double|Half|BFloat16|Long|Int|Short|Char"
      r"|Byte|Bool|ComplexFloat|ComplexDouble)\b"
      r"|was expected to be a \w+ tensor but is a \w+ tensor"
      r"|input dtype \([\w.]+\) does not match weight dtype",
      "operands of different dtypes where one dtype is required"),
    R("dtype-kind-required", DTYPE_UNSUPPORTED, None,
      r"Expected a floating point or complex tensor as input"
      r"|to have one of the following scalar types"
      r"|but got a tensor of scalar type"
      r"|ScalarType \w+ is not supported"
      r"|getCudnnDataTypeFromScalarType\(\) not supported for \w+"
      r"|does not accept dtype"
      r"|dtype argument to `\w+` must be"
      r"|JAX only supports number, bool, and string dtypes"
      r"|is not a valid JAX array type",
      "the operation requires another kind of dtype (float, integer, ...)"),
    R("unsupported-dtype", DTYPE_UNSUPPORTED, None,
      r"(?i)\bunsupported (?:dtype|data ?type|scalar ?type|xla type|element type)\b"
      r"|does not support (?:\w+ )?(?:dtype|data type)s?\b"
      r"|Element type \w+ is not supported"
      r"|Operands to \w+ must be [^\n]*?, but got [A-Z]+\d*",
      "generic 'unsupported dtype' wording of torch, torch_xla, XLA"),
    R("x64-dtype", DTYPE_UNSUPPORTED, None,
      r"(?i)\bX64 element types\b|requested in \w+ is not available",
      "64-bit types not available (TPU X64 rewriting, JAX x64 disabled)"),
    R("tf-attr-not-allowed", DTYPE_UNSUPPORTED, None,
      r"Value for attr '\w+' of \w+ is not in the list of allowed values",
      "TensorFlow op signature does not allow this dtype"),
    R("tf-kernel-attrs-mismatch", DTYPE_UNSUPPORTED, None,
      r"OpKernel was found, but attributes didn't match"
      r"|with these attrs: \[[^\]]*=DT_\w+[^\]]*\]\s*Registered devices: \[[^\]]*\]\s*"
      r"Registered kernels:\s*device="
      r"|Could not find device for node: \{\{node [^}]*\}\} = \w+\[[^\]]*=DT_\w+",
      "TensorFlow has kernels for this op, but none for these dtype attributes"),
    R("dtype-restricted-input", DTYPE_UNSUPPORTED, None,
      r"\binput must be (?:\w+, )*\w+ or \w+, got \w+",
      "the op lists the dtypes it accepts (JAX 'RFFT input must be float32 or float64, got bfloat16')"),
    R("complex-unsupported", DTYPE_UNSUPPORTED, None,
      r"does not support complex(?:-valued)? (?:inputs?|numbers|values|arguments)"
      r"|received a complex value|Complex values have no ordering",
      "the op has no complex version (JAX special functions, clip)"),
    R("tf-value-not-in-dtype", DTYPE_UNSUPPORTED, None,
      r"Cannot convert .{0,300}? to EagerTensor of dtype \w+",
      "TensorFlow converts a Python value to a tensor of a dtype that cannot hold it (1 -> bool)"),
    # ---------------------------------------------------------------- not implemented
    R("torch-missing-backend-kernel", NOT_IMPLEMENTED, None,
      r"Could not run '[^']+' with arguments from the '[^']+' backend",
      "torch dispatcher: no kernel registered for this backend"),
    R("torch-no-meta-kernel", NOT_IMPLEMENTED, None,
      r"attempted to run this operator with Meta tensors, but there was no fake impl"
      r"|register_meta function for \S+ raises unimplemented"
      r"|cannot be called on meta tensors",
      "torch meta device: no meta/fake kernel, or an op that needs data (Tensor.item)"),
    R("cuda-no-binary-for-gpu", NOT_IMPLEMENTED, None,
      r"CUDA_ERROR_NO_BINARY_FOR_GPU|no kernel image is available for execution on the device",
      "the build has no kernel binary for this GPU's architecture"),
    R("torch-not-supported-on-backend", NOT_IMPLEMENTED, None,
      r"is not supported on (CUDA|MPS|XLA|ROCm|XPU)\b",
      "torch: a feature of the op is not supported on this backend"),
    R("torch-mps-not-implemented", NOT_IMPLEMENTED, None,
      r"is not currently implemented for the MPS device",
      "torch MPS: operator not implemented"),
    R("jax-mlir-rule-missing", NOT_IMPLEMENTED, None,
      r"MLIR translation rule for primitive '[^']+' not found for platform",
      "JAX: no lowering of this primitive for the platform"),
    R("xla-unimplemented", NOT_IMPLEMENTED, None, r"\bUNIMPLEMENTED\b",
      "XLA status UNIMPLEMENTED"),
    R("xla-no-custom-call-handler", NOT_IMPLEMENTED, None,
      r"No FFI handler registered for \S+ on a platform"
      r"|No registered implementation for (?:FFI )?custom call to",
      "XLA/JAX: the custom call (e.g. a LAPACK/cuSOLVER kernel) has no handler for this platform"),
    R("tf-no-kernel", NOT_IMPLEMENTED, None,
      r"No registered '[^']+' OpKernel for '?\w+'? devices"
      r"|No OpKernel was registered to support Op"
      r"|Could not find device for node"
      r"|Detected unsupported operations when trying to compile graph",
      "TensorFlow: no kernel / XLA translation for this op on this device"),
    R("tf-placement-no-kernel", NOT_IMPLEMENTED, None,
      r"Could not satisfy (?:explicit )?device specification"
      r"|no supported kernel for \w+ devices is available",
      "TensorFlow placement (soft placement off): op has no kernel for the device"),
    R("cudnn-not-supported", NOT_IMPLEMENTED, None, r"CUDNN_STATUS_NOT_SUPPORTED",
      "cuDNN does not support this configuration"),
    R("only-on-device", NOT_IMPLEMENTED, None,
      r"only (?:be )?(?:implemented|supported|available) (?:on|for) (?:the )?"
      r"(?:CPU|GPU|TPU|CUDA|XLA)"
      r"|currently only supports [^\n]{0,80}? on the (?:CPU|GPU|TPU)"
      r"|(?:CPU|GPU|TPU) implementation of \w+ currently only supports"
      r"|only supports \w+ on device type"
      r"|on (?:CPU|GPU|TPU) is only supported"
      r"|is not supported by \w+ on (?:CPU|GPU|TPU)",
      "the feature exists only on some other device"),
    R("unsupported-on-device", NOT_IMPLEMENTED, None,
      r"Unsupported device type|Device type \w+ is not supported"
      r"|tensors do not have storage|Cannot access data pointer of Tensor that doesn't have storage",
      "the backend lacks a device feature (storage, generator, sparse layout)"),
    R("not-implemented-wording", NOT_IMPLEMENTED, None,
      r"(?i)\bNYI\b|\bnot (?:yet |currently )?implemented\b",
      "the message says 'not implemented' (after all dtype rules)"),
    R("not-implemented-type", NOT_IMPLEMENTED, r"NotImplementedError|UnimplementedError", None,
      "NotImplementedError / TF UnimplementedError with an unrecognised message"),
    # ---------------------------------------------------------------- comparison helpers
    R("comparison-assertion", NUMERICAL_MISMATCH, r"AssertionError|GradcheckError",
      r"Tensor-likes are not (?:close|equal)|Scalars are not (?:close|equal)"
      r"|Not equal to tolerance|Arrays are not (?:almost )?equal|Jacobian mismatch"
      r"|\bnot less than\b|The values for attribute '\w+' do not match",
      "a comparison helper (torch.testing, numpy.testing, gradcheck, unittest) "
      "reported differing results"),
)
del R

# Evidence, in a dead worker's stderr tail (or message), that it died of
# memory exhaustion. (name, regex); searched case-sensitively unless (?i).
DEAD_WORKER_MEMORY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("out-of-memory", r"(?i)\bout of memory\b|\bOOM\b|\bOutOfMemoryError\b"),
    ("bad-alloc", r"std::bad_alloc"),
    ("enomem", r"Cannot allocate memory|can't allocate memory|\bMemoryError\b"),
    ("illegal-memory-access", r"illegal memory access"),
    ("resource-exhausted", r"\bRESOURCE_EXHAUSTED\b|ResourceExhaustedError"),
)
_DEAD_MEMORY_RES = tuple((n, re.compile(p)) for n, p in DEAD_WORKER_MEMORY_PATTERNS)


# --------------------------------------------------------------------------- classification


def _normalise_type(exc_type: str) -> str:
    """``"<class 'a.B'>"`` -> ``"a.B"``; strips whitespace."""
    t = exc_type.strip()
    m = re.fullmatch(r"<class '([^']+)'>", t)
    return m.group(1) if m else t


def _describe_exit(status: int) -> str:
    if status < 0:
        try:
            return f"killed by signal {-status} ({signal.Signals(-status).name})"
        except ValueError:
            return f"killed by signal {-status}"
    if status > 128:
        try:
            return f"exit status {status} (128+{status - 128}: {signal.Signals(status - 128).name}?)"
        except ValueError:
            pass
    return f"exit status {status}"


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def match_rule(evidence: FailureEvidence) -> Rule | None:
    """The first rule of :data:`RULES` that matches the evidence's exception,
    or ``None`` (also ``None`` when neither ``exc_type`` nor ``message`` is set).

    This looks only at the exception; it ignores the precedence steps
    (timeout, dead worker) that :func:`classify` applies first.
    """
    if not evidence.exc_type and not evidence.message:
        return None
    for rule in RULES:
        if rule.matches(evidence.exc_type, evidence.message):
            return rule
    return None


def _decide(evidence: FailureEvidence) -> tuple[str, str]:
    """(category, reason); the single place that implements the precedence."""
    if evidence.timed_out:
        return TIMEOUT, "rule 'deadline': the parent's deadline expired"

    has_exception = bool(evidence.exc_type)
    if evidence.exit_status is not None and not has_exception:
        how = _describe_exit(evidence.exit_status)
        text = "\n".join(t for t in (evidence.stderr_tail, evidence.message) if t)
        for name, rx in _DEAD_MEMORY_RES:
            m = rx.search(text[-_MAX_SEARCH_CHARS:])
            if m:
                return MEMORY, (
                    f"rule 'dead-worker-{name}': worker {how}; its stderr shows "
                    f"{_snippet(m.group(0))!r}"
                )
        return CRASH, (
            f"rule 'dead-worker': worker {how} with no out-of-memory evidence in its stderr"
            + (" (a SIGKILL may still be the kernel OOM killer)" if evidence.exit_status in (-9, 137) else "")
        )

    rule = match_rule(evidence)
    if rule is not None:
        found = rule.search_message(evidence.message)
        what = (
            f"message has {_snippet(found.group(0))!r}"
            if isinstance(found, re.Match)
            else f"exception type {_normalise_type(evidence.exc_type or '')}"
        )
        return rule.category, f"rule {rule.name!r}: {rule.description} ({what})"

    if evidence.wrong_device:
        return WRONG_DEVICE, "rule 'wrong-device': a result lives on another device than requested"
    if evidence.mismatch:
        return NUMERICAL_MISMATCH, "rule 'mismatch': outputs differ from the reference beyond tolerance"
    if has_exception or evidence.message:
        return OTHER, (
            f"rule 'unrecognised': no rule matches "
            f"{_normalise_type(evidence.exc_type or 'the exception')}: "
            f"{_snippet(evidence.message or '')!r}"
        )
    return OTHER, "rule 'no-evidence': nothing recorded about the failure"


def classify(evidence: FailureEvidence) -> str:
    """Exactly one category of :data:`CATEGORIES` for the evidence; never raises
    for any combination of field values (see the module docstring for the precedence)."""
    return _decide(evidence)[0]


def explain(evidence: FailureEvidence) -> str:
    """A short human reason naming the rule that decided, e.g.
    ``"rule 'torch-oom-error': torch.OutOfMemoryError ... (exception type ...)"``.
    Consistent with :func:`classify` for the same evidence."""
    return _decide(evidence)[1]


# --------------------------------------------------------------------------- reading reports


def evidence_from_pytest_failure(failure: PytestFailure) -> FailureEvidence:
    """Evidence of one failure read by :mod:`portabench.pytest_text` (the reader the paper importer
    uses too): its exception type and message, and ``timed_out`` when pytest-timeout stopped the test."""
    return FailureEvidence(exc_type=failure.exc_type, message=failure.message or None, timed_out=failure.timed_out)


def evidence_from_exception_text(text: str) -> FailureEvidence:
    """Evidence from a ``"Type: message"`` line (or a bare ``"Type"``) as printed by Python/pytest
    (e.g. pytest-json-report's ``crash.message``), split by :func:`portabench.pytest_text.split_exception`.
    Text without a recognisable exception-class prefix becomes the message with ``exc_type=None``."""
    exc_type, message = split_exception(text)
    return evidence_from_pytest_failure(PytestFailure(nodeid="?", stage=None, exc_type=exc_type, message=message))


def iter_pytest_report_failures(report: Mapping[str, Any]) -> Iterator[tuple[str, FailureEvidence]]:
    """(nodeid, evidence) for every failed test of a pytest-json-report report: its first failing
    stage, read by :func:`portabench.pytest_text.iter_failures`."""
    for failure in iter_failures(report):
        yield failure.nodeid, evidence_from_pytest_failure(failure)


def survey_pytest_reports(paths: Iterable[str | Path]) -> dict[str, Counter[str]]:
    """Category counts per report file; byte-identical files are counted once
    (under the first path). Returns ``{path: Counter(category -> n)}``."""
    seen: set[str] = set()
    out: dict[str, Counter[str]] = {}
    for path in paths:
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        counts: Counter[str] = Counter()
        for _nodeid, ev in iter_pytest_report_failures(json.loads(data)):
            counts[classify(ev)] += 1
        out[str(path)] = counts
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m portabench.taxonomy REPORT.json...``: print category counts."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m portabench.taxonomy test_failure_report.json...", file=sys.stderr)
        return 2
    total: Counter[str] = Counter()
    for path, counts in survey_pytest_reports(paths).items():
        total.update(counts)
        print(f"{path}: " + ", ".join(f"{c}={counts[c]}" for c in CATEGORIES if counts[c]))
    n = sum(total.values())
    print(f"TOTAL {n}: " + ", ".join(f"{c}={total[c]} ({100 * total[c] / max(n, 1):.1f}%)" for c in CATEGORIES))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
