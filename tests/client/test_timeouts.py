"""Timeouts and cancellation on the client's I/O edge, against a real (paused) redis-server."""

from __future__ import annotations

import os
import signal
import socket
import time

import anyio
import numpy as np
import pytest

from smartflow import Client, ClientConfig, ClientTimeoutError
from tests._support import store_pid


async def test_a_stalled_store_gives_a_typed_timeout_and_the_client_recovers(experiment, store):
    config = ClientConfig(connect_timeout=1.0, command_timeout=0.5)
    async with Client(address=store.get_address()[0], config=config) as client:
        await client.put_tensor("a", np.ones(3))
        pid = store_pid(experiment)
        os.kill(pid, signal.SIGSTOP)
        try:
            for call in (client.get_tensor("a"), client.key_exists("a")):
                started = time.monotonic()
                with anyio.fail_after(5), pytest.raises(ClientTimeoutError):
                    await call
                assert time.monotonic() - started < 2.0
        finally:
            os.kill(pid, signal.SIGCONT)
        np.testing.assert_array_equal(await client.get_tensor("a"), np.ones(3))
        assert await client.key_exists("a") is True


async def test_cancelling_a_transfer_midway_leaves_no_stale_reply(client):
    big = np.arange(4 * 1024 * 1024, dtype=np.float64)  # 32 MiB: takes a while on loopback
    small = np.array([1, 2, 3], dtype=np.int32)
    await client.put_tensor("big", big)
    await client.put_tensor("small", small)
    cancelled = 0
    for delay in (0.0005, 0.001, 0.002, 0.005):
        with anyio.move_on_after(delay) as scope:
            await client.get_tensor("big")
        cancelled += scope.cancelled_caught
        # Whatever state the cancelled GET left, the next read must see its own reply.
        np.testing.assert_array_equal(await client.get_tensor("small"), small)
    assert cancelled > 0, "no transfer was cancelled midway; the test proved nothing"
    np.testing.assert_array_equal(await client.get_tensor("big"), big)


async def test_concurrent_tasks_share_one_client_across_cancellations(client):
    arrays = {f"t{i}": np.full(1000 + i, i, dtype=np.int64) for i in range(40)}
    await client.put_tensors(arrays)

    async def reader(name: str) -> None:
        for _ in range(5):
            np.testing.assert_array_equal(await client.get_tensor(name), arrays[name])

    async with anyio.create_task_group() as tg:
        for name in arrays:
            tg.start_soon(reader, name)
        with anyio.move_on_after(0.001):
            await client.get_tensor("t0")


async def test_a_store_that_accepts_but_never_answers_times_out_on_connect() -> None:
    """The kernel completes the TCP handshake from the listen backlog; nothing ever answers AUTH.
    The error must name the connect timeout, not the (much longer) command timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = ClientConfig(connect_timeout=0.3, command_timeout=30)
        start = time.monotonic()
        with pytest.raises(ClientTimeoutError) as info:
            async with Client(address=f"127.0.0.1:{port}", password="x", config=config):
                pass
        assert time.monotonic() - start < 5
        assert "connect" in str(info.value) and "0.3 s" in str(info.value), str(info.value)
