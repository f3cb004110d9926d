"""Operators of the admin API and their tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from stockade.admin.context import Context
from stockade.admin.roles import Permission
from stockade.config.base import Identifier
from stockade.store import operators
from stockade.store.operators import Operator, Role

router = APIRouter(prefix="/v1/operators", tags=["operators"])


class NewOperator(BaseModel):
    id: Identifier
    role: Role
    tenant_id: Identifier | None = Field(None, description="Required for tenant roles only.")


class OperatorToken(BaseModel):
    operator: dict[str, Any]
    token: str = Field(description="The operator's token. It is shown only in this response.")


def _public(operator: Operator) -> dict[str, Any]:
    return {"id": operator.operator_id, "role": operator.role.value,
            "tenant_id": operator.tenant_id, "created_at": operator.created_at,
            "disabled": operator.disabled}


@router.get("")
def list_operators(context: Context) -> list[dict[str, Any]]:
    context.require(Permission.MANAGE_OPERATORS)
    with context.session() as scope:
        return [_public(operator) for operator in operators.list_operators(scope)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_operator(context: Context, body: NewOperator) -> OperatorToken:
    context.require(Permission.MANAGE_OPERATORS)
    with context.session() as scope:
        operator, token = operators.create_operator(scope, body.id, body.role, body.tenant_id)
    return OperatorToken(operator=_public(operator), token=token)


@router.post("/{operator_id}/token")
def rotate_token(context: Context, operator_id: str) -> OperatorToken:
    """Replace the operator's token; the old one stops working at once."""
    with context.session() as scope:
        operators.get_operator(scope, operator_id)  # 404 before 403, as for tenant paths
        context.require(Permission.MANAGE_OPERATORS)
        token = operators.rotate_token(scope, operator_id)
        operator = operators.get_operator(scope, operator_id)
    return OperatorToken(operator=_public(operator), token=token)


@router.delete("/{operator_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_operator(context: Context, operator_id: str) -> None:
    with context.session() as scope:
        operators.get_operator(scope, operator_id)  # 404 before 403, as for tenant paths
        context.require(Permission.MANAGE_OPERATORS)
        operators.delete_operator(scope, operator_id)


@router.get("/me")
def who_am_i(context: Context) -> dict[str, Any]:
    return _public(context.operator)
