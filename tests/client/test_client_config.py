"""ClientConfig.from_env: smartflow's and SmartRedis's variable names, and bad values refused
with an error that names the variable."""

from __future__ import annotations

import pytest

from smartflow import Client, ClientConfig, InvalidArgumentError
from smartflow.client._logs import LogLevel

NAMES = (
    "SMARTFLOW_CONNECT_TIMEOUT",
    "SMARTFLOW_COMMAND_TIMEOUT",
    "SR_CONN_TIMEOUT",
    "SR_CMD_TIMEOUT",
    "SR_CONN_INTERVAL",
    "SR_CMD_INTERVAL",
    "SR_LOG_FILE",
    "SR_LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_when_nothing_is_set() -> None:
    config = ClientConfig.from_env()
    assert config == ClientConfig()
    assert (config.connect_timeout, config.command_timeout) == (5.0, 60.0)
    assert (config.log_file, config.log_level, config.logger_name) == (None, LogLevel.INFO, "")


def test_smartredis_timeouts_are_seconds(env: pytest.MonkeyPatch) -> None:
    env.setenv("SR_CONN_TIMEOUT", "3")
    env.setenv("SR_CMD_TIMEOUT", "2.5")
    env.setenv("SR_CONN_INTERVAL", "not even a number")  # ignored: smartflow does not retry
    env.setenv("SR_CMD_INTERVAL", "-4")
    config = ClientConfig.from_env()
    assert (config.connect_timeout, config.command_timeout) == (3.0, 2.5)


def test_smartflow_names_take_precedence(env: pytest.MonkeyPatch) -> None:
    env.setenv("SR_CONN_TIMEOUT", "3")
    env.setenv("SR_CMD_TIMEOUT", "bad, but never read")
    env.setenv("SMARTFLOW_CONNECT_TIMEOUT", "0.5")
    env.setenv("SMARTFLOW_COMMAND_TIMEOUT", "9")
    config = ClientConfig.from_env()
    assert (config.connect_timeout, config.command_timeout) == (0.5, 9.0)
    env.setenv("SMARTFLOW_COMMAND_TIMEOUT", "")  # empty counts as unset: SmartRedis's is next
    with pytest.raises(InvalidArgumentError, match="SR_CMD_TIMEOUT"):
        ClientConfig.from_env()


@pytest.mark.parametrize("name", ["SR_CONN_TIMEOUT", "SR_CMD_TIMEOUT", "SMARTFLOW_CONNECT_TIMEOUT"])
@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "1_0", "5s"])
def test_bad_timeouts_name_the_variable(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(name, value)
    with pytest.raises(InvalidArgumentError, match=name):
        ClientConfig.from_env()
    with pytest.raises(InvalidArgumentError, match=name):
        Client(address="127.0.0.1:6379", password="x")


def test_log_file_and_level_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("SR_LOG_FILE", "/tmp/app.log")
    levels = {
        "quiet": LogLevel.QUIET,
        "DEBUG": LogLevel.DEBUG,
        " Developer ": LogLevel.DEVELOPER,
        "": LogLevel.INFO,  # empty counts as unset
    }
    for raw, level in levels.items():
        env.setenv("SR_LOG_LEVEL", raw)
        config = ClientConfig.from_env()
        assert (config.log_file, config.log_level) == ("/tmp/app.log", level)
    for bad in ("LOUD", "2", "LLInfo"):
        env.setenv("SR_LOG_LEVEL", bad)
        with pytest.raises(InvalidArgumentError, match="SR_LOG_LEVEL"):
            ClientConfig.from_env()


def test_bad_logging_settings_are_refused() -> None:
    assert ClientConfig(log_level="debug").log_level is LogLevel.DEBUG
    with pytest.raises(InvalidArgumentError, match="log level"):
        ClientConfig(log_level="chatty")
    with pytest.raises(InvalidArgumentError, match="log level"):
        ClientConfig(log_level=3)
    with pytest.raises(InvalidArgumentError, match="log_file"):
        ClientConfig(log_file="")
    with pytest.raises(InvalidArgumentError, match="logger_name"):
        ClientConfig(logger_name=None)  # type: ignore[arg-type]
