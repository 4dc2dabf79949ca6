"""Failures of the paper's tests: what pytest reported (read by :mod:`portabench.pytest_text`, the reader the
taxonomy survey uses too), its category, and whether it is a failure of the paper's *test code*."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portabench.pytest_text import failure_of
from portabench.taxonomy import classify, evidence_from_pytest_failure

MESSAGE_MAX = 4000
"""Characters of a failure message kept in the store (the category is decided on the whole message)."""

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


@dataclass(frozen=True)
class TestFailure:
    """What the store keeps of one failed test."""

    __test__ = False  # not a pytest test class, whatever its name

    exc_type: str | None
    message: str | None  # at most MESSAGE_MAX characters; None when the report has no failure text
    category: str
    harness: bool  # a failure of the paper's test code (HARNESS_ERRORS)


def read_failure(test: Mapping[str, Any]) -> TestFailure:
    """The failure of one failed test entry of a report: its first failing stage, classified by the taxonomy."""
    failure = failure_of(test)
    return TestFailure(
        exc_type=failure.exc_type,
        message=failure.message[:MESSAGE_MAX] if failure.stage is not None else None,
        category=classify(evidence_from_pytest_failure(failure)),
        harness=harness_error(failure.message) is not None,
    )
