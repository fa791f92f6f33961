"""One store's transport: a pool per shard, one slot map, redirects followed, errors mapped.

Everything the client and the inference worker send goes through a :class:`Transport`. A single
store has one pool and nothing to split. On a cluster a key routes by CRC16 slot; a bulk call is
split by shard and the shards run concurrently; a shard that answers MOVED/ASK did not act, so
the slot map is read again and the redirected part re-split and retried, a bounded number of
times. The shards are opaque handles (:class:`~smartflow.wire.pool.ConnectionPool`): callers
name them, never reach inside.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio
from redis.crc import key_slot

from smartflow.errors import RedirectError, SmartflowError
from smartflow.wire.endpoint import Endpoint, parse_address
from smartflow.wire.errors import map_errors, on_pool
from smartflow.wire.pool import ConnectionPool, Limits
from smartflow.wire.resp import (
    RespConnection,
    pack_command,
    raise_for_error,
    transaction,
)
from smartflow.wire.routing import ClusterRouter, SingleRouter

T = TypeVar("T")
Operation = Callable[[RespConnection], Awaitable[T]]
Arg = bytes | str | int | float

#: Tries of a command that a cluster shard redirects (MOVED/ASK) to another.
REDIRECT_TRIES = 3


class Transport:
    """The connections to one store (see the module docstring). ``cluster`` says whether it is
    a Redis Cluster (``seeds`` are then any of its shards) or a single store (``seeds[0]``)."""

    def __init__(
        self, seeds: Sequence[Endpoint], password: str | None, *, cluster: bool, limits: Limits
    ) -> None:
        self.cluster = cluster
        self.limits = limits
        self._router: SingleRouter | ClusterRouter = (
            ClusterRouter(list(seeds), password, limits)
            if cluster
            else SingleRouter(seeds[0], password, limits)
        )

    # -- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Learn the slot map (a cluster) and open and authenticate one connection per shard."""
        await self._router.refresh()
        for pool in self._router.pools():
            await self.on(pool, "connect", command_op("PING", b"PING"))

    def close(self) -> None:
        """Close every connection; commands waiting for one fail with ClientError."""
        self._router.close()

    # -- running operations -------------------------------------------------------------------

    async def one(self, what: str, key: bytes, operation: Operation[T], limit_s=None) -> T:  # type: ignore[no-untyped-def]
        """``operation(conn)`` on the shard serving ``key``. A shard that answers MOVED/ASK did
        not act: the slot map is read again and the operation retried, a bounded number of
        times. ``limit_s`` replaces the command timeout (an operation that waits on purpose)."""
        for _ in range(REDIRECT_TRIES - 1):
            try:
                return await self.on(self._router.pool_for(key), what, operation, limit_s)
            except RedirectError as redirect:
                if redirect.ask_address is not None and isinstance(self._router, ClusterRouter):
                    try:  # the slot is migrating: this key may already be on the new shard
                        pool = self._router.pool_at(redirect.ask_address)
                        return await self.on(
                            pool, what, lambda conn: _asking(conn, operation), limit_s
                        )
                    except RedirectError:
                        pass
                await self._router.refresh()
        return await self.on(self._router.pool_for(key), what, operation, limit_s)

    async def split(self, what: str, keys: list[bytes], items: list, operation) -> list:  # type: ignore[no-untyped-def]
        """``operation(conn, part)`` for the items of each shard, the shards concurrently;
        returns the results in the order of ``items``. A part that a shard redirects is split
        again on a fresh slot map and retried (its puts and gets are idempotent). The first
        error is raised as it is, never wrapped in an exception group."""
        if isinstance(self._router, SingleRouter):  # no splitting, no copies of the items
            return await self.one(what, keys[0], lambda conn: operation(conn, items))
        results: list = [None] * len(items)
        pending = list(range(len(items)))
        for attempt in range(REDIRECT_TRIES):
            redirected, asked = await self._round(what, keys, items, pending, results, operation)
            for i in asked:  # one key at a time: ASK is about one key's slot
                value = await self.one(what, keys[i], lambda c, it=items[i]: operation(c, [it]))
                results[i] = value[0] if value else None
            if not redirected:
                return results
            if attempt + 1 < REDIRECT_TRIES:
                await self._router.refresh()
            pending = redirected
        raise RedirectError(f"{what}: the cluster kept redirecting; is it being resharded?")

    async def on(
        self, shard: ConnectionPool, what: str, operation: Operation[T], limit_s=None
    ) -> T:  # type: ignore[no-untyped-def]
        """``operation(conn)`` on ``shard`` itself, not routed by key (within the command
        timeout, or ``limit_s``)."""
        limit = self.limits.command_timeout if limit_s is None else limit_s
        return await on_pool(shard, what, operation, limit)

    async def command(self, what: str, key: bytes, *args: Arg) -> object:
        """One command on the shard serving ``key``; its reply, an error reply raised typed."""
        return await self.one(what, key, command_op(what, *args))

    async def command_on(self, shard: ConnectionPool, what: str, *args: Arg) -> object:
        """:meth:`command` on ``shard`` itself, not routed by key."""
        return await self.on(shard, what, command_op(what, *args))

    async def transaction(
        self,
        what: str,
        commands: Sequence[Sequence[Arg]],
        *,
        key: bytes | None = None,
        shard: ConnectionPool | None = None,
    ) -> list:
        """``commands`` in one MULTI/EXEC on the shard serving ``key`` (or on ``shard``), in
        one round trip; the replies of the commands."""
        packed = [pack_command(*command) for command in commands]  # type: ignore[arg-type]

        async def run(conn: RespConnection) -> list:
            return await transaction(conn, packed, what)

        if shard is not None:
            return await self.on(shard, what, run)
        return await self.one(what, key or b"", run)

    async def subscriber(self, shard: ConnectionPool, what: str) -> RespConnection:
        """A new connection to ``shard``, outside its pool (it will be subscribed); the caller
        closes it."""
        timeout = self.limits.connect_timeout
        with map_errors(shard.endpoint, f"{what}: connect", timeout):
            with anyio.fail_after(timeout):
                return await shard.open_dedicated()

    # -- the shards (no I/O) ------------------------------------------------------------------

    def shard_for(self, key: bytes) -> ConnectionPool:
        """The shard that serves ``key`` (as the slot map last said)."""
        return self._router.pool_for(key)

    def shards(self) -> list[ConnectionPool]:
        """One handle per shard that serves slots."""
        return self._router.shard_pools()

    def nodes(self) -> list[ConnectionPool]:
        """Every node known: the shards, and seeds named differently from the slot map."""
        return self._router.pools()

    def shard_at(self, address: str) -> ConnectionPool:
        """The shard at ``address`` (``host:port``); for a single store, the store."""
        if isinstance(self._router, SingleRouter):
            return self._router.pools()[0]
        return self._router.pool_at(address)

    def tag_for(self, shard: ConnectionPool) -> str:
        """``shard``'s tag in the run protocol (:mod:`smartflow.wire.protocol`)."""
        return self._router.tag_for(shard)

    def group(self, keys: Sequence[bytes]) -> list[tuple[ConnectionPool, list[int]]]:
        """The keys' positions grouped by the shard that serves them."""
        return self._router.split(keys)

    def holds(self, shard: ConnectionPool, keys: Sequence[bytes]) -> bool:
        """Whether ``shard`` serves every one of ``keys`` (always, for a single store)."""
        try:
            return all(self._router.pool_for(key) is shard for key in keys)
        except SmartflowError:  # a slot no shard serves: let the routed path say so
            return False

    def across_slots(self, a: bytes, b: bytes) -> bool:
        """On a cluster, keys in different slots cannot meet in one COPY or RENAME."""
        return self.cluster and key_slot(a) != key_slot(b)

    async def node(self, address: str) -> ConnectionPool | None:
        """The node at ``address``; a cluster's slot map is read again once before an unknown
        address is answered None (a node may have joined)."""
        wanted = str(parse_address(address))
        for attempt in range(2):
            known = {str(pool.endpoint): pool for pool in self._router.pools()}
            if wanted in known:
                return known[wanted]
            if attempt == 0 and self.cluster:
                await self._router.refresh()
        return None

    async def _round(self, what, keys, items, pending, results, operation):  # type: ignore[no-untyped-def]
        """One round of :meth:`split` over the ``pending`` positions; returns the positions a
        shard redirected with MOVED, and those it answered ASK for."""
        groups = self._router.split([keys[i] for i in pending])
        redirected: list[int] = []
        asked: list[int] = []
        errors: list[Exception] = []

        async def run(pool: ConnectionPool, positions: list[int]) -> None:
            part = [items[i] for i in positions]
            try:
                values = await self.on(pool, what, lambda c: operation(c, part))
            except RedirectError as redirect:
                (asked if redirect.ask_address else redirected).extend(positions)
                return
            except Exception as exc:  # raised after every shard has finished
                errors.append(exc)
                return
            for i, value in zip(positions, values or [None] * len(part), strict=True):
                results[i] = value

        absolute = [(pool, [pending[j] for j in group]) for pool, group in groups]
        if len(absolute) == 1:
            await run(*absolute[0])
        else:
            async with anyio.create_task_group() as tg:
                for pool, positions in absolute:
                    tg.start_soon(run, pool, positions)
        if errors:
            raise errors[0]
        return sorted(redirected), sorted(asked)


def command_op(what: str, *args: Arg) -> Operation[object]:
    """The operation that sends one command and returns its reply, an error reply raised
    typed (for :meth:`Transport.on` and the like)."""
    packed = pack_command(*args)  # type: ignore[arg-type]

    async def run(conn: RespConnection) -> object:
        await conn.send(packed)
        reply = await conn.read_reply()
        raise_for_error(reply, what)
        return reply

    return run


async def _asking(conn: RespConnection, operation):  # type: ignore[no-untyped-def]
    """``ASKING`` then ``operation`` on the same connection, as an ASK redirect requires."""
    await conn.send(pack_command(b"ASKING"))
    raise_for_error(await conn.read_reply(), "ASKING")
    return await operation(conn)
