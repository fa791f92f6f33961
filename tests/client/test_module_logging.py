"""SmartRedis's module-level ``log_data``, ``log_warning`` and ``log_error``: usable without a
client or a store, to structlog and ``SR_LOG_FILE``, filtered by ``SR_LOG_LEVEL`` like the
client's own records (and, like them, logging nothing at ``QUIET``)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import anyio
import pytest
import redis.asyncio as aioredis

import smartflow
from smartflow import (
    Client,
    ClientConfig,
    InvalidArgumentError,
    LogLevel,
    Orchestrator,
    UnsupportedTypeError,
    log_data,
    log_error,
    log_warning,
)
from smartflow.client._logs import LOG_KEY

#: ``<UTC time> <LEVEL> <name>: <message>``, the line both kinds of logging write.
LINE = re.compile(r"^\S+\+00:00 (INFO|DEBUG|DEVELOPER|WARNING|ERROR) (\S*): (.*)$")


@pytest.fixture
def log_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "sr.log"
    for name in ("SR_LOG_LEVEL", "SSKEYOUT", "SSKEYIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SR_LOG_FILE", str(path))
    return path


def _lines(path: Path) -> list[tuple[str, str, str]]:
    if not path.exists():
        return []
    matches = [LINE.match(line) for line in path.read_text().splitlines()]
    assert all(matches), path.read_text()
    return [m.groups() for m in matches if m]  # type: ignore[misc]


def test_the_functions_are_public_and_sync() -> None:
    for function in (log_data, log_warning, log_error):
        assert function.__name__ in smartflow.__all__
        assert getattr(smartflow, function.__name__) is function
        assert "Synchronous" in (function.__doc__ or "")


def test_records_reach_the_file_filtered_by_the_level(
    log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_data("sim", LogLevel.INFO, "step 1")
    log_data("sim", "debug", "hidden at the default INFO")
    log_warning("sim", LogLevel.INFO, "careful")
    log_error("post", LogLevel.DEBUG, "broken\nacross lines")
    monkeypatch.setenv("SR_LOG_LEVEL", "DEVELOPER")  # read at each call
    log_data("sim", LogLevel.DEVELOPER, "now seen")
    assert _lines(log_file) == [
        ("INFO", "sim", "step 1"),
        ("WARNING", "sim", "careful"),
        ("ERROR", "post", "broken\\nacross lines"),
        ("DEVELOPER", "sim", "now seen"),
    ]


def test_quiet_logs_nothing_and_warnings_outlive_a_quiet_threshold(
    log_file: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smartflow.app")
    for function in (log_data, log_warning, log_error):
        function("sim", LogLevel.QUIET, "never")
        function("sim", "quiet", "never")
    assert _lines(log_file) == [] and caplog.records == []
    monkeypatch.setenv("SR_LOG_LEVEL", "QUIET")
    log_data("sim", LogLevel.INFO, "dropped")
    log_warning("sim", LogLevel.INFO, "kept")
    log_error("sim", LogLevel.DEVELOPER, "kept too")
    assert _lines(log_file) == [("WARNING", "sim", "kept"), ("ERROR", "sim", "kept too")]


def test_records_go_through_structlog_named_by_their_context(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SR_LOG_FILE", raising=False)
    monkeypatch.delenv("SR_LOG_LEVEL", raising=False)
    caplog.set_level(logging.DEBUG, logger="smartflow.app")
    log_data("rank-3", LogLevel.INFO, "to the host's logging")
    log_warning("rank-3", LogLevel.INFO, "a warning")
    records = [r for r in caplog.records if r.name == "smartflow.app"]
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    assert "to the host's logging" in records[0].getMessage()
    assert "name='rank-3'" in records[0].getMessage()


def test_bad_arguments_are_refused_in_order_and_nothing_is_logged(log_file: Path) -> None:
    for function in (log_data, log_warning, log_error):
        for args in ((42, LogLevel.INFO, "data"), (None, "info", "data"), (42, 42, 42)):
            with pytest.raises(UnsupportedTypeError, match="context"):
                function(*args)
        for level in (2, None, 2.0):
            with pytest.raises(UnsupportedTypeError, match="log level"):
                function("ctx", level, "data")
        for data in (42, b"bytes", None):
            with pytest.raises(UnsupportedTypeError, match="log message"):
                function("ctx", LogLevel.INFO, data)
        with pytest.raises(InvalidArgumentError, match="log level") as info:
            function("ctx", "Not a logging level", "data")
        assert not isinstance(info.value, TypeError)
    assert not log_file.exists()


def test_a_bad_sr_log_level_is_named(log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SR_LOG_LEVEL", "loud")
    with pytest.raises(InvalidArgumentError, match="SR_LOG_LEVEL"):
        log_data("ctx", LogLevel.INFO, "data")
    assert not log_file.exists()


async def test_the_module_functions_never_touch_a_store_and_match_the_clients_lines(
    store: Orchestrator, raw: aioredis.Redis, log_file: Path
) -> None:
    config = ClientConfig(log_file=str(log_file), logger_name="sim")
    async with Client(address=store.get_address()[0], cluster=False, config=config) as client:
        await client.log_data(LogLevel.QUIET, "the client logs nothing at QUIET either")
        assert not await raw.exists(LOG_KEY) and not await anyio.Path(log_file).exists()
        # Sync, so from async code it goes through a worker thread, as its docstring says.
        await anyio.to_thread.run_sync(log_data, "sim", LogLevel.INFO, "without the client")
        assert not await raw.exists(LOG_KEY)
        await client.log_data(LogLevel.INFO, "with the client")
    assert _lines(log_file) == [
        ("INFO", "sim", "without the client"),
        ("INFO", "sim", "with the client"),
    ]
    assert await raw.llen(LOG_KEY) == 1
