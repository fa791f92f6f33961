"""JsrunSettings (its ERF for MPMD) and AprunSettings: each setter's flag. Pure."""

from __future__ import annotations

import pytest

from smartflow.errors import InvalidArgumentError
from smartflow.settings import AprunSettings, JsrunSettings
from tests.settings._helpers import EXE

# -- jsrun --------------------------------------------------------------------------------------


def test_jsrun_leaves_the_count_to_resource_sets_unless_set() -> None:
    rs = JsrunSettings(EXE, ["x"])
    assert rs.tasks is None
    assert rs.format_argv() == ["jsrun", EXE, "x"]
    rs.set_tasks(6)
    assert rs.format_argv() == ["jsrun", "--np=6", EXE, "x"]
    assert rs.launcher == "lsf"


@pytest.mark.parametrize(
    ("setter", "args", "flag"),
    [
        ("set_num_rs", (4,), "--nrs=4"),
        ("set_num_rs", ("ALL_HOSTS",), "--nrs=ALL_HOSTS"),
        ("set_cpus_per_rs", (7,), "--cpu_per_rs=7"),
        ("set_cpus_per_rs", ("ALL_CPUS",), "--cpu_per_rs=ALL_CPUS"),
        ("set_gpus_per_rs", (0,), "--gpu_per_rs=0"),
        ("set_gpus_per_rs", ("ALL_GPUS",), "--gpu_per_rs=ALL_GPUS"),
        ("set_rs_per_host", (2,), "--rs_per_host=2"),
        ("set_tasks_per_rs", (3,), "--tasks_per_rs=3"),
        ("set_tasks_per_node", (3,), "--tasks_per_rs=3"),
        ("set_cpus_per_task", (5,), "--cpu_per_rs=5"),
        ("set_memory_per_rs", (1024,), "--memory_per_rs=1024"),
        ("set_memory_per_node", (1024,), "--memory_per_rs=1024"),
        ("set_binding", ("packed:21",), "--bind=packed:21"),
        ("set_individual_output", ("_%t",), "--stdio_mode=individual"),
    ],
)
def test_jsrun_setters_render_their_flag(setter: str, args: tuple, flag: str) -> None:
    rs = JsrunSettings(EXE)
    getattr(rs, setter)(*args)
    assert rs.format_argv() == ["jsrun", flag, EXE]


def test_individual_output_keeps_the_suffix() -> None:
    rs = JsrunSettings(EXE)
    rs.set_individual_output("_%t")
    assert rs.individual_suffix == "_%t"


@pytest.mark.parametrize(
    ("setter", "value"),
    [("set_num_rs", "ALL_CPUS"), ("set_cpus_per_rs", 0), ("set_gpus_per_rs", -1),
     ("set_gpus_per_rs", "some"), ("set_binding", ""), ("set_individual_output", "")],
)  # fmt: skip
def test_jsrun_setters_refuse_bad_values(setter: str, value) -> None:
    with pytest.raises(InvalidArgumentError):
        getattr(JsrunSettings(EXE), setter)(value)


def test_jsrun_refuses_mpmd_on_the_command_line() -> None:
    rs = JsrunSettings(EXE)
    rs.make_mpmd(JsrunSettings(EXE))
    with pytest.raises(InvalidArgumentError) as info:
        rs.format_argv()
    assert "resource file" in str(info.value)


def test_erf_text_in_smartsims_format() -> None:
    first = JsrunSettings(EXE, ["--db"], env_vars={"A": "1"})
    first.set_erf_sets({"rank": "0", "host": "1", "cpu": "{0:21}"})
    second = JsrunSettings(EXE, ["--sim", "3"], env_vars={"B": "2"})
    second.set_erf_sets({"rank_count": "4", "gpu": "{0}", "memory": "1024"})
    first.make_mpmd(second)
    first.set_mpmd_preamble(["overlapping-rs : allow"])
    assert first.erf_text() == (
        "launch_distribution : packed\n"
        "overlapping-rs : allow\n"
        "\n"
        f"app 0 : {EXE} --db\n"
        f"app 1 : {EXE} --sim 3\n"
        "\n"
        "rank: 0 : { host: 1; cpu: {0:21} } : app 0\n"
        "4 : { host: *; cpu: *; gpu: {0}; memory: 1024 } : app 1\n"
    )
    assert first.format_erf_argv("/w/db.mpmd") == [
        "jsrun", "-E", "A", "-E", "B", "--erf_input", "/w/db.mpmd",
    ]  # fmt: skip


