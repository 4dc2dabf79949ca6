"""Tests of portabench.taxonomy.

Fixture messages live in tests/data/messages/:
  * live_messages.json   - produced on this CPU machine by real torch / JAX /
                           TensorFlow calls (regenerate with capture_live.py;
                           each entry names framework version and the code run);
  * quoted_messages.json - real GPU/TPU messages from the paper's published
                           pytest reports (for-ai/portability), and messages
                           only GPUs/TPUs/MPS produce, quoted from framework
                           sources (each entry's "source" says which).
When ../shared/paper-data (next to the repository) is present, the paper's raw reports are also
classified (survey test).
"""

from __future__ import annotations

import glob
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portabench import taxonomy as tx
from portabench.taxonomy import (
    CATEGORIES,
    CRASH,
    DTYPE_UNSUPPORTED,
    MEMORY,
    NOT_IMPLEMENTED,
    NUMERICAL_MISMATCH,
    OTHER,
    RULES,
    TIMEOUT,
    WRONG_DEVICE,
    FailureEvidence,
    Rule,
    classify,
    evidence_from_exception_text,
    explain,
)

DATA = Path(__file__).parent / "data" / "messages"
PAPER_DATA = Path(__file__).resolve().parents[2] / "shared" / "paper-data"  # <repo>/../shared/paper-data


def _load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())


FIXTURES: list[dict] = _load("live_messages.json") + _load("quoted_messages.json") + _load("compile_messages.json")


def _evidence(fx: dict) -> FailureEvidence:
    return FailureEvidence(
        exc_type=fx.get("exc_type"),
        message=fx.get("message"),
        exit_status=fx.get("exit_status"),
        stderr_tail=fx.get("stderr_tail"),
    )


def _rule_of(reason: str) -> str:
    m = re.match(r"rule '([^']+)'", reason)
    assert m, reason
    return m.group(1)


# --------------------------------------------------------------------------- API shape


def test_categories_order_and_values() -> None:
    assert CATEGORIES == (
        "not_implemented", "dtype_unsupported", "numerical_mismatch", "timeout",
        "memory", "crash", "wrong_device", "other", "compile_failed",
    )


def test_rule_table_is_well_formed() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)), "rule names must be unique"
    for r in RULES:
        assert isinstance(r, Rule)
        assert r.category in CATEGORIES
        assert r.description
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", r.name)


def test_rule_rejects_unknown_category_and_empty_patterns() -> None:
    with pytest.raises(ValueError):
        Rule("x", "bogus", None, "a")
    with pytest.raises(ValueError):
        Rule("x", OTHER, None, None)


def test_dtype_rules_come_before_not_implemented_rules() -> None:
    cats = [r.category for r in RULES]
    last_dtype = max(i for i, c in enumerate(cats) if c == DTYPE_UNSUPPORTED)
    first_ni = min(i for i, c in enumerate(cats) if c == NOT_IMPLEMENTED)
    assert last_dtype < first_ni


# --------------------------------------------------------------------------- one test per rule


@pytest.mark.parametrize("fx", FIXTURES, ids=[f["id"] for f in FIXTURES])
def test_fixture_message(fx: dict) -> None:
    """Every real message lands in its expected category, by its expected rule."""
    ev = _evidence(fx)
    assert classify(ev) == fx["expected_category"], explain(ev)
    assert _rule_of(explain(ev)) == fx["expected_rule"], explain(ev)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_rule_has_a_real_message(rule: Rule) -> None:
    """Each rule of the table is exercised by at least one real fixture message."""
    hits = [f["id"] for f in FIXTURES if f["expected_rule"] == rule.name]
    assert hits, f"rule {rule.name!r} has no fixture"
    for f in FIXTURES:
        if f["expected_rule"] == rule.name:
            assert match_rule_name(_evidence(f)) == rule.name


def match_rule_name(ev: FailureEvidence) -> str | None:
    r = tx.match_rule(ev)
    return r.name if r else None


def test_fixtures_cover_every_category_but_flags() -> None:
    cats = {f["expected_category"] for f in FIXTURES}
    assert set(CATEGORIES) - {WRONG_DEVICE} <= cats


# --------------------------------------------------------------------------- precedence


def _fx(fid: str) -> dict:
    return next(f for f in FIXTURES if f["id"] == fid)


def test_timeout_beats_everything() -> None:
    oom = _evidence(_fx("torch-cuda-oom-2.0"))
    ev = FailureEvidence(
        exc_type=oom.exc_type, message=oom.message, timed_out=True, exit_status=-9,
        stderr_tail="std::bad_alloc", mismatch=True, wrong_device=True,
    )
    assert classify(ev) == TIMEOUT
    assert _rule_of(explain(ev)) == "deadline"


def test_dead_worker_with_oom_stderr_is_memory() -> None:
    fx = _fx("dead-cpp-bad-alloc")
    assert fx["exit_status"] == -6
    assert classify(_evidence(fx)) == MEMORY
    # the same stderr evidence after a SIGKILL (e.g. the OOM killer) is still memory
    ev = FailureEvidence(exit_status=-9, stderr_tail=fx["stderr_tail"])
    assert classify(ev) == MEMORY
    assert "SIGKILL" in explain(ev)


