"""The inference worker reports its health: it counts as started once it serves, a store error
ends only its round, and a worker the experiment gave up on makes runs fail at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    Client,
    Experiment,
    InvalidArgumentError,
    Orchestrator,
    RunInterruptedError,
    Status,
    StoreStartError,
    WorkerUnavailableError,
)
from smartflow.inference import spec as worker_spec
from smartflow.runtime.messages import RestartPolicy
from smartflow.store import server
from smartflow.wire import protocol as runs
from tests._support import summary_rows, until
from tests.inference import models
from tests.inference._helpers import has_items, worker_blocked, worker_pid

BOUND_S = 20  # bounds hangs; nothing here is timed


def _python_that_runs_first(tmp_path: Path, code: str) -> str:
    """A PYTHONPATH whose sitecustomize runs ``code`` in every Python started with it: only the
    workers, since shards are redis-server (the broken environment a worker may meet)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(code)
    return str(site)


async def _until_status(exp: Experiment, name: str, status: Status) -> None:
    await until(lambda: summary_rows(exp).get(name, {}).get("status") == str(status), BOUND_S)


# -- starting -------------------------------------------------------------------------------


async def test_a_worker_that_cannot_start_fails_the_store_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "raise SystemExit('this python cannot run the worker')"
    monkeypatch.setenv("PYTHONPATH", _python_that_runs_first(tmp_path, broken))
    async with Experiment("health", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        with anyio.fail_after(BOUND_S), pytest.raises(StoreStartError) as info:
            await exp.start(db)
        message = str(info.value)
        assert "orchestrator_0.worker" in message
        assert "orchestrator_0.worker.log" in message
        assert "this python cannot run the worker" in message
        assert await exp.get_status(db) == [Status.CANCELLED, Status.FAILED]
        assert not await db.is_active()  # its shard was stopped with it
        monkeypatch.delenv("PYTHONPATH")
        await exp.start(db)  # the same store starts once the environment is fixed
        assert await exp.get_status(db) == [Status.RUNNING] * 2


async def test_a_worker_that_never_serves_fails_within_the_startup_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = "import time; time.sleep(600)"
    monkeypatch.setenv("PYTHONPATH", _python_that_runs_first(tmp_path, hang))
    monkeypatch.setattr(server, "STARTUP_TIMEOUT_S", 2.0)
    async with Experiment("health", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        with anyio.fail_after(BOUND_S), pytest.raises(StoreStartError) as info:
            await exp.start(db)
        message = str(info.value)
        assert "orchestrator_0.worker is not serving" in message
        assert "within 2 s" in message and "orchestrator_0.worker.log" in message
        assert (await exp.get_status(db))[1] is Status.FAILED


async def test_a_bad_thread_count_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTFLOW_INFERENCE_THREADS", "lots")
    async with Experiment("health", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        with pytest.raises(InvalidArgumentError) as info:
            await exp.start(db)
        assert "SMARTFLOW_INFERENCE_THREADS='lots'" in str(info.value)
        assert await exp.get_status(db) == [Status.NEW] * 2  # nothing was started
        monkeypatch.setenv("SMARTFLOW_INFERENCE_THREADS", "2")
        await exp.start(db)
        assert await exp.get_status(db) == [Status.RUNNING] * 2


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_the_worker_itself_refuses_a_bad_thread_count_at_start(value: str) -> None:
    """A worker started in another environment than the experiment's checks it too, at once,
    with a typed message on its stderr (which its log and the launch error show)."""
    env = {**os.environ, "SMARTFLOW_INFERENCE_THREADS": value, "SSDB_PASSWORD": "unused"}
    done = subprocess.run(
        [sys.executable, "-m", "smartflow.inference.worker", "--shard", "127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND_S,
    )
    assert done.returncode != 0
    assert f"InvalidArgumentError: SMARTFLOW_INFERENCE_THREADS={value!r}" in done.stderr


# -- a store error ends only its round --------------------------------------------------------


def stall_the_store(x):  # type: ignore[no-untyped-def]
    """A script that runs in the worker and pauses its shard's writes for 2.5 s, past the
    worker's command timeout (as a big SAVE or a CLIENT PAUSE would), between its run and its
    answer."""
    import os
    import sys

    import redis

    host, port = sys.argv[sys.argv.index("--shard") + 1].rsplit(":", 1)
    with redis.Redis(host=host, port=int(port), password=os.environ["SSDB_PASSWORD"]) as r:
        r.client_pause(2500, all=False)
    return x


async def test_a_stalled_store_fails_only_its_round_and_the_worker_serves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTFLOW_COMMAND_TIMEOUT", "1")  # the worker's, and this client's
    async with Experiment("health", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        pid = worker_pid(exp)
        async with Client(address=db.get_address()[0]) as client:
            await client.put_tensor("x", np.arange(3.0))
            await client.set_function("stall", stall_the_store)
            with anyio.fail_after(BOUND_S), pytest.raises(RunInterruptedError) as info:
                await client.run_script("stall", "stall_the_store", ["x"], ["y"])
            assert "interrupted by a store error" in str(info.value)
            assert not await client.tensor_exists("y")  # nothing of the round was written
            await client.set_model("mlp", models.mlp()[0])
            await client.put_tensor("batch", np.ones((2, 128), np.float32))
            await client.run_model("mlp", ["batch"], ["out"])  # the same worker serves on
            assert (await client.get_tensor("out")).shape == (2, 10)
            assert await client.key_exists(runs.busy_key("0").decode()) is False  # answered
        assert worker_pid(exp) == pid, "the worker did not crash"


# -- giving up ---------------------------------------------------------------------------------


@pytest.fixture
def give_up_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers started from now on are not restarted after their first crash."""
    monkeypatch.setattr(worker_spec, "WORKER_RESTARTS", RestartPolicy(limit=0, window_s=60.0))


async def test_a_worker_given_up_on_is_failed_and_runs_fail_at_once(
    give_up_at_once: None, experiment: Experiment, store: Orchestrator, raw: aioredis.Redis
) -> None:
    async with Client(address=store.get_address()[0]) as client:
        await client.set_model("mlp", models.mlp()[0])
        await client.put_tensor("batch", np.ones((2, 128), np.float32))
        await until(lambda: worker_blocked(raw), BOUND_S)
        pid = worker_pid(experiment)
        os.kill(pid, signal.SIGSTOP)  # the store still hands it the next request
        outcome: list[BaseException] = []

        async def waiting_run() -> None:
            try:
                await client.run_model("mlp", ["batch"], ["out"])
            except WorkerUnavailableError as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiting_run)
            await until(lambda: has_items(raw, runs.busy_key("0")), BOUND_S)
            os.kill(pid, signal.SIGKILL)
        await _until_status(experiment, "orchestrator_0.worker", Status.FAILED)
        assert len(outcome) == 1  # the request it had taken was answered, typed
        assert await experiment.get_status(store) == [Status.RUNNING, Status.FAILED]
        record = summary_rows(experiment)["orchestrator_0.worker"]
        assert "not restarted again" in record["error"]
        assert "not restarted again" in experiment.summary()  # the table's error column
        with anyio.fail_after(5):  # at once, not after the 60 s run timeout
            with pytest.raises(WorkerUnavailableError) as info:
                await client.run_model("mlp", ["batch"], ["out"])
        assert "orchestrator_0.worker has stopped" in str(info.value)
        assert "orchestrator_0.worker.log" in str(info.value)
        with anyio.fail_after(5), pytest.raises(WorkerUnavailableError):
            await client.set_model("other", models.mlp()[0])  # needs the worker to load it
        np.testing.assert_array_equal(await client.get_tensor("batch"), np.ones((2, 128)))
