"""SyncClient: the Client's API without ``await``, against a real store.

The store fixtures are async, so blocking SyncClient code runs in a worker thread
(``anyio.to_thread.run_sync``), which is where a simulation code without an event loop would be.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    AuthenticationError,
    Client,
    ClientConfig,
    ClientError,
    ConnectionFailedError,
    InvalidArgumentError,
    KeyNotFoundError,
    Orchestrator,
    SyncClient,
    TensorFormatError,
    UnsupportedTypeError,
)
from tests.client._helpers import snapshot

T = TypeVar("T")


async def in_thread(fn: Callable[[], T]) -> T:
    """Run blocking code in a worker thread: no event loop runs there."""
    with anyio.fail_after(30):
        return await anyio.to_thread.run_sync(fn)


def address(store: Orchestrator) -> str:
    return store.get_address()[0]


async def test_round_trip(store: Orchestrator) -> None:
    original = np.arange(12, dtype=">i4").reshape(3, 4)

    def work() -> tuple[np.ndarray, bool, bool]:
        with SyncClient(address=address(store)) as sc:
            sc.put_tensor("t", original)
            return sc.get_tensor("t"), sc.tensor_exists("t"), sc.key_exists("missing")

    result, exists, missing = await in_thread(work)
    assert result.dtype == original.dtype and result.shape == original.shape
    np.testing.assert_array_equal(result, original)
    assert result.flags.writeable and result.flags.c_contiguous
    assert result.ctypes.data % 16 == 0
    assert exists is True and missing is False


async def test_sees_what_the_async_client_wrote(store: Orchestrator, client: Client) -> None:
    original = np.linspace(0, 1, 7)
    await client.put_tensor("from_async", original)

    def work() -> None:
        with SyncClient(address=address(store)) as sc:
            np.testing.assert_array_equal(sc.get_tensor("from_async"), original)
            sc.put_tensor("from_sync", original * 2)

    await in_thread(work)
    np.testing.assert_array_equal(await client.get_tensor("from_sync"), original * 2)


async def test_bulk(store: Orchestrator) -> None:
    tensors = {f"t{i}": np.full((i + 1, 2), i, dtype="f4") for i in range(50)}

    def work() -> dict[str, np.ndarray]:
        with SyncClient(address=address(store)) as sc:
            sc.put_tensors(tensors)
            return sc.get_tensors(list(tensors))

    result = await in_thread(work)
    assert type(result) is dict
    assert list(result) == list(tensors)
    for name, original in tensors.items():
        np.testing.assert_array_equal(result[name], original)


async def test_delete_copy_rename(store: Orchestrator, raw: aioredis.Redis) -> None:
    original = np.arange(5, dtype="u2")

    def work() -> None:
        with SyncClient(address=address(store)) as sc:
            sc.put_tensor("a", original)
            sc.copy_tensor("a", "b")
            sc.rename_tensor("b", "c")
            sc.delete_tensor("a")
            sc.delete_tensor("missing")  # not an error
            np.testing.assert_array_equal(sc.get_tensor("c"), original)

    await in_thread(work)
    assert await raw.keys("*") == [b"c"]


async def test_chunked_tensor(store: Orchestrator, raw: aioredis.Redis) -> None:
    original = np.arange(40_000, dtype="f8")  # 320_000 bytes -> 4 chunks of 100_000

    def work() -> np.ndarray:
        config = ClientConfig(max_value_bytes=100_000)
        with SyncClient(address=address(store), config=config) as sc:
            sc.put_tensor("big", original)
            return sc.get_tensor("big")

    np.testing.assert_array_equal(await in_thread(work), original)
    assert await raw.keys("*") == [b"big"] and await raw.llen("big") == 5  # manifest + 4 chunks


async def test_poll(store: Orchestrator, client: Client) -> None:
    def poll_missing() -> tuple[bool, float]:
        with SyncClient(address=address(store)) as sc:
            start = time.monotonic()
            return sc.poll_tensor("missing", 20, 4), time.monotonic() - start

    found, elapsed = await in_thread(poll_missing)
    assert found is False
    # Three sleeps of 20 ms between four tries (less timer slack); 10 s is loose for a loaded
    # runner yet catches the period read as seconds (60 s).
    assert 0.055 <= elapsed < 10

    results: list[bool] = []

    def poll_late() -> None:
        with SyncClient(address=address(store)) as sc:
            results.append(sc.poll_key("late", 10, 300))

    async def write_later() -> None:
        await anyio.sleep(0.2)
        await client.put_tensor("late", np.ones(1))

    async with anyio.create_task_group() as tg:
        tg.start_soon(in_thread, poll_late)
        tg.start_soon(write_later)
    assert results == [True]


async def test_errors_are_typed_and_the_client_keeps_working(
    store: Orchestrator, raw: aioredis.Redis
) -> None:
    await raw.set("plain", "hello")
    await raw.rpush("list", "x")
    before = await snapshot(raw)
    original = np.ones(3)

    def work() -> None:
        with SyncClient(address=address(store)) as sc:
            with pytest.raises(KeyNotFoundError):
                sc.get_tensor("missing")
            with pytest.raises(KeyNotFoundError):
                sc.copy_tensor("missing", "x")
            with pytest.raises(TensorFormatError):
                sc.get_tensor("plain")
            with pytest.raises(TensorFormatError):
                sc.get_tensor("list")
            with pytest.raises(TensorFormatError):
                sc.delete_tensor("plain")
            with pytest.raises(UnsupportedTypeError):
                sc.put_tensor("x", np.array(["s"]))
            with pytest.raises(UnsupportedTypeError):
                sc.put_tensor("x", [1, 2])
            with pytest.raises(InvalidArgumentError):
                sc.put_tensor("", original)
            with pytest.raises(InvalidArgumentError):
                sc.poll_key("x", 10, 0)

    await in_thread(work)
    assert await snapshot(raw) == before

    def still_works() -> np.ndarray:
        with SyncClient(address=address(store)) as sc:
            with pytest.raises(KeyNotFoundError):
                sc.get_tensor("missing")
            sc.put_tensor("ok", original)
            return sc.get_tensor("ok")

    np.testing.assert_array_equal(await in_thread(still_works), original)


async def test_wrong_password_fails_at_construction(store: Orchestrator) -> None:
    def work() -> None:
        with pytest.raises(AuthenticationError):
            SyncClient(address=address(store), password="not-the-secret")
        with pytest.raises(AuthenticationError):
            SyncClient(address=address(store), password=None)

    await in_thread(work)


async def test_nothing_listening_fails_at_construction(free_port: int) -> None:
    def work() -> float:
        start = time.monotonic()
        with pytest.raises(ConnectionFailedError):
            SyncClient(
                address=f"127.0.0.1:{free_port}",
                password="x",
                config=ClientConfig(connect_timeout=1.0),
            )
        return time.monotonic() - start

    assert await in_thread(work) < 3


def test_malformed_address_fails_at_construction() -> None:
    with pytest.raises(InvalidArgumentError):
        SyncClient(address="no-port-here", password="x")


async def test_refused_when_created_in_a_thread_running_an_event_loop(store: Orchestrator) -> None:
    with pytest.raises(ClientError, match="event loop"):
        SyncClient(address=address(store))


async def test_refused_when_called_in_a_thread_running_an_event_loop(
    store: Orchestrator, raw: aioredis.Redis
) -> None:
    sc = await in_thread(lambda: SyncClient(address=address(store)))
    try:
        await in_thread(lambda: sc.put_tensor("t", np.ones(2)))
        before = await snapshot(raw)
        for call in (
            lambda: sc.put_tensor("u", np.ones(2)),
            lambda: sc.get_tensor("t"),
            lambda: sc.tensor_exists("t"),
            lambda: sc.delete_tensor("t"),
            lambda: sc.poll_key("t", 1, 1),
        ):
            with pytest.raises(ClientError, match="event loop"):
                call()
        assert await snapshot(raw) == before
        # Refusing did not break it: from a thread without a loop it still works.
        assert await in_thread(lambda: sc.tensor_exists("t")) is True
    finally:
        await in_thread(sc.close)


async def test_close_twice_then_refuses_reuse(store: Orchestrator, raw: aioredis.Redis) -> None:
    def work() -> None:
        sc = SyncClient(address=address(store))
        sc.put_tensor("t", np.ones(2))
        sc.close()
        sc.close()
        with pytest.raises(ClientError):
            sc.put_tensor("u", np.ones(2))
        with pytest.raises(ClientError):
            sc.get_tensor("t")
        with pytest.raises(ClientError):
            sc.key_exists("t")

    await in_thread(work)
    assert await raw.keys("*") == [b"t"]


async def test_with_block_closes_its_connections(store: Orchestrator, raw: aioredis.Redis) -> None:
    baseline = len(await raw.client_list())
    during: list[int] = []

    def work() -> None:
        with SyncClient(address=address(store)) as sc:
            sc.put_tensor("t", np.ones(2))
            during.append(len(anyio.from_thread.run(raw.client_list)))

    await in_thread(work)
    assert during[0] > baseline
    await anyio.sleep(0.05)
    assert len(await raw.client_list()) == baseline


async def test_shared_by_several_threads(store: Orchestrator) -> None:
    sc = await in_thread(lambda: SyncClient(address=address(store)))
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for round_ in range(20):
                original = np.full(100 + i, i * 100 + round_, dtype="i8")
                sc.put_tensor(f"t{i}", original)
                np.testing.assert_array_equal(sc.get_tensor(f"t{i}"), original)
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]

        def run_all() -> None:
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        await in_thread(run_all)
        assert errors == []
    finally:
        await in_thread(sc.close)


def test_from_plain_synchronous_code(store: Orchestrator) -> None:
    """A sync test body runs with no event loop, like a simulation code would."""
    original = np.arange(4.0)
    with SyncClient(address=address(store)) as sc:
        sc.put_tensor("t", original)
        np.testing.assert_array_equal(sc.get_tensor("t"), original)
        assert sc.poll_tensor("t", 10, 2) is True


INTERRUPTED = """
import asyncio, os, signal, threading
import numpy as np
from smartflow import SyncClient

with SyncClient() as sc:  # SSDB and SSDB_PASSWORD from the environment
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        sc.poll_key("never-written", 50, 200)  # ~10 s unless interrupted
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # white-box: the interrupted call's task must be gone, not pending on the private loop
    leftovers = [t for t in asyncio.all_tasks(sc._runner.get_loop()) if not t.done()]
    sc.put_tensor("after", np.arange(3))
    print(len(leftovers), sc.get_tensor("after").tolist(), flush=True)
"""


def test_ctrl_c_cancels_the_call_and_the_client_keeps_working(
    store: Orchestrator, tmp_path: Path
) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    env = dict(
        os.environ, SSDB=address(store), SSDB_PASSWORD=store.password, SR_DB_TYPE="Standalone"
    )
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["interrupted", "0 [0, 1, 2]"], result.stdout
