from __future__ import annotations

import pytest

from stockade.config.loader import parse_config
from stockade.gateway.errors import PathError
from stockade.gateway.pipeline import StageRegistry
from stockade.gateway.routing import Resources, RouteTable, split_path

CONFIG = b"""
tenants:
  - id: acme
    services:
      - id: shop
        hosts: [shop.test]
        upstream: {targets: ["127.0.0.1:9000"]}
        routes:
          - {id: me, methods: [GET], path: /users/me}
          - {id: user, methods: [GET, PUT], path: "/users/{userId}"}
          - {id: order, path: "/users/{userId}/orders/{orderId}"}
      - id: admin
        hosts: [shop.test]
        path_prefix: /admin
        upstream: {targets: ["127.0.0.1:9001"]}
  - id: globex
    services:
      - id: api
        hosts: ["*.globex.test"]
        upstream: {targets: ["127.0.0.1:9002"]}
"""


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(parse_config(CONFIG), StageRegistry(), Resources())


def test_literal_route_wins_over_parameter(table: RouteTable) -> None:
    match = table.match("shop.test", "GET", "/users/me")
    assert match is not None
    assert match.route.id == "me"


def test_parameters_extracted(table: RouteTable) -> None:
    match = table.match("shop.test", "GET", "/users/42/orders/7")
    assert match is not None
    assert match.route.id == "order"
    assert match.params == {"userId": "42", "orderId": "7"}


def test_method_filter_falls_back_to_default(table: RouteTable) -> None:
    match = table.match("shop.test", "DELETE", "/users/42")
    assert match is not None
    assert match.route.id == "default"
    assert match.service.id == "shop"


def test_longest_prefix_service(table: RouteTable) -> None:
    match = table.match("shop.test", "GET", "/admin/stats")
    assert match is not None
    assert match.service.id == "admin"
    other = table.match("shop.test", "GET", "/administrator")
    assert other is not None
    assert other.service.id == "shop"


def test_wildcard_host(table: RouteTable) -> None:
    match = table.match("eu.globex.test", "GET", "/x")
    assert match is not None
    assert match.tenant.id == "globex"
    assert table.match("globex.test", "GET", "/x") is None
    assert table.match("a.b.globex.test", "GET", "/x") is None


def test_unknown_host(table: RouteTable) -> None:
    assert table.match("evil.test", "GET", "/") is None


def test_empty_parameter_segment_does_not_match(table: RouteTable) -> None:
    match = table.match("shop.test", "GET", "/users/")
    assert match is not None
    assert match.route.id == "default"


@pytest.mark.parametrize("path", ["/users/../admin", "/a/./b", "/users/%2e%2e/admin", "/x/%2E"])
def test_dot_segments_rejected(path: str) -> None:
    with pytest.raises(PathError):
        split_path(path)


def test_encoded_segments_decoded_for_matching(table: RouteTable) -> None:
    match = table.match("shop.test", "GET", "/users/%6De")
    assert match is not None
    assert match.route.id == "me"
