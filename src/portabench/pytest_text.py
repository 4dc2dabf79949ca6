"""The one reader of pytest failure text (pytest-json-report reports).

Both the paper importer (:mod:`portabench.importers.paper`) and the taxonomy survey
(:func:`portabench.taxonomy.iter_pytest_report_failures`) read failures through this module,
so that the same report gives the same exception type, message and category either way.

Contract:

* A test whose ``outcome`` is ``failed`` or ``error`` gives exactly one :class:`PytestFailure`: the
  first stage (``setup``, ``call``, ``teardown``) that has failure text. A failed test without any
  text gives a failure with no type and an empty message.
* A stage's text is ``crash.message``; without it, the ``E`` lines of ``longrepr`` (the exception
  pytest printed), else the last line of ``longrepr``.
* The text is split into ``(exc_type, message)`` by :func:`split_exception`: ``Type: message`` or
  a bare ``Type`` (as ``raise NotImplementedError`` prints) gives the type; anything else is all message.
* The message is returned whole; a store that keeps only a prefix cuts it itself.

Pure: imports no framework and nothing of portabench (the taxonomy imports it, not the reverse).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["STAGES", "FAILED_OUTCOMES", "PytestFailure", "split_exception", "stage_text", "failure_of",
           "iter_failures"]

STAGES: tuple[str, ...] = ("setup", "call", "teardown")
"""pytest's stages of one test, in the order they run."""
FAILED_OUTCOMES = frozenset({"failed", "error"})
"""Test outcomes of pytest-json-report that carry a failure (``error``: a failing setup or teardown)."""

_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::[ \t]?(?P<msg>.*))?$", re.DOTALL)
_TIMEOUT = re.compile(r"^\+*\s*Timeout\b", re.IGNORECASE)
_PYTEST_FAILED = ("Failed", "_pytest.outcomes.Failed")


@dataclass(frozen=True)
class PytestFailure:
    """The failure of one test as pytest reported it.

    Attributes:
        nodeid: the test's pytest node id.
        stage: the stage the text came from; ``None`` when the report has no failure text.
        exc_type: the exception class as printed (short or dotted), or ``None``.
        message: the rest of the text (whole, stripped; ``""`` when there is none).
    """

    nodeid: str
    stage: str | None
    exc_type: str | None
    message: str

    @property
    def timed_out(self) -> bool:
        """pytest-timeout stopped the test (``Failed: Timeout >10.0s`` or its ``+++ Timeout +++`` banner)."""
        return self.exc_type in _PYTEST_FAILED and bool(_TIMEOUT.match(self.message))


def split_exception(text: str) -> tuple[str | None, str]:
    """``"Type: message"`` -> ``("Type", "message")``; a bare ``"Type"`` -> ``("Type", "")``.

    The type is a (dotted) identifier that starts with a capital letter or has a dot, on the first
    line; text of several lines is split only when its first line has a colon. Anything else is
    ``(None, text)``. Both parts are stripped.
    """
    stripped = text.strip()
    m = _EXC_LINE.match(stripped)
    first = stripped.split("\n", 1)[0]
    if m and (":" in first or "\n" not in stripped):
        exc = m.group("type")
        if exc[:1].isupper() or "." in exc:
            return exc, (m.group("msg") or "").strip()
    return None, stripped


def stage_text(stage: Mapping[str, Any]) -> str | None:
    """The failure text of one stage entry: ``crash.message``, else the ``E`` lines of ``longrepr``,
    else its last line; ``None`` when the stage has none."""
    crash = stage.get("crash")
    text = crash.get("message") if isinstance(crash, Mapping) else None
    if text:
        return str(text)
    longrepr = stage.get("longrepr")
    if not isinstance(longrepr, str):
        return None
    elines = [ln[1:].strip() for ln in longrepr.splitlines() if ln.startswith("E ")]
    return "\n".join(elines) if elines else (longrepr.strip().splitlines() or [""])[-1]


def failure_of(test: Mapping[str, Any]) -> PytestFailure:
    """The failure of one test entry of a report (see the module contract); call it for failed tests."""
    nodeid = str(test.get("nodeid", "?"))
    for stage in STAGES:
        info = test.get(stage)
        if not isinstance(info, Mapping):
            continue
        if info.get("outcome") not in FAILED_OUTCOMES and test.get("outcome") != "failed":
            continue
        text = stage_text(info)
        if text:
            exc_type, message = split_exception(text)
            return PytestFailure(nodeid=nodeid, stage=stage, exc_type=exc_type, message=message)
    return PytestFailure(nodeid=nodeid, stage=None, exc_type=None, message="")


def iter_failures(report: Mapping[str, Any]) -> Iterator[PytestFailure]:
    """One :class:`PytestFailure` per failed (or errored) test of a pytest-json-report report, in order."""
    for test in report.get("tests", ()):
        if isinstance(test, Mapping) and test.get("outcome") in FAILED_OUTCOMES:
            yield failure_of(test)
