"""The LSF launcher end to end against fake LSF commands (tests/launchers/fakes/lsf: they print
LSF's formats and really run the scripts): ``bsub < script``, one ``bjobs -json`` per poll,
``bkill``."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from smartflow import Experiment, LaunchError, SchedulerError, Status
from smartflow.launchers import _base
from smartflow.launchers.lsf import LsfScheduler
from smartflow.settings import BsubBatchSettings, JsrunSettings
from tests.launchers.fakes import _fake
from tests.launchers.fakes.support import FakeScheduler, fake_fixture, py, until, until_status

fake = fake_fixture("lsf")
BJOBS = ["-o", "jobid stat exit_code exit_reason", "-json", "-a"]


@pytest.fixture
async def exp(tmp_path: Path, fake: FakeScheduler) -> AsyncIterator[Experiment]:
    async with Experiment("lsf", exp_path=tmp_path / "exp", launcher="lsf") as experiment:
        yield experiment


async def test_a_batch_model_is_one_bsub_job_fed_on_stdin(
    exp: Experiment, fake: FakeScheduler
) -> None:
    rs = exp.create_run_settings(sys.executable, py("print('batched')"), env_vars={"K": "v"})
    assert isinstance(rs, JsrunSettings)  # the fake jsrun is first on PATH
    batch = exp.create_batch_settings(time="00:05:00")
    assert isinstance(batch, BsubBatchSettings)
    model = exp.create_model("bm", rs, batch_settings=batch)
    await exp.start(model, block=True)
    assert await exp.get_status(model) == [Status.COMPLETED]
    (record,) = exp.summary(format="records")
    assert (record["job_id"], record["returncode"]) == ("100", 0)
    assert "batched" in (Path(model.path) / "bm.out").read_text()
    assert fake.calls("bsub") == [[]]  # no script named: it came on stdin
    script = Path(exp.exp_path) / "bm" / "bm.batch.sh"
    assert await anyio.Path(fake.job("100")["script"]).read_text() == script.read_text()
    assert "#BSUB -J bm" in script.read_text()
    queries = fake.calls("bjobs")
    assert queries and all(argv == [*BJOBS, "100"] for argv in queries)


async def test_a_batch_ensemble_keeps_each_members_status(
    exp: Experiment, fake: FakeScheduler
) -> None:
    code = "import sys, time; time.sleep(0.3); sys.exit(4 if '--fail=1' in sys.argv else 0)"
    rs = exp.create_run_settings(sys.executable, py(code))
    batch = exp.create_batch_settings(time="00:05:00")
    ens = exp.create_ensemble(
        "ens", params={"fail": [0, 1, 0]}, run_settings=rs, params_as_args=["fail"],
        batch_settings=batch,
    )  # fmt: skip
    other = exp.create_model("other", rs, batch_settings=batch)
    await exp.start(ens, other, block=True)
    assert await exp.get_status(ens) == [Status.COMPLETED, Status.FAILED, Status.COMPLETED]
    assert await exp.get_status(other) == [Status.COMPLETED]
    records = exp.summary(format="records")
    assert {r["name"]: r["returncode"] for r in records} == {
        "ens_0": 0, "ens_1": 4, "ens_2": 0, "other": 0,
    }  # fmt: skip
    ids = {r["job_id"] for r in records}
    assert len(ids) == 2
    assert any(ids <= set(argv) for argv in fake.calls("bjobs"))  # one bjobs, both jobs


async def test_stopping_a_batch_ensemble_bkills_its_job(
    exp: Experiment, fake: FakeScheduler
) -> None:
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    ens = exp.create_ensemble(
        "long", replicas=2, run_settings=rs, batch_settings=exp.create_batch_settings()
    )
    await exp.start(ens, block=False)
    await until_status(exp, ens, Status.RUNNING)
    (job_id,) = {r["job_id"] for r in exp.summary(format="records")}
    await exp.stop(ens)
    assert await exp.get_status(ens) == [Status.CANCELLED, Status.CANCELLED]
    assert fake.calls("bkill") == [[job_id]]
    assert fake.state()["cancels"] == [[job_id, "SIGTERM"]]
    assert fake.wait_gone(job_id) == []


async def test_a_job_bkilled_from_outside_is_cancelled(
    exp: Experiment, fake: FakeScheduler
) -> None:
    """bjobs says EXIT with reason TERM_OWNER: the member, which wrote no exit code, is
    CANCELLED, not FAILED."""
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    model = exp.create_model("ext", rs, batch_settings=exp.create_batch_settings())
    await exp.start(model, block=False)
    await until_status(exp, model, Status.RUNNING)
    (record,) = exp.summary(format="records")
    await anyio.run_process(["bkill", record["job_id"]])
    with anyio.fail_after(20):
        await exp.poll(interval=0.2, verbose=False)
    assert await exp.get_status(model) == [Status.CANCELLED]
    (record,) = exp.summary(format="records")
    assert "TERM_OWNER" in record["error"]
    assert fake.wait_gone(record["job_id"]) == []


async def test_a_refused_submission_is_a_scheduler_error_with_bsubs_message(
    exp: Experiment, fake: FakeScheduler
) -> None:
    batch = exp.create_batch_settings(queue="nosuch")
    model = exp.create_model("refused", exp.create_run_settings("true"), batch_settings=batch)
    with pytest.raises(
        SchedulerError, match="bsub refused the job: nosuch: No such queue"
    ) as raised:
        await exp.start(model, block=True)
    assert isinstance(raised.value, LaunchError)
    assert fake.state()["jobs"] == {}
    assert await exp.get_status(model) == [Status.FAILED]


async def test_a_hanging_bjobs_does_not_fail_the_job(
    exp: Experiment, fake: FakeScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_base, "COMMAND_TIMEOUT_S", 0.3)
    fake.hang("bjobs")
    model = exp.create_model(
        "hung", exp.create_run_settings(sys.executable, py("pass")),
        batch_settings=exp.create_batch_settings(),
    )  # fmt: skip
    await exp.start(model, block=False)
    await until(lambda: len(fake.calls("bjobs")) >= 3)
    assert await exp.get_status(model) == [Status.QUEUED]
    fake.answer("bjobs")
    with anyio.fail_after(20):
        await exp.poll(interval=0.2, verbose=False)
    assert await exp.get_status(model) == [Status.COMPLETED]


async def test_a_bjobs_missing_from_path_does_not_fail_the_job(
    exp: Experiment, fake: FakeScheduler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_path = os.environ["PATH"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("bsub", "bkill", "jsrun"):
        (bin_dir / command).symlink_to(fake.folder / command)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}")
    model = exp.create_model(
        "nobjobs", exp.create_run_settings(sys.executable, py("pass")),
        batch_settings=exp.create_batch_settings(),
    )  # fmt: skip
    await exp.start(model, block=False)
    await anyio.sleep(1.0)
    assert fake.calls("bjobs") == []
    assert await exp.get_status(model) == [Status.QUEUED]
    monkeypatch.setenv("PATH", full_path)
    with anyio.fail_after(20):
        await exp.poll(interval=0.2, verbose=False)
    assert await exp.get_status(model) == [Status.COMPLETED]


async def test_a_job_that_vanishes_from_bjobs_is_lost(exp: Experiment, fake: FakeScheduler) -> None:
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
    assert fake.calls("bkill") == []
    _fake.kill_all()


async def test_a_forced_bkill_sends_kill_and_bjobs_says_cancelled(
    tmp_path: Path, fake: FakeScheduler
) -> None:
    scheduler = LsfScheduler()
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/bash\n#BSUB -J forced\nsleep 60\n")
    job_id = await scheduler.submit(script, ["bsub"], True)
    await scheduler.cancel(job_id, force=True)
    assert fake.calls("bkill") == [["-s", "KILL", job_id]]
    assert fake.wait_gone(job_id) == []
    await scheduler.query([job_id])  # the first query shows it pending, whatever happened
    (state,) = (await scheduler.query([job_id])).values()
    assert (state.status, state.exit_code) == (Status.CANCELLED, 137)
    await scheduler.cancel(job_id, force=False)  # "Job has already finished": no error
    assert await scheduler.query(["999"]) == {}  # an ERROR record, bjobs exits 255: absent
