"""Faults of batch inference jobs; in every one, every input appears exactly once in the output.

Task managers are real processes: they are SIGKILLed, SIGSTOPped past their heartbeat and
resumed, their store is killed; the driver's call is cancelled; the model is corrupt."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    BatchJobError,
    Experiment,
    ExperimentError,
    InferenceJob,
    InvalidArgumentError,
    InvalidModelError,
    Orchestrator,
    Status,
    UnsupportedTypeError,
)
from smartflow.batch import Dispatcher
from tests._support import gone, pid_of, store_pid, summary_rows, until, wait_gone
from tests.batch.conftest import PREPROCESS, exactly_once
from tests.batch.stages import STRAGGLE_S, STRAGGLER
from tests.batch.workloads import SLOW_ENV, corrupt_model, write_digit_pngs

SLOW = "tests.batch.workloads:preprocess_slow"


async def holder_of_a_split(raw: aioredis.Redis) -> str:
    """The name of a task manager that holds a split now (waits for one)."""
    found: list[str] = []

    async def check() -> bool:
        for key in await raw.keys("{sfjob:*}:inflight:*"):
            if await raw.llen(key):
                found.append(key.decode().rsplit(":", 1)[1])
                return True
        return False

    await until(check, within=30)
    return found[0]


def task_managers(exp: Experiment) -> dict[str, dict]:
    return {n: r for n, r in summary_rows(exp).items() if r["entity_type"] == "TaskManager"}


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Task managers (which inherit the driver's environment) take 30 ms per input."""
    monkeypatch.setenv(SLOW_ENV, "0.03")


@pytest.mark.timeout(180)
async def test_a_task_manager_sigkilled_mid_split_loses_nothing(
    experiment: Experiment, dispatcher: Dispatcher, pngs, cnn, raw, slow
) -> None:
    paths, labels = pngs
    job = InferenceJob(
        paths[:80],
        "killed",
        model=cnn[0],
        preprocess=SLOW,
        split_size=10,
        num_task_managers=2,
        keep_alive_interval=0.5,
    )
    handle = dispatcher.enqueue_job(job)
    victim = await holder_of_a_split(raw)
    os.kill(pid_of(experiment, victim), signal.SIGKILL)
    results = await handle.wait()
    exactly_once(results, 80)
    assert {r.status for r in results} == {"ok"}
    assert (np.array([r.result[0].argmax() for r in results]) == labels[:80]).mean() > 0.95
    assert results.summary.retries >= 1
    rows = task_managers(experiment)
    assert rows[victim]["status"] == str(Status.FAILED)
    assert len(rows) == 3, "a replacement was started"  # killed.tm1, tm2, and tm3
    assert victim not in {t.task_manager for t in results.summary.timings}


@pytest.mark.timeout(180)
async def test_a_task_manager_stopped_past_its_heartbeat_is_replaced_and_its_late_answer_dropped(
    experiment: Experiment, dispatcher: Dispatcher, pngs, cnn, raw, slow
) -> None:
    paths, _ = pngs
    job = InferenceJob(
        paths[:60],
        "frozen",
        model=cnn[0],
        preprocess=SLOW,
        split_size=10,
        num_task_managers=2,
        keep_alive_interval=0.2,
    )
    handle = dispatcher.enqueue_job(job)
    victim = await holder_of_a_split(raw)
    pid = pid_of(experiment, victim)
    os.kill(pid, signal.SIGSTOP)
    try:
        # Declared dead after its heartbeat expired (3 x 0.2 s): a replacement starts.
        await until(lambda: len(task_managers(experiment)) == 3, within=30)
    finally:
        os.kill(pid, signal.SIGCONT)
    results = await handle.wait()
    exactly_once(results, 60)
    assert {r.status for r in results} == {"ok"}
    assert victim not in {t.task_manager for t in results.summary.timings}
    assert results.summary.retries >= 1
    await wait_gone(pid)
    err = await anyio.Path(experiment.exp_path, "frozen", victim, f"{victim}.err").read_text()
    assert "standing down" in err, err  # it came back, found itself fenced, and left


