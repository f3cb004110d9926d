from __future__ import annotations

import json

from stockade.protection.discovery.analysis import Observation, analyze, decode_path, media_type
from stockade.protection.discovery.endpoint import (
    MAX_KEYS_PER_COUNT,
    MAX_PARAMS_PER_ENDPOINT,
    EndpointStats,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


def observation(**changes: object) -> Observation:
    base: dict[str, object] = {
        "tenant": "acme",
        "service": "shop",
        "method": "POST",
        "target": "/users?page=2&debug",
        "status": 201,
        "time": 1_700_000_000.0,
        "request_fields": [
            (b"Host", b"api.test"),
            (b"Content-Type", b"application/json; charset=utf-8"),
            (b"Authorization", f"Bearer {JWT}".encode()),
            (b"X-Tenant-Region", b"eu"),
            (b"Cookie", b"session=abc; theme=dark"),
        ],
        "response_fields": [(b"Content-Type", b"application/json")],
    }
    base.update(changes)
    return Observation(**base)  # type: ignore[arg-type]


def test_parameters_by_location() -> None:
    path, unit = analyze(observation())
    assert path == "/users"
    assert set(unit.params["query"]) == {"page", "debug"}
    assert unit.params["query"]["page"].shape.to_json_schema() == {"type": "integer"}
    assert set(unit.params["header"]) == {"x-tenant-region"}
    assert set(unit.params["cookie"]) == {"session", "theme"}
    assert unit.params["cookie"]["session"].shape.values is None  # cookie values never kept


def test_auth_schemes() -> None:
    assert analyze(observation())[1].auth == {"bearer-jwt": 1}
    basic = observation(request_fields=[(b"Authorization", b"Basic dXNlcjpwdw==")])
    assert analyze(basic)[1].auth == {"basic": 1}
    key = observation(request_fields=[(b"X-API-Key", b"k-123456789")])
    assert analyze(key)[1].auth == {"api-key": 1}
    assert "x-api-key" not in analyze(key)[1].params["header"]
    query_key = observation(target="/x?api_key=abc", request_fields=[])
    assert analyze(query_key)[1].auth == {"api-key": 1}
    anonymous = observation(request_fields=[(b"Accept", b"*/*")])
    assert analyze(anonymous)[1].auth == {"none": 1}
    mtls = observation(request_fields=[], client_certificate=True)
    assert analyze(mtls)[1].auth == {"mtls": 1}


def test_statuses_and_content_types() -> None:
    _, unit = analyze(observation())
    assert unit.statuses == {"201": 1}
    assert unit.request_types == {"application/json": 1}
    assert unit.response_types == {"application/json": 1}
    assert media_type(" Text/HTML ; charset=x") == "text/html"


def test_bodies_give_schemas_and_sensitive_classes() -> None:
    request = json.dumps({"email": "jane@example.com", "password": "pw-1234567"}).encode()
    response = json.dumps({"id": 7, "card": "4111 1111 1111 1111"}).encode()
    _, unit = analyze(observation(request_body=request, response_body=response))
    assert unit.sampled == 1
    assert unit.request_body is not None
    assert unit.request_body.to_json_schema()["required"] == ["email", "password"]
    assert unit.response_bodies["201"].to_json_schema()["properties"]["id"] == {"type": "integer"}
    assert set(unit.sensitive_request) == {"email", "password"}
    assert unit.sensitive_response == {"credit-card": 1}


def test_truncated_or_invalid_body_still_scanned() -> None:
    body = b'{"note": "call +1 415 555 2671", "rest": "' + b"x" * 100
    _, unit = analyze(observation(request_body=body, request_truncated=True))
    assert unit.request_body is None
    assert unit.sensitive_request.get("phone") == 1
    _, unit = analyze(observation(request_body=b"{not json"))
    assert unit.request_body is None


def test_form_bodies() -> None:
    fields = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    _, unit = analyze(observation(request_fields=fields, request_body=b"user=a&password=secret99"))
    assert unit.request_body is not None
    assert set(unit.request_body.properties) == {"user", "password"}
    assert unit.sensitive_request == {"password": 1}


def test_sensitive_query_values() -> None:
    _, unit = analyze(observation(target="/lookup?email=jane%40example.com", request_fields=[]))
    assert unit.sensitive_request == {"email": 1}


def test_percent_decoding_keeps_slashes_in_segment() -> None:
    assert decode_path("/files/a%2Fb/c%20d") == "/files/a%2Fb/c d"
    assert analyze(observation(target="/users/%6De"))[0] == "/users/me"


def test_client_chosen_names_bounded() -> None:
    total = EndpointStats("GET", "/x")
    for index in range(MAX_PARAMS_PER_ENDPOINT + 100):
        fields = [(b"Content-Type", f"application/x-{index}".encode())]
        _, unit = analyze(observation(target=f"/x?p{index}=1", request_fields=fields))
        total.merge(unit)
    assert len(total.params["query"]) == MAX_PARAMS_PER_ENDPOINT
    assert len(total.request_types) == MAX_KEYS_PER_COUNT + 1
    assert sum(total.request_types.values()) == MAX_PARAMS_PER_ENDPOINT + 100
