"""RunSettings and BatchSettings through the Experiment factories: pure, no processes."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from smartflow import (
    BatchSettings,
    ExecutableNotFoundError,
    Experiment,
    InvalidArgumentError,
    LaunchError,
    RunSettings,
)


@pytest.fixture
def exp(tmp_path: Path) -> Experiment:
    """An experiment used only for its factories: nothing is started, nothing to close."""
    return Experiment("settings", exp_path=tmp_path / "exp")


@pytest.fixture
def fake_mpirun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An executable called ``mpirun`` first on PATH (the host has no MPI)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mpirun"
    script.write_text('#!/bin/sh\nexec "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


# -- create_run_settings ------------------------------------------------------------------------


def test_create_run_settings_resolves_exe_on_path(exp: Experiment) -> None:
    rs = exp.create_run_settings("sleep", exe_args=["1"])
    assert isinstance(rs, RunSettings)
    assert Path(rs.exe).is_absolute()
    assert Path(rs.exe).resolve() == Path(shutil.which("sleep")).resolve()
    assert rs.exe_args == ["1"]
    assert rs.run_command is None  # "auto" on the local launcher: run the exe directly
    assert rs.format_argv() == [rs.exe, "1"]


def test_create_run_settings_defaults(exp: Experiment) -> None:
    rs = exp.create_run_settings("true")
    assert rs.exe_args == []
    assert rs.run_args == {}
    assert rs.env_vars == {}
    assert rs.walltime is None
    assert rs.format_argv() == [rs.exe]


def test_exe_args_as_a_string_are_split(exp: Experiment) -> None:
    rs = exp.create_run_settings("echo", exe_args="a  b c")
    assert rs.exe_args == ["a", "b", "c"]


def test_exe_args_numbers_become_strings(exp: Experiment) -> None:
    rs = exp.create_run_settings("echo", exe_args=["x", 3, 2.5])
    assert rs.exe_args == ["x", "3", "2.5"]
    assert rs.format_argv(["--k=v"]) == [rs.exe, "x", "3", "2.5", "--k=v"]


def test_absolute_exe_path_is_kept(exp: Experiment) -> None:
    rs = exp.create_run_settings(sys.executable, exe_args=["-c", "pass"])
    assert Path(rs.exe).resolve() == Path(sys.executable).resolve()
    assert rs.format_argv() == [rs.exe, "-c", "pass"]


def test_env_vars_are_kept_as_strings(exp: Experiment) -> None:
    rs = exp.create_run_settings("true", env_vars={"A": "1", "B": 2, "C": None})
    assert rs.env_vars == {"A": "1", "B": "2", "C": ""}
    rs.update_env({"D": "4"})
    assert rs.env_vars["D"] == "4"


def test_add_exe_args(exp: Experiment) -> None:
    rs = exp.create_run_settings("echo", exe_args=["a"])
    rs.add_exe_args("b c")
    rs.add_exe_args(["d"])
    assert rs.exe_args == ["a", "b", "c", "d"]


def test_missing_executable_is_refused_at_creation(exp: Experiment) -> None:
    with pytest.raises(ExecutableNotFoundError) as info:
        exp.create_run_settings("definitely-not-a-real-executable-xyz")
    assert "definitely-not-a-real-executable-xyz" in str(info.value)
    assert isinstance(info.value, LaunchError)
    assert isinstance(info.value, FileNotFoundError)


def test_missing_absolute_executable_is_refused(exp: Experiment, tmp_path: Path) -> None:
    with pytest.raises(ExecutableNotFoundError):
        exp.create_run_settings(str(tmp_path / "nope"))


def test_non_executable_file_is_refused(exp: Experiment, tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(ExecutableNotFoundError):
        exp.create_run_settings(str(script))


@pytest.mark.parametrize("exe", ["", None, 3, ["true"]])
def test_bad_exe_type_is_refused(exp: Experiment, exe) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_run_settings(exe)


@pytest.mark.parametrize("exe_args", [{"a": 1}, [["nested"]], [None], 5])
def test_bad_exe_args_are_refused(exp: Experiment, exe_args) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_run_settings("true", exe_args=exe_args)


@pytest.mark.parametrize("env_vars", [["A=1"], {1: "x"}, {"": "x"}, "A=1"])
def test_bad_env_vars_are_refused(exp: Experiment, env_vars) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_run_settings("true", env_vars=env_vars)


def test_missing_run_command_is_refused(exp: Experiment) -> None:
    with pytest.raises(ExecutableNotFoundError):
        exp.create_run_settings("true", run_command="no-such-run-command-xyz")


def test_mpi_run_command_builds_argv(exp: Experiment, fake_mpirun: Path) -> None:
    rs = exp.create_run_settings(
        "echo", exe_args=["hi"], run_command="mpirun", run_args={"bind-to": "none", "oversub": None}
    )
    rs.set_tasks(4)
    assert rs.tasks == 4
    assert rs.format_argv() == [
        "mpirun",
        "-np",
        "4",
        "--bind-to=none",
        "--oversub",
        rs.exe,
        "hi",
    ]


# -- setters the local launcher can and cannot honour -------------------------------------------


def test_setters_accept_what_the_local_launcher_can_do(exp: Experiment) -> None:
    rs = exp.create_run_settings("true")
    rs.set_tasks(1)
    rs.set_nodes(1)
    rs.set_tasks_per_node(1)
    rs.set_cpus_per_task(1)
    assert rs.tasks == 1
    assert rs.format_argv() == [rs.exe]


@pytest.mark.parametrize(
    ("setter", "value"),
    [
        ("set_tasks", 2),
        ("set_nodes", 2),
        ("set_tasks_per_node", 4),
        ("set_cpus_per_task", 8),
    ],
)
def test_setters_refuse_what_the_local_launcher_cannot_do(
    exp: Experiment, setter: str, value: int
) -> None:
    rs = exp.create_run_settings("true")
    with pytest.raises(InvalidArgumentError) as info:
        getattr(rs, setter)(value)
    assert str(value) in str(info.value)
    assert rs.tasks == 1  # nothing changed
    assert rs.format_argv() == [rs.exe]


@pytest.mark.parametrize(
    "setter", ["set_tasks", "set_nodes", "set_tasks_per_node", "set_cpus_per_task"]
)
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2", None])
def test_setters_refuse_non_counts(exp: Experiment, setter: str, value) -> None:
    rs = exp.create_run_settings("true")
    with pytest.raises(InvalidArgumentError):
        getattr(rs, setter)(value)


def test_nodes_refused_even_with_an_mpi_run_command(exp: Experiment, fake_mpirun: Path) -> None:
    rs = exp.create_run_settings("true", run_command="mpirun")
    rs.set_nodes(1)
    with pytest.raises(InvalidArgumentError):
        rs.set_nodes(3)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:01", 1.0),
        ("00:01:30", 90.0),
        ("02:00:00", 7200.0),
        ("1-00:00:10", 86410.0),
    ],
)
def test_set_walltime(exp: Experiment, text: str, seconds: float) -> None:
    rs = exp.create_run_settings("true")
    rs.set_walltime(text)
    assert rs.walltime == seconds


@pytest.mark.parametrize("text", ["", "10", "1:2", "aa:bb:cc", "00:00:01:00", 5, None])
def test_bad_walltime_is_refused(exp: Experiment, text) -> None:
    rs = exp.create_run_settings("true")
    with pytest.raises(InvalidArgumentError):
        rs.set_walltime(text)
    assert rs.walltime is None


def test_copy_is_independent(exp: Experiment) -> None:
    rs = exp.create_run_settings("echo", exe_args=["a"], env_vars={"K": "1"})
    rs.set_walltime("00:00:05")
    clone = rs.copy()
    clone.add_exe_args("b")
    clone.update_env({"K": "2"})
    assert rs.exe_args == ["a"] and rs.env_vars == {"K": "1"}
    assert clone.exe_args == ["a", "b"] and clone.env_vars == {"K": "2"}
    assert clone.walltime == 5.0 and clone.exe == rs.exe


# -- batch settings -----------------------------------------------------------------------------


def test_create_batch_settings_is_refused_by_the_local_launcher(exp: Experiment) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_batch_settings(nodes=2, time="01:00:00")
    assert "local" in str(info.value)
    assert "batch" in str(info.value)


def test_create_model_with_batch_settings_is_refused(exp: Experiment) -> None:
    rs = exp.create_run_settings("true")
    with pytest.raises(InvalidArgumentError):
        exp.create_model("m", rs, batch_settings=BatchSettings(nodes=1))
    # nothing was registered: the name is still free
    assert exp.create_model("m", rs).name == "m"


def test_create_ensemble_with_batch_settings_is_refused(exp: Experiment) -> None:
    rs = exp.create_run_settings("true")
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("e", run_settings=rs, replicas=2, batch_settings=BatchSettings())
    assert len(exp.create_ensemble("e", run_settings=rs, replicas=2).models) == 2


@pytest.mark.parametrize("launcher", ["slurmm", "nope"])
def test_launcher_that_does_not_exist_here(tmp_path: Path, launcher: str) -> None:
    with pytest.raises(InvalidArgumentError):
        Experiment("x", exp_path=tmp_path, launcher=launcher)
