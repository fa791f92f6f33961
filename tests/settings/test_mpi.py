"""MpirunSettings, MpiexecSettings, OrterunSettings: ``-n N``, Open MPI's options, ``-x NAME``."""

from __future__ import annotations

import pytest

from smartflow.settings import MpiexecSettings, MpirunSettings, OrterunSettings, RunSettings
from tests.settings._helpers import EXE

MPI = [MpirunSettings, MpiexecSettings, OrterunSettings]


@pytest.mark.parametrize("cls", MPI)
def test_tasks_are_always_explicit(cls: type[RunSettings]) -> None:
    rs = cls(EXE, ["x"])
    assert rs.format_argv() == [cls.RUN_COMMAND, "-n", "1", EXE, "x"]
    rs.set_tasks(8)
    assert rs.format_argv() == [cls.RUN_COMMAND, "-n", "8", EXE, "x"]


@pytest.mark.parametrize("cls", MPI)
@pytest.mark.parametrize(
    ("setter", "args", "flag"),
    [
        ("set_task_map", ("ppr:1:node",), ["--map-by", "ppr:1:node"]),
        ("set_cpus_per_task", (2,), ["--cpus-per-proc", "2"]),
        ("set_cpu_binding_type", ("core",), ["--bind-to", "core"]),
        ("set_tasks_per_node", (4,), ["--npernode", "4"]),
        ("set_hostlist", (["n1", "n2"],), ["--host", "n1,n2"]),
        ("set_hostlist", ("n1",), ["--host", "n1"]),
        ("set_hostlist_from_file", ("/hosts",), ["--hostfile", "/hosts"]),
        ("set_verbose_launch", (True,), ["--verbose"]),
        ("set_quiet_launch", (True,), ["--quiet"]),
        ("set_broadcast", (), ["--preload-binary"]),
        ("set_walltime", ("00:01:30",), ["--timeout", "90"]),
    ],
)
def test_setters_render_their_flag(
    cls: type[RunSettings], setter: str, args: tuple, flag: list[str]
) -> None:
    rs = cls(EXE)
    getattr(rs, setter)(*args)
    assert rs.format_argv()[3:-1] == flag


@pytest.mark.parametrize("cls", MPI)
@pytest.mark.parametrize("setter", ["set_task_map", "set_cpu_binding_type"])
@pytest.mark.parametrize("value", ["", None, 3, "a\nb"])
def test_text_setters_refuse_bad_values(cls: type[RunSettings], setter: str, value) -> None:
    with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError
        getattr(cls(EXE), setter)(value)


@pytest.mark.parametrize(("cls", "forwards"), [(MpirunSettings, True), (OrterunSettings, True),
                                               (MpiexecSettings, False)])  # fmt: skip
def test_env_names_only(cls: type[RunSettings], forwards: bool) -> None:
    rs = cls(EXE, env_vars={"SSDB": "127.0.0.1:6379", "PW": "secret"})
    expected = ["-x", "SSDB", "-x", "PW"] if forwards else []
    assert rs.format_argv() == [cls.RUN_COMMAND, "-n", "1", *expected, EXE]


def test_mpmd_gives_each_part_its_count_and_names() -> None:
    rs = MpirunSettings(EXE, ["a"], env_vars={"A": "1"})
    rs.set_tasks(2)
    part = MpirunSettings(EXE, ["b"], env_vars={"B": "2"})
    part.set_hostlist("n2")
    rs.make_mpmd(part)
    assert rs.format_argv() == [
        "mpirun", "-n", "2", "-x", "A", EXE, "a", ":", "-n", "1", "--host", "n2", "-x", "B", EXE,
        "b",
    ]  # fmt: skip


def test_local_mpirun_keeps_rendering_np(tmp_path, monkeypatch) -> None:
    """RunSettings(run_command='mpirun') is the local launcher's, unchanged: ``-np N``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mpirun").write_text("#!/bin/sh\n")
    (bin_dir / "mpirun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    rs = RunSettings(EXE, run_command="mpirun", run_args={"bind-to": "none"})
    rs.set_tasks(3)
    assert rs.format_argv() == ["mpirun", "-np", "3", "--bind-to=none", rs.exe]