@pytest.mark.timeout(120)
async def test_a_corrupt_model_fails_the_job_fast_and_starts_no_task_manager(
    experiment: Experiment, dispatcher: Dispatcher, pngs
) -> None:
    paths, _ = pngs
    job = InferenceJob(paths[:10], "corrupt", model=corrupt_model(), preprocess=PREPROCESS)
    began = time.monotonic()
    with pytest.raises(InvalidModelError, match="cannot load"):
        await dispatcher.run_job(job)
    assert time.monotonic() - began < 10
    assert task_managers(experiment) == {}
    assert dispatcher.task_managers_in_use == 0


@pytest.mark.timeout(120)
async def test_cancelling_the_driver_mid_job_stops_every_task_manager(
    experiment: Experiment, dispatcher: Dispatcher, pngs, cnn, raw, slow
) -> None:
    paths, _ = pngs
    job = InferenceJob(
        paths, "cancelled", model=cnn[0], preprocess=SLOW, split_size=5, num_task_managers=3
    )
    with anyio.move_on_after(30) as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(dispatcher.run_job, job)
            await holder_of_a_split(raw)
            tg.cancel_scope.cancel()
    assert not scope.cancelled_caught
    rows = task_managers(experiment)
    assert len(rows) == 3
    assert {r["status"] for r in rows.values()} == {str(Status.CANCELLED)}
    assert all(gone(int(r["job_id"])) for r in rows.values())
    assert [k for k in await raw.keys("*") if b"sfjob" in k] == []
    assert dispatcher.task_managers_in_use == 0


@pytest.mark.timeout(120)
async def test_a_cancelled_handle_raises_and_a_queued_job_never_starts(
    experiment: Experiment, store: Orchestrator, pngs, cnn, slow
) -> None:
    from smartflow import JobCancelledError

    paths, _ = pngs
    dispatcher = experiment.create_dispatcher(store, max_job_managers=1, max_task_managers=2)
    first = dispatcher.enqueue_job(
        InferenceJob(paths[:40], "first", model=cnn[0], preprocess=SLOW, split_size=5)
    )
    second = dispatcher.enqueue_job(
        InferenceJob(paths[:10], "second", model=cnn[0], preprocess=SLOW)
    )
    await second.cancel()
    await first.cancel()
    for handle in (first, second):
        with pytest.raises(JobCancelledError):
            await handle.wait()
        assert handle.state == "cancelled"
    assert not any(n.startswith("second.") for n in task_managers(experiment))


@pytest.mark.timeout(120)
async def test_the_store_killed_mid_job_is_a_typed_error_not_a_hang(
    experiment: Experiment, dispatcher: Dispatcher, pngs, cnn, raw, slow
) -> None:
    paths, _ = pngs
    job = InferenceJob(
        paths, "orphaned", model=cnn[0], preprocess=SLOW, split_size=5, num_task_managers=2
    )
    handle = dispatcher.enqueue_job(job)
    await holder_of_a_split(raw)
    os.kill(store_pid(experiment), signal.SIGKILL)
    with anyio.fail_after(60):
        with pytest.raises(BatchJobError, match="lost its store"):
            await handle.wait()
    rows = task_managers(experiment)
    assert all(gone(int(r["job_id"])) for r in rows.values())


