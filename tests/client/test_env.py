"""The environment contract: ``Client()`` with no arguments finds its store like SmartRedis does.

``SSDB`` / ``SR_DB_TYPE`` / ``SSDB_PASSWORD`` for the default store, ``SSDB_<id>`` /
``SR_DB_TYPE_<id>`` / ``SSDB_PASSWORD_<id>`` for ``Client(db_identifier="<id>")``.
"""

from __future__ import annotations

import os
import sys
import textwrap

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    AuthenticationError,
    Client,
    ClientConfig,
    InvalidArgumentError,
    Orchestrator,
    SyncClient,
)

ENV_NAMES = ("SSDB", "SR_DB_TYPE", "SSDB_PASSWORD", "SSDB_x", "SR_DB_TYPE_x", "SSDB_PASSWORD_x")
DEAD = "127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*ENV_NAMES, "SMARTFLOW_CONNECT_TIMEOUT", "SMARTFLOW_COMMAND_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def assert_works(c: Client, raw: aioredis.Redis, name: str = "t") -> None:
    original = np.arange(3.0)
    await c.put_tensor(name, original)
    np.testing.assert_array_equal(await c.get_tensor(name), original)
    assert await raw.exists(name) == 1


async def test_default_store_from_ssdb(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", store.get_address()[0])
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    monkeypatch.setenv("SSDB_PASSWORD", store.password)
    async with Client() as c:
        assert c.address == store.get_address()[0]
        await assert_works(c, raw)


@pytest.mark.parametrize("identifier", ["", "orchestrator"])
async def test_default_identifiers_read_plain_ssdb(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch, identifier: str
) -> None:
    monkeypatch.setenv("SSDB", store.get_address()[0])
    monkeypatch.setenv("SSDB_PASSWORD", store.password)
    monkeypatch.setenv(f"SSDB_{identifier}", DEAD)
    async with Client(db_identifier=identifier) as c:
        assert c.address == store.get_address()[0]
        await assert_works(c, raw)


async def test_named_store_reads_suffixed_variables(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", DEAD)
    monkeypatch.setenv("SR_DB_TYPE", "Clustered")  # would be refused if it were read
    monkeypatch.setenv("SSDB_PASSWORD", "wrong")
    monkeypatch.setenv("SSDB_x", store.get_address()[0])
    monkeypatch.setenv("SR_DB_TYPE_x", "Standalone")
    monkeypatch.setenv("SSDB_PASSWORD_x", store.password)
    async with Client(db_identifier="x") as c:
        assert c.address == store.get_address()[0]
        await assert_works(c, raw)


@pytest.mark.parametrize("separator", [",", ", ", " , "])
async def test_ssdb_with_several_addresses(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch, separator: str
) -> None:
    monkeypatch.setenv("SSDB", separator.join([store.get_address()[0], DEAD, "127.0.0.1:2"]))
    monkeypatch.setenv("SSDB_PASSWORD", store.password)
    async with Client() as c:
        assert c.address == store.get_address()[0]
        await assert_works(c, raw)


@pytest.mark.parametrize("value", [None, "", " ", ",", " , "], ids=repr)
def test_missing_ssdb_is_refused(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is not None:
        monkeypatch.setenv("SSDB", value)
    with pytest.raises(InvalidArgumentError, match="SSDB"):
        Client()
    with pytest.raises(InvalidArgumentError, match="SSDB"):
        SyncClient()


def test_named_store_does_not_fall_back_to_ssdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", "127.0.0.1:6379")
    with pytest.raises(InvalidArgumentError, match="SSDB_x"):
        Client(db_identifier="x")


def test_malformed_ssdb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", "localhost")
    with pytest.raises(InvalidArgumentError):
        Client()


async def test_explicit_cluster_false_overrides_sr_db_type(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", store.get_address()[0])
    monkeypatch.setenv("SR_DB_TYPE", "Clustered")
    async with Client(cluster=False) as c:
        await assert_works(c, raw)


async def test_driver_client_needs_no_password(store: Orchestrator, raw: aioredis.Redis) -> None:
    """The experiment that started the store remembers its secret for this process."""
    port = store.get_address()[0].rpartition(":")[2]
    for i, address in enumerate((store.get_address()[0], f"localhost:{port}")):
        async with Client(address=address) as c:
            await assert_works(c, raw, f"t{i}")


async def test_explicit_password_wins(store: Orchestrator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", store.get_address()[0])
    monkeypatch.setenv("SSDB_PASSWORD", store.password)
    with anyio.fail_after(5), pytest.raises(AuthenticationError):
        async with Client(password="not-the-secret"):
            pytest.fail("the body must not run")


def test_timeouts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTFLOW_CONNECT_TIMEOUT", "0.25")
    monkeypatch.setenv("SMARTFLOW_COMMAND_TIMEOUT", "7")
    config = ClientConfig.from_env()
    assert (config.connect_timeout, config.command_timeout) == (0.25, 7.0)
    monkeypatch.setenv("SMARTFLOW_CONNECT_TIMEOUT", "soon")
    with pytest.raises(InvalidArgumentError, match="SMARTFLOW_CONNECT_TIMEOUT"):
        Client(address="127.0.0.1:6379", password="x")
    monkeypatch.setenv("SMARTFLOW_CONNECT_TIMEOUT", "-1")
    with pytest.raises(InvalidArgumentError):
        ClientConfig.from_env()


# -- a launched application: another process, which knows only its environment -----------------

APP = textwrap.dedent(
    """
    import asyncio, sys
    from smartflow import AuthenticationError, Client

    async def main(identifier):
        try:
            async with Client(db_identifier=identifier) as c:
                x = await c.get_tensor("from_driver")
                await c.put_tensor("from_app", x * 2)
        except AuthenticationError:
            sys.exit(3)

    asyncio.run(main(sys.argv[1]))
    """
)


async def run_app(env: dict[str, str], identifier: str = "") -> int:
    full_env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES} | env
    with anyio.fail_after(30):
        result = await anyio.run_process(
            [sys.executable, "-c", APP, identifier], env=full_env, check=False
        )
    if result.returncode not in (0, 3):
        pytest.fail(f"app failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    return result.returncode


async def test_launched_application_reads_the_secret_from_the_environment(
    store: Orchestrator, client: Client
) -> None:
    original = np.arange(5, dtype="i4")
    await client.put_tensor("from_driver", original)
    address = store.get_address()[0]

    assert await run_app({"SSDB": address, "SR_DB_TYPE": "Standalone"}) == 3  # no secret
    assert await run_app({"SSDB": address, "SSDB_PASSWORD": "wrong"}) == 3
    assert await client.tensor_exists("from_app") is False
    assert await run_app({"SSDB": address, "SSDB_PASSWORD": store.password}) == 0
    np.testing.assert_array_equal(await client.get_tensor("from_app"), original * 2)


async def test_launched_application_with_a_named_store(store: Orchestrator, client: Client) -> None:
    original = np.arange(4, dtype="f4")
    await client.put_tensor("from_driver", original)
    env = {
        "SSDB": DEAD,
        "SSDB_PASSWORD": "wrong",
        "SSDB_x": store.get_address()[0],
        "SSDB_PASSWORD_x": store.password,
    }
    assert await run_app(env, "x") == 0
    np.testing.assert_array_equal(await client.get_tensor("from_app"), original * 2)
