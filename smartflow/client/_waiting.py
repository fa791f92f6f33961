"""Waiting for keys without polling loops: keyspace notifications.

``wait_for_key`` checks the key once; if it is missing, it opens a dedicated connection to the
shard that serves the key, SUBSCRIBEs to the key's keyspace channel, checks again (so a key
created before the subscription is not missed) and then sleeps until the shard publishes an
event for the key, checking the key after each one (a ``del`` is an event too). No timer runs:
the wait returns one notification and one ``EXISTS`` after the write that creates the key.
``timeout`` bounds the whole wait, its commands included; ``timeout=0`` checks once.

Side effect on the store, stated plainly: notifications must be on, so the first wait that
subscribes on a shard whose ``notify-keyspace-events`` lacks the needed flags sets it to the
union of what is there and ``Kn`` (Redis 7.0+: per-key channel, key-creation events), or ``KA``
(every write event) on an older server. The setting is store-wide and stays until the store
restarts or someone changes it (it is not written to any config file). Its cost is paid by
every matching write whether or not anyone subscribes: the shard formats the channel name and
looks it up in its subscription table; messages are only sent to subscribers. With ``Kn`` that
is one lookup per key *creation*; overwrites cost nothing. ``benchmarks/bench_wait.py``
measures it: a few tenths of a microsecond of server time per created key (``Kn``) or per
write (``KA``), beside roughly half a microsecond for the SET itself.

The flags are read in the same round trip as the SUBSCRIBE, so every wait sees them at no
extra cost (a restarted store, or flags turned off by someone else, are put right by the next
wait); a wait already sleeping when someone turns them off sleeps until its timeout.

Each wait holds one connection per shard involved, for its duration; to wait for many keys use
:meth:`WaitOps.wait_for_keys` (one connection per shard for all of them). On a cluster, a key
whose slot migrates to another shard during the wait is not followed: the new shard's events
go elsewhere, so the wait ends at its timeout (checks that meet MOVED are followed, as always).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Awaitable, Iterable
from typing import TypeVar

import anyio

from smartflow.client._core import Seam, _State, key_bytes
from smartflow.client._prefix import Kind
from smartflow.errors import (
    ClientError,
    ClientTimeoutError,
    CommandError,
    ConnectionFailedError,
    InvalidArgumentError,
    UnsupportedTypeError,
)
from smartflow.wire import ConnectionPool
from smartflow.wire import keyspace as ks
from smartflow.wire.errors import map_errors

T = TypeVar("T")
#: Keys named in a timeout error; the rest are counted.
_NAMED_KEYS = 5


class WaitOps(Seam):
    """Waiting for keys to appear, woken by the store's keyspace notifications (no polling).

    The public methods take ``timeout`` (as SmartRedis's polls take their counts) so that the
    blocking SyncClient can offer the same call; async callers may also use a cancel scope.
    """

    async def wait_for_key(self, key: str, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once ``key`` exists, whatever it holds (the key as stored: never prefixed).

        ``timeout`` is in seconds; ``None`` waits until the key appears or the call is
        cancelled. Raises :class:`~smartflow.errors.ClientTimeoutError` naming the key when it
        does not appear in time. Turns keyspace notifications on for the store if they are
        off (see the module docstring for what that costs).
        """
        keys = [key_bytes(key)]
        await self._wait(f"wait_for_key {key!r}", keys, _checked_timeout(timeout))

    async def wait_for_keys(
        self,
        keys: Iterable[str],
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Return once every key of ``keys`` exists (as stored: never prefixed); like
        :meth:`wait_for_key` but with one connection per shard for all the keys. The timeout
        error names the keys still missing. No keys: returns at once."""
        if isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
            raise UnsupportedTypeError(
                f"wait_for_keys takes an iterable of key names (str), got {type(keys).__name__}"
                + ("; use wait_for_key for one key" if isinstance(keys, str) else "")
            )
        names = [key_bytes(key) for key in keys]
        what = f"wait_for_keys ({len(names)} keys)"
        await self._wait(what, names, _checked_timeout(timeout))

    async def wait_for_tensor(self, name: str, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once a tensor is stored under ``name``, read through the data source prefix
        like :meth:`get_tensor` (a chunked tensor's key is written last, so it is whole)."""
        key = self._key_in(Kind.TENSOR, name)
        await self._wait(f"wait_for_tensor {name!r}", [key], _checked_timeout(timeout))

    # -- internals ----------------------------------------------------------------------------

    async def _wait(self, what: str, keys: list[bytes], limit: float | None) -> None:
        """Wait for ``keys``, at most ``limit`` seconds (0: check once) or without limit."""
        self._check_open()
        missing = dict.fromkeys(keys)  # ordered, no duplicates
        if limit == 0:
            await self._forget_present(what, missing)
            if missing:
                raise ClientTimeoutError(f"{what}: {_describe(missing)} (checked once)")
            return
        scope = anyio.CancelScope(deadline=anyio.current_time() + (limit or math.inf))
        self._wait_scopes.add(scope)
        try:
            with scope:
                # A key already there costs one round trip and no subscription.
                await self._forget_present(what, missing)
                if missing:
                    await self._watch(what, missing)
                return
        finally:
            self._wait_scopes.discard(scope)
        if self._state is _State.CLOSED:
            raise ClientError(f"{what}: the client was closed while waiting")
        raise ClientTimeoutError(f"{what}: {_describe(missing)} within {limit:g} s")

    async def _forget_present(self, what: str, missing: dict[bytes, None]) -> None:
        """Remove the keys that exist from ``missing``."""
        keys = list(missing)
        if keys:
            for key, present in zip(keys, await self._present(what, keys), strict=True):
                if present:
                    del missing[key]

    async def _watch(self, what: str, missing: dict[bytes, None]) -> None:
        """Wait until ``missing`` is empty: one subscription per shard, the shards concurrently.
        The first error is raised as it is, never wrapped in an exception group."""
        keys = list(missing)
        groups = [(pool, [keys[i] for i in at]) for pool, at in self._wire.group(keys)]
        if len(groups) == 1:
            await self._watch_shard(what, *groups[0], missing)
            return
        errors: list[Exception] = []
        async with anyio.create_task_group() as tg:

            async def run(pool: ConnectionPool, part: list[bytes]) -> None:
                try:
                    await self._watch_shard(what, pool, part, missing)
                except Exception as exc:
                    errors.append(exc)
                    tg.cancel_scope.cancel()

            for pool, part in groups:
                tg.start_soon(run, pool, part)
        if errors:
            raise errors[0]

    async def _watch_shard(
        self, what: str, pool: ConnectionPool, keys: list[bytes], missing: dict[bytes, None]
    ) -> None:
        """Subscribe on ``pool``'s shard, then check and sleep until each of ``keys`` exists."""
        self._check_open()
        conn = await self._wire.subscriber(pool, what)
        try:  # conn.close() is synchronous: a cancellation cannot interrupt it, nothing leaks
            flags = await self._bounded(what, pool, ks.subscribe(conn, keys))
            if not ks.flags_suffice(flags):
                await self._turn_on_notifications(what, pool, flags)
            waiting = set()
            for key, present in zip(keys, await self._present(what, keys), strict=True):
                if present:
                    missing.pop(key, None)
                else:
                    waiting.add(key)
            while waiting:
                key = await self._io(what, pool, ks.next_event(conn))
                if key in waiting and (await self._present(what, [key]))[0]:
                    waiting.discard(key)
                    missing.pop(key, None)
        finally:
            conn.close()

    async def _present(self, what: str, keys: list[bytes]) -> list[bool]:
        """Whether each key exists (cluster redirects followed)."""
        return await self._split(what, keys, keys, ks.existing)

    async def _turn_on_notifications(self, what: str, pool: ConnectionPool, flags: str) -> None:
        """Add the flags a wait needs to the shard's ``notify-keyspace-events``."""
        try:
            await self._on(
                pool, what, lambda c: ks.config_set(c, ks.union(flags, ks.NEW_KEY_FLAGS))
            )
        except CommandError:  # before Redis 7.0 there is no n (new-key events): all events
            wanted = ks.union(flags, ks.ALL_EVENT_FLAGS)
            await self._on(pool, what, lambda c: ks.config_set(c, wanted))

    async def _bounded(self, what: str, pool: ConnectionPool, step: Awaitable[T]) -> T:
        """``step`` on a subscriber connection within the command timeout."""
        timeout = self._config.command_timeout
        with map_errors(pool.endpoint, what, timeout), anyio.fail_after(timeout):
            return await self._io(what, pool, step)

    async def _io(self, what: str, pool: ConnectionPool, step: Awaitable[T]) -> T:
        """``step`` on a subscriber connection, its errors typed and named."""
        with map_errors(pool.endpoint, what):  # OS errors: named here, with the shard
            try:
                return await step
            except ConnectionFailedError as exc:  # "the store closed the connection": say where
                raise ConnectionFailedError(f"{what}: {pool.endpoint}: {exc}") from exc


def _checked_timeout(timeout: object) -> float | None:
    """``None`` (no limit) or a number of seconds >= 0 (``inf`` is no limit too)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise UnsupportedTypeError(
            f"timeout must be a number of seconds, or None to wait without limit; "
            f"got {type(timeout).__name__}"
        )
    if math.isnan(timeout) or timeout < 0:
        raise InvalidArgumentError(
            f"timeout must be a number of seconds >= 0, or None to wait without limit; "
            f"got {timeout!r}"
        )
    return float(timeout)


def _describe(missing: dict[bytes, None]) -> str:
    """The keys still missing, for a timeout error."""
    names = [repr(key.decode("utf-8", errors="replace")) for key in missing]
    shown = ", ".join(names[:_NAMED_KEYS])
    more = f" and {len(names) - _NAMED_KEYS} more" if len(names) > _NAMED_KEYS else ""
    return f"{'key' if len(names) == 1 else 'keys'} {shown}{more} did not appear"
