from __future__ import annotations

import pytest

from stockade.config.models import Service, Tenant
from stockade.store import tenancy
from stockade.store.errors import NotFound
from stockade.store.route_blocks import (
    add_route_block,
    delete_route_block,
    get_route_block,
    list_route_blocks,
    normalize_method,
    normalize_path,
    purge_expired_route_blocks,
)
from stockade.store.scope import Store


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.session(None, "admin") as scope:
        for tenant in ("acme", "globex"):
            tenancy.put_tenant(scope, Tenant(id=tenant))
            tenancy.put_service(scope, tenant, Service.model_validate({
                "id": "api", "hosts": [f"api.{tenant}.test"],
                "upstream": {"targets": ["127.0.0.1:9000"]}}))
    return store


def test_add_list_get_delete(seeded: Store) -> None:
    with seeded.session("acme", "op") as scope:
        block = add_route_block(scope, "acme", "api", "get", "/users/{id}/export", "leaks", 600)
        assert (block.method, block.path, block.origin) == ("GET", "/users/{id}/export",
                                                            "operator")
        assert block.expires_at is not None
        assert get_route_block(scope, "acme", block.block_id) == block
        assert list_route_blocks(scope, "acme") == [block]
        assert list_route_blocks(scope, "acme", "other") == []
        delete_route_block(scope, "acme", block.block_id)
        assert list_route_blocks(scope, "acme") == []


def test_same_route_renews_block(seeded: Store) -> None:
    with seeded.session(None, "scanner") as scope:
        first = add_route_block(scope, "acme", "api", "GET", "/debug", "first", 60,
                                origin="scanner", finding_id="f1")
        second = add_route_block(scope, "acme", "api", "GET", "/debug", "second", 3600,
                                 origin="scanner", finding_id="f1")
        listed = list_route_blocks(scope, "acme")
    assert second.block_id == first.block_id
    assert len(listed) == 1
    assert listed[0].reason == "second"
    assert listed[0].expires_at is not None and first.expires_at is not None
    assert listed[0].expires_at > first.expires_at


def test_other_tenant_cannot_see_block(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope:
        block = add_route_block(scope, "globex", "api", "*", "/admin", "x")
    with seeded.session("acme", "op") as scope:
        assert list_route_blocks(scope) == []
        with pytest.raises(NotFound):
            get_route_block(scope, "acme", block.block_id)


def test_unknown_service_is_not_found(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope, pytest.raises(NotFound):
        add_route_block(scope, "acme", "billing", "GET", "/debug", "x")


def test_expired_blocks_are_purged(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope:
        block = add_route_block(scope, "acme", "api", "GET", "/debug", "x", 10)
        add_route_block(scope, "acme", "api", "GET", "/env", "permanent")
        later = block.created_at + 20
        assert [kept.path for kept in list_route_blocks(scope, "acme", now=later)] == ["/env"]
        assert purge_expired_route_blocks(scope, now=later) == 1
        assert [kept.path for kept in list_route_blocks(scope, "acme")] == ["/env"]


@pytest.mark.parametrize(("path", "message"), [
    ("debug", "absolute path"),
    ("/debug?x=1", "no query"),
    ("/a/../debug", "dot segments"),
    ("/users/id}", "whole segment"),
    ("/users/{}", "whole segment"),
    ("/users/x{id}", "whole segment"),
    ("/" + "a" * 2048, "at most 2048"),
])
def test_invalid_paths_are_rejected(path: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_path(path)


@pytest.mark.parametrize("method", ["", "GE T", "G\r\nET", "X" * 33])
def test_invalid_methods_are_rejected(method: str) -> None:
    with pytest.raises(ValueError, match="invalid method"):
        normalize_method(method)


def test_invalid_duration_is_rejected(seeded: Store) -> None:
    with seeded.session(None, "admin") as scope, pytest.raises(ValueError, match="out of range"):
        add_route_block(scope, "acme", "api", "GET", "/debug", "x", 0)
