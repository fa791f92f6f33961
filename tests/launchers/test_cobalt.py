"""The Cobalt launcher end to end against fake Cobalt commands (tests/launchers/fakes/cobalt:
they print Cobalt's formats, run the executable script, and forget a job once it ends, as Cobalt
does): members' exit files are all there is to a finished job's outcome."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from smartflow import Experiment, LaunchError, SchedulerError, Status
from smartflow.launchers import _base
from smartflow.settings import AprunSettings, CobaltBatchSettings
from tests.launchers.fakes import _fake
from tests.launchers.fakes.support import FakeScheduler, fake_fixture, py, until, until_status

fake = fake_fixture("cobalt")
QSTAT = ["--header", "JobId:State"]


@pytest.fixture
async def exp(tmp_path: Path, fake: FakeScheduler) -> AsyncIterator[Experiment]:
    async with Experiment("cobalt", exp_path=tmp_path / "exp", launcher="cobalt") as experiment:
        yield experiment


async def test_a_batch_model_is_one_executable_qsub_script(
    exp: Experiment, fake: FakeScheduler
) -> None:
    rs = exp.create_run_settings(sys.executable, py("print('batched')"))
    assert isinstance(rs, AprunSettings)  # the fake aprun is first on PATH
    batch = exp.create_batch_settings(time="00:05:00")
    assert isinstance(batch, CobaltBatchSettings)
    model = exp.create_model("bm", rs, batch_settings=batch)
    await exp.start(model, block=True)
    assert await exp.get_status(model) == [Status.COMPLETED]
    (record,) = exp.summary(format="records")
    assert (record["job_id"], record["returncode"]) == ("4000", 0)  # past qsub's notice
    assert "batched" in (Path(model.path) / "bm.out").read_text()
    script = Path(exp.exp_path) / "bm" / "bm.batch.sh"
    assert script.stat().st_mode & 0o777 == 0o700  # Cobalt runs it: executable, still private
    assert fake.calls("qsub") == [[str(script)]]
    queries = fake.calls("qstat")
    assert queries and all(argv == [*QSTAT, "4000"] for argv in queries)


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
    assert any(ids <= set(argv) for argv in fake.calls("qstat"))  # one qstat, both jobs


async def test_stopping_a_batch_ensemble_qdels_its_job(
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
    assert fake.calls("qdel") == [[job_id]]
    assert fake.state()["cancels"] == [[job_id, "SIGTERM"]]
    assert fake.wait_gone(job_id) == []


async def test_a_refused_submission_is_a_scheduler_error_with_qsubs_message(
    exp: Experiment, fake: FakeScheduler
) -> None:
    batch = exp.create_batch_settings(queue="nosuch")
    model = exp.create_model("refused", exp.create_run_settings("true"), batch_settings=batch)
    with pytest.raises(
        SchedulerError, match=r"qsub refused the job: .*'nosuch' does not"
    ) as raised:
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
    await until(lambda: len(fake.calls("qstat")) >= 3)
    assert await exp.get_status(model) == [Status.QUEUED]
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


async def test_a_job_that_vanishes_before_its_members_end_is_lost(
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
    assert fake.calls("qdel") == []
    _fake.kill_all()
