"""Run go-ftw cases against the engine and classify each as pass, fail or skip.

How outputs are judged:

- ``expect_ids`` / ``no_expect_ids`` (v4) and ``log_contains`` /
  ``no_log_contains`` / ``match_regex`` (v3 and v4) are checked against
  the error log lines of the rules that matched.
- A stage that only checks ``status`` or ``expect_error`` tests what the
  web server in front of ModSecurity does (Apache or nginx answering 400
  to a malformed request line, say); it is skipped, as the engine never
  sees those requests in a real deployment either.
- A chunked request body is de-chunked and its Content-Length field
  dropped, as Apache does before ModSecurity sees the request (RFC 9112
  section 6.3 lets Transfer-Encoding override Content-Length).
- A body without Content-Length or chunked framing is not read, as an
  HTTP/1.1 server reads none (RFC 9112 section 6.3).
- Requests to ``/reflect`` get the response their JSON body describes
  (status, headers, body), as the CRS test backend does; others get an
  empty 200 response.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import re2

from stockade.waf.engine import Engine
from stockade.waf.events import error_log_line
from stockade.waf.ftw.cases import Case, Expectation
from stockade.waf.ftw.raw import dechunk
from stockade.waf.request import WafRequest, WafResponse
from stockade.waf.transaction import Transaction

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(slots=True)
class CaseResult:
    case: Case
    outcome: str
    reason: str = ""
    logged_ids: list[int] = field(default_factory=list)


def run_case(engine: Engine, case: Case) -> CaseResult:
    checked = False
    logged: list[int] = []
    for stage in case.stages:
        if not stage.expectation.checks_log():
            continue
        if stage.request is None:
            return CaseResult(case, SKIP, f"input cannot be built: {stage.problem}")
        transaction = run_request(engine, stage.request)
        lines = [error_log_line(match, transaction) for match in transaction.matches]
        logged = [match.rule_id for match in transaction.matches]
        problem = check(stage.expectation, logged, lines)
        if problem:
            return CaseResult(case, FAIL, problem, logged)
        checked = True
    if not checked:
        return CaseResult(case, SKIP, "checks only the web server's status or a client error")
    return CaseResult(case, PASS, logged_ids=logged)


def as_server_passes_it(request: WafRequest) -> WafRequest:
    """Return the request as the web server in front of the engine hands it over."""
    chunked = any(name.lower() == b"transfer-encoding" and b"chunked" in value.lower()
                  for name, value in request.headers)
    has_length = any(name.lower() == b"content-length" for name, _ in request.headers)
    if not chunked and not has_length and request.body:
        return replace(request, body=b"")  # without framing an HTTP/1.1 server reads no body
    if not chunked:
        return request
    headers = [(name, value) for name, value in request.headers
               if name.lower() != b"content-length"]
    return replace(request, headers=headers, body=dechunk(request.body))


def run_request(engine: Engine, request: WafRequest) -> Transaction:
    transaction = engine.transaction(as_server_passes_it(request))
    transaction.process_request_headers()
    transaction.process_request_body()
    if transaction.interruption is None:
        transaction.process_response_headers(backend_response(request))
        transaction.process_response_body()
    transaction.process_logging()
    return transaction


def backend_response(request: WafRequest) -> WafResponse:
    """Return the CRS test backend's response: /reflect returns the response its body describes."""
    if request.target.startswith(b"/reflect") and request.body:
        try:
            spec = json.loads(request.body)
        except ValueError:
            spec = None
        if isinstance(spec, dict):
            return _reflected(spec)
    return WafResponse(200, [(b"Content-Type", b"text/html")], b"")


def _reflected(spec: dict[str, Any]) -> WafResponse:
    status = int(spec.get("status", 200))
    headers = [(str(name).encode(), str(value).encode())
               for name, value in (spec.get("headers") or {}).items()]
    if "encodedBody" in spec:
        body = base64.b64decode(str(spec["encodedBody"]))
    else:
        body = str(spec.get("body", "")).encode("utf-8", "surrogateescape")
    if not any(name.lower() == b"content-type" for name, _ in headers):
        headers.append((b"Content-Type", b"text/html"))
    return WafResponse(status, headers, body)


def check(expectation: Expectation, logged: list[int], lines: list[str]) -> str:
    """Return what is wrong, or '' when the stage passes."""
    seen = set(logged)
    missing = sorted(expectation.expect_ids - seen)
    if missing:
        return f"expected ids {missing} not logged"
    unexpected = sorted(expectation.no_expect_ids & seen)
    if unexpected:
        return f"ids {unexpected} logged but must not be"
    text = "\n".join(lines).encode("utf-8", "surrogateescape")
    for pattern in expectation.log_patterns:
        if re2.search(pattern.encode(), text) is None:
            return f"log does not match {pattern!r}"
    for pattern in expectation.no_log_patterns:
        if re2.search(pattern.encode(), text) is not None:
            return f"log matches {pattern!r} but must not"
    return ""


def run_cases(engine: Engine, cases: list[Case],
              progress: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    results: list[CaseResult] = []
    for case in cases:
        result = run_case(engine, case)
        results.append(result)
        if progress is not None:
            progress(result)
    return results
