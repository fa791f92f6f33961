"""The worker's side of the run protocol: take requests, answer them, on its own shard."""

from __future__ import annotations

from smartflow.client import Client
from smartflow.client import _runs as runs
from smartflow.client._links import on_fast_path
from smartflow.client._resp import ConnectionPool, RespConnection, pack_command, raise_for_error

#: How long one blocking take waits before looping (it wakes at once when a request comes).
BLOCK_S = 5.0
#: Moves up to ARGV[1] more requests from the queue to the busy list, atomically.
_DRAIN = b"""
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if items then
  for _, item in ipairs(items) do redis.call('RPUSH', KEYS[2], item) end
  return items
end
return {}
"""


class Queue:
    """The request queue, busy list and replies of one shard (its worker's view)."""

    def __init__(self, client: Client, pool: ConnectionPool) -> None:
        self._client = client
        self._pool = pool
        self.tag = client._router.tag_for(pool)
        self._queue = runs.queue_key(self.tag)
        self._busy = runs.busy_key(self.tag)

    async def take(self, at_most: int, block_s: float = BLOCK_S) -> list[bytes]:
        """Block until a request comes (or ``block_s`` passes), then take up to ``at_most``
        of those waiting; each is moved to the busy list as it is taken."""
        return await self._on("take requests", lambda c: self._take(c, at_most, block_s))

    async def _take(self, conn: RespConnection, at_most: int, block_s: float) -> list[bytes]:
        wait = f"{max(block_s, 0.001):.3f}"
        await conn.send(pack_command(b"BLMOVE", self._queue, self._busy, b"LEFT", b"RIGHT", wait))
        first = await conn.read_reply()
        raise_for_error(first, "BLMOVE")
        if first is None:
            return []
        await conn.send(pack_command(b"EVAL", _DRAIN, 2, self._queue, self._busy, at_most - 1))
        more = await conn.read_reply()
        raise_for_error(more, "take requests")
        return [first, *(more or [])]  # type: ignore[list-item]

    async def answer(self, answers: list[tuple[bytes, str, bytes]]) -> None:
        """Answer requests: (the raw request, its id, the reply), all in one round trip."""
        commands = []
        for raw, request_id, reply in answers:
            key = runs.reply_key(self.tag, request_id)
            commands += [
                pack_command(b"RPUSH", key, reply),
                pack_command(b"EXPIRE", key, runs.REPLY_TTL_S),
                pack_command(b"LREM", self._busy, 1, raw),
            ]

        async def send(conn: RespConnection) -> None:
            await conn.send(b"".join(commands), replies=len(commands))
            for _ in commands:
                raise_for_error(await conn.read_reply(), "answer requests")

        await self._on("answer requests", send)

    async def answer_orphans(self) -> int:
        """Answer "crashed" to every request a previous worker took and never answered."""

        async def orphans(conn: RespConnection) -> list[bytes]:
            await conn.send(pack_command(b"LRANGE", self._busy, 0, -1))
            reply = await conn.read_reply()
            raise_for_error(reply, "LRANGE busy")
            return reply or []  # type: ignore[return-value]

        taken = await self._on("read the busy list", orphans)
        answers = []
        for raw in taken:
            try:
                request = runs.Request.decode(raw)
            except (ValueError, TypeError, KeyError):
                await self._on("drop a bad request", lambda c, r=raw: _lrem(c, self._busy, r))
                continue
            message = "the inference worker died while running this request; it was restarted"
            answers.append((raw, request.id, runs.error_reply("crashed", message)))
        if answers:
            await self.answer(answers)
        return len(answers)

    async def get(self, keys: list[bytes]) -> list[bytes | None]:
        """MGET of keys on this shard (model records and versions)."""

        async def mget(conn: RespConnection) -> list[bytes | None]:
            await conn.send(pack_command(b"MGET", *keys))
            reply = await conn.read_reply()
            raise_for_error(reply, "MGET")
            return reply  # type: ignore[return-value]

        return await self._on("read models", mget)

    async def _on(self, what: str, operation):  # type: ignore[no-untyped-def]
        client = self._client
        return await on_fast_path(
            self._pool, client._config, what, operation, BLOCK_S + client._config.command_timeout
        )


async def _lrem(conn: RespConnection, key: bytes, raw: bytes) -> None:
    await conn.send(pack_command(b"LREM", key, 1, raw))
    raise_for_error(await conn.read_reply(), "LREM")
