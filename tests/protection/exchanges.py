"""Exchanges built in memory for the protection stage tests."""

from __future__ import annotations

import json
from typing import Any

from stockade.gateway.exchange import ClientInfo, Consumer, Exchange
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead, ResponseHead


def exchange(method: str = "GET", target: str = "/", *, headers: dict[str, str] | None = None,
             json_body: Any = None, body: bytes | None = None, client: str = "198.51.100.1",
             consumer: Consumer | None = None) -> Exchange:
    fields = Fields([(b"host", b"api.test")])
    for name, value in (headers or {}).items():
        fields.add(name.encode(), value.encode())
    if json_body is not None:
        body = json.dumps(json_body).encode()
        fields.add(b"content-type", b"application/json")
    head = RequestHead(method.encode(), target.encode(), b"1.1", fields,
                       BodyFraming.LENGTH if body else BodyFraming.NONE,
                       len(body) if body else None, authority=b"api.test")
    return Exchange("test-request", ClientInfo(client, 40000, client), head, consumer=consumer,
                    body=body)


def respond(target: Exchange, status: int = 200, json_body: Any = None, *,
            body: bytes | None = None, content_type: str = "application/json",
            headers: dict[str, str] | None = None) -> Exchange:
    if json_body is not None:
        body = json.dumps(json_body).encode()
    fields = Fields([(b"content-type", content_type.encode())])
    for name, value in (headers or {}).items():
        fields.add(name.encode(), value.encode())
    target.response = ResponseHead(status, b"OK", b"1.1", fields, BodyFraming.LENGTH,
                                   len(body or b""))
    target.response_body = body
    return target