def test_dead_worker_without_evidence_is_crash() -> None:
    assert classify(_evidence(_fx("dead-segfault"))) == CRASH
    assert "SIGSEGV" in explain(_evidence(_fx("dead-segfault")))
    # a bare SIGKILL: the kernel OOM killer and `kill -9` look the same -> crash
    ev = FailureEvidence(exit_status=-9)
    assert classify(ev) == CRASH
    assert "OOM killer" in explain(ev)
    assert classify(FailureEvidence(exit_status=0)) == CRASH
    assert classify(FailureEvidence(exit_status=137, stderr_tail="")) == CRASH


def test_dead_worker_beats_flags_but_reported_exception_beats_dead_worker() -> None:
    assert classify(FailureEvidence(exit_status=-11, mismatch=True, wrong_device=True)) == CRASH
    # the worker reported an exception and then exited: the exception decides
    ev = _evidence(_fx("torch-matmul-bool"))
    assert classify(FailureEvidence(exc_type=ev.exc_type, message=ev.message, exit_status=1)) == DTYPE_UNSUPPORTED


def test_dtype_before_not_implemented() -> None:
    """torch says `"addmm_impl_cpu_" not implemented for 'Bool'` as a NotImplementedError."""
    fx = _fx("torch-matmul-bool")
    assert fx["exc_type"].endswith("NotImplementedError")
    assert "not implemented" in fx["message"]
    assert classify(_evidence(fx)) == DTYPE_UNSUPPORTED


def test_missing_device_is_not_a_missing_kernel() -> None:
    """TF's 'Could not satisfy device specification' means no kernel only when the
    requested device is among the available ones."""
    absent = _evidence(_fx("tf-gpu-absent"))
    present = _evidence(_fx("paper-tf-gpu-placement"))
    assert "Could not satisfy device specification" in (absent.message or "")
    assert classify(absent) == OTHER
    assert classify(present) == NOT_IMPLEMENTED


def test_exception_rules_beat_flags() -> None:
    ev = _evidence(_fx("torch-fft-half"))
    flagged = FailureEvidence(exc_type=ev.exc_type, message=ev.message, mismatch=True, wrong_device=True)
    assert classify(flagged) == DTYPE_UNSUPPORTED


def test_flags() -> None:
    assert classify(FailureEvidence(wrong_device=True)) == WRONG_DEVICE
    assert classify(FailureEvidence(mismatch=True)) == NUMERICAL_MISMATCH
    assert classify(FailureEvidence(wrong_device=True, mismatch=True)) == WRONG_DEVICE
    # an unrecognised exception does not hide the flags
    assert classify(FailureEvidence(exc_type="ValueError", message="boom", mismatch=True)) == NUMERICAL_MISMATCH
    assert classify(FailureEvidence()) == OTHER
    assert _rule_of(explain(FailureEvidence())) == "no-evidence"


def test_type_only_matching_and_qualified_names() -> None:
    for t in (
        "torch.OutOfMemoryError",
        "torch.cuda.OutOfMemoryError",
        "OutOfMemoryError",
        "<class 'torch.cuda.OutOfMemoryError'>",
    ):
        assert classify(FailureEvidence(exc_type=t)) == MEMORY, t
    assert classify(FailureEvidence(exc_type="builtins.MemoryError")) == MEMORY
    assert classify(FailureEvidence(exc_type="NotImplementedError", message=None)) == NOT_IMPLEMENTED
    assert (
        classify(FailureEvidence(exc_type="tensorflow.python.framework.errors_impl.UnimplementedError"))
        == NOT_IMPLEMENTED
    )
    # a type pattern must match a whole name component, not a substring
    assert classify(FailureEvidence(exc_type="MyNotImplementedErrorWrapper", message="x")) == OTHER


def test_explain_names_the_rule() -> None:
    ev = _evidence(_fx("torch-cuda-oom-2.0"))
    assert explain(ev).startswith("rule 'torch-oom-error'")
    ev = _evidence(_fx("tf-lgamma-int"))
    assert "tf-attr-not-allowed" in explain(ev) and "Value for attr" in explain(ev)


# --------------------------------------------------------------------------- totality


@given(
    exc_type=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.sampled_from(["RuntimeError", "NotImplementedError", "torch.OutOfMemoryError", "AssertionError", "Failed"]),
    ),
    message=st.one_of(st.none(), st.text(max_size=300), st.sampled_from([f.get("message") for f in FIXTURES])),
    timed_out=st.booleans(),
    exit_status=st.one_of(st.none(), st.integers(-64, 300)),
    stderr_tail=st.one_of(st.none(), st.text(max_size=200)),
    mismatch=st.booleans(),
    wrong_device=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_classify_is_total(exc_type, message, timed_out, exit_status, stderr_tail, mismatch, wrong_device) -> None:
    ev = FailureEvidence(exc_type, message, timed_out, exit_status, stderr_tail, mismatch, wrong_device)
    cat = classify(ev)
    assert cat in CATEGORIES
    reason = explain(ev)
    assert isinstance(reason, str) and reason.startswith("rule '")


