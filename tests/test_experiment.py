"""The Experiment lifecycle: closing, cancelling, misuse, notebooks, embedding, dying drivers."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import psutil
import pytest

from smartflow import (
    Experiment,
    ExperimentError,
    InvalidArgumentError,
    Orchestrator,
    Status,
)
from tests._support import EXIT_WITHIN, alive, store_pid, wait_gone_blocking


def _redis_descendants() -> list[int]:
    pids = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "redis" in proc.name() and proc.status() != psutil.STATUS_ZOMBIE:
                pids.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return pids


async def _answers(db: Orchestrator) -> bool:
    """Whether anything accepts connections at the store's address."""
    host, _, port = db.get_address()[0].rpartition(":")
    try:
        stream = await anyio.connect_tcp(host, int(port))
    except OSError:
        return False
    await stream.aclose()
    return True


class MyDriverError(Exception):
    pass


# -- leaving the experiment ---------------------------------------------------------------------


async def test_leaving_async_with_stops_the_store(tmp_path: Path) -> None:
    async with Experiment("exp", exp_path=tmp_path) as exp:
        db = exp.create_database()
        await exp.start(db)
        pid = store_pid(exp)
        assert alive(pid)
        assert await db.is_active()
    assert not alive(pid), "aclose must have ended the store before returning"
    assert not await _answers(db)
    assert await exp.get_status(db) == [Status.CANCELLED] * 2


async def test_exception_in_body_stops_store_and_propagates_unchanged(tmp_path: Path) -> None:
    error = MyDriverError("the driver broke")
    pid = None
    with pytest.raises(MyDriverError) as info:
        async with Experiment("exp", exp_path=tmp_path) as exp:
            db = exp.create_database()
            await exp.start(db)
            pid = store_pid(exp)
            raise error
    assert info.value is error
    assert type(info.value) is MyDriverError  # not wrapped in an ExceptionGroup
    assert pid is not None and not alive(pid)


async def test_cancelling_the_driver_stops_the_store(tmp_path: Path) -> None:
    pid = None
    with anyio.CancelScope() as scope:
        async with Experiment("exp", exp_path=tmp_path) as exp:
            db = exp.create_database()
            await exp.start(db)
            pid = store_pid(exp)
            scope.cancel()
            await anyio.sleep(30)
    assert scope.cancelled_caught
    assert pid is not None and not alive(pid)


async def test_deadline_on_the_driver_stops_the_store(tmp_path: Path) -> None:
    pid = None
    start = time.monotonic()
    with anyio.move_on_after(1.0) as scope:
        async with Experiment("exp", exp_path=tmp_path) as exp:
            db = exp.create_database()
            await exp.start(db)
            pid = store_pid(exp)
            await anyio.sleep(30)
    assert scope.cancelled_caught
    assert time.monotonic() - start < 10
    assert pid is not None and not alive(pid)


@pytest.mark.parametrize("delay", [0.0, 0.001, 0.003, 0.006, 0.01, 0.02, 0.04])
async def test_cancelled_while_starting_leaves_nothing(tmp_path: Path, delay: float) -> None:
    with anyio.move_on_after(delay):
        async with Experiment("exp", exp_path=tmp_path) as exp:
            db = exp.create_database()
            await exp.start(db)
            await anyio.sleep(30)
    assert _redis_descendants() == []
    if db.is_launched:
        assert not await _answers(db)


async def test_asyncio_task_cancel_stops_the_store(tmp_path: Path) -> None:
    started = asyncio.Event()
    pids: list[int] = []

    async def driver() -> None:
        async with Experiment("exp", exp_path=tmp_path) as exp:
            db = exp.create_database()
            await exp.start(db)
            pids.append(store_pid(exp))
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(driver())
    with anyio.fail_after(10):
        await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alive(pids[0])


