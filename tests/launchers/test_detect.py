"""``launchers.detect()``: which workload manager a host has, from the commands on PATH (tiny
stubs here) and the job variables, and the reason it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartflow import Experiment, launchers

#: What ``qsub --version`` prints: PBS Pro's, and Debian's slurm-wlm-torque wrapper's (recorded
#: from 22.05.8: it knows no --version, says so on stderr with its usage, and exits 2).
PBS_VERSION = "echo 'pbs_version = 2022.1'"
TORQUE_WRAPPER = (
    "echo 'Unknown option: version' >&2\n"
    "echo 'Usage:' >&2\n"
    "echo '    qsub [-a start_time] [-A account] [-b y|n] [-e err_path] [-I] [-l' >&2\n"
    "exit 2"
)
SLURM = ("sbatch", "squeue", "srun", "scancel")
JOB_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "COBALT_JOBID")


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH is this folder only, and no job variable is set."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    for variable in JOB_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return folder


def stub(folder: Path, name: str, body: str = "exit 0") -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_a_qsub_that_says_pbs_is_pbs(bin_dir: Path) -> None:
    stub(bin_dir, "qsub", PBS_VERSION)
    stub(bin_dir, "qstat")
    stub(bin_dir, "qdel")
    assert launchers.detect() == ("pbs", "qsub --version names PBS")


def test_slurms_torque_wrappers_are_slurm_not_pbs(bin_dir: Path) -> None:
    stub(bin_dir, "qsub", TORQUE_WRAPPER)
    stub(bin_dir, "qstat")
    stub(bin_dir, "qdel")
    for name in SLURM:
        stub(bin_dir, name)
    launcher, why = launchers.detect()
    assert launcher == "slurm"
    assert "sbatch" in why


def test_a_qsub_that_does_not_say_pbs_is_no_pbs(bin_dir: Path) -> None:
    stub(bin_dir, "qsub", TORQUE_WRAPPER)
    stub(bin_dir, "qstat")
    stub(bin_dir, "qdel")
    assert launchers.detect()[0] == "local"


def test_bsub_bjobs_and_bkill_are_lsf(bin_dir: Path, tmp_path: Path) -> None:
    for name in ("bsub", "bjobs", "bkill"):
        stub(bin_dir, name)
    assert launchers.detect() == ("lsf", "bsub, bjobs and bkill are on PATH")
    assert Experiment("auto", exp_path=tmp_path / "e", launcher="auto").launcher == "lsf"


def test_a_partial_set_of_commands_is_not_enough(bin_dir: Path) -> None:
    stub(bin_dir, "bsub")
    for name in SLURM[:-1]:
        stub(bin_dir, name)
    assert launchers.detect()[0] == "local"


@pytest.mark.parametrize(
    ("variable", "launcher"),
    [("COBALT_JOBID", "cobalt"), ("PBS_JOBID", "pbs"), ("LSB_JOBID", "lsf"),
     ("SLURM_JOB_ID", "slurm")],
)  # fmt: skip
def test_a_job_variable_names_the_launcher_when_no_command_does(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, launcher: str
) -> None:
    monkeypatch.setenv(variable, "12345")
    assert launchers.detect() == (launcher, f"${variable} is set")


def test_nothing_at_all_is_local_and_says_why(bin_dir: Path) -> None:
    launcher, why = launchers.detect()
    assert launcher == "local"
    assert "no workload manager" in why and "job variables" in why
