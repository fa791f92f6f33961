"""Models and ensembles on a real Slurm (the one-host cluster `.ci/slurm-up` starts): steps as
srun child processes, batch jobs as sbatch scripts, statuses, cancels and refusals."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from smartflow import Experiment, InvalidArgumentError, LaunchError, SchedulerError, Status
from smartflow.settings import SbatchSettings, SrunSettings
from tests._support import until
from tests.slurm_support import left_running, scancel_all, slurm_cluster, squeue_ids  # noqa: F401

pytestmark = pytest.mark.usefixtures("slurm_cluster")


@pytest.fixture
def tag() -> str:
    """A prefix for this test's job names: the cluster may be shared by other runs."""
    return f"sf{secrets.token_hex(3)}"


@pytest.fixture
async def exp(tmp_path: Path, tag: str) -> AsyncIterator[Experiment]:
    async with Experiment("slurm", exp_path=tmp_path, launcher="slurm") as experiment:
        yield experiment
    scancel_all(tag)


def py(code: str) -> list[str]:
    return ["-c", code]


async def test_a_step_runs_through_srun_and_its_exit_code_is_its_status(
    exp: Experiment, tag: str
) -> None:
    ok = exp.create_model(f"{tag}-ok", exp.create_run_settings(sys.executable, py("print('hi')")))
    bad = exp.create_model(
        f"{tag}-bad", exp.create_run_settings(sys.executable, py("raise SystemExit(3)"))
    )
    assert isinstance(ok.run_settings, SrunSettings)
    assert "srun" in exp.preview(ok)
    await exp.start(ok, bad, block=True)
    assert await exp.get_status(ok, bad) == [Status.COMPLETED, Status.FAILED]
    assert "hi" in (Path(ok.path) / f"{ok.name}.out").read_text()
    (record,) = [r for r in exp.summary(format="records") if r["name"] == bad.name]
    assert record["returncode"] == 3


async def test_a_step_gets_its_environment_without_a_command_line(
    exp: Experiment, tag: str
) -> None:
    """Values travel in srun's process environment (--export=ALL): commas survive (SmartSim's
    --export bug) and nothing of them is on the command line."""
    code = "import os; print(os.environ['LIST'], os.environ.get('SSKEYOUT'))"
    rs = exp.create_run_settings(sys.executable, py(code), env_vars={"LIST": "a,b,c"})
    model = exp.create_model(f"{tag}-env", rs, enable_key_prefixing=True)
    assert "a,b,c" not in " ".join(model.run_settings.format_argv(name=model.name))
    await exp.start(model, block=True)
    assert await exp.get_status(model) == [Status.COMPLETED]
    assert (Path(model.path) / f"{model.name}.out").read_text().split() == ["a,b,c", model.name]


