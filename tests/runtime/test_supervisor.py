"""The Supervisor and its ProcessActors, driven directly with typed messages."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import psutil
import pytest
from anyio.abc import Process

from smartflow import ExecutableNotFoundError, ExperimentError, LaunchError, SmartflowError, Status
from smartflow.runtime.actor import ActorHandle
from smartflow.runtime.messages import ActorSpec, Launch, RestartPolicy, Shutdown, Stop
from smartflow.runtime.process import ProcessSpec
from smartflow.runtime.supervisor import Supervisor
from tests._support import alive

SLEEP = "import time; time.sleep(60)"
IGNORE_TERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


@pytest.fixture(autouse=True)
def _collect_garbage():
    """Collect after each test so a leaked (unclosed) stream warns in the test that leaked it."""
    yield
    gc.collect()


def _spec(tmp_path: Path, name: str, code: str, **kwargs) -> ActorSpec:
    return _argv_spec(tmp_path, name, (sys.executable, "-c", code), **kwargs)


def _argv_spec(tmp_path: Path, name: str, argv: tuple[str, ...], **kwargs) -> ActorSpec:
    process = ProcessSpec(
        argv=argv,
        cwd=tmp_path,
        env=dict(os.environ),
        stdout_path=tmp_path / f"{name}.out",
        stderr_path=tmp_path / f"{name}.err",
    )
    return ActorSpec(name=name, kind="Model", process=process, **kwargs)


@asynccontextmanager
async def _supervisor() -> AsyncIterator[tuple[Supervisor, asyncio.Task[None]]]:
    sup = Supervisor("test")
    task = asyncio.get_running_loop().create_task(sup.run())
    try:
        yield sup, task
    finally:
        with anyio.CancelScope(shield=True):
            if not task.done():
                try:
                    await sup.request(Shutdown())
                except ExperimentError:
                    pass
            with anyio.fail_after(15):
                await asyncio.wait([task])


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _children() -> set[int]:
    return {p.pid for p in psutil.Process(os.getpid()).children(recursive=True) if alive(p.pid)}


def _running(code: str) -> set[int]:
    """Our live children running ``python -c code`` (the supervisor's watchdog excluded)."""
    found = set()
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if code in child.cmdline() and alive(child.pid):
                found.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return found


async def _ended(sup: Supervisor, name: str, within: float = 10.0) -> None:
    with anyio.fail_after(within):
        await sup.table[name].ended.wait()


async def test_short_process_runs_then_completes(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        handles = await sup.request(
            Launch((_spec(tmp_path, "short", "import time; time.sleep(0.3)"),))
        )
        assert isinstance(handles, list) and len(handles) == 1
        (handle,) = handles
        assert isinstance(handle, ActorHandle)
        record = sup.table["short"]
        assert record.status is Status.RUNNING
        assert record.job_id == handle.job_id
        assert record.started_at is not None
        assert record.kind == "Model"
        await _ended(sup, "short")
        assert record.status is Status.COMPLETED
        assert record.returncode == 0
        assert record.error_tail == ""
        assert record.ended_at is not None and record.ended_at >= record.started_at
        assert not alive(int(handle.job_id))


async def test_failing_process_is_failed_with_tail(tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('kaboom: the simulation diverged\\n'); sys.exit(3)"
    async with _supervisor() as (sup, _):
        await sup.request(Launch((_spec(tmp_path, "bad", code),)))
        await _ended(sup, "bad")
        record = sup.table["bad"]
        assert record.status is Status.FAILED
        assert record.returncode == 3
        assert "kaboom: the simulation diverged" in record.error_tail


async def test_stop_cancels(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        (handle,) = await sup.request(Launch((_spec(tmp_path, "sleeper", SLEEP),)))
        assert alive(int(handle.job_id))
        with anyio.fail_after(10):
            await sup.request(Stop(("sleeper",)))
        # Stop answers once the actor has reported its end.
        record = sup.table["sleeper"]
        assert record.status is Status.CANCELLED
        assert record.returncode == -signal.SIGTERM
        assert not alive(int(handle.job_id))


async def test_stop_escalates_to_sigkill_after_grace(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        spec = _spec(tmp_path, "stubborn", IGNORE_TERM, grace=0.3)
        (handle,) = await sup.request(Launch((spec,)))
        with anyio.fail_after(10):
            while True:
                if "ready" in _read(spec.process.stdout_path):
                    break
                await anyio.sleep(0.01)
        start = anyio.current_time()
        with anyio.fail_after(5):
            await sup.request(Stop(("stubborn",)))
        assert anyio.current_time() - start >= 0.3
        assert sup.table["stubborn"].status is Status.CANCELLED
        assert sup.table["stubborn"].returncode == -signal.SIGKILL
        assert not alive(int(handle.job_id))


async def test_stop_of_a_finished_actor_returns(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        await sup.request(Launch((_spec(tmp_path, "quick", "pass"),)))
        await _ended(sup, "quick")
        with anyio.fail_after(5):
            await sup.request(Stop(("quick",)))
        assert sup.table["quick"].status is Status.COMPLETED


async def test_probe_never_ready_and_process_exits(tmp_path: Path) -> None:
    code = "import sys; print('dying on purpose', file=sys.stderr); sys.exit(2)"
    probed = anyio.Event()

    async def never_ready(_: Process) -> None:
        probed.set()
        await anyio.sleep_forever()

    async with _supervisor() as (sup, _):
        with anyio.fail_after(10):
            with pytest.raises(LaunchError) as info:
                await sup.request(Launch((_spec(tmp_path, "dud", code, ready=never_ready),)))
        exc = info.value
        assert not isinstance(exc, BaseExceptionGroup)
        assert isinstance(exc, SmartflowError)
        assert probed.is_set()
        assert "dying on purpose" in str(exc)
        assert "2" in str(exc)
        assert sup.table["dud"].status is Status.FAILED
        # The supervisor is still serving.
        await sup.request(Launch((_spec(tmp_path, "after", SLEEP),)))
        assert sup.table["after"].status is Status.RUNNING


async def test_probe_that_raises_kills_the_process(tmp_path: Path) -> None:
    before = _children()
    seen: list[int] = []

    async def broken_probe(process: Process) -> None:
        seen.append(process.pid)
        await anyio.sleep(0.05)
        raise RuntimeError("probe gave up")

    async with _supervisor() as (sup, _):
        with anyio.fail_after(10):
            with pytest.raises(LaunchError) as info:
                await sup.request(Launch((_spec(tmp_path, "p", SLEEP, ready=broken_probe),)))
        assert not isinstance(info.value, BaseExceptionGroup)
        assert "probe gave up" in str(info.value)
        assert sup.table["p"].status is Status.FAILED
        assert "probe gave up" in sup.table["p"].error_tail
        assert "TaskGroup" not in sup.table["p"].error_tail  # the cause, not the group's text
        assert seen and not alive(seen[0])
    assert _children() - before == set()


async def test_probe_success_reports_running(tmp_path: Path) -> None:
    async def ready_after_output(process: Process) -> None:
        while True:
            if "up" in _read(tmp_path / "ok.out"):
                return
            await anyio.sleep(0.01)

    code = "import time; print('up', flush=True); time.sleep(60)"
    async with _supervisor() as (sup, _):
        with anyio.fail_after(10):
            await sup.request(Launch((_spec(tmp_path, "ok", code, ready=ready_after_output),)))
        assert "up" in (tmp_path / "ok.out").read_text()
        assert sup.table["ok"].status is Status.RUNNING


async def test_missing_executable_is_refused(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        spec = _argv_spec(tmp_path, "ghost", (str(tmp_path / "no-such-program"),))
        with pytest.raises(ExecutableNotFoundError) as info:
            await sup.request(Launch((spec,)))
        assert not isinstance(info.value, BaseExceptionGroup)
        assert sup.table["ghost"].status is Status.FAILED


async def test_launching_a_running_name_twice_is_refused(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        (first,) = await sup.request(Launch((_spec(tmp_path, "dup", SLEEP),)))
        with pytest.raises(ExperimentError):
            await sup.request(Launch((_spec(tmp_path, "dup", SLEEP),)))
        assert sup.table["dup"].status is Status.RUNNING
        assert sup.table["dup"].job_id == first.job_id
        assert alive(int(first.job_id))


async def test_shutdown_stops_every_running_actor(tmp_path: Path) -> None:
    async with _supervisor() as (sup, task):
        handles = await sup.request(
            Launch((_spec(tmp_path, "a", SLEEP), _spec(tmp_path, "b", SLEEP)))
        )
        assert all(alive(int(h.job_id)) for h in handles)
        await sup.request(Launch((_spec(tmp_path, "done", "pass"),)))
        await _ended(sup, "done")
        with anyio.fail_after(10):
            await sup.request(Shutdown())
            await asyncio.wait([task])
        assert task.done() and task.exception() is None
        assert sup.table["a"].status is Status.CANCELLED
        assert sup.table["b"].status is Status.CANCELLED
        assert sup.table["done"].status is Status.COMPLETED
        assert not any(alive(int(h.job_id)) for h in handles)


async def test_requests_after_shutdown_raise(tmp_path: Path) -> None:
    async with _supervisor() as (sup, task):
        await sup.request(Shutdown())
        with anyio.fail_after(5):
            await asyncio.wait([task])
            with pytest.raises(ExperimentError):
                await sup.request(Launch((_spec(tmp_path, "late", SLEEP),)))
            with pytest.raises(ExperimentError):
                await sup.request(Stop(("late",)))
            with pytest.raises(ExperimentError):
                await sup.request(Shutdown())
        assert "late" not in sup.table


async def test_request_queued_behind_shutdown_raises(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        before = _children()
        shutdown = asyncio.create_task(sup.request(Shutdown()))
        launch = asyncio.create_task(sup.request(Launch((_spec(tmp_path, "queued", SLEEP),))))
        with anyio.fail_after(5):
            await shutdown
            with pytest.raises(ExperimentError):
                await launch
        assert _children() - before == set()


async def test_cancelled_supervisor_task_leaves_nothing_running(tmp_path: Path) -> None:
    sup = Supervisor("test")
    task = asyncio.get_running_loop().create_task(sup.run())
    try:
        (handle,) = await sup.request(Launch((_spec(tmp_path, "s", SLEEP),)))
        assert alive(int(handle.job_id))
    finally:
        task.cancel()
        with anyio.fail_after(10):
            await asyncio.wait([task])
    assert not alive(int(handle.job_id))
    with anyio.fail_after(5):
        with pytest.raises(ExperimentError):
            await sup.request(Launch((_spec(tmp_path, "t", SLEEP),)))


async def test_cancelled_supervisor_task_keeps_an_accurate_table(tmp_path: Path) -> None:
    """summary() reads the table without I/O: it must not say Running for a process it killed."""
    sup = Supervisor("test")
    task = asyncio.get_running_loop().create_task(sup.run())
    try:
        (handle,) = await sup.request(Launch((_spec(tmp_path, "s", SLEEP),)))
    finally:
        task.cancel()
        with anyio.fail_after(10):
            await asyncio.wait([task])
    status, pid = sup.table["s"].status, int(handle.job_id)
    del sup, task, handle  # a failing assert must not keep these alive past this test
    assert not alive(pid)
    assert status.is_terminal, status


async def test_supervisor_inside_a_task_group(tmp_path: Path) -> None:
    sup = Supervisor("tg")
    async with anyio.create_task_group() as tg:
        tg.start_soon(sup.run)
        try:
            (handle,) = await sup.request(Launch((_spec(tmp_path, "x", SLEEP),)))
            assert sup.table["x"].status is Status.RUNNING
        finally:
            with anyio.CancelScope(shield=True):
                await sup.request(Shutdown())
    assert sup.table["x"].status is Status.CANCELLED
    assert not alive(int(handle.job_id))


async def test_concurrent_launches_are_served_concurrently(tmp_path: Path) -> None:
    """A slow-to-become-ready actor must not hold up another launch."""
    slow_gate = anyio.Event()

    async def slow_ready(_: Process) -> None:
        await slow_gate.wait()

    async with _supervisor() as (sup, _):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sup.request, Launch((_spec(tmp_path, "slow", SLEEP, ready=slow_ready),)))
            with anyio.fail_after(10):
                await sup.request(Launch((_spec(tmp_path, "fast", SLEEP),)))
            assert sup.table["fast"].status is Status.RUNNING
            assert sup.table["slow"].status is Status.NEW
            slow_gate.set()
        assert sup.table["slow"].status is Status.RUNNING


async def test_shutdown_while_launching_fails_the_launch_and_ends_its_process(
    tmp_path: Path,
) -> None:
    """A launch in flight when the experiment closes gets an answer, and leaves nothing behind."""
    spawned: list[int] = []
    probing, never = anyio.Event(), anyio.Event()

    async def never_ready(process: Process) -> None:
        spawned.append(process.pid)
        probing.set()
        await never.wait()

    async with _supervisor() as (sup, task):
        launch = asyncio.create_task(
            sup.request(Launch((_spec(tmp_path, "slow", SLEEP, ready=never_ready),)))
        )
        with anyio.fail_after(10):
            await probing.wait()
            await sup.request(Shutdown())
            with pytest.raises(ExperimentError):
                await launch
            await asyncio.wait([task])
        assert sup.table["slow"].status is Status.CANCELLED
        assert not alive(spawned[0])


async def test_concurrent_launches_of_one_name_start_it_once(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        results = await asyncio.gather(
            sup.request(Launch((_spec(tmp_path, "twice", SLEEP),))),
            sup.request(Launch((_spec(tmp_path, "twice", SLEEP),))),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], ExperimentError), results
        assert len(_running(SLEEP)) == 1
        assert sup.table["twice"].status is Status.RUNNING


async def test_a_failed_launch_stops_the_rest_of_its_batch(tmp_path: Path) -> None:
    async with _supervisor() as (sup, _):
        good = _spec(tmp_path, "good", SLEEP)
        bad = _argv_spec(tmp_path, "bad", (str(tmp_path / "missing"),))
        with pytest.raises(ExecutableNotFoundError):
            await sup.request(Launch((good, bad)))
        assert sup.table["good"].status is Status.CANCELLED
        assert sup.table["bad"].status is Status.FAILED
        assert _running(SLEEP) == set()


async def test_a_stop_for_a_failed_launch_does_not_stop_its_relaunch(tmp_path: Path) -> None:
    """A stop that arrived while a launch failed must not linger and kill the next run."""
    probing, gate = anyio.Event(), anyio.Event()

    async def fail_when_told(_: Process) -> None:
        probing.set()
        await gate.wait()
        raise LaunchError("not today")

    async with _supervisor() as (sup, _):
        launch = asyncio.create_task(
            sup.request(Launch((_spec(tmp_path, "m", SLEEP, ready=fail_when_told),)))
        )
        with anyio.fail_after(10):
            await probing.wait()
            stop = asyncio.create_task(sup.request(Stop(("m",))))
            await anyio.wait_all_tasks_blocked()  # the stop is registered against the launch
            gate.set()
            with pytest.raises(LaunchError):
                await launch
            await stop
        (handle,) = await sup.request(Launch((_spec(tmp_path, "m", SLEEP),)))
        await anyio.sleep(0.2)
        assert sup.table["m"].status is Status.RUNNING
        assert alive(int(handle.job_id))


async def test_a_supervisor_task_cancelled_before_it_ran_answers_requests(
    tmp_path: Path,
) -> None:
    """The done-callback the experiment installs answers what run() never saw."""
    sup = Supervisor("never-ran")
    task = asyncio.get_running_loop().create_task(sup.run())
    task.add_done_callback(lambda _: sup.fail_requests(ExperimentError("gone")))
    launch = asyncio.create_task(sup.request(Launch((_spec(tmp_path, "x", SLEEP),))))
    task.cancel()
    with anyio.fail_after(5):
        with pytest.raises(ExperimentError):
            await launch
    assert "x" not in sup.table


async def test_a_failed_launch_can_be_retried_at_once(tmp_path: Path) -> None:
    """A store's port retry relaunches the same name straight after a failure."""
    async with _supervisor() as (sup, _):
        with pytest.raises(ExecutableNotFoundError):
            await sup.request(Launch((_argv_spec(tmp_path, "x", (str(tmp_path / "nope"),)),)))
        (handle,) = await sup.request(Launch((_spec(tmp_path, "x", SLEEP),)))
        assert sup.table["x"].status is Status.RUNNING and alive(int(handle.job_id))


# -- restarts: a rate, not a lifetime count ---------------------------------------------------


def test_a_restart_policy_counts_crashes_within_its_window_only() -> None:
    policy = RestartPolicy(limit=2, window_s=10.0)
    crashes: deque[float] = deque()
    assert [policy.allows(crashes, t) for t in (0.0, 1.0, 2.0)] == [True, True, False]
    spread: deque[float] = deque()
    assert all(policy.allows(spread, t) for t in range(0, 200, 6))  # 2 per window at most
    assert len(spread) == 2  # what fell out of the window is forgotten


# Appends a line to starts.txt each time it runs, then crashes.
CRASH_AT_ONCE = "open('starts.txt', 'a').write('x\\n'); raise SystemExit(3)"


def _restarting(
    tmp_path: Path, name: str, code: str, policy: RestartPolicy
) -> tuple[ActorSpec, list[str]]:
    """A spec restarted by ``policy``, and the errors its failure hook will have heard of."""
    reported: list[str] = []

    async def on_failed(error: str) -> None:
        reported.append(error)

    return _spec(tmp_path, name, code, restart=policy, on_failed=on_failed), reported


async def test_a_process_that_crashes_too_fast_is_given_up_on(tmp_path: Path) -> None:
    policy = RestartPolicy(limit=2, window_s=60.0)
    spec, reported = _restarting(tmp_path, "crashy", CRASH_AT_ONCE, policy)
    async with _supervisor() as (sup, _):
        await sup.request(Launch((spec,)))
        await _ended(sup, "crashy")
        record = sup.table["crashy"]
        assert record.status is Status.FAILED and record.returncode == 3
        assert "crashed 3 times within 60 s; not restarted again" in record.error_tail
    assert _read(tmp_path / "starts.txt").count("x") == 3  # the first run and two restarts
    assert reported == [record.error_tail]  # the hook heard of it, once


# Crashes after staying up for half a second.
CRASH_LATER = (
    "import time; open('starts.txt', 'a').write('x\\n'); time.sleep(0.5); raise SystemExit(3)"
)


async def test_a_process_that_stays_up_earns_its_restarts_back(tmp_path: Path) -> None:
    """One crash allowed per 0.3 s, and it stays up 0.5 s between crashes: it is restarted
    again and again, far past the limit, until it is stopped."""
    policy = RestartPolicy(limit=1, window_s=0.3)
    spec, reported = _restarting(tmp_path, "steady", CRASH_LATER, policy)
    async with _supervisor() as (sup, _):
        await sup.request(Launch((spec,)))
        with anyio.fail_after(30):
            while _read(tmp_path / "starts.txt").count("x") < 4:  # noqa: ASYNC110
                await anyio.sleep(0.05)
        assert sup.table["steady"].status is Status.RUNNING
        await sup.request(Stop(("steady",)))
        assert sup.table["steady"].status is Status.CANCELLED
    assert reported == []  # a stop is not a failure


async def test_a_restart_adds_to_the_log_instead_of_emptying_it(tmp_path: Path) -> None:
    code = "import sys; print('run', flush=True); sys.exit(4)"
    spec = _spec(tmp_path, "logged", code, restart=RestartPolicy(limit=2, window_s=60.0))
    (tmp_path / "logged.out").write_text("from an earlier start\n")
    async with _supervisor() as (sup, _):
        await sup.request(Launch((spec,)))
        await _ended(sup, "logged")
    # The first start empties the file; each restart appends to it.
    assert _read(tmp_path / "logged.out") == "run\n" * 3
