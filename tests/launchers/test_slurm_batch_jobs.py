"""A batch inference job on a real Slurm: its store and its task managers are Slurm steps (how a
job outgrows one machine), and a task manager lost mid-split is replaced."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import numpy as np
import pytest

from smartflow import Experiment, InferenceJob, Status
from tests._support import until
from tests.batch.workloads import SLOW_ENV, build_cnn, digits
from tests.slurm_support import (  # noqa: F401
    left_running,
    scancel_all,
    slurm_cluster,
    squeue_ids,
)

pytestmark = pytest.mark.usefixtures("slurm_cluster")


@pytest.fixture
def tag() -> str:
    return f"sf{secrets.token_hex(3)}"


@pytest.fixture
async def exp(tmp_path: Path, tag: str) -> AsyncIterator[Experiment]:
    async with Experiment("slurm-batch", exp_path=tmp_path, launcher="slurm") as experiment:
        yield experiment
    scancel_all(tag)


def task_manager_rows(exp: Experiment) -> dict[str, dict]:
    rows = exp.summary(format="records")
    return {r["name"]: r for r in rows if r["entity_type"] == "TaskManager"}


@pytest.mark.timeout(240)
async def test_task_managers_run_as_slurm_steps_and_answer_every_input_once(
    exp: Experiment, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SLOW_ENV, "0.2")  # steps inherit the driver's environment
    db = exp.create_database(db_identifier=f"{tag}db")
    await exp.start(db)
    dispatcher = exp.create_dispatcher(db, max_task_managers=2)
    model, reference = build_cnn()
    images, _ = digits()
    inputs = list(images[:60])
    job = InferenceJob(
        inputs,
        f"{tag}-job",
        model=model,
        preprocess="tests.batch.workloads:preprocess_slow_array",
        split_size=5,
        num_task_managers=2,
        keep_alive_interval=0.5,
    )
    handle = dispatcher.enqueue_job(job)

    async def both_are_slurm_jobs() -> bool:
        """Both running, each under the Slurm id of its step (found once srun started it)."""
        rows = task_manager_rows(exp)
        known = await anyio.to_thread.run_sync(squeue_ids, tag)
        return len(rows) == 2 and all(
            r["status"] == str(Status.RUNNING) and str(r["job_id"]).split(".")[0] in known
            for r in rows.values()
        )

    await until(both_are_slurm_jobs, within=60)
    (victim, row) = next(iter(task_manager_rows(exp).items()))
    # End the victim's step from outside (a node lost, a step killed): its split is re-run.
    await anyio.run_process(["scancel", "--signal=KILL", str(row["job_id"])])
    results = await handle.wait()
    assert [r.index for r in results] == list(range(60))
    got = np.stack([r.result[0] for r in results])
    np.testing.assert_allclose(got, reference(np.stack(inputs)[:, None]), atol=1e-4)
    rows = task_manager_rows(exp)
    assert rows[victim]["status"] in (str(Status.FAILED), str(Status.CANCELLED))
    assert len(rows) >= 3, "a replacement step was started"
    await exp.stop(db)
    assert await left_running(tag) == []
