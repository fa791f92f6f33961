"""Workload-manager experiments built and previewed where no scheduler is installed: settings,
batch scripts and refusals need no scheduler command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from smartflow import (
    Experiment,
    InvalidArgumentError,
    LaunchError,
    SchedulerError,
    SmartflowError,
    Status,
    UnsupportedTypeError,
)
from smartflow.experiment import _launch_specs
from smartflow.settings import QsubBatchSettings, SbatchSettings, SrunSettings


@pytest.fixture
def no_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH without any scheduler's commands (python itself is run by its full path)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.mark.usefixtures("no_scheduler")
def test_a_slurm_experiment_renders_steps_and_scripts_without_slurm(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="slurm")
    assert exp.launcher == "slurm"
    rs = exp.create_run_settings(sys.executable, ["-c", "pass"], env_vars={"K": "a,b"})
    assert isinstance(rs, SrunSettings)
    step = exp.create_model("step", rs)
    shown = exp.preview(step)
    assert "srun --job-name=step --nodes=1 --ntasks=1 --overlap" in shown
    assert "a,b" not in shown.split("argv:")[1].splitlines()[0]  # values never on the line
    batch = exp.create_batch_settings(nodes=2, time="00:10:00", queue="debug", account="proj")
    assert isinstance(batch, SbatchSettings)
    ens = exp.create_ensemble("ens", replicas=2, run_settings=rs, batch_settings=batch)
    script = exp.preview(ens)
    for line in (
        "#SBATCH --job-name=ens",
        "#SBATCH --nodes=2",
        "#SBATCH --time=00:10:00",
        "#SBATCH --partition=debug",
        "#SBATCH --account=proj",
    ):
        assert line in script
    assert script.count("srun --job-name=ens_") == 2
    assert "wait" in script.splitlines()[-1]
    assert not (tmp_path / "ens").exists()  # rendered, not written or submitted


def test_a_batch_scripts_secrets_are_masked_in_preview(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="slurm")
    rs = exp.create_run_settings(sys.executable, ["-c", "pass"])
    model = exp.create_model("m", rs, batch_settings=exp.create_batch_settings())
    store_vars = {"SSDB": "10.0.0.1:6379", "SR_DB_TYPE": "Standalone", "SSDB_PASSWORD": "s3cret"}
    text = _launch_specs.preview_batch(
        exp._launcher, "m", model.batch_settings, [model], store_vars, tmp_path / "m"
    )
    assert "s3cret" not in text
    assert "SSDB_PASSWORD='********'" in text and "SSDB=10.0.0.1:6379" in text


def test_pbs_settings_come_from_a_pbs_experiment(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="pbs")
    assert isinstance(exp.create_batch_settings(nodes=1, time="01:00:00"), QsubBatchSettings)


@pytest.mark.parametrize(
    ("launcher", "error"), [("nosuch", InvalidArgumentError), (3, UnsupportedTypeError)]
)
def test_an_unknown_launcher_is_refused(tmp_path: Path, launcher: object, error: type) -> None:
    with pytest.raises(error) as raised:
        Experiment("wlm", exp_path=tmp_path, launcher=launcher)  # type: ignore[arg-type]
    assert isinstance(raised.value, SmartflowError)


def test_the_local_launcher_refuses_batch_settings(tmp_path: Path) -> None:
    exp = Experiment("loc", exp_path=tmp_path)
    with pytest.raises(InvalidArgumentError, match="batch"):
        exp.create_batch_settings()
    slurm = Experiment("wlm", exp_path=tmp_path, launcher="slurm").create_batch_settings()
    with pytest.raises(InvalidArgumentError, match="batch"):
        exp.create_model("m", exp.create_run_settings("true"), batch_settings=slurm)
    assert exp.summary(format="records") == []


def test_batch_settings_of_another_launcher_are_refused(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="slurm")
    pbs = Experiment("p", exp_path=tmp_path, launcher="pbs").create_batch_settings()
    with pytest.raises(UnsupportedTypeError, match="SbatchSettings"):
        exp.create_model("m", exp.create_run_settings("true"), batch_settings=pbs)
    with pytest.raises(UnsupportedTypeError):
        exp.create_ensemble(
            "e", replicas=2, run_settings=exp.create_run_settings("true"), batch_settings="x"
        )


def test_store_settings_for_a_scheduler_are_checked_where_they_are_set(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="slurm")
    db = exp.create_database(db_nodes=3)
    with pytest.raises(InvalidArgumentError, match="one host per shard"):
        db.set_hosts(["n1", "n2"])
    db.set_hosts(["n1", "n2", "n1"])
    assert db.hosts == ["n1", "n2", "n1"]
    with pytest.raises(InvalidArgumentError):
        db.set_run_arg("")
    db.set_run_arg("exclusive")
    assert db.run_args == {"exclusive": None}


@pytest.mark.usefixtures("no_scheduler")
def test_a_store_on_slurm_previews_its_shard_steps(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="slurm")
    db = exp.create_database(db_nodes=2)
    db.set_hosts(["n1", "n2"])
    shown = exp.preview(db)
    assert "orchestrator_0: srun --job-name=orchestrator_0 --nodes=1 --ntasks=1" in shown
    assert "--nodelist=n2" in shown.splitlines()[2]
    assert db.password not in shown


@pytest.mark.usefixtures("no_scheduler")
async def test_a_missing_scheduler_command_fails_the_start_with_a_clear_error(
    tmp_path: Path,
) -> None:
    async with Experiment("wlm", exp_path=tmp_path, launcher="slurm") as exp:
        rs = exp.create_run_settings(sys.executable, ["-c", "pass"])
        batch = exp.create_model("b", rs, batch_settings=exp.create_batch_settings())
        with pytest.raises(SchedulerError, match="'sbatch' is not on PATH"):
            await exp.start(batch)
        step = exp.create_model("s", rs)
        with pytest.raises(LaunchError, match="srun"):
            await exp.start(step)
        assert await exp.get_status(batch, step) == [Status.FAILED, Status.FAILED]


@pytest.mark.usefixtures("no_scheduler")
def test_store_cpus_and_walltime_reach_each_shards_step(tmp_path: Path) -> None:
    exp = Experiment("wlm", exp_path=tmp_path, launcher="slurm")
    db = exp.create_database(db_nodes=1)
    db.set_cpus(2)
    db.set_walltime("01:00:00")
    with pytest.raises(InvalidArgumentError):
        db.set_walltime("soon")
    shown = exp.preview(db)
    assert "--cpus-per-task=2" in shown and "--time=01:00:00" in shown
    batch = exp.create_database(db_nodes=1, db_identifier="b", batch=True)
    batch.set_walltime("00:30:00")
    assert batch.batch_settings.walltime == 1800  # type: ignore[attr-defined]
    local = Experiment("loc", exp_path=tmp_path).create_database()
    with pytest.raises(InvalidArgumentError, match="local launcher"):
        local.set_walltime("00:10:00")