def test_erf_launch_distribution_from_the_preamble_or_run_args() -> None:
    rs = JsrunSettings(EXE)
    rs.set_mpmd_preamble(["launch_distribution : cyclic", "x : y"])
    assert rs.erf_text().splitlines()[:2] == ["launch_distribution : cyclic", "x : y"]
    rs = JsrunSettings(EXE, run_args={"launch_distribution": "plane:2"})
    assert rs.erf_text().splitlines()[0] == "launch_distribution : plane:2"


def test_erf_argv_refuses_resource_set_options() -> None:
    rs = JsrunSettings(EXE)
    rs.set_num_rs(2)
    with pytest.raises(InvalidArgumentError) as info:
        rs.format_erf_argv("/x.mpmd")
    assert "nrs" in str(info.value)
    rs = JsrunSettings(EXE)
    rs.set_tasks(2)
    with pytest.raises(InvalidArgumentError):
        rs.format_erf_argv("/x.mpmd")


@pytest.mark.parametrize("sets", [{"hosts": "1"}, {"rank": ""}, {"cpu": 3}, ["rank"]])
def test_bad_erf_sets_are_refused(sets) -> None:
    rs = JsrunSettings(EXE)
    with pytest.raises(InvalidArgumentError):
        rs.set_erf_sets(sets)
    assert rs.erf_sets == {}


def test_bad_mpmd_preamble_is_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        JsrunSettings(EXE).set_mpmd_preamble(["a\nb"])
    with pytest.raises(InvalidArgumentError):
        JsrunSettings(EXE).set_mpmd_preamble([3])


# -- aprun --------------------------------------------------------------------------------------


def test_aprun_renders_pes_always() -> None:
    rs = AprunSettings(EXE, ["x"], env_vars={"A": "secret"})
    assert rs.format_argv() == ["aprun", "--pes=1", EXE, "x"]
    rs.set_tasks(16)
    assert rs.format_argv() == ["aprun", "--pes=16", EXE, "x"]


@pytest.mark.parametrize(
    ("setter", "args", "flag"),
    [
        ("set_cpus_per_task", (2,), "--cpus-per-pe=2"),
        ("set_tasks_per_node", (8,), "--pes-per-node=8"),
        ("set_hostlist", (["nid1", "nid2"],), "--node-list=nid1,nid2"),
        ("set_hostlist_from_file", ("/nodes",), "--node-list-file=/nodes"),
        ("set_excluded_hosts", ("nid3",), "--exclude-node-list=nid3"),
        ("set_cpu_bindings", ([0, 1],), "--cpu-binding=0,1"),
        ("set_memory_per_node", (512,), "--memory-per-pe=512"),
        ("set_verbose_launch", (True,), "--debug=7"),
        ("set_quiet_launch", (True,), "--quiet"),
        ("set_walltime", ("00:02:00",), "--cpu-time-limit=120"),
    ],
)
def test_aprun_setters_render_their_flag(setter: str, args: tuple, flag: str) -> None:
    rs = AprunSettings(EXE)
    getattr(rs, setter)(*args)
    assert rs.format_argv() == ["aprun", "--pes=1", flag, EXE]


def test_aprun_verbose_off_removes_debug() -> None:
    rs = AprunSettings(EXE)
    rs.set_verbose_launch(True)
    rs.set_verbose_launch(False)
    assert rs.format_argv() == ["aprun", "--pes=1", EXE]


def test_aprun_mpmd() -> None:
    rs = AprunSettings(EXE, ["a"])
    part = AprunSettings(EXE, ["b"])
    part.set_tasks(3)
    rs.make_mpmd(part)
    assert rs.format_argv() == ["aprun", "--pes=1", EXE, "a", ":", "--pes=3", EXE, "b"]
