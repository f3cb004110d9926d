"""Shared state of the protection detectors: counters, distinct sets, object ownership.

``MemoryState`` keeps everything in the worker process, so with several
workers each one counts on its own. ``RedisState`` (in ``state_redis``)
shares the same operations across workers and gateway nodes. Windows are
fixed buckets of ``window`` seconds on the wall clock, an approximation of a
sliding window that can undercount an attack straddling a bucket edge by up
to half.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

MAX_MEMORY_KEYS = 200_000
"""Keys kept per worker; past it the least recently written go, so memory stays bounded."""

MAX_OWNERS_PER_OBJECT = 64
"""Consumers remembered per object id; shared objects past this are treated as public."""


@dataclass(frozen=True, slots=True)
class ObjectCheck:
    """The state store's record of one requested object, read in one call."""

    owned: bool  # the object was returned to this caller
    known: bool  # the object was returned to any caller
    distinct: int  # distinct ids of the resource this caller asked for in the window
    run: int  # consecutive ids in a row, 0 when the id is not a number


class StateUnavailable(Exception):
    """The state store could not be reached; detectors fail open and log."""


class ProtectionState(Protocol):
    async def count(self, key: str, window: float) -> int:
        """Add one to the counter of the current window of ``key``; return the new value."""
        ...

    async def peek(self, keys: list[tuple[str, float]]) -> list[int]:
        """Return the current window's value of each (key, window) counter, without adding."""
        ...

    async def add_distinct(self, key: str, member: str, window: float, cap: int) -> int:
        """Add ``member`` to the set of the current window; return its size (at most ``cap``)."""
        ...

    async def sequence(self, key: str, value: int, ttl: float) -> int:
        """Return how many values in a row, ending with ``value``, went up or down by one."""
        ...

    async def remember(self, owner: str, objects: list[str], max_objects: int, ttl: float) -> None:
        """Record that ``objects`` were returned to ``owner``; drop its oldest past the max."""
        ...

    async def ownership(self, owner: str, obj: str) -> tuple[bool, bool]:
        """Return (returned to ``owner``, returned to anyone) for one object key."""
        ...

    async def first_seen(self, key: str, ttl: float) -> bool:
        """Mark ``key`` as seen; return True when it was not seen within ``ttl``."""
        ...

    async def check_object(self, owner: str | None, obj: str, distinct_key: str, window: float,
                           cap: int, sequence_value: int | None) -> ObjectCheck:
        """Ownership, distinct ids and the id run of one object request, in one call.

        The distinct set is ``distinct_key`` in the current window; the run is
        kept under ``distinct_key + ":seq"`` for ``window`` seconds.
        """
        ...


def bucket(window: float, now: float | None = None) -> int:
    return int((time.time() if now is None else now) // window)


class _Expiring:
    """A dict of values with expiry times, bounded in size, least recently written first."""

    def __init__(self, max_keys: int) -> None:
        self.items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self.max_keys = max_keys

    def get(self, key: str, now: float) -> object | None:
        item = self.items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self.items[key]
            return None
        return item[1]

    def put(self, key: str, value: object, expires: float) -> None:
        self.items[key] = (expires, value)
        self.items.move_to_end(key)
        while len(self.items) > self.max_keys:
            self.items.popitem(last=False)


class MemoryState:
    """The state store of one worker process."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self._data = _Expiring(max_keys)

    async def count(self, key: str, window: float) -> int:
        now = time.time()
        full = f"{key}:{bucket(window, now)}"
        value = self._data.get(full, now)
        total = (value if isinstance(value, int) else 0) + 1
        self._data.put(full, total, now + window)
        return total

    async def peek(self, keys: list[tuple[str, float]]) -> list[int]:
        now = time.time()
        values = []
        for key, window in keys:
            value = self._data.get(f"{key}:{bucket(window, now)}", now)
            values.append(value if isinstance(value, int) else 0)
        return values

    async def add_distinct(self, key: str, member: str, window: float, cap: int) -> int:
        now = time.time()
        full = f"{key}:{bucket(window, now)}"
        members = self._data.get(full, now)
        if not isinstance(members, set):
            members = set()
        if len(members) < cap:
            members.add(member)
        self._data.put(full, members, now + window)
        return len(members)

    async def sequence(self, key: str, value: int, ttl: float) -> int:
        now = time.time()
        state = self._data.get(key, now)
        run = 1
        if isinstance(state, tuple):
            last, length = state
            if abs(value - last) == 1:
                run = length + 1
            elif value == last:
                run = length
        self._data.put(key, (value, run), now + ttl)
        return run

    async def remember(self, owner: str, objects: list[str], max_objects: int, ttl: float) -> None:
        now = time.time()
        owned = self._data.get(f"own:{owner}", now)
        if not isinstance(owned, OrderedDict):
            owned = OrderedDict()
        for obj in objects:
            owned[obj] = None
            owned.move_to_end(obj)
            owners = self._data.get(f"obj:{obj}", now)
            if not isinstance(owners, set):
                owners = set()
            if len(owners) < MAX_OWNERS_PER_OBJECT:
                owners.add(owner)
            self._data.put(f"obj:{obj}", owners, now + ttl)
        while len(owned) > max_objects:
            oldest, _ = owned.popitem(last=False)
            owners = self._data.get(f"obj:{oldest}", now)
            if isinstance(owners, set):
                owners.discard(owner)
        self._data.put(f"own:{owner}", owned, now + ttl)

    async def ownership(self, owner: str, obj: str) -> tuple[bool, bool]:
        owners = self._data.get(f"obj:{obj}", time.time())
        if not isinstance(owners, set) or not owners:
            return False, False
        if len(owners) >= MAX_OWNERS_PER_OBJECT:
            return True, True
        return owner in owners, True

    async def first_seen(self, key: str, ttl: float) -> bool:
        now = time.time()
        seen = self._data.get(key, now) is not None
        self._data.put(key, True, now + ttl)
        return not seen

    async def check_object(self, owner: str | None, obj: str, distinct_key: str, window: float,
                           cap: int, sequence_value: int | None) -> ObjectCheck:
        owned, known = await self.ownership(owner, obj) if owner is not None else (False, False)
        distinct = await self.add_distinct(distinct_key, obj, window, cap)
        run = 0
        if sequence_value is not None:
            run = await self.sequence(f"{distinct_key}:seq", sequence_value, window)
        return ObjectCheck(owned, known, distinct, run)
