"""Consumers of a tenant and their API keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from stockade.admin.context import TenantConfigWriter, TenantReader
from stockade.auth.consumers import ConsumerConfig
from stockade.config.base import Identifier
from stockade.store import consumers

router = APIRouter(prefix="/v1/tenants/{tenant_id}/consumers", tags=["consumers"])

Document = dict[str, Any]


class NewApiKey(BaseModel):
    id: Identifier = Field(description="Names the key in logs and events.")
    expires: dt.datetime | None = Field(None, description="When the key stops working.")


class CreatedApiKey(BaseModel):
    id: str
    hash: str
    expires: dt.datetime | None
    key: str = Field(description="The API key itself. It is shown only in this response.")


@router.get("")
def list_consumers(context: TenantReader, tenant_id: str) -> list[str]:
    with context.session() as scope:
        return consumers.list_consumer_ids(scope, tenant_id)


@router.put("/{consumer_id}")
def put_consumer(context: TenantConfigWriter, tenant_id: str, consumer_id: str,
                 consumer: ConsumerConfig, response: Response) -> Document:
    """Create or replace a consumer; an api_keys list in the body replaces the stored keys."""
    if consumer.id != consumer_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"consumer id {consumer.id!r} in the body differs from "
                            f"{consumer_id!r} in the path; send the same id in both")
    with context.session() as scope:
        created = consumers.put_consumer(scope, tenant_id, consumer,
                                         replace_keys="api_keys" in consumer.model_fields_set)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        stored = consumers.get_consumer(scope, tenant_id, consumer_id)
    data: Document = stored.model_dump(mode="json", exclude_unset=True)
    return data


@router.get("/{consumer_id}")
def get_consumer(context: TenantReader, tenant_id: str, consumer_id: str) -> Document:
    with context.session() as scope:
        consumer = consumers.get_consumer(scope, tenant_id, consumer_id)
    data: Document = consumer.model_dump(mode="json", exclude_unset=True)
    return data


@router.delete("/{consumer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_consumer(context: TenantConfigWriter, tenant_id: str, consumer_id: str) -> None:
    with context.session() as scope:
        consumers.delete_consumer(scope, tenant_id, consumer_id)


@router.get("/{consumer_id}/api-keys")
def list_api_keys(context: TenantReader, tenant_id: str, consumer_id: str) -> list[Document]:
    """List the consumer's keys with ids, hashes and expiry, never the keys themselves."""
    with context.session() as scope:
        keys = consumers.list_api_keys(scope, tenant_id, consumer_id)
    return [key.model_dump(mode="json") for key in keys]


@router.post("/{consumer_id}/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(context: TenantConfigWriter, tenant_id: str, consumer_id: str,
                   body: NewApiKey) -> CreatedApiKey:
    """Generate a key; the response is the only place the key ever appears."""
    with context.session() as scope:
        record, key = consumers.create_api_key(scope, tenant_id, consumer_id, body.id,
                                               body.expires)
    return CreatedApiKey(id=record.id, hash=record.hash, expires=record.expires, key=key)


@router.post("/{consumer_id}/api-keys/{key_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(context: TenantConfigWriter, tenant_id: str, consumer_id: str,
                   key_id: str) -> None:
    with context.session() as scope:
        consumers.revoke_api_key(scope, tenant_id, consumer_id, key_id)


@router.delete("/{consumer_id}/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_api_key(context: TenantConfigWriter, tenant_id: str, consumer_id: str,
                   key_id: str) -> None:
    with context.session() as scope:
        consumers.delete_api_key(scope, tenant_id, consumer_id, key_id)
