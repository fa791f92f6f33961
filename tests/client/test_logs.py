"""Application logging (log_data, log_warning, log_error, get_log_records): structlog, the
SR_LOG_FILE file and the central list in the store, filtered by SR_LOG_LEVEL."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import anyio
import pytest
import redis.asyncio as aioredis

from smartflow import (
    Client,
    ClientConfig,
    ClientError,
    CommandError,
    Experiment,
    InvalidArgumentError,
    Orchestrator,
    UnsupportedTypeError,
)
from smartflow.client._logs import LOG_KEY, MAX_RECORDS, LogLevel

KEY = LOG_KEY.encode()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("SR_LOG_FILE", "SR_LOG_LEVEL", "SSKEYOUT", "SSKEYIN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _client(store: Orchestrator, **config: object) -> Client:
    return Client(address=store.get_address()[0], cluster=False, config=ClientConfig(**config))


async def _stored(raw: aioredis.Redis) -> list[dict]:
    return [json.loads(entry) for entry in await raw.lrange(KEY, 0, -1)]


async def test_records_reach_the_store_as_json_in_order(
    client: Client, raw: aioredis.Redis
) -> None:
    await client.log_data(LogLevel.INFO, "starting")
    await client.log_data("debug", "hidden at the default INFO level")
    await client.log_data("Developer", "hidden too")
    await client.log_warning("careful")
    await client.log_error("broken: ünïcode")
    stored = await _stored(raw)
    assert [(r["level"], r["message"]) for r in stored] == [
        ("info", "starting"),
        ("warning", "careful"),
        ("error", "broken: ünïcode"),
    ]
    first = stored[0]
    assert first["name"] == "default" and first["pid"] == os.getpid() and first["host"]
    assert first["time"].endswith("+00:00")
    assert await client.get_log_records() == stored
    assert await client.get_log_records(count=2) == stored[1:]


@pytest.mark.parametrize(
    ("threshold", "kept"),
    [
        ("quiet", ["warning", "error"]),
        (LogLevel.INFO, ["info", "warning", "error"]),
        ("DEBUG", ["info", "debug", "warning", "error"]),
        ("developer", ["info", "debug", "developer", "warning", "error"]),
    ],
)
async def test_the_level_threshold_drops_verbose_records_everywhere(
    store: Orchestrator, raw: aioredis.Redis, tmp_path: Path, threshold: object, kept: list[str]
) -> None:
    log_file = tmp_path / "app.log"
    async with _client(store, log_level=threshold, log_file=str(log_file)) as client:
        for level in ("info", "debug", "developer"):
            await client.log_data(level, f"at {level}")
        await client.log_warning("at warning")
        await client.log_error("at error")
    assert [r["level"] for r in await _stored(raw)] == kept
    lines = log_file.read_text().splitlines()
    assert [line.split()[1] for line in lines] == [level.upper() for level in kept]


async def test_the_log_file_gets_one_whole_line_per_record(
    store: Orchestrator, raw: aioredis.Redis, tmp_path: Path
) -> None:
    log_file = tmp_path / "app.log"
    message = "line one\nline two\r\n" + "x" * 20_000  # larger than one buffered write
    async with _client(store, log_file=str(log_file), logger_name="sim") as client:
        await client.log_data("info", message)
        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(client.log_data, "info", f"task {i}")
    lines = log_file.read_text().splitlines()
    assert len(lines) == 51
    time, level, name, text = lines[0].split(" ", 3)
    assert (level, name) == ("INFO", "sim:") and time.endswith("+00:00")
    assert text == "line one\\nline two\\r\\n" + "x" * 20_000
    assert sorted(line.split(": ", 1)[1] for line in lines[1:]) == sorted(
        f"task {i}" for i in range(50)
    )
    stored = await _stored(raw)
    assert stored[0]["message"] == message  # the store keeps the message as it was
    assert len(stored) == 51 and {r["name"] for r in stored} == {"sim"}


async def test_the_environment_sets_file_level_and_name(
    store: Orchestrator, raw: aioredis.Redis, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    log_file = tmp_path / "from-env.log"
    clean_env.setenv("SR_LOG_FILE", str(log_file))
    clean_env.setenv("SR_LOG_LEVEL", "DEBUG")
    clean_env.setenv("SSKEYOUT", "member_3")
    async with Client(address=store.get_address()[0], cluster=False) as client:
        await client.log_data("debug", "seen")
        await client.log_data("developer", "not seen")
    assert [(r["name"], r["message"]) for r in await _stored(raw)] == [("member_3", "seen")]
    assert log_file.read_text().endswith(" DEBUG member_3: seen\n")


async def test_records_go_through_structlog(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smartflow.app")
    await client.log_data("info", "to the host's logging")
    await client.log_error("and an error")
    records = [r for r in caplog.records if r.name == "smartflow.app"]
    assert [r.levelno for r in records] == [logging.INFO, logging.ERROR]
    assert "to the host's logging" in records[0].getMessage()
    assert "name='default'" in records[0].getMessage()


async def test_the_store_keeps_only_the_newest_records(client: Client, raw: aioredis.Redis) -> None:
    await raw.rpush(KEY, *[json.dumps({"message": f"old {i}"}) for i in range(MAX_RECORDS)])
    await client.log_data("info", "newest")
    assert await raw.llen(KEY) == MAX_RECORDS
    assert json.loads(await raw.lindex(KEY, 0))["message"] == "old 1"
    (last,) = await client.get_log_records(1)
    assert last["message"] == "newest"


async def test_foreign_entries_come_back_as_messages(client: Client, raw: aioredis.Redis) -> None:
    await raw.rpush(KEY, b"plain text", b"[1, 2]")
    await client.log_data("info", "mine")
    records = await client.get_log_records()
    assert records[:2] == [{"message": "plain text"}, {"message": "[1, 2]"}]
    assert records[2]["message"] == "mine"


async def test_bad_input_is_refused_and_nothing_is_logged(
    store: Orchestrator, raw: aioredis.Redis, tmp_path: Path
) -> None:
    log_file = tmp_path / "app.log"
    async with _client(store, log_file=str(log_file)) as client:
        for level in ("loud", ""):
            with pytest.raises(InvalidArgumentError):
                await client.log_data(level, "message")
        for level in (2, None, 2.0):
            with pytest.raises(UnsupportedTypeError):
                await client.log_data(level, "message")  # type: ignore[arg-type]
        for level in (LogLevel.QUIET, "quiet"):  # accepted: a record at QUIET logs nothing
            await client.log_data(level, "message")
        for message in (b"bytes", 42, None, ["a"]):
            with pytest.raises(UnsupportedTypeError):
                await client.log_data("info", message)  # type: ignore[arg-type]
            with pytest.raises(UnsupportedTypeError):
                await client.log_warning(message)  # type: ignore[arg-type]
            with pytest.raises(UnsupportedTypeError):
                await client.log_error(message)  # type: ignore[arg-type]
        for count in (0, -1):
            with pytest.raises(InvalidArgumentError):
                await client.get_log_records(count)
        for count in ("5", 2.0, True):
            with pytest.raises(UnsupportedTypeError):
                await client.get_log_records(count)  # type: ignore[arg-type]
    assert not await raw.exists(KEY)
    assert not log_file.exists()


async def test_an_unwritable_log_file_is_a_typed_error_and_nothing_is_stored(
    store: Orchestrator, raw: aioredis.Redis, tmp_path: Path
) -> None:
    async with _client(store, log_file=str(tmp_path / "missing-dir" / "app.log")) as client:
        with pytest.raises(ClientError, match="missing-dir"):
            await client.log_data("info", "lost")
        await client.log_data("debug", "filtered out: no file touched, no error")
    assert not await raw.exists(KEY)


async def test_a_log_key_of_another_type_is_a_command_error(
    client: Client, raw: aioredis.Redis
) -> None:
    await raw.set(KEY, b"not a list")
    with pytest.raises(CommandError, match="WRONGTYPE"):
        await client.log_warning("nowhere to go")
    with pytest.raises(CommandError, match="WRONGTYPE"):
        await client.get_log_records()
    assert await raw.get(KEY) == b"not a list"


async def test_a_closed_client_refuses_to_log(store: Orchestrator, raw: aioredis.Redis) -> None:
    client = _client(store)
    with pytest.raises(ClientError, match="unopened"):
        await client.log_data("info", "too early")
    async with client:
        await client.log_data("info", "in time")
    with pytest.raises(ClientError, match="closed"):
        await client.log_error("too late")
    assert [r["message"] for r in await _stored(raw)] == ["in time"]


async def test_a_cluster_keeps_one_central_log(experiment: Experiment) -> None:
    cluster = experiment.create_database(db_nodes=3)
    await experiment.start(cluster)
    addresses = cluster.get_address()
    # clients seeded from different shards all write to the one list, wherever its slot is
    for i, address in enumerate(addresses):
        config = ClientConfig(logger_name=f"rank{i}")
        async with Client(address=address, cluster=True, config=config) as client:
            await client.log_data("info", f"hello from {i}")
    async with Client(address=addresses[2], cluster=True) as reader:
        records = await reader.get_log_records()
    assert [(r["name"], r["message"]) for r in records] == [
        (f"rank{i}", f"hello from {i}") for i in range(3)
    ]
