"""The paper repository's file formats: read and check one file, never decide what it means for a run.

* ``test_failure_report.json`` (:data:`REPORT_NAME`): a pytest-json-report file; :func:`read_report`.
* ``<device>_<n>.json`` (:data:`TIMING_RE`): ``{"<test file>:<test>": {"operations": [s...], "test_time": s}}``;
  :func:`read_timings`.
* ``sampled_functions.json`` (:data:`MAPPING_NAME`): ``{framework: {file stem: function}}``; :func:`read_mapping`.

Every reader raises :class:`~portabench.errors.PortabenchError` naming the file (its path relative to the
imported folder) for a file that is not valid JSON or not of the format.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError

REPORT_NAME = "test_failure_report.json"
MAPPING_NAME = "sampled_functions.json"
TIMINGS_SUFFIX = "_timings"
TIMING_RE = re.compile(r"^(?P<dev>[a-z]+)_(?P<n>\d+)\.json$")

RECORDED = {"passed": "passed", "xpassed": "passed", "failed": "failed", "error": "failed"}
"""pytest outcomes that become cases -> the case's outcome."""
NOT_RECORDED = frozenset({"skipped", "xfailed"})
"""pytest outcomes of tests that did not run on the device: counted, not recorded."""

Timings = dict[str, dict[str, Any]]
"""A timing file: ``'<test file>:<test>' -> {"operations": [seconds...], "test_time": seconds}``."""


def load_json(file: Path, rel: str) -> Any:
    """The parsed JSON of ``file`` (``rel``: its name in errors)."""
    try:
        return json.loads(file.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise PortabenchError(f"{rel}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PortabenchError(f"{rel}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def is_number(x: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_test(rel: str, i: int, test: Any) -> None:
    if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str) or not isinstance(
        test.get("outcome"), str
    ):
        raise PortabenchError(f"{rel}: test #{i} has no string 'nodeid' and 'outcome'")
    if "::" not in test["nodeid"]:
        raise PortabenchError(f"{rel}: test #{i} nodeid {test['nodeid']!r} is not '<file>::<test>'")
    outcome = test["outcome"]
    if outcome not in RECORDED and outcome not in NOT_RECORDED:
        raise PortabenchError(f"{rel}: test {test['nodeid']!r} has unknown outcome {outcome!r}")
    for stage in ("setup", "call", "teardown"):
        if stage in test and not isinstance(test[stage], dict):
            raise PortabenchError(f"{rel}: test {test['nodeid']!r} has a malformed {stage!r} entry")


def read_report(file: Path, rel: str) -> dict[str, Any]:
    """A checked pytest-json-report file: a ``tests`` list of entries with a string ``nodeid``
    (``<file>::<test>``), a known ``outcome`` and dict stages."""
    data = load_json(file, rel)
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise PortabenchError(f"{rel}: not a pytest-json-report file (no 'tests' list)")
    for i, test in enumerate(data["tests"]):
        _check_test(rel, i, test)
    return data


def read_timings(file: Path, rel: str) -> Timings:
    """A checked timing file: every key ``<test file>:<test>``, every entry an ``operations`` list of
    numbers and an optional numeric ``test_time``."""
    data = load_json(file, rel)
    if not isinstance(data, dict):
        raise PortabenchError(f"{rel}: a timing file must be a JSON object of '<test_file>:<test>' entries")
    for key, value in data.items():
        if ":" not in key:
            raise PortabenchError(f"{rel}: timing key {key!r} is not '<test_file>:<test>'")
        ops = value.get("operations") if isinstance(value, dict) else None
        if not isinstance(ops, list) or not all(is_number(x) for x in ops):
            raise PortabenchError(f"{rel}: timing entry {key!r} has no 'operations' list of numbers")
        if "test_time" in value and value["test_time"] is not None and not is_number(value["test_time"]):
            raise PortabenchError(f"{rel}: timing entry {key!r} has a non-numeric 'test_time'")
    return data


def read_mapping(root: Path) -> dict[str, dict[str, str]]:
    """``framework -> {file stem: function}`` from ``root/sampled_functions.json`` (``{}`` without it);
    keys starting with ``_`` are comments."""
    file = root / MAPPING_NAME
    if not file.is_file():
        return {}
    data = load_json(file, MAPPING_NAME)
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