async def test_aclose_twice_and_without_use(tmp_path: Path) -> None:
    unused = Experiment("unused", exp_path=tmp_path / "u")
    await unused.aclose()
    await unused.aclose()

    exp = Experiment("exp", exp_path=tmp_path / "e")
    db = exp.create_database()
    await exp.start(db)
    pid = store_pid(exp)
    await exp.aclose()
    assert not alive(pid)
    with anyio.fail_after(5):
        await exp.aclose()
    assert await exp.get_status(db) == [Status.CANCELLED] * 2


async def test_start_after_close_is_refused(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=tmp_path)
    db = exp.create_database()
    await exp.aclose()
    with pytest.raises(ExperimentError):
        await exp.start(db)
    assert _redis_descendants() == []
    assert exp.summary(format="records") == []

    used = Experiment("used", exp_path=tmp_path / "used")
    first = used.create_database(db_identifier="first")
    second = used.create_database(db_identifier="second")
    await used.start(first)
    await used.aclose()
    with pytest.raises(ExperimentError):
        await used.start(second)
    assert _redis_descendants() == []


# -- misuse -------------------------------------------------------------------------------------


async def test_entity_of_another_experiment_is_refused(tmp_path: Path) -> None:
    async with (
        Experiment("one", exp_path=tmp_path / "one") as one,
        Experiment("two", exp_path=tmp_path / "two") as two,
    ):
        db = one.create_database()
        twin = two.create_database()  # same identifier, different experiment
        with pytest.raises(ExperimentError):
            await two.get_status(db)
        with pytest.raises(ExperimentError):
            await two.start(db)
        await one.start(db)
        with pytest.raises(ExperimentError):
            await two.stop(db)
        with pytest.raises(ExperimentError):
            await one.get_status(twin)
        assert await one.get_status(db) == [Status.RUNNING] * 2
        assert await two.get_status(twin) == [Status.NEW] * 2


async def test_stopping_a_store_never_started(experiment: Experiment) -> None:
    db = experiment.create_database()
    with pytest.raises(ExperimentError):
        await experiment.stop(db)
    assert await experiment.get_status(db) == [Status.NEW] * 2


