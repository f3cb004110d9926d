"""The SARIF 2.1.0 report, for CI systems and code-scanning tools.

Each finding kind is a rule; each finding a result located at the OpenAPI
document (at the line of its path when the document is a local file) and
at a logical location ``METHOD /path``. The first evidence exchange goes
into the result's ``webRequest`` and ``webResponse`` objects, which SARIF
2.1.0 defines for web findings; all of them are in ``properties``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stockade.events.model import Severity
from stockade.scanner.findings import KIND_SUMMARIES, Evidence, Finding
from stockade.scanner.reporters.json_report import iso_time
from stockade.scanner.runner import ScanResult

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "stockade-scan"

LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "0.0"}
"""The 0-10 score GitHub code scanning reads from a rule's security-severity property."""


def _rule(finding: Finding) -> dict[str, Any]:
    summary = KIND_SUMMARIES.get(finding.kind, finding.kind)
    tags = ["security", finding.category]
    if finding.cwe is not None:
        tags.append(f"external/cwe/cwe-{finding.cwe}")
    return {
        "id": finding.kind,
        "name": "".join(part.title() for part in finding.kind.split("-")),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": f"{summary} ({finding.category})."},
        "help": {"text": finding.remediation},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[finding.severity]},
    }


def artifact_uri(document: str) -> str:
    """The document as a SARIF artifact URI: relative to the working folder when inside it.

    Code-scanning services place results by repository-relative paths.
    """
    if "://" in document:
        return document
    file = Path(document).resolve()
    try:
        return file.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return file.as_uri()


def _path_line(document: str, path: str) -> int | None:
    """The 1-based line where the document declares ``path``, when it is a local file."""
    file = Path(document)
    if "://" in document or not file.is_file():
        return None
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip().strip("'\"")
        if text.startswith((f"{path}:", f'"{path}":', f"'{path}':")) or text == f"{path}:":
            return number
    return None


def _headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _web(evidence: Evidence) -> dict[str, Any]:
    request = evidence.request
    web: dict[str, Any] = {"webRequest": {
        "protocol": "HTTP", "version": "1.1", "target": request.url,
        "method": request.method, "headers": _headers(request.headers),
        "body": {"text": request.body},
    }}
    if evidence.response is not None:
        web["webResponse"] = {
            "protocol": "HTTP", "version": "1.1", "statusCode": evidence.response.status,
            "headers": _headers(evidence.response.headers),
            "body": {"text": evidence.response.body},
        }
    return web


def _result(finding: Finding, rule_index: int, document: str) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(document)}}
    line = _path_line(document, finding.path)
    if line is not None:
        physical["region"] = {"startLine": line}
    result: dict[str, Any] = {
        "ruleId": finding.kind,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.title}. {finding.detail} Fix: {finding.remediation}"},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"name": f"{finding.method} {finding.path}",
                                  "fullyQualifiedName": f"{finding.method} {finding.path}",
                                  "kind": "member"}],
        }],
        "partialFingerprints": {"stockadeFinding/v1": finding.fingerprint},
        "properties": {
            "severity": finding.severity.name.lower(), "category": finding.category,
            "cwe": finding.cwe, "evidence": [item.to_dict() for item in finding.evidence],
        },
    }
    if finding.evidence:
        result.update(_web(finding.evidence[0]))
    return result


def build_sarif(result: ScanResult) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    for finding in result.findings:
        if finding.kind not in index_of:
            index_of[finding.kind] = len(rules)
            rules.append(_rule(finding))
    document = result.document
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "rules": rules}},
            "invocations": [{
                "executionSuccessful": not result.errors,
                "startTimeUtc": iso_time(result.started),
                "endTimeUtc": iso_time(result.finished),
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": error}} for error in result.errors],
            }],
            "results": [_result(finding, index_of[finding.kind], document)
                        for finding in result.findings],
            "properties": {"target": result.target, "requests": result.requests},
        }],
    }


def render_sarif(result: ScanResult) -> str:
    return json.dumps(build_sarif(result), indent=2) + "\n"
