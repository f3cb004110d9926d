"""Sample values from schemas, and the response comparisons the checks rely on."""

from __future__ import annotations

import json

import httpx

from stockade.scanner.client import Reply, SentRequest
from stockade.scanner.similarity import body_similarity, looks_like_failure, same_data, signature
from stockade.scanner.values import LOOPBACK_URL, ValueFactory, merged, schema_type


def test_schema_type_forms() -> None:
    assert schema_type({"type": ["null", "integer"]}) == "integer"
    assert schema_type({"properties": {}}) == "object"
    assert schema_type({"items": {}}) == "array"
    assert schema_type({"allOf": [{"type": "number"}]}) == "number"
    assert schema_type({}) == "string"


def test_merged_all_of_properties() -> None:
    schema = merged({"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                               {"properties": {"b": {"type": "integer"}}}]})
    assert set(schema["properties"]) == {"a", "b"}
    assert schema["required"] == ["a"]


def test_sample_respects_schema() -> None:
    values = ValueFactory()
    assert values.sample({"type": "string", "enum": ["red", "blue"]}) == "red"
    assert values.sample({"type": "integer", "minimum": 5}) == 5
    assert len(values.sample({"type": "string", "maxLength": 4}, "title")) == 4
    assert values.sample({"type": "string", "format": "email"}).endswith("@example.com")
    assert values.sample({"type": "string"}, "callback_url") == LOOPBACK_URL
    assert values.sample({"type": "string"}, "host") == "127.0.0.1"
    assert values.sample({"type": "string", "example": "x"}) == "x"


def test_body_skips_read_only() -> None:
    body = ValueFactory().body({"properties": {"id": {"type": "integer", "readOnly": True},
                                               "name": {"type": "string"}}})
    assert list(body) == ["name"]


def test_url_values_point_to_canary() -> None:
    values = ValueFactory("http://127.0.0.1:4567/")
    assert values.sample({"type": "string", "format": "uri"}) == "http://127.0.0.1:4567/"


def test_markers_unique() -> None:
    values = ValueFactory()
    assert values.marker() != values.marker()


def _reply(status: int, body: object) -> Reply:
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return Reply(SentRequest("GET", "http://127.0.0.1/", [], b""), status, httpx.Headers(),
                 data, 0.0)


def test_same_data_masks_long_strings() -> None:
    first = _reply(200, {"id": 1, "token": "a" * 50})
    second = _reply(200, {"id": 1, "token": "b" * 50})
    assert same_data(first, second)
    assert not same_data(first, _reply(200, {"id": 2, "token": "a" * 50}))
    assert not same_data(first, _reply(404, {"id": 1, "token": "a" * 50}))


def test_body_similarity_of_text() -> None:
    assert body_similarity(_reply(200, b"hello world"), _reply(200, b"hello world")) == 1.0
    assert body_similarity(_reply(200, b"hello world"), _reply(200, b"zzzzz")) < 0.5


def test_signature_ignores_echoed_payload() -> None:
    first = _reply(400, {"error": "bad value x' OR 1=1"})
    second = _reply(400, {"error": "bad value x' OR 1=2"})
    assert signature(first, "x' OR 1=1") == signature(second, "x' OR 1=2")
    assert signature(first) != signature(second)


def test_looks_like_failure() -> None:
    assert looks_like_failure(_reply(200, {"ok": False, "error": "wrong password"}))
    assert looks_like_failure(_reply(401, {"token": "t"}))
    assert not looks_like_failure(_reply(200, {"ok": True, "token": "t"}))
