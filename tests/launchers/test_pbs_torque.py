"""The PBS launcher for real against Slurm's torque wrappers (Debian's ``slurm-wlm-torque``:
Perl ``qsub``/``qstat``/``qdel`` that drive sbatch/squeue/scancel) on the one-host test cluster:
qsub submits, qstat refuses ``-F json`` so its table is read, qdel cancels, and a bad queue is
refused with Slurm's message.

Skipped where ``qsub`` is not the wrapper (fails instead under ``SMARTFLOW_REQUIRE_SLURM=1``,
CI's Slurm pass, which installs it: .ci/slurm-up)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smartflow import Experiment, LaunchError, SchedulerError, Status
from smartflow.launchers.pbs import PbsScheduler
from smartflow.settings import RunSettings
from tests.slurm_support import REQUIRE_VAR, left_running, scancel_all, slurm_cluster, squeue_ids

__all__ = ["slurm_cluster"]  # the fixture, imported for pytest


def _torque_wrapper() -> str | None:
    """Why ``qsub`` is not Slurm's torque wrapper, or None when it is."""
    qsub = shutil.which("qsub")
    if qsub is None:
        return "no qsub on PATH"
    try:
        head = Path(qsub).read_bytes()[:4096].decode(errors="replace")
    except OSError as exc:
        return f"{qsub} cannot be read: {exc}"
    if "slurm" not in head.lower():
        return f"{qsub} is not Slurm's torque wrapper"
    return None


@pytest.fixture(autouse=True)
def torque_wrapper(slurm_cluster: str) -> None:
    why = _torque_wrapper()
    if why is None:
        return
    why += " (apt-get install slurm-wlm-torque; .ci/slurm-up installs it)"
    if os.environ.get(REQUIRE_VAR):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def tag() -> str:
    """A prefix for this test's job names: the cluster may be shared by other runs."""
    return f"sfpbs{secrets.token_hex(3)}"


@pytest.fixture
async def exp(tmp_path: Path, tag: str) -> AsyncIterator[Experiment]:
    async with Experiment("torque", exp_path=tmp_path, launcher="pbs") as experiment:
        yield experiment
    scancel_all(tag)


def srun_python(exp: Experiment, code: str) -> RunSettings:
    """A Python step as the wrapper's jobs run them: srun, inside the job's allocation."""
    return exp.create_run_settings(sys.executable, ["-c", code], run_command="srun")


async def test_a_batch_ensemble_runs_through_qsub_and_the_qstat_table(
    exp: Experiment, tag: str
) -> None:
    code = "import sys; print('hi'); sys.exit(6 if '--fail=1' in sys.argv else 0)"
    ens = exp.create_ensemble(
        f"{tag}-ens", params={"fail": [0, 1]}, run_settings=srun_python(exp, code),
        params_as_args=["fail"], batch_settings=exp.create_batch_settings(time="00:05:00"),
    )  # fmt: skip
    await exp.start(ens, block=True)
    assert await exp.get_status(ens) == [Status.COMPLETED, Status.FAILED]
    records = exp.summary(format="records")
    assert [r["returncode"] for r in records] == [0, 6]
    (job_id,) = {r["job_id"] for r in records}
    assert job_id.isdigit()  # the wrapper's bare id
    assert job_id in squeue_ids(f"{tag}-ens")  # #PBS -N named the Slurm job
    scheduler = exp._launcher.poller.scheduler  # type: ignore[union-attr]
    assert isinstance(scheduler, PbsScheduler)
    assert scheduler.uses_json is False  # the table, for good
    outputs = Path(exp.exp_path) / ens.name
    assert (outputs / f"{ens.name}.batch.out").exists()  # qsub -o on the command line honoured
    assert "hi" in (outputs / f"{ens.name}_0" / f"{ens.name}_0.out").read_text()


async def test_stopping_a_batch_model_qdels_its_job(exp: Experiment, tag: str) -> None:
    model = exp.create_model(
        f"{tag}-long", srun_python(exp, "import time; time.sleep(120)"),
        batch_settings=exp.create_batch_settings(),
    )  # fmt: skip
    await exp.start(model, block=False)
    await exp.stop(model)
    assert await exp.get_status(model) == [Status.CANCELLED]
    assert await left_running(tag) == []


async def test_a_bad_queue_is_refused_with_slurms_message(exp: Experiment, tag: str) -> None:
    batch = exp.create_batch_settings(queue="nosuchqueue")
    model = exp.create_model(
        f"{tag}-refused", exp.create_run_settings("true"), batch_settings=batch
    )
    with pytest.raises(SchedulerError, match=r"qsub refused the job: (?s:.*)invalid partition"):
        await exp.start(model, block=True)
    assert squeue_ids(f"{tag}-refused") == []
    assert await exp.get_status(model) == [Status.FAILED]


async def test_the_schedulers_answers_for_unknown_and_ended_jobs(tmp_path: Path) -> None:
    scheduler = PbsScheduler()
    assert await scheduler.query(["999999999"]) == {}  # rc 153, saying nothing
    assert scheduler.uses_json is False
    assert await scheduler.final_states(["999999999"]) == {}
    await scheduler.cancel("999999999", force=True)  # no -W force; then rc 1 saying nothing
    with pytest.raises(LaunchError):
        await scheduler.submit(
            tmp_path / "missing.sh", ["qsub", str(tmp_path / "missing.sh")], False
        )
