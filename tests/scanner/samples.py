"""A small scan result with two findings, for the reporter tests."""

from __future__ import annotations

from stockade.events.model import Severity
from stockade.scanner.findings import Evidence, Finding, RecordedRequest, RecordedResponse
from stockade.scanner.runner import ScanResult
from tests.scanner.demo import OPENAPI


def sample_result() -> ScanResult:
    evidence = Evidence(
        "bob reads alice's order <script>",
        RecordedRequest("GET", "http://127.0.0.1:9000/api/v2/orders/1",
                        [("authorization", "Bearer [REDACTED]")]),
        RecordedResponse(200, [("content-type", "application/json")], '{"id": 1}', 0.004))
    findings = [
        Finding("bola", "bola", "bob reads alice's object", Severity.HIGH, "API1:2023", "GET",
                "/api/v2/orders/{orderId}", "detail <b>", "Check ownership.", [evidence], 639),
        Finding("missing-security-headers", "misconfiguration", "Security headers missing",
                Severity.LOW, "API8:2023", "*", "/", "Responses lack them.", "Send them.",
                [evidence]),
    ]
    return ScanResult("http://127.0.0.1:9000", str(OPENAPI), 1_780_000_000.0,
                      1_780_000_012.5, findings, [], [], 120, ["bola", "misconfiguration"])
