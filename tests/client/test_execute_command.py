"""Client.execute_command: one Redis command for what the typed API does not cover, routed by key
on a cluster, errors typed, arguments checked before any I/O."""

from __future__ import annotations

import pytest

from smartflow import Client, CommandError, InvalidArgumentError, Orchestrator, UnsupportedTypeError

LUA = b"redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"


async def test_a_command_runs_and_returns_its_reply(client: Client) -> None:
    assert await client.execute_command("SET", "k", 1.5) == b"OK"
    assert await client.execute_command("GET", "k") == b"1.5"
    assert await client.execute_command("RPUSH", "l", b"a", "b", 3) == 3
    assert await client.execute_command("LRANGE", "l", 0, -1) == [b"a", b"b", b"3"]
    assert await client.execute_command("GET", "missing") is None


async def test_an_error_reply_is_a_command_error(client: Client) -> None:
    await client.execute_command("SET", "s", "text")
    with pytest.raises(CommandError, match="WRONGTYPE"):
        await client.execute_command("LPUSH", "s", "x")
    assert await client.execute_command("GET", "s") == b"text"


async def test_bad_arguments_are_refused_before_any_io(client: Client) -> None:
    with pytest.raises(InvalidArgumentError):
        await client.execute_command()
    with pytest.raises(UnsupportedTypeError):
        await client.execute_command("SET", "k", None)
    with pytest.raises(UnsupportedTypeError):
        await client.execute_command("SET", "k", True)
    with pytest.raises(UnsupportedTypeError):
        await client.execute_command("GET", "k", key=3)
    assert await client.execute_command("EXISTS", "k") == 0


async def test_on_a_cluster_a_script_runs_on_the_shard_of_its_key(cluster: Orchestrator) -> None:
    async with Client(address=",".join(cluster.get_address()), cluster=True) as client:
        for i in range(20):  # keys on every shard; each script goes to its key's shard
            key = f"{{tag{i}}}:k"
            assert await client.execute_command("EVAL", LUA, 1, key, i, key=key) == str(i).encode()
            assert await client.execute_command("GET", key) == str(i).encode()