async def test_starting_a_running_store_twice(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    pid = store_pid(experiment)
    address = db.get_address()
    with pytest.raises(ExperimentError):
        await experiment.start(db)
    assert store_pid(experiment) == pid and alive(pid)
    assert db.get_address() == address
    assert await db.is_active()
    assert len(_redis_descendants()) == 1


async def test_restart_after_stop(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    first = store_pid(experiment)
    await experiment.stop(db)
    await experiment.start(db)
    second = store_pid(experiment)
    assert second != first
    assert not alive(first)
    assert await db.is_active()
    assert await experiment.get_status(db) == [Status.RUNNING] * 2


@pytest.mark.parametrize("launcher", ["nope", "", "LOCAL"])
def test_unknown_launcher(tmp_path: Path, launcher: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Experiment("exp", exp_path=tmp_path, launcher=launcher)
    assert repr(launcher) in str(info.value) or launcher in str(info.value)


@pytest.mark.parametrize("name", ["", "a/b", 3])
def test_bad_experiment_name(tmp_path: Path, name) -> None:
    with pytest.raises(InvalidArgumentError):
        Experiment(name, exp_path=tmp_path)


async def test_auto_launcher_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a host with no scheduler's commands and no job variables, "auto" is local."""
    monkeypatch.setenv("PATH", str(tmp_path))
    for variable in ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "COBALT_JOBID"):
        monkeypatch.delenv(variable, raising=False)
    async with Experiment("exp", exp_path=tmp_path, launcher="auto") as exp:
        assert exp.launcher == "local"
        db = exp.create_database()
        await exp.start(db)
        assert await db.is_active()
        assert await exp.get_status(db) == [Status.RUNNING] * 2


def test_default_exp_path_is_under_cwd(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    exp = Experiment("here")
    assert Path(exp.exp_path).resolve() == (tmp_path / "here").resolve()


# -- ways of use --------------------------------------------------------------------------------


async def test_notebook_style_across_tasks(tmp_path: Path) -> None:
    """Each 'cell' is its own task: create+start, use, close, in three different tasks."""

    async def cell_1() -> tuple[Experiment, Orchestrator]:
        exp = Experiment("nb", exp_path=tmp_path)
        db = exp.create_database()
        await exp.start(db)
        return exp, db

    exp, db = await asyncio.create_task(cell_1())
    pid = store_pid(exp)

    async def cell_2() -> list[Status]:
        assert await db.is_active()
        return await exp.get_status(db)

    assert await asyncio.create_task(cell_2()) == [Status.RUNNING] * 2
    await asyncio.sleep(0.1)  # between cells, the store keeps running
    assert alive(pid)

    async def cell_3() -> None:
        await exp.aclose()

    await asyncio.create_task(cell_3())
    assert not alive(pid)
    assert await exp.get_status(db) == [Status.CANCELLED] * 2


async def test_notebook_style_with_a_task_group(tmp_path: Path) -> None:
    box: dict = {}

    async def create_and_start() -> None:
        exp = Experiment("nb", exp_path=tmp_path)
        db = exp.create_database()
        await exp.start(db)
        box.update(exp=exp, db=db)

    async with anyio.create_task_group() as tg:
        tg.start_soon(create_and_start)
    exp, db = box["exp"], box["db"]
    pid = store_pid(exp)

    async def stop_it() -> None:
        await exp.stop(db)

    async with anyio.create_task_group() as tg:
        tg.start_soon(stop_it)
    assert not alive(pid)

    async with anyio.create_task_group() as tg:
        tg.start_soon(exp.start, db)  # a restart from yet another task
    assert await db.is_active()

    async with anyio.create_task_group() as tg:
        tg.start_soon(exp.aclose)
    assert _redis_descendants() == []


async def test_embedded_in_a_running_asyncio_service(tmp_path: Path) -> None:
    handlers_before = {
        s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)
    }

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = []
    done = asyncio.Event()

    async def keep_asking() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            writer.write(b"ping\n")
            await writer.drain()
            assert await reader.readline() == b"ping\n"
            latencies.append(time.perf_counter() - t0)
            await asyncio.sleep(0.002)

    asker = asyncio.create_task(keep_asking())
    try:
        async with Experiment("svc", exp_path=tmp_path) as exp:
            db = exp.create_database()
            await exp.start(db)
            assert await db.is_active()
            # The service keeps serving while an ensemble runs, blocked on, in the same loop.
            ens = exp.create_ensemble(
                "ens", replicas=10, run_settings=exp.create_run_settings("sleep", ["0.2"])
            )
            served_before = len(latencies)
            await exp.start(ens, block=True)
            assert await exp.get_status(ens) == [Status.COMPLETED] * 10
            assert len(latencies) >= served_before + 5, "the service stalled during the ensemble"
            await exp.stop(db)
            other = exp.create_database(db_identifier="other")
            await exp.start(other)
        answered_during = len(latencies)
        await asyncio.sleep(0.05)
        assert len(latencies) > answered_during, "the service stopped answering after aclose"
    finally:
        done.set()
        await asyncio.wait_for(asker, 5)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
    assert asker.exception() is None
    assert answered_during >= 5
    # A loaded 2-core runner may leave this process unscheduled for a few hundred ms, so this
    # catches a loop blocked for seconds (a synchronous wait on a process, a socket timeout, a
    # grace period); a stall through the ensemble's wait is caught by the count above. Shorter
    # stalls are for a blocking-call detector, not a stopwatch on a shared runner.
    assert max(latencies) < 2.0, f"the event loop was blocked for {max(latencies):.3f}s"
    assert {s: signal.getsignal(s) for s in handlers_before} == handlers_before
    leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("smartflow")]
    assert leftover == [], "the experiment left tasks running in the host's loop"


# -- summary ------------------------------------------------------------------------------------


async def test_summary_table_and_records(experiment: Experiment) -> None:
    assert experiment.summary(format="records") == []
    db = experiment.create_database()
    await experiment.start(db)
    pid = store_pid(experiment)

    table = experiment.summary()
    assert isinstance(table, str)
    assert "orchestrator_0" in table
    assert "Running" in table
    assert str(pid) in table

    records = experiment.summary(format="records")
    assert isinstance(records, list) and len(records) == 2
    record, worker = records
    assert worker["name"] == "orchestrator_0.worker"
    assert worker["entity_type"] == "InferenceWorker" and worker["status"] == "Running"
    assert isinstance(record, dict)
    assert {"name", "entity_type", "job_id", "status", "returncode", "time"} <= set(record)
    assert record["name"] == "orchestrator_0"
    assert record["entity_type"] == "Orchestrator"
    assert record["job_id"] == str(pid)
    assert "redis" in psutil.Process(pid).name()
    assert record["status"] == "Running"
    assert record["returncode"] is None
    assert isinstance(record["time"], float) and record["time"] >= 0

    await experiment.stop(db)
    record, worker = experiment.summary(format="records")
    assert record["status"] == worker["status"] == "Cancelled", "the worker ends with its shard"
    assert record["returncode"] is not None
    assert "Cancelled" in experiment.summary()

    with pytest.raises(InvalidArgumentError):
        experiment.summary(format="json")


# -- a driver that dies -------------------------------------------------------------------------

DRIVER = textwrap.dedent(
    """
    import asyncio, sys
    from smartflow import Experiment

    async def main():
        async with Experiment("driver", exp_path=sys.argv[1]) as exp:
            db = exp.create_database()
            await exp.start(db)
            record = exp.summary(format="records")[0]
            print(record["job_id"], db.get_address()[0], flush=True)
            await asyncio.sleep(600)

    asyncio.run(main())
    """
)


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"driver printed nothing in {timeout}s")
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"driver exited early: {err}")
    return line


