"""Which shard's pool serves a key: one store, or a Redis Cluster's one slot map.

A cluster's map comes from ``CLUSTER SLOTS`` and is read again when a shard answers MOVED or
ASK (the caller retries a bounded number of times). Keys route by CRC16 slot with ``{hash tag}``
support, the same function redis-py's cluster client uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.crc import key_slot

from smartflow.errors import (
    AuthenticationError,
    ClientError,
    CommandError,
    ConnectionFailedError,
)
from smartflow.wire.endpoint import Endpoint, parse_address
from smartflow.wire.errors import on_pool
from smartflow.wire.pool import ConnectionPool, Limits
from smartflow.wire.resp import RespConnection, pack_command, raise_for_error

SLOTS = 16384


def _pool(endpoint: Endpoint, password: str | None, limits: Limits) -> ConnectionPool:
    return ConnectionPool(
        endpoint, password, limits.max_connections, limits.connect_timeout, limits.client_name
    )


class SingleRouter:
    """One store: every key goes to its one pool."""

    def __init__(self, endpoint: Endpoint, password: str | None, limits: Limits) -> None:
        self._pool = _pool(endpoint, password, limits)

    def pool_for(self, key: bytes) -> ConnectionPool:
        return self._pool

    def split(self, keys: Sequence[bytes]) -> list[tuple[ConnectionPool, list[int]]]:
        """The keys' positions grouped by the pool that serves them."""
        return [(self._pool, list(range(len(keys))))]

    def pools(self) -> list[ConnectionPool]:
        return [self._pool]

    def tag_for(self, pool: ConnectionPool) -> str:
        """The shard's tag in the run protocol (:mod:`smartflow.wire.protocol`)."""
        return "0"

    def shard_pools(self) -> list[ConnectionPool]:
        """One pool per shard that serves slots."""
        return [self._pool]

    async def refresh(self) -> None:
        """Nothing to learn: a single store serves every key."""

    def close(self) -> None:
        self._pool.close()


class ClusterRouter:
    """A Redis Cluster: a pool per shard, and the slot map that says which serves a key."""

    def __init__(self, seeds: list[Endpoint], password: str | None, limits: Limits) -> None:
        self._password, self._limits = password, limits
        self._pools = {str(seed): _pool(seed, password, limits) for seed in seeds}
        self._slots: list[ConnectionPool | None] = [None] * SLOTS
        self._tags: dict[int, str] = {}

    def pool_for(self, key: bytes) -> ConnectionPool:
        pool = self._slots[key_slot(key)]
        if pool is None:
            raise ConnectionFailedError(
                f"no shard of the cluster serves slot {key_slot(key)} (key {key[:40]!r})"
            )
        return pool

    def pool_at(self, address: str) -> ConnectionPool:
        """The pool of the shard at ``host:port`` (named by an ASK redirect)."""
        endpoint = parse_address(address)
        pool = self._pools.get(str(endpoint))
        if pool is None:
            pool = self._pools[str(endpoint)] = _pool(endpoint, self._password, self._limits)
        return pool

    def split(self, keys: Sequence[bytes]) -> list[tuple[ConnectionPool, list[int]]]:
        groups: dict[int, tuple[ConnectionPool, list[int]]] = {}
        for i, key in enumerate(keys):
            pool = self.pool_for(key)
            groups.setdefault(id(pool), (pool, []))[1].append(i)
        return list(groups.values())

    def pools(self) -> list[ConnectionPool]:
        return list(self._pools.values())

    def shard_pools(self) -> list[ConnectionPool]:
        """One pool per shard that serves slots (a seed named differently from the slot map's
        address, or a replica, is left out)."""
        unique = {id(pool): pool for pool in self._slots if pool is not None}
        return list(unique.values())

    def tag_for(self, pool: ConnectionPool) -> str:
        """The shard's tag in the run protocol: the smallest integer whose decimal string
        hashes to a slot ``pool`` serves (worker and clients compute it from the same map)."""
        tag = self._tags.get(id(pool))
        if tag is None:
            owned = next(
                (i for i in range(SLOTS * 8) if self._slots[key_slot(b"%d" % i)] is pool), None
            )
            if owned is None:
                raise ConnectionFailedError(f"the shard at {pool.endpoint} serves no slot")
            tag = self._tags[id(pool)] = str(owned)
        return tag

    async def refresh(self) -> None:
        """Read the slot map from the first shard that answers."""
        errors: list[str] = []
        for pool in list(self._pools.values()):
            try:
                table = await on_pool(
                    pool, "CLUSTER SLOTS", _cluster_slots, self._limits.command_timeout
                )
            except AuthenticationError:
                raise  # every shard has the same secret: asking the next one will not help
            except CommandError as exc:
                if "cluster support disabled" not in str(exc):
                    raise
                raise CommandError(
                    f"{exc} (the store at {pool.endpoint} is not a Redis Cluster: "
                    "use cluster=False for a single-shard store)"
                ) from exc
            except ClientError as exc:
                errors.append(f"{pool.endpoint}: {exc}")
                continue
            try:
                self._apply(table)
            except (TypeError, ValueError, AttributeError) as exc:
                raise ConnectionFailedError(
                    f"CLUSTER SLOTS from {pool.endpoint}: malformed reply ({exc})"
                ) from exc
            return
        raise ConnectionFailedError(f"no shard of the cluster answered: {'; '.join(errors)}")

    def _apply(self, table: list) -> None:
        slots: list[ConnectionPool | None] = [None] * SLOTS
        for start, end, (host, port, *_), *_ in table:
            endpoint = Endpoint(host.decode(), int(port))
            pool = self._pools.get(str(endpoint))
            if pool is None:
                pool = self._pools[str(endpoint)] = _pool(endpoint, self._password, self._limits)
            slots[start : end + 1] = [pool] * (end - start + 1)
        self._slots = slots
        self._tags = {}

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


async def _cluster_slots(conn: RespConnection) -> list:
    await conn.send(pack_command(b"CLUSTER", b"SLOTS"))
    reply = await conn.read_reply()
    raise_for_error(reply, "CLUSTER SLOTS")
    if not isinstance(reply, list):
        raise ConnectionFailedError(f"CLUSTER SLOTS: unexpected reply {reply!r:.80}")
    return reply
