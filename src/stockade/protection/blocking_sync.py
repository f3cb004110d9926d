"""Read the store's dynamic blocks into a deny list.

The store is the source of truth for the blocks that operators add through
the admin API (client addresses and networks, consumers, API keys and JWT
subjects), and for route blocks, which operators and ``stockade scan`` add. Every worker reads both
every ``store_sync_seconds`` and replaces its copy, so a block deleted in
the store ends here too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import cast

from sqlalchemy.exc import SQLAlchemyError

from stockade.protection.blocking import DenyEntry, DenyList, Origin, RoutePattern
from stockade.store.blocks import list_blocks
from stockade.store.database import StoreError, open_engine
from stockade.store.route_blocks import list_route_blocks
from stockade.store.scope import Store

log = logging.getLogger(__name__)

SYNC_ACTOR = "deny-list-sync"
PERMANENT_EXPIRY = float("inf")
"""Expiry used for a store block that has none."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def read_store_blocks(
    store: Store,
) -> tuple[dict[str, list[tuple[Network, DenyEntry]]], dict[tuple[str, str, str], DenyEntry]]:
    """Return the blocks in force of every tenant.

    Address blocks come by tenant, with their networks. Blocks of consumers,
    API keys and JWT subjects come by (tenant, kind, value).
    """
    networks: dict[str, list[tuple[Network, DenyEntry]]] = {}
    sources: dict[tuple[str, str, str], DenyEntry] = {}
    with store.session(None, SYNC_ACTOR) as scope:
        for block in list_blocks(scope):
            expires = block.expires_at if block.expires_at is not None else PERMANENT_EXPIRY
            entry = DenyEntry(
                block.tenant_id,
                block.kind,
                block.client,
                block.reason,
                block.created_at,
                expires,
                "store",
            )
            if block.kind == "ip":
                network = ipaddress.ip_network(block.client, strict=False)
                networks.setdefault(block.tenant_id, []).append((network, entry))
            else:
                sources[(block.tenant_id, block.kind, block.client)] = entry
    return networks, sources


def read_route_blocks(store: Store) -> dict[tuple[str, str], list[RoutePattern]]:
    """Return the route blocks in force of every tenant, by (tenant, service)."""
    found: dict[tuple[str, str], list[RoutePattern]] = {}
    with store.session(None, SYNC_ACTOR) as scope:
        for block in list_route_blocks(scope):
            expires = block.expires_at if block.expires_at is not None else PERMANENT_EXPIRY
            origin = cast(Origin, block.origin)
            entry = DenyEntry(
                block.tenant_id,
                "route",
                f"{block.method} {block.path}",
                block.reason,
                block.created_at,
                expires,
                origin,
            )
            pattern = RoutePattern.compile(block.method, block.path, entry)
            found.setdefault((block.tenant_id, block.service_id), []).append(pattern)
    return found


class StoreBlockSync:
    """A background task of one worker that keeps ``deny_list.networks`` in step with the store."""

    def __init__(self, deny_list: DenyList, store_url: str, interval: float) -> None:
        self.deny_list = deny_list
        self.store_url = store_url
        self.interval = interval
        self.task: asyncio.Task[None] | None = None
        self._store: Store | None = None
        self._route_error_logged = False

    def start(self) -> None:
        """Start the task on the running loop, once."""
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def sync_now(self) -> None:
        if self._store is None:
            self._store = Store(open_engine(self.store_url))
        self.deny_list.networks, self.deny_list.sources = read_store_blocks(self._store)
        try:
            self.deny_list.routes = read_route_blocks(self._store)
            self._route_error_logged = False
        except SQLAlchemyError as exc:
            # A store not yet migrated to the route_blocks table must not stop address blocks.
            if not self._route_error_logged:
                log.error("reading route blocks from the store failed; address blocks still "
                          "apply. Run `stockade admin serve` or another store command once "
                          "to migrate the store: %s", exc)
                self._route_error_logged = True
        self.deny_list.clear_cache()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await asyncio.to_thread(self.sync_now)
                failures = 0
            except (SQLAlchemyError, StoreError, ValueError, OSError) as exc:
                failures += 1
                if failures == 1 or failures % 100 == 0:
                    log.error(
                        "reading dynamic blocks from the store failed (%d times in a row), "
                        "the last copy stays in force: %s",
                        failures,
                        exc,
                    )
            await asyncio.sleep(self.interval)