async def test_a_step_inside_an_allocation_runs_in_it(
    exp: Experiment, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    granted = await anyio.run_process(
        ["salloc", "--no-shell", "-N1", "-n1", f"--job-name={tag}-alloc"], stderr=-1
    )
    alloc = granted.stderr.decode().split("Granted job allocation")[1].split()[0]
    try:
        monkeypatch.setenv("SLURM_JOB_ID", alloc)
        code = "import os; print(os.environ['SLURM_JOB_ID'])"
        model = exp.create_model(f"{tag}-in", exp.create_run_settings(sys.executable, py(code)))
        await exp.start(model, block=True)
        assert await exp.get_status(model) == [Status.COMPLETED]
        assert (Path(model.path) / f"{model.name}.out").read_text().strip() == alloc
    finally:
        await anyio.run_process(["scancel", alloc], check=False)


async def test_a_batch_model_is_one_sbatch_job(exp: Experiment, tag: str) -> None:
    batch = exp.create_batch_settings(nodes=1, time="00:05:00")
    assert isinstance(batch, SbatchSettings)
    rs = exp.create_run_settings(sys.executable, py("print('batched')"))
    model = exp.create_model(f"{tag}-bm", rs, batch_settings=batch)
    shown = exp.preview(model)
    assert "#SBATCH" in shown and "srun" in shown
    await exp.start(model, block=True)
    assert await exp.get_status(model) == [Status.COMPLETED]
    (record,) = exp.summary(format="records")
    assert record["job_id"].isdigit()  # the batch job's id, not a pid
    assert record["job_id"] in squeue_ids(f"{tag}-bm")
    assert "batched" in (Path(model.path) / f"{model.name}.out").read_text()
    script = Path(exp.exp_path) / model.name / f"{model.name}.batch.sh"
    assert script.stat().st_mode & 0o077 == 0  # it holds the store's secret when one runs


async def test_a_held_batch_job_is_queued_until_it_runs(exp: Experiment, tag: str) -> None:
    batch = exp.create_batch_settings(batch_args={"hold": None})  # pending until released
    rs = exp.create_run_settings(sys.executable, py("pass"))
    model = exp.create_model(f"{tag}-held", rs, batch_settings=batch)
    await exp.start(model, block=False)
    assert await exp.get_status(model) == [Status.QUEUED]
    (record,) = exp.summary(format="records")
    await anyio.run_process(["scontrol", "release", record["job_id"]])
    with anyio.fail_after(60):
        await exp.poll(interval=1, verbose=False)
    assert await exp.get_status(model) == [Status.COMPLETED]


async def test_a_batch_ensemble_keeps_each_members_status(exp: Experiment, tag: str) -> None:
    """A failed member makes the job COMPLETED in Slurm's eyes; each member still reports its
    own exit code."""
    code = "import sys; sys.exit(4 if '--fail=1' in sys.argv else 0)"
    rs = exp.create_run_settings(sys.executable, py(code))
    ens = exp.create_ensemble(
        f"{tag}-ens",
        params={"fail": [0, 1, 0]},
        run_settings=rs,
        params_as_args=["fail"],
        batch_settings=exp.create_batch_settings(time="00:05:00"),
    )
    await exp.start(ens, block=True)
    assert await exp.get_status(ens) == [Status.COMPLETED, Status.FAILED, Status.COMPLETED]
    codes = {r["name"]: r["returncode"] for r in exp.summary(format="records")}
    assert codes == {f"{tag}-ens_0": 0, f"{tag}-ens_1": 4, f"{tag}-ens_2": 0}
    assert len({r["job_id"] for r in exp.summary(format="records")}) == 1  # one job


async def test_stopping_a_batch_ensemble_cancels_its_job(exp: Experiment, tag: str) -> None:
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    ens = exp.create_ensemble(
        f"{tag}-long", replicas=2, run_settings=rs, batch_settings=exp.create_batch_settings()
    )
    await exp.start(ens, block=False)
    await exp.stop(ens)
    assert await exp.get_status(ens) == [Status.CANCELLED, Status.CANCELLED]
    assert await left_running(tag) == []  # nothing of it is left


async def test_stopping_a_step_ends_it(exp: Experiment, tag: str) -> None:
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    model = exp.create_model(f"{tag}-step", rs)
    await exp.start(model, block=False)
    await exp.stop(model)
    assert await exp.get_status(model) == [Status.CANCELLED]
    assert await left_running(tag) == []


async def test_a_refused_submission_is_a_launch_error_with_the_schedulers_message(
    exp: Experiment, tag: str
) -> None:
    batch = exp.create_batch_settings(queue="nosuchpartition")
    model = exp.create_model(
        f"{tag}-refused", exp.create_run_settings("true"), batch_settings=batch
    )
    with pytest.raises(SchedulerError, match=r"(?i)invalid partition") as raised:
        await exp.start(model, block=True)
    assert isinstance(raised.value, LaunchError)
    assert squeue_ids(f"{tag}-refused") == []
    assert await exp.get_status(model) == [Status.FAILED]


def test_auto_finds_slurm() -> None:
    exp = Experiment("auto", exp_path="/tmp/unused-smartflow-auto", launcher="auto")
    assert exp.launcher == "slurm"
    assert isinstance(exp.create_run_settings("true"), SrunSettings)


def test_a_sigkilled_driver_leaves_nothing_in_squeue(tmp_path: Path, tag: str) -> None:
    import signal
    import subprocess
    import time

    driver = tmp_path / "driver.py"
    driver.write_text(
        f"""
import anyio, sys
from smartflow import Experiment

async def main():
    async with Experiment("k", exp_path={str(tmp_path)!r}, launcher="slurm") as exp:
        rs = exp.create_run_settings(sys.executable, ["-c", "import time; time.sleep(300)"])
        step = exp.create_model("{tag}-kstep", rs)
        batch = exp.create_model("{tag}-kbatch", rs, batch_settings=exp.create_batch_settings())
        await exp.start(step, batch, block=False)
        for _ in range(200):  # until both show their Slurm ids (a step's is looked up)
            queued = (await anyio.run_process(["squeue", "-h", "-o", "%i"])).stdout.split()
            ids = [r["job_id"] for r in exp.summary(format="records")]
            if all(i.encode() in queued for i in ids):
                break
            await anyio.sleep(0.05)
        print("started", flush=True)
        await anyio.sleep(300)

anyio.run(main)
"""
    )
    process = subprocess.Popen([sys.executable, str(driver)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "started"
        assert len(squeue_ids(tag)) == 2
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        live: list[str] = ["?"]
        while live and time.monotonic() < deadline:
            out = subprocess.run(
                ["squeue", "-h", "-o", "%i|%j"], capture_output=True, text=True, timeout=10
            ).stdout
            live = [line for line in out.splitlines() if f"|{tag}" in line]
            time.sleep(0.2)
        assert live == [], f"left in squeue 10 s after the driver died: {live}"
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        scancel_all(tag)


APP = """
import os, sys, anyio, numpy as np
from smartflow import Client
from smartflow._validate import MODEL_ONNX, expected_output

async def main():
    async with Client(db_identifier=sys.argv[1]) as client:
        x = np.array([[1.0, 2.0, 3.0]], np.float32)
        await client.put_tensor("x", x)
        await client.set_model("m", MODEL_ONNX, backend="ONNX", device="CPU")
        await client.run_model("m", ["x"], ["y"])
        assert np.allclose(await client.get_tensor("y"), expected_output(x))
        print("ok", os.environ["SLURMD_NODENAME"])

anyio.run(main)
"""


@pytest.mark.parametrize("shards", [1, 3])
async def test_a_store_on_slurm_serves_a_model_on_the_other_node(
    exp: Experiment, tag: str, shards: int
) -> None:
    """Each shard is a one-task step that reports its own address; the model runs on the other
    node name, reads and writes tensors and runs an ONNX model next to the data."""
    db = exp.create_database(db_nodes=shards, db_identifier=f"{tag}db")
    db.set_hosts(["n1", "n1", "n2"][:shards])  # 4 CPUs: 3 shards (workers share theirs) + 1
    await exp.start(db)
    assert await db.is_active()
    assert len(set(db.get_address())) == shards  # distinct ports on the one shared host
    statuses = await exp.get_status(db)
    assert statuses == [Status.RUNNING] * (2 * shards)  # each shard and its worker
    rs = exp.create_run_settings(sys.executable, [*py(APP), db.db_identifier])
    rs.set_hostlist("n2")
    model = exp.create_model(f"{tag}-app", rs)
    await exp.start(model, block=True)
    out = (Path(model.path) / f"{model.name}.out").read_text()
    err = (Path(model.path) / f"{model.name}.err").read_text()
    assert await exp.get_status(model) == [Status.COMPLETED], err
    assert out.split() == ["ok", "n2"]
    await exp.stop(db)
    assert not await db.is_active()
    assert await left_running(tag) == []


def test_the_slurm_example_runs(tmp_path: Path) -> None:
    import subprocess

    example = Path(__file__).resolve().parents[2] / "examples" / "slurm.py"
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "members: ['Completed', 'Completed', 'Completed']" in result.stdout
    assert "sum of what the members wrote: 24.0" in result.stdout


@pytest.mark.timeout(240)  # Slurm's shortest limit is a minute, and its cluster may be busy
async def test_a_batch_job_past_its_time_limit_fails_with_the_reason(
    exp: Experiment, tag: str
) -> None:
    """Slurm's minimum limit is a minute, so this costs about 75 s: the one TIMEOUT test."""
    batch = exp.create_batch_settings(time="00:01:00")
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(300)"))
    model = exp.create_model(f"{tag}-late", rs, batch_settings=batch)
    with anyio.fail_after(200):
        await exp.start(model, block=True)
    assert await exp.get_status(model) == [Status.FAILED]
    (record,) = exp.summary(format="records")
    assert "time limit" in record["error"]


def _shim(folder: Path, name: str, body: str) -> None:
    """A wrapper of a real Slurm command, first on PATH."""
    import shutil

    real = shutil.which(name)
    assert real is not None
    path = folder / name
    path.write_text(f'#!/bin/bash\n{body}\nexec {real} "$@"\n')
    path.chmod(0o755)


async def test_a_hung_squeue_is_retried_and_never_fails_the_job(
    exp: Experiment, tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smartflow.launchers import _base

    shims, hang = tmp_path / "shims", tmp_path / "hang"
    shims.mkdir()
    _shim(shims, "squeue", f"[ -e {hang} ] && sleep 30")
    monkeypatch.setenv("PATH", f"{shims}:{os.environ['PATH']}")
    monkeypatch.setattr(_base, "COMMAND_TIMEOUT_S", 0.5)
    hang.touch()
    rs = exp.create_run_settings(sys.executable, py("pass"))
    model = exp.create_model(f"{tag}-hung", rs, batch_settings=exp.create_batch_settings())
    await exp.start(model, block=False)
    await anyio.sleep(2)  # several polls time out meanwhile
    assert await exp.get_status(model) != [Status.FAILED]
    hang.unlink()
    with anyio.fail_after(60):
        await exp.poll(interval=1, verbose=False)
    assert await exp.get_status(model) == [Status.COMPLETED]


async def test_a_job_gone_from_squeue_takes_its_final_state_from_the_completion_log(
    exp: Experiment, tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """squeue forgets a job MinJobAge after it ends (here: a shim that knows no job at all);
    ``sacct -c`` still knows how it ended: cancelled by someone else, so no member wrote an
    exit code."""
    shims = tmp_path / "shims"
    shims.mkdir()
    _shim(shims, "squeue", 'echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1')
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(300)"))
    model = exp.create_model(f"{tag}-gone", rs, batch_settings=exp.create_batch_settings())
    await exp.start(model, block=False)
    (record,) = exp.summary(format="records")
    monkeypatch.setenv("PATH", f"{shims}:{os.environ['PATH']}")
    await anyio.run_process(["scancel", record["job_id"]])
    with anyio.fail_after(60):
        await exp.poll(interval=1, verbose=False)
    assert await exp.get_status(model) == [Status.CANCELLED]


async def test_stopping_one_member_of_a_batch_job_leaves_the_others_running(
    exp: Experiment, tag: str
) -> None:
    rs = exp.create_run_settings(sys.executable, py("import time; time.sleep(120)"))
    ens = exp.create_ensemble(
        f"{tag}-part", replicas=2, run_settings=rs, batch_settings=exp.create_batch_settings()
    )
    await exp.start(ens, block=False)

    async def both_running() -> bool:
        return await exp.get_status(ens) == [Status.RUNNING, Status.RUNNING]

    await until(both_running, within=30)
    await exp.stop(ens.models[0])
    assert await exp.get_status(ens) == [Status.CANCELLED, Status.RUNNING]
    await exp.stop(ens)
    assert await exp.get_status(ens) == [Status.CANCELLED, Status.CANCELLED]
    assert await left_running(tag) == []


async def test_a_store_in_one_batch_job_serves_and_stops_with_its_job(
    exp: Experiment, tag: str
) -> None:
    """``create_database(batch=True)``: every shard a member of one sbatch job; the secret
    reaches them in 0600 files, read once and removed."""
    batch = exp.create_batch_settings(nodes=2)
    db = exp.create_database(
        db_nodes=3, db_identifier=f"{tag}bdb", batch=True, batch_settings=batch
    )
    db.set_batch_arg("comment", "a smartflow test store")
    with pytest.raises(InvalidArgumentError):
        db.set_batch_arg("job-name", "x")  # smartflow names the job
    await exp.start(db)
    assert await db.is_active()
    assert await exp.get_status(db) == [Status.RUNNING] * 6  # so models get its address
    records = {r["name"]: r for r in exp.summary(format="records")}
    assert len({records[name]["job_id"] for name in db.shard_names}) == 1  # one job
    workdir = Path(exp.exp_path) / db.db_identifier
    assert not list(workdir.glob("*.setup.json"))  # read and removed
    script = workdir / f"{db.name}.batch.sh"
    assert script.stat().st_mode & 0o077 == 0
    assert db.password not in script.read_text()
    await exp.stop(db)
    assert await exp.get_status(db) == [Status.CANCELLED] * 6
    assert await left_running(tag) == []


@pytest.mark.parametrize("transport", ["tcp", "uds"])
async def test_a_colocated_store_runs_beside_its_model_on_its_node(
    exp: Experiment, tag: str, transport: str, tmp_path: Path
) -> None:
    """The store is a step, its worker and the model run in the store's job on its node; the
    model's SSDB points at it, and the store ends with its model."""
    app = APP.replace("Client(db_identifier=sys.argv[1])", "Client()")
    rs = exp.create_run_settings(sys.executable, py(app))
    model = exp.create_model(f"{tag}-colo", rs)
    if transport == "tcp":
        model.colocate_db_tcp()
    else:
        model.colocate_db_uds(unix_socket=tmp_path / "colo.sock")
    await exp.start(model, block=True)
    err = (Path(model.path) / f"{model.name}.err").read_text()
    assert await exp.get_status(model) == [Status.COMPLETED], err
    assert (Path(model.path) / f"{model.name}.out").read_text().split()[0] == "ok"
    rows = {r["name"]: r for r in exp.summary(format="records")}
    assert rows[f"{model.name}.db"]["status"] == "Cancelled"  # stopped when its model ended
    assert await left_running(tag) == []
