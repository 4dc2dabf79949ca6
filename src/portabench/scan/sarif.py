"""The scan as SARIF 2.1.0 (``--format sarif``), for GitHub code scanning and editors.

One result per resolved call site and status other than ``portable`` (the devices
with that status named in the message and in ``properties.devices``), one per
portability setting and one per device string. Rules: ``portability/failing``
(level ``error``), ``portability/partial`` (``warning``), ``portability/broken-case``,
``portability/untested``, ``portability/no-cases`` (``note``), ``portability/setting``
and ``portability/device-string`` (``note``). Each result carries what GitHub code
scanning requires — ``ruleId``, ``message.text``, a ``physicalLocation`` with a
relative ``artifactLocation.uri`` (``uriBaseId`` ``%SRCROOT%``) and a ``region`` with
``startLine``/``startColumn`` — and ``partialFingerprints`` so that alerts survive
line moves. The document validates against the OASIS SARIF 2.1.0 schema
(tests/test_scan.py checks it when a package shipping the schema is installed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import portabench
from portabench.mining.sites import CallSite
from portabench.scan.model import (
    BROKEN,
    FAILING,
    NO_CASES,
    PARTIAL,
    UNTESTED,
    ScanResult,
)

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/portabench/portabench"
MESSAGE_CHARS = 200
"""Characters of a failure message quoted in a result's text."""

#: status -> (rule id, level, short description)
RULES: dict[str, tuple[str, str, str]] = {
    FAILING: ("portability/failing", "error", "Every tested case of this framework function fails on the device"),
    PARTIAL: ("portability/partial", "warning", "Some tested cases of this framework function fail on the device"),
    BROKEN: (
        "portability/broken-case",
        "note",
        "The function's test cases fail on the reference device too: no verdict",
    ),
    UNTESTED: ("portability/untested", "note", "No stored results for this framework function on the device"),
    NO_CASES: ("portability/no-cases", "note", "portabench has no test case for this framework function"),
    "setting": ("portability/setting", "note", "A setting that changes results or placement on some devices"),
    "device": ("portability/device-string", "note", "A device named in the code"),
}


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule_id,
            "name": rule_id.split("/")[1].title().replace("-", ""),
            "shortDescription": {"text": text},
            "fullDescription": {"text": text},
            "defaultConfiguration": {"level": level},
            "helpUri": INFORMATION_URI,
            "help": {"text": f"{text}. Run `portabench scan --format html` for the details."},
        }
        for rule_id, level, text in RULES.values()
    ]


def _location(
    path: str, line: int, column: int, end_line: int | None = None, end_column: int | None = None
) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": line, "startColumn": column}
    if end_line is not None and end_column is not None and (end_line, end_column) > (line, column):
        region.update(endLine=end_line, endColumn=end_column)
    uri = Path(path).as_posix()
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}
    if not uri.startswith("/"):
        location["physicalLocation"]["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    return location


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def _site_results(result: ScanResult, site: CallSite) -> list[dict[str, Any]]:
    by_status: dict[str, list[tuple[str, Any]]] = {}
    for device in result.devices_for(site.framework):
        verdict = result.site_status(site, device)
        if verdict.status in RULES:
            by_status.setdefault(verdict.status, []).append((device, verdict))
    out = []
    for status, found in by_status.items():
        rule_id, level, _ = RULES[status]
        devices = [d for d, _ in found]
        first = found[0][1]
        text = f"{site.name} is {status} on {', '.join(devices)}"
        if first.category:
            text += f" ({first.category})"
        if first.message:
            text += f": {first.message.strip().splitlines()[0][:MESSAGE_CHARS]}"
        out.append(
            {
                "ruleId": rule_id,
                "ruleIndex": list(RULES).index(status),
                "level": level,
                "message": {"text": text},
                "locations": [_location(site.path, site.line, site.column, site.end_line, site.end_column)],
                "partialFingerprints": {
                    "portabench/v1": _fingerprint(site.path, site.name, site.kind, status, ",".join(devices))
                },
                "properties": {
                    "function": site.name,
                    "framework": site.framework,
                    "kind": site.kind,
                    "resolution": site.resolution,
                    "devices": devices,
                    "category": first.category,
                },
            }
        )
    return out


def scan_sarif(result: ScanResult) -> dict[str, Any]:
    """The SARIF log (a JSON object)."""
    results: list[dict[str, Any]] = []
    for site in result.resolved_sites:
        results += _site_results(result, site)
    for s in result.settings:
        results.append(
            {
                "ruleId": RULES["setting"][0],
                "ruleIndex": list(RULES).index("setting"),
                "level": "note",
                "message": {"text": f"{s.name}{' = ' + s.value if s.value else ''}: {s.why}"},
                "locations": [_location(s.path, s.line, s.column)],
                "partialFingerprints": {"portabench/v1": _fingerprint(s.path, s.name, s.value)},
            }
        )
    for d in result.device_strings:
        results.append(
            {
                "ruleId": RULES["device"][0],
                "ruleIndex": list(RULES).index("device"),
                "level": "note",
                "message": {
                    "text": f"device {d.device!r} named in the code: results there may differ from the reference"
                },
                "locations": [_location(d.path, d.line, d.column)],
                "partialFingerprints": {"portabench/v1": _fingerprint(d.path, d.device, d.how, d.line)},
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "portabench",
                        "version": portabench.__version__,
                        "semanticVersion": portabench.__version__,
                        "informationUri": INFORMATION_URI,
                        "rules": _rules(),
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "automationDetails": {"id": "portabench/scan/"},
                "results": results,
                "properties": {"devices": result.devices, "stores": list(result.options.stores)},
            }
        ],
    }
