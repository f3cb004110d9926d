"""The JSON, SARIF 2.1.0 and HTML reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.scanner.reporters.html_report import render_html
from stockade.scanner.reporters.json_report import render_json
from stockade.scanner.reporters.sarif import artifact_uri, build_sarif, render_sarif
from tests.scanner.samples import sample_result

SARIF_LEVELS = {"none", "note", "warning", "error"}


def test_json_report_counts_and_findings() -> None:
    report = json.loads(render_json(sample_result()))
    assert report["counts"] == {"critical": 0, "high": 1, "medium": 0, "low": 1, "info": 0}
    assert [item["kind"] for item in report["findings"]] == ["bola", "missing-security-headers"]
    assert report["findings"][0]["evidence"][0]["response"]["status"] == 200
    assert report["started"] == "2026-05-28T20:26:40Z"


def _check_message(message: Any, where: str) -> None:
    assert isinstance(message, dict), where
    assert isinstance(message.get("text"), str) and message["text"], where


def test_sarif_structure_has_required_fields() -> None:
    """The properties SARIF 2.1.0 marks required, and the references between them."""
    log = json.loads(render_sarif(sample_result()))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert isinstance(driver["name"], str) and driver["name"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        _check_message(rule["shortDescription"], rule["id"])
        assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
        assert float(rule["properties"]["security-severity"]) >= 0
    invocation = run["invocations"][0]
    assert isinstance(invocation["executionSuccessful"], bool)
    assert len(run["results"]) == 2
    for result in run["results"]:
        _check_message(result["message"], result["ruleId"])
        assert result["level"] in SARIF_LEVELS
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"]
        assert location["logicalLocations"][0]["name"]
        assert result["partialFingerprints"]["stockadeFinding/v1"]
        assert result["webRequest"]["method"] == "GET"
        assert result["webResponse"]["statusCode"] == 200


def test_sarif_region_points_at_path_in_document() -> None:
    result = build_sarif(sample_result())["runs"][0]["results"][0]
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    document = sample_result().document
    with open(document, encoding="utf-8") as file:
        declared = file.read().splitlines()[line - 1]
    assert declared.strip() == "/api/v2/orders/{orderId}:"


def test_sarif_levels_follow_severity() -> None:
    results = build_sarif(sample_result())["runs"][0]["results"]
    assert [item["level"] for item in results] == ["error", "note"]


def test_html_report_escapes_values() -> None:
    page = render_html(sample_result())
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "detail &lt;b&gt;" in page
    assert "bob reads alice&#x27;s object" in page


def test_sarif_artifact_uri_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "api" / "openapi.yaml"
    monkeypatch.chdir(tmp_path)
    assert artifact_uri(str(inside)) == "api/openapi.yaml"
    assert artifact_uri("http://127.0.0.1:9000/openapi.yaml") == "http://127.0.0.1:9000/openapi.yaml"
    outside = Path("/opt/specs/openapi.yaml")
    assert artifact_uri(str(outside)) == "file:///opt/specs/openapi.yaml"
