"""Consumers of a tenant's APIs and their API keys.

A consumer goes in and comes out as ``auth.consumers.ConsumerConfig``. Its
API keys live in the credentials table, one row each, so that a key can be
added or revoked on its own and found by its hash. The rest of the consumer
is one JSON document. Keys are stored only as ``sha256:<hex>`` hashes.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from stockade.auth.consumers import ApiKeyCredential, ConsumerConfig
from stockade.auth.hashing import hash_api_key, new_api_key
from stockade.store import schema
from stockade.store.errors import Conflict, NotFound
from stockade.store.scope import Row, Scope, all_of

_CONSUMER_COLUMNS = frozenset({"id", "groups", "api_keys"})


def _consumer_key(tenant_id: str, consumer_id: str) -> Any:
    table = schema.consumers
    return all_of(table.c.tenant_id == tenant_id, table.c.consumer_id == consumer_id)


def _credential_key(tenant_id: str, consumer_id: str, credential_id: str) -> Any:
    table = schema.credentials
    return all_of(table.c.tenant_id == tenant_id, table.c.consumer_id == consumer_id,
                  table.c.credential_id == credential_id)


def list_consumer_ids(scope: Scope, tenant_id: str) -> list[str]:
    scope.require_tenant(tenant_id)
    table = schema.consumers
    rows = scope.fetch_all(table, table.c.tenant_id == tenant_id, order_by=[table.c.consumer_id])
    return [row["consumer_id"] for row in rows]


def get_consumer(scope: Scope, tenant_id: str, consumer_id: str) -> ConsumerConfig:
    row = scope.get("consumer", f"{tenant_id}/{consumer_id}", schema.consumers,
                    _consumer_key(tenant_id, consumer_id))
    keys = [_api_key(credential) for credential in _credential_rows(scope, tenant_id, consumer_id)]
    data: dict[str, Any] = {"id": consumer_id, **row["extra"]}
    if row["groups"]:
        data["groups"] = row["groups"]
    if keys:
        data["api_keys"] = keys
    return ConsumerConfig.model_validate(data)


def put_consumer(scope: Scope, tenant_id: str, consumer: ConsumerConfig,
                 *, replace_keys: bool = True) -> bool:
    """Create or replace a consumer; return True when it was created.

    Its API keys are replaced with ``consumer.api_keys`` too, unless
    ``replace_keys`` is False, which leaves the stored keys as they are.
    """
    scope.require_tenant(tenant_id)
    table = schema.consumers
    data = consumer.model_dump(mode="json", exclude_unset=True)
    key = _consumer_key(tenant_id, consumer.id)
    object_id = f"{tenant_id}/{consumer.id}"
    values = {"tenant_id": tenant_id, "consumer_id": consumer.id, "groups": consumer.groups,
              "extra": {name: value for name, value in data.items()
                        if name not in _CONSUMER_COLUMNS}}
    created = scope.fetch_one(table, key) is None
    if created:
        scope.insert("consumer", object_id, table, {**values, "created_at": time.time()})
    else:
        scope.update("consumer", object_id, table, key, values)
    if not replace_keys:
        return created
    keep = {api_key.id for api_key in consumer.api_keys}
    for row in _credential_rows(scope, tenant_id, consumer.id):
        if row["credential_id"] not in keep:
            delete_api_key(scope, tenant_id, consumer.id, row["credential_id"])
    for api_key in consumer.api_keys:
        _put_api_key(scope, tenant_id, consumer.id, api_key)
    return created


def delete_consumer(scope: Scope, tenant_id: str, consumer_id: str) -> None:
    for row in _credential_rows(scope, tenant_id, consumer_id):
        delete_api_key(scope, tenant_id, consumer_id, row["credential_id"])
    scope.delete("consumer", f"{tenant_id}/{consumer_id}", schema.consumers,
                 _consumer_key(tenant_id, consumer_id))


def _credential_rows(scope: Scope, tenant_id: str, consumer_id: str) -> list[Row]:
    table = schema.credentials
    return scope.fetch_all(table, table.c.tenant_id == tenant_id,
                           table.c.consumer_id == consumer_id,
                           order_by=[table.c.created_at, table.c.credential_id])


def _api_key(row: Row) -> ApiKeyCredential:
    data: dict[str, Any] = {"id": row["credential_id"], "hash": row["secret_hash"]}
    if row["expires_at"] is not None:
        data["expires"] = dt.datetime.fromtimestamp(row["expires_at"], dt.UTC)
    if row["revoked"]:
        data["revoked"] = True
    return ApiKeyCredential.model_validate(data)


def _put_api_key(scope: Scope, tenant_id: str, consumer_id: str, api_key: ApiKeyCredential) -> None:
    table = schema.credentials
    values = {
        "tenant_id": tenant_id, "consumer_id": consumer_id, "credential_id": api_key.id,
        "kind": "api_key", "secret_hash": api_key.hash,
        "expires_at": api_key.expires.timestamp() if api_key.expires else None,
        "revoked": api_key.revoked,
    }
    key = _credential_key(tenant_id, consumer_id, api_key.id)
    object_id = f"{tenant_id}/{consumer_id}/{api_key.id}"
    if scope.fetch_one(table, key) is None:
        scope.insert("credential", object_id, table, {**values, "created_at": time.time()})
    else:
        scope.update("credential", object_id, table, key, values)


def list_api_keys(scope: Scope, tenant_id: str, consumer_id: str) -> list[ApiKeyCredential]:
    get_consumer(scope, tenant_id, consumer_id)
    return [_api_key(row) for row in _credential_rows(scope, tenant_id, consumer_id)]


def create_api_key(scope: Scope, tenant_id: str, consumer_id: str, key_id: str,
                   expires: dt.datetime | None = None) -> tuple[ApiKeyCredential, str]:
    """Generate an API key for a consumer; return its record and the key, shown only now."""
    get_consumer(scope, tenant_id, consumer_id)
    if scope.fetch_one(schema.credentials, _credential_key(tenant_id, consumer_id, key_id)):
        raise Conflict("API key", f"{tenant_id}/{consumer_id}/{key_id}")
    key = new_api_key()
    api_key = ApiKeyCredential(id=key_id, hash=hash_api_key(key), expires=expires)
    _put_api_key(scope, tenant_id, consumer_id, api_key)
    return api_key, key


def revoke_api_key(scope: Scope, tenant_id: str, consumer_id: str, key_id: str) -> None:
    table = schema.credentials
    scope.update("credential", f"{tenant_id}/{consumer_id}/{key_id}", table,
                 _credential_key(tenant_id, consumer_id, key_id), {"revoked": True})


def delete_api_key(scope: Scope, tenant_id: str, consumer_id: str, key_id: str) -> None:
    scope.delete("credential", f"{tenant_id}/{consumer_id}/{key_id}", schema.credentials,
                 _credential_key(tenant_id, consumer_id, key_id))


def find_api_key(scope: Scope, key: str, now: float | None = None) -> tuple[str, str]:
    """Return (tenant id, consumer id) of a usable API key within the scope's tenants.

    The lookup is by the key's SHA-256 hash, so no key is compared in clear.
    Raises NotFound for an unknown, revoked or expired key.
    """
    table = schema.credentials
    row = scope.fetch_one(table, table.c.secret_hash == hash_api_key(key))
    current = time.time() if now is None else now
    if (row is None or row["revoked"]
            or (row["expires_at"] is not None and row["expires_at"] <= current)):
        raise NotFound("API key", "(hidden)")
    return row["tenant_id"], row["consumer_id"]
