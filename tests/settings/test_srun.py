"""SrunSettings: explicit counts, --overlap, the allocation, each setter's flag. Pure."""

from __future__ import annotations

import pytest

from smartflow.errors import InvalidArgumentError
from smartflow.settings import SrunSettings
from tests.settings._helpers import EXE


def test_defaults_are_explicit_counts_and_overlap() -> None:
    rs = SrunSettings(EXE, ["x"])
    assert rs.format_argv() == ["srun", "--nodes=1", "--ntasks=1", "--overlap", EXE, "x"]
    assert rs.run_command == "srun" and rs.launcher == "slurm"


def test_exact_replaces_overlap() -> None:
    rs = SrunSettings(EXE, run_args={"exact": None})
    assert rs.format_run_args() == ["--nodes=1", "--ntasks=1", "--exact"]
    rs = SrunSettings(EXE, run_args={"overlap": None})
    assert rs.format_run_args().count("--overlap") == 1


def test_alloc_and_name_come_first() -> None:
    rs = SrunSettings(EXE, alloc="1234")
    assert rs.format_argv(name="m-1")[:3] == ["srun", "--jobid=1234", "--job-name=m-1"]
    assert SrunSettings(EXE, alloc=99).alloc == "99"


@pytest.mark.parametrize("alloc", ["", 0, -3, True, "a\nb", 1.5])
def test_bad_alloc_is_refused(alloc) -> None:
    with pytest.raises(InvalidArgumentError):
        SrunSettings(EXE, alloc=alloc)


def test_ntasks_follows_nodes_and_tasks_per_node_until_set() -> None:
    rs = SrunSettings(EXE)
    rs.set_nodes(3)
    assert rs.format_run_args()[:2] == ["--nodes=3", "--ntasks=1"]
    rs.set_tasks_per_node(4)
    assert rs.tasks == 12
    assert rs.format_run_args()[:3] == ["--nodes=3", "--ntasks=12", "--ntasks-per-node=4"]
    rs.set_nodes(2)
    assert rs.tasks == 8
    rs.set_tasks(5)
    rs.set_nodes(4)
    assert rs.format_run_args()[:3] == ["--nodes=4", "--ntasks=5", "--ntasks-per-node=4"]


@pytest.mark.parametrize(
    ("setter", "args", "flag"),
    [
        ("set_cpus_per_task", (4,), ["--cpus-per-task=4"]),
        ("set_hostlist", ("n1",), ["--nodelist=n1"]),
        ("set_hostlist", (["n1", "n2"],), ["--nodelist=n1,n2"]),
        ("set_hostlist_from_file", ("/etc/hosts.txt",), ["--nodefile=/etc/hosts.txt"]),
        ("set_excluded_hosts", (["n3", "n4"],), ["--exclude=n3,n4"]),
        ("set_cpu_bindings", ([0, 2],), ["--cpu_bind=map_cpu:0,2"]),
        ("set_cpu_bindings", (1,), ["--cpu_bind=map_cpu:1"]),
        ("set_memory_per_node", (2048,), ["--mem=2048M"]),
        ("set_verbose_launch", (True,), ["--verbose"]),
        ("set_quiet_launch", (True,), ["--quiet"]),
        ("set_broadcast", (), ["--bcast"]),
        ("set_broadcast", ("/tmp/exe",), ["--bcast=/tmp/exe"]),
        ("set_node_feature", ("gpu|bigmem",), ["-C", "gpu|bigmem"]),
        ("set_node_feature", (["gpu", "ib"],), ["-C", "gpu&ib"]),
        ("set_het_group", ([0, 1],), ["--het-group=0,1"]),
        ("set_het_group", (0,), ["--het-group=0"]),
    ],
)
def test_setters_render_their_flag(setter: str, args: tuple, flag: list[str]) -> None:
    rs = SrunSettings(EXE)
    getattr(rs, setter)(*args)
    argv = rs.format_argv()
    assert argv[4:-1] == flag  # after srun --nodes --ntasks --overlap, before the exe


def test_switches_can_be_turned_off() -> None:
    rs = SrunSettings(EXE)
    rs.set_verbose_launch(True)
    rs.set_verbose_launch(False)
    rs.set_quiet_launch(False)
    assert rs.run_args == {}


@pytest.mark.parametrize(
    ("text", "rendered"),
    [("00:05:00", "00:05:00"), ("2-03:04:05", "2-03:04:05"), ("23:59:59", "23:59:59")],
)
def test_walltime_renders_time_and_keeps_seconds(text: str, rendered: str) -> None:
    rs = SrunSettings(EXE)
    rs.set_walltime(text)
    assert f"--time={rendered}" in rs.format_run_args()
    assert isinstance(rs.walltime, float)


def test_walltime_set_as_seconds_renders_too() -> None:
    rs = SrunSettings(EXE)
    rs.walltime = 90061.5
    assert "--time=1-01:01:02" in rs.format_run_args()  # rounded up


@pytest.mark.parametrize("groups", [[], [-1], ["0"], [True], None])
def test_bad_het_groups_are_refused(groups) -> None:
    with pytest.raises(InvalidArgumentError):
        SrunSettings(EXE).set_het_group(groups)


def test_het_group_and_mpmd_do_not_mix() -> None:
    rs = SrunSettings(EXE)
    rs.make_mpmd(SrunSettings(EXE))
    with pytest.raises(InvalidArgumentError):
        rs.set_het_group(0)
    grouped = SrunSettings(EXE)
    grouped.set_het_group(1)
    with pytest.raises(InvalidArgumentError):
        SrunSettings(EXE).make_mpmd(grouped)
    with pytest.raises(InvalidArgumentError):
        grouped.make_mpmd(SrunSettings(EXE))


def test_mpmd_parts_must_share_the_allocation() -> None:
    rs = SrunSettings(EXE, alloc="1")
    rs.make_mpmd(SrunSettings(EXE))  # no allocation of its own: joins this one
    rs.make_mpmd(SrunSettings(EXE, alloc="1"))
    with pytest.raises(InvalidArgumentError):
        rs.make_mpmd(SrunSettings(EXE, alloc="2"))


def test_mpmd_rendering() -> None:
    rs = SrunSettings(EXE, ["a"], alloc="7")
    rs.set_tasks(2)
    part = SrunSettings(EXE, ["b"], run_args={"exact": None})
    part.set_nodes(2)
    rs.make_mpmd(part)
    assert rs.format_argv(name="db") == [
        "srun", "--jobid=7", "--job-name=db", "--nodes=1", "--ntasks=2", "--overlap", EXE, "a",
        ":", "--nodes=2", "--ntasks=1", "--exact", EXE, "b",
    ]  # fmt: skip


def test_env_is_never_exported_on_the_command_line() -> None:
    rs = SrunSettings(EXE, env_vars={"LIST": "a,b,c"})
    argv = rs.format_argv(name="m")
    assert not any("export" in t or "LIST" in t for t in argv)
    assert rs.launch_env() == {"LIST": "a,b,c"}