def test_long_message_is_fast() -> None:
    import time

    msg = ("Could not satisfy device specification '/x:GPU:0'. " + "a" * 50 + "[" + "b" * 1000) * 200
    t0 = time.perf_counter()
    for _ in range(5):
        classify(FailureEvidence(exc_type="InvalidArgumentError", message=msg + "\n" * 10000))
    assert time.perf_counter() - t0 < 5.0


# --------------------------------------------------------------------------- report parsing


def test_evidence_from_exception_text() -> None:
    ev = evidence_from_exception_text("tensorflow.python.framework.errors_impl.NotFoundError: No registered 'X'")
    assert ev.exc_type == "tensorflow.python.framework.errors_impl.NotFoundError"
    assert ev.message == "No registered 'X'"
    assert evidence_from_exception_text("Failed: Timeout >1020.0s").exc_type == "Failed"
    assert evidence_from_exception_text("AssertionError: \nNot equal").message == "Not equal"
    ev = evidence_from_exception_text("see http://example.org: nothing")
    assert ev.exc_type is None and ev.message == "see http://example.org: nothing"
    # A bare type (`raise NotImplementedError` prints no colon) is a type, as the paper importer reads it.
    ev = evidence_from_exception_text("NotImplementedError")
    assert ev == FailureEvidence(exc_type="NotImplementedError") and classify(ev) == NOT_IMPLEMENTED
    assert evidence_from_exception_text("Failed: Timeout >1020.0s").timed_out


def test_iter_pytest_report_failures() -> None:
    report = {
        "tests": [
            {"nodeid": "a", "outcome": "passed"},
            {"nodeid": "b", "outcome": "failed", "call": {"outcome": "failed", "crash": {"message": "MemoryError: x"}}},
            {
                "nodeid": "c",
                "outcome": "failed",
                "call": {"outcome": "failed", "longrepr": "foo\nE   NotImplementedError: nope\nbar"},
            },
        ]
    }
    got = [(n, classify(e)) for n, e in tx.iter_pytest_report_failures(report)]
    assert got == [("b", MEMORY), ("c", NOT_IMPLEMENTED)]


PAPER_REPORTS = sorted(glob.glob(str(PAPER_DATA / "*_timings" / "**" / "test_failure_report.json"), recursive=True))


@pytest.mark.skipif(not PAPER_REPORTS, reason="paper data not present")
def test_survey_of_paper_reports() -> None:
    """Classify every failure message of the paper's pytest reports."""
    per_file = tx.survey_pytest_reports(PAPER_REPORTS)
    total: Counter[str] = Counter()
    for counts in per_file.values():
        total.update(counts)
        assert set(counts) <= set(CATEGORIES)
    n = sum(total.values())
    print("\nsurvey:", {c: total[c] for c in CATEGORIES}, "of", n)
    assert n > 1000
    assert total[OTHER] < n / 2, "`other` must not be the majority"
    assert total[NOT_IMPLEMENTED] > total[OTHER]
    # identical files (the three JAX reports are one file) are counted once
    assert len(per_file) < len(PAPER_REPORTS)


# --------------------------------------------------------------------------- live re-checks


def test_live_torch_messages_still_classify() -> None:
    """Guards against framework message drift: re-run a few torch calls here."""
    torch = pytest.importorskip("torch")
    calls = {
        "torch-no-meta-kernel": lambda: torch.unique(torch.ones(3, device="meta")),
        "torch-dtype-dispatch": lambda: torch.matmul(
            torch.ones(2, 2, dtype=torch.bool), torch.ones(2, 2, dtype=torch.bool)
        ),
        "dtype-kind-required": lambda: torch.linalg.inv(torch.ones(2, 2, dtype=torch.int64)),
        "torch-missing-backend-kernel": lambda: torch.ones(2, device="mps"),
    }
    for rule, call in calls.items():
        with pytest.raises(Exception) as info:
            call()
        ev = FailureEvidence(exc_type=type(info.value).__qualname__, message=str(info.value))
        assert _rule_of(explain(ev)) == rule, explain(ev)


def test_data_dependent_call_on_meta_is_not_implemented() -> None:
    # torch 2.13: torch.distributions.VonMises(...).sample() on the meta device (portabench run --device meta)
    evidence = FailureEvidence(exc_type="RuntimeError", message="Tensor.item() cannot be called on meta tensors")
    assert classify(evidence) == "not_implemented"


def test_cudnn_without_an_integer_type_is_a_dtype_gap() -> None:
    """torch conv2d int64 on the H200 (results/torch-h200-compile-paper.sqlite) was `other`."""
    message = "getCudnnDataTypeFromScalarType() not supported for Long"
    assert classify(FailureEvidence(exc_type="RuntimeError", message=message)) == DTYPE_UNSUPPORTED
