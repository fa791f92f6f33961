"""process.spawn and the termination ladder, on real child processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import anyio
import psutil
import pytest
from anyio.abc import Process

from smartflow import ExecutableNotFoundError, LaunchError
from smartflow.runtime.process import ProcessSpec, spawn
from smartflow.runtime.terminate import terminate
from tests._support import gone, wait_gone

IGNORE_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "


def _spec(tmp_path: Path, *argv: str, name: str = "p", **kwargs) -> ProcessSpec:
    kwargs.setdefault("env", dict(os.environ))
    kwargs.setdefault("stdout_path", tmp_path / f"{name}.out")
    kwargs.setdefault("stderr_path", tmp_path / f"{name}.err")
    return ProcessSpec(argv=tuple(argv), cwd=tmp_path, **kwargs)


def _py(tmp_path: Path, code: str, **kwargs) -> ProcessSpec:
    return _spec(tmp_path, sys.executable, "-c", code, **kwargs)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def _wait_for_text(path: Path, text: str, within: float = 10.0) -> str:
    with anyio.fail_after(within):
        while True:
            content = _read(path)
            if text in content:
                return content
            await anyio.sleep(0.01)


def _kill_quietly(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def _ensure_dead(process: Process) -> None:
    if process.returncode is None:
        await terminate(process, 0)


async def test_sigterm_ignoring_process_is_killed_after_grace(tmp_path: Path) -> None:
    spec = _py(tmp_path, IGNORE_TERM + "print('ready', flush=True); time.sleep(60)")
    process = await spawn(spec)
    try:
        await _wait_for_text(spec.stdout_path, "ready")
        start = time.monotonic()
        returncode = await terminate(process, grace=0.3)
        elapsed = time.monotonic() - start
    finally:
        await _ensure_dead(process)
    assert returncode == -signal.SIGKILL
    assert process.returncode == -signal.SIGKILL
    # At least the grace; well under the child's own 60 s sleep, which only the SIGKILL cuts.
    assert 0.3 <= elapsed < 10, elapsed
    assert gone(process.pid)


@pytest.mark.parametrize(
    "argv",
    [("sleep", "60"), (sys.executable, "-c", "import time; time.sleep(60)")],
    ids=["sleep", "python"],
)
async def test_sigterm_obeying_process_ends_quickly(tmp_path: Path, argv) -> None:
    process = await spawn(_spec(tmp_path, *argv))
    try:
        await anyio.sleep(0.05)
        start = time.monotonic()
        returncode = await terminate(process, grace=30.0)
        elapsed = time.monotonic() - start
    finally:
        await _ensure_dead(process)
    assert returncode == -signal.SIGTERM
    # 10 s leaves a loaded runner room to deliver SIGTERM and reap; waiting out the grace is 30.
    assert elapsed < 10, "must not wait out the grace period when the process obeys SIGTERM"


async def test_terminate_already_exited_process(tmp_path: Path) -> None:
    process = await spawn(_py(tmp_path, "raise SystemExit(7)"))
    with anyio.fail_after(10):
        assert await process.wait() == 7
    start = time.monotonic()
    assert await terminate(process, grace=30.0) == 7
    assert time.monotonic() - start < 10  # nothing to wait for: far below the 30 s grace


async def test_grandchildren_in_the_group_are_killed(tmp_path: Path) -> None:
    kids = tmp_path / "kids"
    script = f"sleep 60 & echo $! >> {kids}; sleep 60 & echo $! >> {kids}; wait"
    process = await spawn(_spec(tmp_path, "/bin/sh", "-c", script))
    pids: list[int] = []
    try:
        content = await _wait_for_text(kids, "\n")
        with anyio.fail_after(10):
            while len(content.split()) < 2:
                await anyio.sleep(0.01)
                content = kids.read_text()
        pids = [int(x) for x in content.split()]
        assert all(not gone(pid) for pid in pids)
        with anyio.fail_after(10):  # a forked shell is named "sh" until it execs sleep
            while {psutil.Process(pid).name() for pid in pids} != {"sleep"}:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        await terminate(process, grace=2.0)
        assert await wait_gone(*pids) == []
    finally:
        await _ensure_dead(process)
        _kill_quietly(pids)


async def test_grandchild_ignoring_sigterm_is_killed_when_leader_exits(tmp_path: Path) -> None:
    """The leader obeys SIGTERM but a grandchild in its group ignores it: it must still die.

    Orphaned grandchildren are reparented away from the driver, so the leftover-process guard
    in conftest cannot see them; check the pid directly.
    """
    pidfile = tmp_path / "grandchild"
    child = f"{IGNORE_TERM}open({str(pidfile)!r}, 'w').write('ready'); time.sleep(60)"
    script = f'{sys.executable} -c "{child}" & echo $! > {pidfile}.pid; wait'
    process = await spawn(_spec(tmp_path, "/bin/sh", "-c", script))
    pid = None
    try:
        await _wait_for_text(pidfile, "ready")
        pid = int((tmp_path / "grandchild.pid").read_text())
        returncode = await terminate(process, grace=0.3)
        assert returncode == -signal.SIGTERM  # the shell obeyed
        assert await wait_gone(pid) == [], (
            "a grandchild that ignores SIGTERM outlived terminate(): the ladder must SIGKILL "
            "the process group after the grace period even when the leader has exited"
        )
    finally:
        await _ensure_dead(process)
        if pid is not None:
            _kill_quietly([pid])


async def test_terminate_is_shielded_from_a_deadline(tmp_path: Path) -> None:
    spec = _py(tmp_path, IGNORE_TERM + "print('ready', flush=True); time.sleep(60)")
    process = await spawn(spec)
    try:
        await _wait_for_text(spec.stdout_path, "ready")
        start = time.monotonic()
        with anyio.move_on_after(0.05):
            await terminate(process, grace=0.4)
        elapsed = time.monotonic() - start
        assert process.returncode == -signal.SIGKILL
        assert elapsed >= 0.4, "the ladder was cut short by the caller's deadline"
        assert gone(process.pid)
    finally:
        await _ensure_dead(process)


async def test_terminate_in_an_already_cancelled_scope(tmp_path: Path) -> None:
    process = await spawn(_spec(tmp_path, "sleep", "60"))
    try:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await terminate(process, grace=2.0)
        assert process.returncode == -signal.SIGTERM
        assert gone(process.pid)
    finally:
        await _ensure_dead(process)


async def test_terminate_survives_cancelling_its_task(tmp_path: Path) -> None:
    spec = _py(tmp_path, IGNORE_TERM + "print('ready', flush=True); time.sleep(60)")
    process = await spawn(spec)
    try:
        await _wait_for_text(spec.stdout_path, "ready")
        async with anyio.create_task_group() as tg:
            tg.start_soon(terminate, process, 0.3)
            await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
        assert process.returncode == -signal.SIGKILL
    finally:
        await _ensure_dead(process)


async def test_outputs_go_to_their_files(tmp_path: Path) -> None:
    code = "import sys; print('to-stdout'); print('to-stderr', file=sys.stderr)"
    spec = _py(tmp_path / "work", code)
    process = await spawn(spec)
    with anyio.fail_after(10):
        assert await process.wait() == 0
    assert process.stdout is None and process.stderr is None, "no pipes through the driver"
    assert spec.stdout_path.read_text() == "to-stdout\n"
    assert spec.stderr_path.read_text() == "to-stderr\n"


async def test_outputs_may_share_one_file(tmp_path: Path) -> None:
    code = "import sys; print('one', flush=True); print('two', file=sys.stderr, flush=True)"
    log = tmp_path / "both.log"
    process = await spawn(_py(tmp_path, code, stdout_path=log, stderr_path=log))
    with anyio.fail_after(10):
        assert await process.wait() == 0
    assert log.read_text() == "one\ntwo\n"


async def test_output_files_are_truncated_on_respawn(tmp_path: Path) -> None:
    spec = _py(tmp_path, "print('second run')")
    spec.stdout_path.write_text("old content " * 100)
    process = await spawn(spec)
    with anyio.fail_after(10):
        await process.wait()
    assert spec.stdout_path.read_text() == "second run\n"


@pytest.mark.parametrize("kind", ["missing-name", "missing-path", "not-executable"])
async def test_missing_executable(tmp_path: Path, kind) -> None:
    if kind == "missing-name":
        exe = "smartflow-no-such-executable-xyz"
    elif kind == "missing-path":
        exe = str(tmp_path / "nowhere" / "prog")
    else:
        target = tmp_path / "prog.sh"
        target.write_text("#!/bin/sh\nexit 0\n")
        target.chmod(0o644)
        exe = str(target)
    with pytest.raises(ExecutableNotFoundError) as info:
        await spawn(_spec(tmp_path, exe))
    assert isinstance(info.value, LaunchError)
    assert isinstance(info.value, FileNotFoundError)
    assert exe in str(info.value)


async def test_stdin_data_reaches_the_child(tmp_path: Path) -> None:
    payload = os.urandom(256 * 1024).hex()  # 512 KiB of text: more than a pipe buffer
    code = "import sys; data = sys.stdin.read(); sys.stdout.write(data)"
    spec = _py(tmp_path, code, stdin_data=payload.encode())
    process = await spawn(spec)
    with anyio.fail_after(10):
        assert await process.wait() == 0
    assert spec.stdout_path.read_text() == payload


async def test_without_stdin_data_stdin_is_empty(tmp_path: Path) -> None:
    spec = _py(tmp_path, "import sys; print(len(sys.stdin.read()))")
    process = await spawn(spec)
    with anyio.fail_after(10):
        assert await process.wait() == 0
    assert spec.stdout_path.read_text() == "0\n"


async def test_stdin_data_to_a_child_that_exits_without_reading(tmp_path: Path) -> None:
    process = await spawn(_py(tmp_path, "raise SystemExit(3)", stdin_data=b"x" * (1 << 20)))
    with anyio.fail_after(10):
        assert await process.wait() == 3


async def test_child_gets_its_own_session_env_and_cwd(tmp_path: Path) -> None:
    workdir = tmp_path / "wd"
    code = (
        "import os; print(os.environ.get('SMARTFLOW_TEST_VAR'), os.getcwd(), "
        "os.getsid(0) == os.getpid() == os.getpgrp())"
    )
    env = {"PATH": os.environ["PATH"], "SMARTFLOW_TEST_VAR": "hello"}
    spec = _py(workdir, code, env=env)
    process = await spawn(spec)
    with anyio.fail_after(10):
        assert await process.wait() == 0
    assert spec.stdout_path.read_text().split() == ["hello", str(workdir), "True"]
