"""Errors raised by store functions, mapped to HTTP statuses by the admin API."""

from __future__ import annotations


class NotFound(LookupError):
    """The object does not exist, or it belongs to a tenant outside the caller's scope.

    Both cases raise the same error so that a caller cannot learn which
    objects other tenants have.
    """

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"{kind} {object_id!r} not found")
        self.kind = kind
        self.object_id = object_id


class Conflict(ValueError):
    """The write clashes with an object that already exists."""

    def __init__(self, kind: str, object_id: str, detail: str = "already exists") -> None:
        super().__init__(f"{kind} {object_id!r} {detail}")
        self.kind = kind
        self.object_id = object_id


class OutOfScope(PermissionError):
    """A tenant-scoped session tried a write that only an all-tenants session may make."""