@pytest.mark.timeout(120)
async def test_a_straggler_split_is_speculated_and_the_first_answer_wins(
    experiment: Experiment, store: Orchestrator, cnn, tmp_path: Path
) -> None:
    paths, labels = write_digit_pngs(tmp_path / "s", 40)
    straggler = paths[33].with_name(f"{STRAGGLER}.png")  # in the last of 4 splits
    paths[33].rename(straggler)
    paths[33] = straggler
    dispatcher = experiment.create_dispatcher(store, max_task_managers=3)
    job = InferenceJob(
        [str(p) for p in paths],
        "spec",
        model=cnn[0],
        preprocess=PREPROCESS,
        load="tests.batch.stages:load_straggler_once",
        split_size=10,
        num_task_managers=2,
        speculation=True,
    )
    began = time.monotonic()
    results = await dispatcher.run_job(job)
    assert time.monotonic() - began < STRAGGLE_S  # the copy answered; the original was dropped
    exactly_once(results, 40)
    assert (np.array([r.result[0].argmax() for r in results]) == labels).mean() > 0.95
    assert results.summary.speculated == [3]
    assert len(results.summary.task_managers) == 3  # one extra, within max_task_managers


def test_bad_arguments_are_refused_where_given(cnn, tmp_path: Path) -> None:
    model = cnn[0]
    with pytest.raises(InvalidArgumentError, match="split_size"):
        InferenceJob(["a.png"], "j", model=model, split_size=-1)
    with pytest.raises(InvalidArgumentError, match="num_task_managers"):
        InferenceJob(["a.png"], "j", model=model, num_task_managers=0)
    with pytest.raises(UnsupportedTypeError, match="split_size"):
        InferenceJob(["a.png"], "j", model=model, split_size=2.5)
    with pytest.raises(UnsupportedTypeError, match="inputs"):
        InferenceJob("a.png", "j", model=model)
    with pytest.raises(UnsupportedTypeError, match=r"inputs\[1\]"):
        InferenceJob(["a.png", 3], "j", model=model)
    with pytest.raises(InvalidArgumentError, match="job name"):
        InferenceJob(["a.png"], "has space", model=model)
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        InferenceJob(["a.png"], "j", model=tmp_path / "missing.onnx")
    with pytest.raises(InvalidArgumentError):
        InferenceJob(["a.png"], "j", model=model, preprocess="no_such_module:fn")
    with pytest.raises(InvalidArgumentError):
        InferenceJob(["a.png"], "j", model=model, preprocess=lambda b: b)
    with pytest.raises(InvalidArgumentError, match="via"):
        InferenceJob(["a.png"], "j", model=model, via="gpu")
    with pytest.raises(InvalidArgumentError):
        InferenceJob(["a.png"], "j", model=model, output="http://example.com/out")
    with pytest.raises(UnsupportedTypeError, match="speculation"):
        InferenceJob(["a.png"], "j", model=model, speculation="yes")


async def test_bad_dispatcher_arguments_are_refused_and_change_nothing(
    experiment: Experiment, store: Orchestrator
) -> None:
    with pytest.raises(InvalidArgumentError, match="known"):
        experiment.create_dispatcher(store, policy="fastest")
    with pytest.raises(InvalidArgumentError, match="max_task_managers"):
        experiment.create_dispatcher(store, max_task_managers=0)
    with pytest.raises(UnsupportedTypeError, match="max_job_managers"):
        experiment.create_dispatcher(store, max_job_managers="2")
    with pytest.raises(UnsupportedTypeError, match="Orchestrator"):
        experiment.create_dispatcher("127.0.0.1:6379")
    async with Experiment("other", exp_path=experiment.exp_path / "other") as other:
        with pytest.raises(ExperimentError, match="not created by"):
            other.create_dispatcher(store)
    dispatcher = experiment.create_dispatcher(store)
    with pytest.raises(UnsupportedTypeError, match="InferenceJob"):
        dispatcher.enqueue_job(["a.png"])
    assert not any(r["entity_type"] == "TaskManager" for r in experiment.summary("records"))


async def test_a_job_on_a_store_never_started_is_refused(experiment: Experiment, cnn) -> None:
    db = experiment.create_database(db_identifier="idle")
    dispatcher = experiment.create_dispatcher(db)
    with pytest.raises(ExperimentError, match="not running"):
        await dispatcher.run_job(InferenceJob(["a.png"], "early", model=cnn[0]))
    assert dispatcher.task_managers_in_use == 0
