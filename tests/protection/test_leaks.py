from __future__ import annotations

import json

from stockade.events.model import Action
from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.config import LeakProtection
from stockade.protection.leaks import LeakStage, error_page_marker, mask_text
from stockade.protection.sensitive import SensitiveClass
from tests.protection.exchanges import exchange, respond

CARD = "4111 1111 1111 1111"


def stage(block: bool = True, **settings: object) -> LeakStage:
    return LeakStage(LeakProtection.model_validate(settings), block)


def test_error_page_markers() -> None:
    assert error_page_marker('{"traceback": "Traceback (most recent call last):\\n"}') is not None
    assert error_page_marker("<html><title>Whitelabel Error Page</title>") == \
        "Whitelabel Error Page"
    assert error_page_marker('{"error": "not found"}') is None


def test_mask_keeps_last_card_digits() -> None:
    assert mask_text(CARD, SensitiveClass.CREDIT_CARD) == "**** **** **** 1111"
    assert mask_text("900-12-3456", SensitiveClass.US_SSN) == "***********"


def test_stack_trace_withheld() -> None:
    response = respond(exchange("GET", "/products?search='"), 500,
                       {"error": "OperationalError: unrecognized token", "traceback": "..."})
    verdict = stage().check(response, Phase.RESPONSE_BODY)
    assert (verdict.status, verdict.reason) == (502, "stack-trace")


def test_masking_in_block_mode() -> None:
    response = respond(exchange("GET", "/me"), 200,
                       {"name": "Alice", "cards": [{"number": CARD}], "note": f"card {CARD}"})
    leaks = stage(mask_classes=["credit-card"])
    assert leaks.wants_response_body(response)
    assert leaks.check(response, Phase.RESPONSE_BODY) is CONTINUE
    body = json.loads(response.response_body or b"")
    assert body == {"name": "Alice", "cards": [{"number": "**** **** **** 1111"}],
                    "note": "card **** **** **** 1111"}
    assert [(event.kind, event.action) for event in response.events] == \
        [("sensitive-data-masked", Action.BLOCKED)]


def test_masking_plain_text() -> None:
    response = respond(exchange("GET", "/export"), 200, body=f"alice,{CARD}\n".encode(),
                       content_type="text/plain")
    stage(mask_classes=["credit-card"]).check(response, Phase.RESPONSE_BODY)
    assert response.response_body == b"alice,**** **** **** 1111\n"


def test_masking_only_reported_in_detect_mode() -> None:
    body = {"number": CARD}
    response = respond(exchange("GET", "/me"), 200, body)
    verdict = stage(block=False, mask_classes=["credit-card"]).check(response, Phase.RESPONSE_BODY)
    assert verdict.reject
    assert verdict.reason == "sensitive-data-masked"
    assert json.loads(response.response_body or b"") == body


def test_block_class_withholds_response() -> None:
    response = respond(exchange("GET", "/keys"), 200,
                       {"key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE"})
    verdict = stage(block_classes=["private-key"]).check(response, Phase.RESPONSE_BODY)
    assert (verdict.status, verdict.reason) == (502, "sensitive-data-leak")


def test_reported_classes_observed() -> None:
    response = respond(exchange("GET", "/me"), 200, {"ssn": "123-45-6789", "email": "a@b.co"})
    verdict = stage().check(response, Phase.RESPONSE_BODY)
    assert not verdict.reject
    assert verdict.events[0].kind == "sensitive-data"
    assert verdict.events[0].evidence["classes"] == ["us-ssn"]
    clean = respond(exchange("GET", "/me"), 200, {"email": "a@b.co"})
    assert stage().check(clean, Phase.RESPONSE_BODY) is CONTINUE


def test_compressed_response_not_read() -> None:
    response = respond(exchange("GET", "/me"), 200, body=b"\x1f\x8b\x08\x00",
                       headers={"content-encoding": "gzip"})
    assert not stage().wants_response_body(response)