def _listeners(address: str) -> list:
    port = int(address.rpartition(":")[2])
    found = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.laddr and conn.laddr.port == port:
            try:
                cmd = " ".join(psutil.Process(conn.pid).cmdline()) if conn.pid else "?"
            except psutil.NoSuchProcess:
                cmd = "gone"
            found.append((conn.status, conn.pid, cmd))
    return found


def _connectable(address: str) -> bool:
    import socket

    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["KILL", "TERM", "INT"]
)
def test_dead_driver_leaves_no_redis_server(tmp_path: Path, signum: int) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "exp")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    redis_pid = None
    try:
        job_id, address = _read_line(proc, timeout=30).split()
        redis_pid = int(job_id)
        assert alive(redis_pid)
        assert "redis" in psutil.Process(redis_pid).name()
        assert _connectable(address)
        proc.send_signal(signum)
        proc.wait(timeout=10)
        deadline = time.monotonic() + EXIT_WITHIN
        assert wait_gone_blocking(redis_pid) == [], (
            f"redis-server {redis_pid} outlived a driver ended by {signal.Signals(signum).name}"
        )
        # A multi-threaded server shows as a zombie once its main thread exits; its sockets
        # close when the last thread has: allow for that within the same EXIT_WITHIN.
        while _connectable(address) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _connectable(address), f"still answering at {address}: {_listeners(address)}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if redis_pid is not None and alive(redis_pid):
            os.kill(redis_pid, signal.SIGKILL)


async def test_wait_returns_when_entities_end_or_false_at_its_timeout(tmp_path: Path) -> None:
    async with Experiment("waiting", exp_path=tmp_path) as exp:
        quick = exp.create_model("quick", exp.create_run_settings(sys.executable, ["-c", "0"]))
        slow = exp.create_model(
            "slow", exp.create_run_settings(sys.executable, ["-c", "import time; time.sleep(30)"])
        )
        never = exp.create_model("never", exp.create_run_settings(sys.executable, ["-c", "0"]))
        assert await exp.wait(never) is True  # never started: nothing to wait for
        await exp.start(quick, slow, block=False)
        assert await exp.wait(quick, timeout=30) is True
        assert await exp.get_status(quick) == [Status.COMPLETED]
        began = time.monotonic()
        assert await exp.wait(slow, timeout=0.3) is False
        assert time.monotonic() - began < 5
        await exp.stop(slow)
        assert await exp.wait(slow, timeout=30) is True
