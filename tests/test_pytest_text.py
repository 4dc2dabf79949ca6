"""Tests of portabench.pytest_text: the one reader of pytest failure text (importer and taxonomy survey)."""

from __future__ import annotations

import pytest

from portabench.pytest_text import failure_of, iter_failures, split_exception, stage_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NotImplementedError", ("NotImplementedError", "")),  # `raise NotImplementedError` prints no colon
        ("NotImplementedError: nope", ("NotImplementedError", "nope")),
        ("tensorflow.python.framework.errors_impl.NotFoundError: No registered 'X'",
         ("tensorflow.python.framework.errors_impl.NotFoundError", "No registered 'X'")),
        ("torch._dynamo.exc.Unsupported: call_function", ("torch._dynamo.exc.Unsupported", "call_function")),
        ("AssertionError: \nNot equal", ("AssertionError", "Not equal")),
        ("  Failed: Timeout >1020.0s\n", ("Failed", "Timeout >1020.0s")),
        ("see http://example.org: nothing", (None, "see http://example.org: nothing")),
        ("note: lower-case is not a type", (None, "note: lower-case is not a type")),
        ("Comparing\nsomething: else", (None, "Comparing\nsomething: else")),  # first line has no colon
    ],
)
def test_split_exception(text: str, expected: tuple[str | None, str]) -> None:
    assert split_exception(text) == expected


def test_stage_text_prefers_crash_then_e_lines_then_last_line() -> None:
    assert stage_text({"crash": {"message": "KeyError: 'a'"}, "longrepr": "E   other"}) == "KeyError: 'a'"
    assert (
        stage_text({"longrepr": "def f():\n>   g()\nE   ValueError: bad\nE   more\nx.py:3"}) == "ValueError: bad\nmore"
    )
    assert stage_text({"longrepr": "setup failed\nfixture 'x' not found\n"}) == "fixture 'x' not found"
    assert stage_text({"outcome": "failed"}) is None


def test_one_failure_per_failed_test_from_its_first_failing_stage() -> None:
    report = {
        "tests": [
            {"nodeid": "a", "outcome": "passed", "call": {"outcome": "passed"}},
            {
                "nodeid": "b",
                "outcome": "error",
                "setup": {"outcome": "failed", "crash": {"message": "OSError: x"}},
                "teardown": {"outcome": "failed", "crash": {"message": "KeyError: y"}},
            },
            {
                "nodeid": "c",
                "outcome": "failed",
                "setup": {"outcome": "passed"},
                "call": {"outcome": "failed", "crash": {"message": "Failed: Timeout >10.0s"}},
            },
            {"nodeid": "d", "outcome": "failed", "call": {"outcome": "failed"}},
            {"nodeid": "e", "outcome": "skipped"},
        ]
    }
    got = [(f.nodeid, f.stage, f.exc_type, f.message, f.timed_out) for f in iter_failures(report)]
    assert got == [
        ("b", "setup", "OSError", "x", False),
        ("c", "call", "Failed", "Timeout >10.0s", True),
        ("d", None, None, "", False),
    ]


def test_timeout_banner_and_not_a_timeout() -> None:
    banner = {
        "nodeid": "t",
        "outcome": "failed",
        "call": {"outcome": "failed", "longrepr": "E   Failed: +++ Timeout +++"},
    }
    assert failure_of(banner).timed_out
    other = {"nodeid": "t", "outcome": "failed", "call": {"outcome": "failed", "crash": {"message": "Failed: Timeout"}}}
    assert failure_of(other).timed_out
    assert not failure_of(
        {
            "nodeid": "t",
            "outcome": "failed",
            "call": {"outcome": "failed", "crash": {"message": "TimeoutError: Timeout >1s"}},
        }
    ).timed_out
