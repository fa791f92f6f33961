"""No orphans: a driver killed (SIGKILL), terminated or interrupted (Ctrl-C) takes everything it
launched with it, grandchildren too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests._support import gone, wait_gone_blocking

DRIVER = textwrap.dedent(
    """
    import sys, anyio
    from smartflow import Experiment

    async def main():
        async with Experiment("orphans", exp_path=sys.argv[1]) as exp:
            db = exp.create_database()
            await exp.start(db)
            rs = exp.create_run_settings("sh", ["-c", "sleep 300 & sleep 300 & wait"])
            ens = exp.create_ensemble("ens", replicas=3, run_settings=rs)
            await exp.start(ens, block=False)
            print("READY", flush=True)
            await anyio.sleep(300)

    anyio.run(main)
    """
)


def _settled_tree(pid: int) -> list[psutil.Process]:
    """The driver's descendants once the shells have started their background sleeps."""
    deadline = time.monotonic() + 30.0  # ample for a loaded runner to fork six sleeps
    while True:
        tree = psutil.Process(pid).children(recursive=True)
        names = [p.name() for p in tree if not gone(p)]
        if names.count("sleep") >= 6 or time.monotonic() > deadline:
            return tree
        time.sleep(0.02)


@contextmanager
def _driver(tmp_path: Path, source: str) -> Iterator[subprocess.Popen]:
    """A driver script running ``source``, once it has printed READY; killed if still alive."""
    script = tmp_path / "driver.py"
    script.write_text(source)
    driver = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "exp")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert driver.stdout is not None
        assert driver.stdout.readline().strip() == "READY"
        yield driver
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        driver.stdout.close()


def _assert_all_gone(tree: list[psutil.Process], after: str) -> None:
    # The processes would live 300 s if nothing killed them.
    alive = [(p.pid, p.name()) for p in wait_gone_blocking(*tree)]
    assert not alive, f"left behind after {after}: {alive}"


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_driver_leaves_no_process_behind(tmp_path: Path, signum: int) -> None:
    with _driver(tmp_path, DRIVER) as driver:
        tree = _settled_tree(driver.pid)
        names = [p.name() for p in tree]
        # 1 store + 3 shells with 2 sleeps each + the watchdog
        assert names.count("sleep") == 6 and names.count("sh") == 3, names
        assert any("redis-server" in n for n in names), names
        os.kill(driver.pid, signum)
        driver.wait(timeout=10)
        _assert_all_gone(tree, "the driver was killed")


LEFT_OPEN = textwrap.dedent(
    """
    import asyncio, sys
    from smartflow import Experiment

    async def main():
        exp = Experiment("left-open", exp_path=sys.argv[1])
        db = exp.create_database()
        await exp.start(db)
        rs = exp.create_run_settings("sleep", ["300"])
        await exp.start(exp.create_ensemble("ens", replicas=2, run_settings=rs), block=False)
        print("READY", flush=True)
        # returns without aclose(): asyncio.run cancels the supervisor's tasks

    asyncio.run(main())
    """
)


def test_asyncio_run_ending_with_the_experiment_open_cleans_up(tmp_path: Path) -> None:
    with _driver(tmp_path, LEFT_OPEN) as driver:
        tree = psutil.Process(driver.pid).children(recursive=True)
        assert driver.wait(timeout=20) == 0, "the driver must exit on its own, not hang"
        _assert_all_gone(tree, "asyncio.run returned")
