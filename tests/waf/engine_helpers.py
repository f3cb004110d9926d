"""Build small engines from inline SecLang for unit tests."""

from __future__ import annotations

from stockade.waf.builder import RuleSetBuilder
from stockade.waf.engine import Engine
from stockade.waf.prefilter import build_prefilter
from stockade.waf.request import WafRequest
from stockade.waf.seclang import read_directives
from stockade.waf.transaction import Transaction

BASE = """
SecRuleEngine On
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
"""


def engine_from(text: str, base: str = BASE) -> Engine:
    builder = RuleSetBuilder()
    builder.add(read_directives(base + text, "test.conf"))
    ruleset = builder.build()
    ruleset.use_prefilter(build_prefilter(ruleset))
    return Engine(ruleset)


def run(engine: Engine, request: WafRequest) -> Transaction:
    transaction = engine.transaction(request)
    transaction.process_request_headers()
    transaction.process_request_body()
    return transaction


def get(target: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> WafRequest:
    return WafRequest(b"GET", target, headers=[(b"Host", b"example.test"), *(headers or [])])


def post(body: bytes, content_type: bytes, target: bytes = b"/") -> WafRequest:
    headers = [(b"Host", b"example.test"), (b"Content-Type", content_type),
               (b"Content-Length", str(len(body)).encode())]
    return WafRequest(b"POST", target, headers=headers, body=body)


def logged(transaction: Transaction) -> list[int]:
    return [match.rule_id for match in transaction.matches]
