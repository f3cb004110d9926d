from __future__ import annotations

import asyncio

import pytest

from stockade.protection.state import (
    MAX_OWNERS_PER_OBJECT,
    MemoryState,
    ProtectionState,
    StateUnavailable,
)
from stockade.protection.state_redis import RedisState
from tests.protection.stores import state, unique
from tests.ratelimit.redis_support import free_port

__all__ = ["state"]


async def test_count_adds_per_window(state: ProtectionState) -> None:
    key = unique("count")
    assert [await state.count(key, 60) for _ in range(3)] == [1, 2, 3]
    assert await state.peek([(key, 60), (unique("other"), 60)]) == [3, 0]


async def test_count_restarts_in_next_window(state: ProtectionState) -> None:
    key = unique("short")
    await state.count(key, 0.2)
    await asyncio.sleep(0.45)
    assert await state.count(key, 0.2) == 1


async def test_distinct_counts_members_once(state: ProtectionState) -> None:
    key = unique("distinct")
    sizes = [await state.add_distinct(key, member, 60, 10) for member in ("a", "b", "a", "c")]
    assert sizes == [1, 2, 2, 3]


async def test_distinct_stops_at_cap(state: ProtectionState) -> None:
    key = unique("capped")
    sizes = [await state.add_distinct(key, str(number), 60, 3) for number in range(6)]
    assert sizes == [1, 2, 3, 3, 3, 3]


async def test_sequence_run_length(state: ProtectionState) -> None:
    key = unique("sequence")
    runs = [await state.sequence(key, value, 60) for value in (5, 6, 7, 7, 6, 20, 21)]
    assert runs == [1, 2, 3, 3, 4, 1, 2]


async def test_ownership_of_returned_objects(state: ProtectionState) -> None:
    alice, bob = unique("alice"), unique("bob")
    order = unique("orders:1")
    await state.remember(alice, [order], 100, 60)
    assert await state.ownership(alice, order) == (True, True)
    assert await state.ownership(bob, order) == (False, True)
    assert await state.ownership(bob, unique("orders:2")) == (False, False)


async def test_ownership_forgets_oldest_past_max(state: ProtectionState) -> None:
    owner = unique("owner")
    objects = [unique(f"object:{number}") for number in range(5)]
    for obj in objects:
        await state.remember(owner, [obj], 3, 60)
    assert await state.ownership(owner, objects[0]) == (False, False)
    assert await state.ownership(owner, objects[4]) == (True, True)


async def test_widely_shared_object_counts_as_public(state: ProtectionState) -> None:
    obj = unique("shared")
    for number in range(MAX_OWNERS_PER_OBJECT):
        await state.remember(unique(f"owner{number}"), [obj], 10, 60)
    assert await state.ownership(unique("stranger"), obj) == (True, True)


async def test_first_seen_once(state: ProtectionState) -> None:
    key = unique("seen")
    assert await state.first_seen(key, 60) is True
    assert await state.first_seen(key, 60) is False


async def test_memory_state_bounded() -> None:
    store = MemoryState(max_keys=10)
    for number in range(50):
        await store.count(f"key{number}", 60)
    assert await store.peek([("key0", 60), ("key49", 60)]) == [0, 1]


async def test_redis_down_raises_unavailable() -> None:
    store = RedisState(f"redis://127.0.0.1:{free_port()}/0", 0.5)
    with pytest.raises(StateUnavailable, match=r"Redis redis://127\.0\.0\.1"):
        await store.count("stockade-test:{t}:down", 60)
    with pytest.raises(StateUnavailable, match="failed less than"):
        await store.count("stockade-test:{t}:down", 60)
    await store.close()


async def test_check_object_in_one_call(state: ProtectionState) -> None:
    alice, bob = unique("alice"), unique("bob")
    order = unique("orders:7")
    await state.remember(alice, [order], 10, 60)
    first = await state.check_object(bob, order, unique("enum"), 60, 10, 7)
    assert (first.owned, first.known, first.distinct, first.run) == (False, True, 1, 1)
    enum = unique("enum")
    runs = [(await state.check_object(alice, unique(f"orders:{n}"), enum, 60, 10, n)).run
            for n in (1, 2, 3)]
    assert runs == [1, 2, 3]
    anonymous = await state.check_object(None, order, unique("enum"), 60, 10, None)
    assert (anonymous.owned, anonymous.known, anonymous.run) == (False, False, 0)
