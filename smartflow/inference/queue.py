"""The worker's side of the run protocol: take requests, answer them, on its own shard.

Everything here talks to the worker's own shard over the fastest path it has (the shard's unix
socket where the worker runs beside it). A busy round costs two round trips: one that reads the
model versions and the inputs held by this shard, and one that writes the outputs held here,
answers, and takes the next requests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import anyio
import numpy as np

from smartflow.client import Client
from smartflow.client import _keyspace as ks
from smartflow.client import _runs as runs
from smartflow.client import _tensor_io as tio
from smartflow.client._links import on_fast_path
from smartflow.client._resp import (
    ConnectionPool,
    ErrorReply,
    RespConnection,
    pack_command,
    raise_for_error,
)
from smartflow.errors import (
    CommandError,
    ConnectionFailedError,
    InferenceError,
    KeyNotFoundError,
    SmartflowError,
)

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


def shard_of(client: Client, shard: str) -> tuple[ConnectionPool, str]:
    """The pool ``client`` reaches the shard at ``shard`` with, and the shard's tag in the run
    protocol (computed as every client of the store computes it, from the slot map)."""
    router = client._router
    pool = router.pool_at(shard) if client._cluster else router.pools()[0]
    return pool, router.tag_for(pool)


class Queue:
    """The request queue, busy list and replies of one shard (its worker's view)."""

    def __init__(self, client: Client, pool: ConnectionPool, tag: str, own: ConnectionPool) -> None:
        """``pool`` reaches the shard by its fastest path; ``own`` is the same shard as
        ``client`` routes to it (how keys are known to live here)."""
        self._client = client
        self._pool = pool
        self._own = own
        self.tag = tag
        self._queue = runs.queue_key(self.tag)
        self._busy = runs.busy_key(self.tag)
        #: Subscribed to the queue's keyspace events, for precise short waits (opened lazily).
        self._subscriber: RespConnection | None = None

    async def take_more(self, at_most: int, within_s: float) -> list[bytes]:
        """Take what is queued now; if nothing is, wait up to ``within_s`` for a request and take
        it. The wait wakes on the queue's keyspace notification: a blocking take's timeout
        would be rounded up to the store's next cron tick (100 ms at Redis's default ``hz``),
        far too coarse for a ``min_batch_timeout`` of a few milliseconds."""
        taken = await self._on("take requests", lambda c: self._drain(c, at_most))
        if taken or within_s <= 0:
            return taken
        try:
            subscriber = await self._subscribed()
            with anyio.move_on_after(within_s) as waiting:
                await ks.next_event(subscriber)
            if waiting.cancelled_caught:  # it may have stopped mid-message: start afresh
                self.close()
        except ConnectionFailedError:  # e.g. dropped for an unread backlog: reopen next time
            self.close()
        return await self._on("take requests", lambda c: self._drain(c, at_most))

    async def _subscribed(self) -> RespConnection:
        if self._subscriber is None:
            with anyio.fail_after(self._client._config.connect_timeout):
                conn = await self._pool.open_dedicated()
            try:
                flags = await ks.subscribe(conn, [self._queue])
                if "K" not in flags or not ("l" in flags or "A" in flags):
                    wanted = ks.union(flags, "Kl")
                    await self._on("enable list events", lambda c: ks.config_set(c, wanted))
            except BaseException:
                conn.close()
                raise
            self._subscriber = conn
        return self._subscriber

    def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None

    def _drain_command(self, at_most: int) -> bytes:
        return pack_command(b"EVAL", _DRAIN, 2, self._queue, self._busy, at_most)

    async def _drain(self, conn: RespConnection, at_most: int) -> list[bytes]:
        await conn.send(self._drain_command(at_most))
        more = await conn.read_reply()
        raise_for_error(more, "take requests")
        return more or []  # type: ignore[return-value]

    async def take(self, at_most: int) -> list[bytes]:
        """Take up to ``at_most`` waiting requests, blocking until one comes (or
        :data:`BLOCK_S` passes); each is moved to the busy list as it is taken."""
        return await self._on("take requests", lambda c: self._take(c, at_most), BLOCK_S)

    async def _take(self, conn: RespConnection, at_most: int) -> list[bytes]:
        # Under load the queue is rarely empty: try the non-blocking take first, so a busy
        # worker spends one round trip per round on taking, not two.
        taken = await self._drain(conn, at_most)
        if taken:
            return taken
        await conn.send(
            pack_command(b"BLMOVE", self._queue, self._busy, b"LEFT", b"RIGHT", BLOCK_S)
        )
        first = await conn.read_reply()
        raise_for_error(first, "BLMOVE")
        if first is None:
            return []
        return [first, *await self._drain(conn, at_most - 1)]  # type: ignore[list-item]

    async def answer(self, answers: list[tuple[bytes, str, bytes]]) -> None:
        """Answer requests: (the raw request, its id, the reply), all in one round trip."""
        commands = self._answer_commands(answers)

        async def send(conn: RespConnection) -> None:
            await conn.send(b"".join(commands), replies=len(commands))
            for _ in commands:
                raise_for_error(await conn.read_reply(), "answer requests")

        await self._on("answer requests", send)

    def _answer_commands(self, answers: list[tuple[bytes, str, bytes]]) -> list[bytes]:
        commands = []
        for raw, request_id, reply in answers:
            key = runs.reply_key(self.tag, request_id)
            commands += [
                pack_command(b"RPUSH", key, reply),
                pack_command(b"EXPIRE", key, runs.REPLY_TTL_S),
                pack_command(b"LREM", self._busy, 1, raw),
            ]
        return commands

    def holds(self, keys: Sequence[bytes]) -> bool:
        """Whether every key lives on this shard (always, for a single store)."""
        router = self._client._router
        try:
            return all(router.pool_for(key) is self._own for key in keys)
        except SmartflowError:  # a slot no shard serves: let the client's path say so
            return False

    async def fetch(
        self, versions: list[bytes], tensors: list[tuple[bytes, str]]
    ) -> tuple[list[bytes | None], list[np.ndarray | tio.ChunkedRef | KeyNotFoundError]]:
        """The values at ``versions`` (MGET) and the tensors at ``tensors`` (key, name), all
        held by this shard, in one round trip; a missing tensor comes back as its error."""

        async def fetch(conn: RespConnection):  # type: ignore[no-untyped-def]
            head = pack_command(b"MGET", *versions) if versions else b""
            gets = b"".join(pack_command(b"GET", key) for key, _ in tensors)
            await conn.send(head + gets, replies=len(tensors) + bool(versions))
            found: list[bytes | None] = []
            if versions:
                found = await conn.read_reply()  # type: ignore[assignment]
                raise_for_error(found, "MGET")
            values: list[np.ndarray | tio.ChunkedRef | KeyNotFoundError] = []
            for _, name in tensors:
                try:
                    values.append(await tio.read_tensor(conn, name))
                except KeyNotFoundError as exc:  # its reply was read whole: go on
                    values.append(exc)
            return found, values

        return await self._on("read models and inputs", fetch)

    async def finish(
        self, outputs: Sequence[tio.EncodedTensor], answers: list[tuple[bytes, str, bytes]],
        take: int,
    ) -> list[bytes]:  # fmt: skip
        """Write ``outputs`` (held by this shard), then send ``answers``, so no answer goes out
        for an output that was not written; with the answers, take up to ``take`` more
        requests. On a single store this is one round trip (a transaction); on a cluster, whose
        transactions cannot span slots, two. Raises :class:`CommandError` when the outputs
        could not be written: then nothing was answered and nothing taken."""
        commands = self._answer_commands(answers)

        async def finish(conn: RespConnection) -> list[bytes]:
            if self._client._cluster:
                await _write(conn, outputs)
                await conn.send(b"".join(commands) + self._drain_command(take), len(commands) + 1)
                replies = [await conn.read_reply() for _ in range(len(commands) + 1)]
                return _taken(replies)
            return await self._finish_at_once(conn, outputs, commands, take)

        return await self._on("write outputs and answer", finish)

    async def _finish_at_once(
        self,
        conn: RespConnection,
        outputs: Sequence[tio.EncodedTensor],
        commands: list[bytes],
        take: int,
    ) -> list[bytes]:
        def parts() -> Iterator[bytes | memoryview]:
            yield pack_command(b"MULTI")
            yield from tio.set_parts(outputs)
            yield from commands
            yield self._drain_command(take)  # inside: a refused round takes nothing either
            yield pack_command(b"EXEC")

        queued = len(outputs) + len(commands) + 1
        await conn.send_parts(parts(), replies=queued + 2)
        replies = [await conn.read_reply() for _ in range(queued + 2)]
        executed = replies[-1]
        if not isinstance(executed, list):  # refused at queueing (out of memory, say): no effect
            refused = next((r for r in replies if isinstance(r, ErrorReply)), executed)
            raise CommandError(f"write outputs: refused by the store: {refused}")
        return _taken(executed)

    async def answer_orphans(self, kind: str = "crashed", message: str = "") -> int:
        """Answer every request in the busy list, taken and never answered: by a previous
        worker ("crashed"), or by this one in a round a store error cut short."""
        message = message or (
            "the inference worker died while running this request; it was restarted"
        )

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
            answers.append((raw, request.id, runs.error_reply(kind, message)))
        if answers:
            await self.answer(answers)
        return len(answers)

    async def announce_ready(self, token: str) -> None:
        """Tell the experiment's readiness probe this worker serves (the key expires unread
        if nobody waits for it)."""
        key = runs.ready_key(self.tag, token)

        async def push(conn: RespConnection) -> None:
            expire = pack_command(b"EXPIRE", key, runs.REPLY_TTL_S)
            commands = [pack_command(b"RPUSH", key, b"1"), expire]
            await conn.send(b"".join(commands), replies=2)
            for _ in commands:
                raise_for_error(await conn.read_reply(), "announce readiness")

        await self._on("announce readiness", push)

    async def get(self, keys: list[bytes]) -> list[bytes | None]:
        """MGET of keys on this shard (model records and versions)."""

        async def mget(conn: RespConnection) -> list[bytes | None]:
            await conn.send(pack_command(b"MGET", *keys))
            reply = await conn.read_reply()
            raise_for_error(reply, "MGET")
            return reply  # type: ignore[return-value]

        return await self._on("read models", mget)

    async def _on(self, what: str, operation, blocks_s: float = 0.0):  # type: ignore[no-untyped-def]
        """``operation`` on the shard, within the command timeout (plus ``blocks_s`` for an
        operation that blocks on purpose, the take)."""
        config = self._client._config
        return await on_fast_path(
            self._pool, config, what, operation, blocks_s + config.command_timeout
        )


def _taken(replies: list) -> list[bytes]:
    """The requests taken, from the replies of answering and taking. Answers went out, so a
    failure is no :class:`CommandError` (its handler would answer again)."""
    failed = next((r for r in replies if isinstance(r, ErrorReply)), None)
    if failed is not None:
        raise InferenceError(f"answer requests and take more: {failed.message}")
    return replies[-1] or []


async def _write(conn: RespConnection, outputs: Sequence[tio.EncodedTensor]) -> None:
    """SET ``outputs``; any failure is a :class:`CommandError` (the caller answers with it)."""
    if not outputs:
        return
    try:
        await tio.put_many(conn, outputs)
    except SmartflowError as exc:
        raise CommandError(f"write outputs: {exc}") from exc


async def _lrem(conn: RespConnection, key: bytes, raw: bytes) -> None:
    await conn.send(pack_command(b"LREM", key, 1, raw))
    raise_for_error(await conn.read_reply(), "LREM")
