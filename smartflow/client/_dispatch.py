"""Running fast-path operations on the shard that serves each key, following redirects.

A single store has one pool and nothing to split. On a cluster, a bulk call is split by shard
and the shards run concurrently; a shard that answers MOVED/ASK did not act, so the slot map is
read again and the redirected part re-split and retried, a bounded number of times.
"""

from __future__ import annotations

import anyio

from smartflow.client._links import on_fast_path
from smartflow.client._resp import ConnectionPool, RespConnection, pack_command, raise_for_error
from smartflow.client._routing import ClusterRouter, SingleRouter
from smartflow.client.config import ClientConfig
from smartflow.errors import RedirectError

#: Tries of a fast-path command that a cluster shard redirects (MOVED/ASK) to another.
REDIRECT_TRIES = 3


class Dispatcher:
    """Fast-path operations routed by key (see the module docstring)."""

    def __init__(self, router: SingleRouter | ClusterRouter, config: ClientConfig) -> None:
        self._router = router
        self._config = config

    async def one(self, what: str, key: bytes, operation):  # type: ignore[no-untyped-def]
        """Run ``operation(conn)`` on the fast path to the shard serving ``key``. A shard that
        answers MOVED/ASK did not act: the slot map is read again and the operation retried,
        a bounded number of times."""
        for _ in range(REDIRECT_TRIES - 1):
            try:
                return await on_fast_path(self._router.pool_for(key), self._config, what, operation)
            except RedirectError as redirect:
                if redirect.ask_address is not None and isinstance(self._router, ClusterRouter):
                    try:  # the slot is migrating: this key may already be on the new shard
                        pool = self._router.pool_at(redirect.ask_address)
                        return await on_fast_path(
                            pool, self._config, what, lambda conn: _asking(conn, operation)
                        )
                    except RedirectError:
                        pass
                await self._router.refresh()
        return await on_fast_path(self._router.pool_for(key), self._config, what, operation)

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
                values = await on_fast_path(pool, self._config, what, lambda c: operation(c, part))
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


async def _asking(conn: RespConnection, operation):  # type: ignore[no-untyped-def]
    """``ASKING`` then ``operation`` on the same connection, as an ASK redirect requires."""
    await conn.send(pack_command(b"ASKING"))
    raise_for_error(await conn.read_reply(), "ASKING")
    return await operation(conn)
