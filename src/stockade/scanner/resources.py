"""Resources of the API: collections, their items, and object ids a user owns.

Access-control checks need objects that belong to one user. They are found
the way a client finds them: by listing a collection (``GET /orders``),
reading the caller's own object (``GET /users/me``), or creating one
(``POST /orders``). An item operation is one whose path ends in a path
parameter, such as ``/api/v2/orders/{orderId}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stockade.scanner.openapi import Operation

if TYPE_CHECKING:
    from stockade.scanner.auth import Session
    from stockade.scanner.context import ScanContext

SELF_SEGMENTS = ("me", "self", "current")
"""Path segments that name the caller's own object, as in /users/me."""

MAX_LISTED_IDS = 5
"""Object ids taken from one collection listing."""


def is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def split(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def item_param(operation: Operation) -> str | None:
    """Return the trailing path parameter of an item operation, or None."""
    segments = split(operation.path)
    if segments and is_param(segments[-1]) and not any(is_param(s) for s in segments[:-1]):
        return segments[-1][1:-1]
    return None


def collection_path(item_path: str) -> str:
    return "/" + "/".join(split(item_path)[:-1])


def resource_name(item_path: str) -> str:
    """Return the collection word of an item path: ``orders`` for /api/v2/orders/{orderId}."""
    segments = split(item_path)
    return segments[-2] if len(segments) >= 2 else ""


def is_admin_only(operation: Operation) -> bool:
    """Tell whether the document marks the operation as admin-only."""
    if operation.required_role is not None:
        return operation.required_role.lower() not in ("user", "any", "authenticated")
    return "admin" in (tag.lower() for tag in operation.tags) or "admin" in split(operation.path)


def id_keys(param: str) -> list[str]:
    """Members of a listed object that may carry the id a path parameter takes."""
    snake = "".join(f"_{char.lower()}" if char.isupper() else char for char in param)
    return ["id", param, snake]


def ids_in(document: Any, param: str) -> list[Any]:
    """Return the object ids in a response: a list of objects, or one object."""
    objects = document if isinstance(document, list) else [document]
    if isinstance(document, dict):
        for key in ("items", "data", "results"):
            if isinstance(document.get(key), list):
                objects = document[key]
    found: list[Any] = []
    for item in objects:
        if not isinstance(item, dict):
            continue
        for key in id_keys(param):
            value = item.get(key)
            if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
                found.append(value)
                break
    return found[:MAX_LISTED_IDS]


@dataclass(frozen=True, slots=True)
class OwnedObject:
    object_id: Any
    source: str  # "listed", "self" or "created"


async def own_objects(ctx: ScanContext, session: Session, item: Operation) -> list[OwnedObject]:
    """Objects of ``item``'s collection that ``session`` listed or reads as its own."""
    param = item_param(item)
    if param is None:
        return []
    key = (session.name, item.path)
    if key in ctx.owned:
        return ctx.owned[key]
    found: list[OwnedObject] = []
    collection = collection_path(item.path)
    listing = ctx.api.find("GET", collection)
    if listing is not None and not listing.path_params:
        reply = await ctx.call(listing, session)
        if reply.ok:
            found += [OwnedObject(value, "listed") for value in ids_in(reply.json(), param)]
    for word in SELF_SEGMENTS:
        own = ctx.api.find("GET", f"{collection}/{word}")
        if own is not None:
            reply = await ctx.call(own, session)
            if reply.ok:
                found += [OwnedObject(value, "self") for value in ids_in(reply.json(), param)]
    ctx.owned[key] = found
    return found


async def own_path_values(ctx: ScanContext, session: Session | None,
                          operation: Operation) -> dict[str, Any]:
    """Path values naming an object ``session`` owns, when the operation has one parameter.

    Parameters left out get sample values when the request is built.
    """
    if session is None or len(operation.path_params) != 1:
        return {}
    owned = await own_objects(ctx, session, operation)
    return {operation.path_params[0].name: owned[0].object_id} if owned else {}


def creator_of(ctx: ScanContext, item: Operation) -> Operation | None:
    """Find the POST operation that creates objects of ``item``'s resource.

    The same collection path is preferred; otherwise any POST whose path
    ends in the same collection word (POST /admin/users for /users/{id}).
    """
    collection = collection_path(item.path)
    direct = ctx.api.find("POST", collection)
    if direct is not None and not direct.path_params:
        return direct
    name = resource_name(item.path)
    for operation in ctx.api.operations:
        segments = split(operation.path)
        if (operation.method == "POST" and segments and segments[-1] == name
                and not operation.path_params):
            return operation
    return None


async def create_object(ctx: ScanContext, session: Session, item: Operation) -> Any | None:
    """Create an object of ``item``'s resource as ``session``; return its id or None."""
    creator = creator_of(ctx, item)
    param = item_param(item)
    if creator is None or param is None or not ctx.allows(creator):
        return None
    reply = await ctx.call(creator, session, body=ctx.values.body(creator.body_schema))
    ids = ids_in(reply.json(), param) if reply.ok else []
    return ids[0] if ids else None
