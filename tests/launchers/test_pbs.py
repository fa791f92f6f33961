"""The PBS launcher end to end against fake PBS Pro commands (tests/launchers/fakes/pbs: they
print PBS Pro's formats and really run the scripts), and against the same fakes speaking like
Slurm's torque wrappers (no ``-F json``: the qstat table fallback)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from smartflow import Experiment, LaunchError, SchedulerError, Status
from smartflow.launchers import _base
from smartflow.launchers.pbs import PbsScheduler
from smartflow.settings import AprunSettings, QsubBatchSettings
from tests.launchers.fakes import _fake
from tests.launchers.fakes.support import FakeScheduler, fake_fixture, py, until, until_status

fake = fake_fixture("pbs")
torque = fake_fixture("pbs", SMARTFLOW_FAKE_PBS_FLAVOR="torque")


@pytest.fixture
async def exp(tmp_path: Path, fake: FakeScheduler) -> AsyncIterator[Experiment]:
    async with Experiment("pbs", exp_path=tmp_path / "exp", launcher="pbs") as experiment:
        yield experiment


async def test_a_batch_model_is_one_qsub_job(exp: Experiment, fake: FakeScheduler) -> None:
    rs = exp.create_run_settings(sys.executable, py("print('batched')"))
    assert isinstance(rs, AprunSettings)  # the fake aprun is first on PATH
    batch = exp.create_batch_settings(time="00:05:00")
    assert isinstance(batch, QsubBatchSettings)
    model = exp.create_model("bm", rs, batch_settings=batch)
    await exp.start(model, block=True)
    assert await exp.get_status(model) == [Status.COMPLETED]
    (record,) = exp.summary(format="records")
    assert record["job_id"] == "1000.sdb"  # qsub's id, server and all
    assert record["returncode"] == 0
    assert "batched" in (Path(model.path) / "bm.out").read_text()
    ((*options, script),) = fake.calls("qsub")
    assert options[0::2] == ["-o", "-e"] and script.endswith("bm.batch.sh")
    queries = fake.calls("qstat")
    assert queries and all(argv[:5] == ["-f", "-F", "json", "-x", "1000.sdb"] for argv in queries)


async def test_a_batch_ensemble_keeps_each_members_status(
    exp: Experiment, fake: FakeScheduler
) -> None:
    """The job's Exit_status is 0 (the script's ``wait``); each member's exit file still gives
    it its own code. Two live jobs are asked about in one qstat call."""
    code = "import sys, time; time.sleep(0.3); sys.exit(4 if '--fail=1' in sys.argv else 0)"
    rs = exp.create_run_settings(sys.executable, py(code))
    batch = exp.create_batch_settings(time="00:05:00")
    ens = exp.create_ensemble(
        "ens", params={"fail": [0, 1, 0]}, run_settings=rs, params_as_args=["fail"],
        batch_settings=batch,
    )  # fmt: skip
    other = exp.create_model(
        "other", exp.create_run_settings(sys.executable, py(code)), batch_settings=batch
    )
    await exp.start(ens, other, block=True)
    assert await exp.get_status(ens) == [Status.COMPLETED, Status.FAILED, Status.COMPLETED]
    assert await exp.get_status(other) == [Status.COMPLETED]
    records = exp.summary(format="records")
    codes = {r["name"]: r["returncode"] for r in records}
    assert codes == {"ens_0": 0, "ens_1": 4, "ens_2": 0, "other": 0}
    ids = {r["job_id"] for r in records}
    assert len(ids) == 2
    assert any(ids <= set(argv) for argv in fake.calls("qstat"))  # one query, both jobs


async def test_stopping_a_batch_ensemble_cancels_its_job(
    exp: Experiment, fake: FakeScheduler
) -> None:
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    ens = exp.create_ensemble(
        "long", replicas=2, run_settings=rs, batch_settings=exp.create_batch_settings()
    )
    await exp.start(ens, block=False)
    await until_status(exp, ens, Status.RUNNING)
    (job_id,) = {r["job_id"] for r in exp.summary(format="records")}
    assert len(fake.alive(job_id)) >= 4  # runner, script, and each member's shell and python
    await exp.stop(ens)
    assert await exp.get_status(ens) == [Status.CANCELLED, Status.CANCELLED]
    assert fake.calls("qdel") == [[job_id]]
    assert fake.state()["cancels"] == [[job_id.split(".")[0], "SIGTERM"]]
    assert fake.wait_gone(job_id) == []


async def test_a_refused_submission_is_a_scheduler_error_with_qsubs_message(
    exp: Experiment, fake: FakeScheduler
) -> None:
    batch = exp.create_batch_settings(queue="nosuch")
    model = exp.create_model("refused", exp.create_run_settings("true"), batch_settings=batch)
    with pytest.raises(SchedulerError, match="qsub refused the job: qsub: Unknown queue") as raised:
        await exp.start(model, block=True)
    assert isinstance(raised.value, LaunchError)
    assert fake.state()["jobs"] == {}
    assert await exp.get_status(model) == [Status.FAILED]


async def test_a_hanging_qstat_does_not_fail_the_job(
    exp: Experiment, fake: FakeScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_base, "COMMAND_TIMEOUT_S", 0.3)
    fake.hang("qstat")
    model = exp.create_model(
        "hung", exp.create_run_settings(sys.executable, py("pass")),
        batch_settings=exp.create_batch_settings(),
    )  # fmt: skip
    await exp.start(model, block=False)
    await until(lambda: len(fake.calls("qstat")) >= 3)  # asked, given up on, asked again
    assert await exp.get_status(model) == [Status.QUEUED]  # unknown: not failed
    fake.answer("qstat")
    with anyio.fail_after(20):
        await exp.poll(interval=0.2, verbose=False)
    assert await exp.get_status(model) == [Status.COMPLETED]


async def test_a_qstat_missing_from_path_does_not_fail_the_job(
    exp: Experiment, fake: FakeScheduler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_path = os.environ["PATH"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("qsub", "qdel", "aprun"):
        (bin_dir / command).symlink_to(fake.folder / command)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}")
    model = exp.create_model(
        "noqstat", exp.create_run_settings(sys.executable, py("pass")),
        batch_settings=exp.create_batch_settings(),
    )  # fmt: skip
    await exp.start(model, block=False)
    await anyio.sleep(1.0)
    assert fake.calls("qstat") == []
    assert await exp.get_status(model) == [Status.QUEUED]
    monkeypatch.setenv("PATH", full_path)
    with anyio.fail_after(20):
        await exp.poll(interval=0.2, verbose=False)
    assert await exp.get_status(model) == [Status.COMPLETED]


async def test_a_job_that_vanishes_from_the_queue_is_lost(
    exp: Experiment, fake: FakeScheduler
) -> None:
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    model = exp.create_model("gone", rs, batch_settings=exp.create_batch_settings())
    await exp.start(model, block=False)
    await until_status(exp, model, Status.RUNNING)
    (record,) = exp.summary(format="records")
    fake.vanish(record["job_id"])
    with anyio.fail_after(20):
        await exp.poll(interval=0.2, verbose=False)
    assert await exp.get_status(model) == [Status.FAILED]
    (record,) = exp.summary(format="records")
    assert "lost" in record["error"]
    assert any(argv[:1] == ["-x"] for argv in fake.calls("qstat"))  # final_states asked
    assert fake.calls("qdel") == []
    assert fake.wait_gone(record["job_id"], within=0) != []  # PBS forgot it; it still runs
    _fake.kill_all()


async def test_torque_qstat_falls_back_to_its_table_for_good(
    tmp_path: Path, torque: FakeScheduler
) -> None:
    async with Experiment("tq", exp_path=tmp_path / "exp", launcher="pbs") as exp:
        code = "import sys; sys.exit(5 if '--fail=1' in sys.argv else 0)"
        ens = exp.create_ensemble(
            "tens", params={"fail": [0, 1]}, run_settings=exp.create_run_settings(
                sys.executable, py(code)), params_as_args=["fail"],
            batch_settings=exp.create_batch_settings(),
        )  # fmt: skip
        await exp.start(ens, block=True)
        assert await exp.get_status(ens) == [Status.COMPLETED, Status.FAILED]
        assert [r["returncode"] for r in exp.summary(format="records")] == [0, 5]
        (job_id,) = {r["job_id"] for r in exp.summary(format="records")}
    assert job_id == "1000"  # the wrapper's bare id
    first, *rest = torque.calls("qstat")
    assert first == ["-f", "-F", "json", "-x", job_id]
    assert rest and all(argv == [job_id] for argv in rest)  # the table, from then on


async def test_a_forced_qdel_falls_back_to_plain_qdel_under_torque(
    tmp_path: Path, torque: FakeScheduler
) -> None:
    scheduler = PbsScheduler()
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/bash\nsleep 60\n")
    job_id = await scheduler.submit(script, ["qsub", str(script)], False)
    await scheduler.cancel(job_id, force=True)
    assert torque.calls("qdel") == [["-W", "force", job_id], [job_id]]
    assert torque.wait_gone(job_id) == []
    await scheduler.cancel(job_id, force=False)  # it has ended: qdel exits 1 saying nothing


async def test_pbs_pro_forced_qdel_kills_and_exit_status_says_so(
    tmp_path: Path, fake: FakeScheduler
) -> None:
    scheduler = PbsScheduler()
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/bash\nsleep 60\n")
    job_id = await scheduler.submit(script, ["qsub", str(script)], False)
    await scheduler.cancel(job_id, force=True)
    assert fake.wait_gone(job_id) == []
    await scheduler.query([job_id])  # the first query shows it queued, whatever happened
    (state,) = (await scheduler.query([job_id])).values()
    assert (state.status, state.exit_code) == (Status.FAILED, -9)  # Exit_status 265
    await scheduler.cancel(job_id, force=False)  # "Job has finished" (rc 35): no error
    assert await scheduler.query(["999.sdb"]) == {}  # rc 153, Unknown Job Id: absent
    assert await scheduler.final_states(["999.sdb"]) == {}
