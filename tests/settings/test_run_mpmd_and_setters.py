"""What every workload-manager run settings class shares, continued: MPMD, setters a class
cannot honour, bad values, copies. Pure: no processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smartflow.errors import (
    InvalidArgumentError,
    SmartflowError,
    UnsupportedTypeError,
)
from smartflow.settings import (
    AprunSettings,
    JsrunSettings,
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    RunSettings,
    SrunSettings,
)
from tests.settings._helpers import EXE, TEXT_MPMD_CLASSES, WLM_RUN_CLASSES

# -- MPMD ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", TEXT_MPMD_CLASSES)
def test_make_mpmd_renders_parts_after_a_colon(cls: type[RunSettings]) -> None:
    first = cls(EXE, ["one"])
    second = cls(EXE, ["two"])
    third = cls(EXE, ["three"])
    first.make_mpmd(second)
    first.make_mpmd(third)
    argv = first.format_argv(["--p=1"])
    assert argv.count(":") == 2
    a, b, c = " ".join(argv).split(" : ")
    assert a.startswith(cls.RUN_COMMAND) and a.endswith(f"{EXE} one --p=1")
    assert b.endswith(f"{EXE} two") and not b.startswith(cls.RUN_COMMAND)
    assert c.endswith(f"{EXE} three")
    # each part renders its own tasks option
    assert b.split()[0] in ("--nodes=1", "-n", "--pes=1")


@pytest.mark.parametrize("cls", TEXT_MPMD_CLASSES)
def test_make_mpmd_takes_a_copy_and_flattens(cls: type[RunSettings]) -> None:
    first, second, third = cls(EXE, ["1"]), cls(EXE, ["2"]), cls(EXE, ["3"])
    second.make_mpmd(third)
    first.make_mpmd(second)
    second.add_exe_args("later")
    argv = first.format_argv()
    assert argv.count(":") == 2
    assert "later" not in argv
    assert [p.exe_args for p in first.mpmd] == [["2"], ["3"]]


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_make_mpmd_refuses_another_class(cls: type[RunSettings]) -> None:
    other_cls = MpirunSettings if cls is not MpirunSettings else SrunSettings
    rs = cls(EXE)
    with pytest.raises(UnsupportedTypeError) as info:
        rs.make_mpmd(other_cls(EXE))
    assert cls.RUN_COMMAND in str(info.value)
    with pytest.raises(UnsupportedTypeError):
        rs.make_mpmd(RunSettings(EXE))
    assert rs.mpmd == []


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_make_mpmd_refuses_itself(cls: type[RunSettings]) -> None:
    rs = cls(EXE)
    with pytest.raises(InvalidArgumentError):
        rs.make_mpmd(rs)


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_make_mpmd_refuses_one_variable_with_two_values(cls: type[RunSettings]) -> None:
    rs = cls(EXE, env_vars={"K": "1"})
    with pytest.raises(InvalidArgumentError):
        rs.make_mpmd(cls(EXE, env_vars={"K": "2"}))
    assert rs.mpmd == []
    rs.make_mpmd(cls(EXE, env_vars={"K": "1", "J": "3"}))  # the same value is fine
    assert rs.launch_env() == {"K": "1", "J": "3"}
    rs.update_env({"J": "4"})  # a clash made afterwards is refused at render time
    with pytest.raises(InvalidArgumentError):
        rs.launch_env()
    with pytest.raises(InvalidArgumentError):
        rs.format_argv() if cls is not JsrunSettings else rs.format_erf_argv("/x.erf")


@pytest.mark.parametrize("cls", [c for c in WLM_RUN_CLASSES if c is not SrunSettings])
def test_one_node_needs_no_option(cls: type[RunSettings]) -> None:
    """As on the local launcher: set_nodes(1) is honoured (a store shard asks for it)."""
    rs = cls(EXE)
    before = rs.format_argv()
    rs.set_nodes(1)
    assert rs.format_argv() == before


def test_local_run_settings_refuse_mpmd() -> None:
    rs = RunSettings(EXE)
    with pytest.raises(InvalidArgumentError) as info:
        rs.make_mpmd(RunSettings(EXE))
    assert "local launcher" in str(info.value)


# -- setters no class supports, and bad values ---------------------------------------------------

UNSUPPORTED = [
    (SrunSettings, "set_task_map", ("ppr:1:node",)),
    (SrunSettings, "set_binding", ("packed:2",)),
    (SrunSettings, "set_mpmd_preamble", (["x : y"],)),
    (MpirunSettings, "set_nodes", (2,)),
    (MpirunSettings, "set_excluded_hosts", (["n1"],)),
    (MpirunSettings, "set_cpu_bindings", ([0],)),
    (MpirunSettings, "set_memory_per_node", (100,)),
    (MpirunSettings, "set_node_feature", ("gpu",)),
    (MpiexecSettings, "set_nodes", (2,)),
    (OrterunSettings, "set_binding", ("x",)),
    (JsrunSettings, "set_nodes", (2,)),
    (OrterunSettings, "set_nodes", (3,)),
    (JsrunSettings, "set_hostlist", (["n1"],)),
    (JsrunSettings, "set_hostlist_from_file", ("/hosts",)),
    (JsrunSettings, "set_excluded_hosts", (["n1"],)),
    (JsrunSettings, "set_cpu_bindings", ([0],)),
    (JsrunSettings, "set_verbose_launch", (True,)),
    (JsrunSettings, "set_quiet_launch", (True,)),
    (JsrunSettings, "set_broadcast", ()),
    (JsrunSettings, "set_node_feature", ("gpu",)),
    (JsrunSettings, "set_task_map", ("x",)),
    (AprunSettings, "set_nodes", (2,)),
    (AprunSettings, "set_broadcast", ()),
    (AprunSettings, "set_node_feature", ("gpu",)),
    (AprunSettings, "set_task_map", ("x",)),
    (AprunSettings, "set_binding", ("x",)),
    (AprunSettings, "set_mpmd_preamble", (["x"],)),
    (MpirunSettings, "set_broadcast", ("/tmp/dest",)),  # --preload-binary takes no path
]


@pytest.mark.parametrize(("cls", "setter", "args"), UNSUPPORTED)
def test_unsupported_setters_are_refused_naming_the_run_command(
    cls: type[RunSettings], setter: str, args: tuple
) -> None:
    rs = cls(EXE)
    before = rs.format_argv()
    with pytest.raises(InvalidArgumentError) as info:
        getattr(rs, setter)(*args)
    assert isinstance(info.value, SmartflowError)
    assert setter in str(info.value) and cls.RUN_COMMAND in str(info.value)
    assert rs.format_argv() == before  # nothing changed


COUNT_SETTERS = [
    (cls, setter)
    for cls in WLM_RUN_CLASSES
    for setter in ("set_tasks", "set_tasks_per_node", "set_cpus_per_task")
] + [(SrunSettings, "set_nodes"), (SrunSettings, "set_memory_per_node"),
     (AprunSettings, "set_memory_per_node"), (JsrunSettings, "set_memory_per_node"),
     (JsrunSettings, "set_rs_per_host"), (JsrunSettings, "set_tasks_per_rs"),
     (JsrunSettings, "set_num_rs"), (JsrunSettings, "set_cpus_per_rs")]  # fmt: skip


@pytest.mark.parametrize(("cls", "setter"), COUNT_SETTERS)
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2", None])
def test_count_setters_refuse_non_counts(cls: type[RunSettings], setter: str, value) -> None:
    rs = cls(EXE)
    before = rs.format_argv()
    with pytest.raises(InvalidArgumentError):
        getattr(rs, setter)(value)
    assert rs.format_argv() == before


LIST_SETTERS = [
    (SrunSettings, "set_hostlist"), (SrunSettings, "set_excluded_hosts"),
    (SrunSettings, "set_node_feature"), (MpirunSettings, "set_hostlist"),
    (AprunSettings, "set_hostlist"), (AprunSettings, "set_excluded_hosts"),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "setter"), LIST_SETTERS)
@pytest.mark.parametrize("value", [[], [""], ["a b"], ["a", 3], 3, None, {"a": 1}, ['a"b']])
def test_list_setters_refuse_bad_lists(cls: type[RunSettings], setter: str, value) -> None:
    rs = cls(EXE)
    with pytest.raises(InvalidArgumentError):
        getattr(rs, setter)(value)
    assert rs.run_args == {}


@pytest.mark.parametrize(
    ("cls", "setter"),
    [(c, s) for c in (SrunSettings, MpirunSettings, AprunSettings)
     for s in ("set_verbose_launch", "set_quiet_launch")],
)  # fmt: skip
@pytest.mark.parametrize("value", [1, "yes", None])
def test_switches_take_bools_only(cls: type[RunSettings], setter: str, value) -> None:
    with pytest.raises(UnsupportedTypeError):
        getattr(cls(EXE), setter)(value)


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
@pytest.mark.parametrize("text", ["", "10", "1:2", "aa:bb:cc", "00:61:00", "00:00:00", 5, None])
def test_bad_walltimes_are_refused(cls: type[RunSettings], text) -> None:
    rs = cls(EXE)
    with pytest.raises(InvalidArgumentError):
        rs.set_walltime(text)
    assert rs.walltime is None


@pytest.mark.parametrize("cls", [RunSettings, *WLM_RUN_CLASSES])
def test_set_time_builds_the_walltime(cls: type[RunSettings]) -> None:
    rs = cls(EXE)
    rs.set_time(hours=1, minutes=90, seconds=5)
    assert rs.walltime == 3600 + 5400 + 5
    rs.set_time(hours=30)
    assert rs.walltime == 30 * 3600
    with pytest.raises(InvalidArgumentError):
        rs.set_time()
    with pytest.raises(InvalidArgumentError):
        rs.set_time(minutes=-1)


# -- copies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_copy_is_independent_and_keeps_the_class(cls: type[RunSettings]) -> None:
    rs = cls(EXE, ["a"], run_args={"label": "1"}, env_vars={"E": "1"})
    rs.set_tasks(3)
    rs.set_walltime("00:10:00")
    rs.make_mpmd(cls(EXE, ["part"]))
    clone = rs.copy()
    assert type(clone) is cls
    clone.add_exe_args("b")
    clone.run_args["label"] = "2"
    clone.update_env({"E": "2"})
    clone.mpmd[0].add_exe_args("more")
    clone.set_tasks(5)
    assert rs.exe_args == ["a"] and rs.run_args == {"label": "1"} and rs.env_vars == {"E": "1"}
    assert rs.mpmd[0].exe_args == ["part"] and rs.tasks == 3
    assert clone.walltime == 600.0 and clone.run_command == rs.run_command


def test_format_run_args_of_the_local_settings(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mpirun").write_text("#!/bin/sh\n")
    (bin_dir / "mpirun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert RunSettings(EXE).format_run_args() == []
    rs = RunSettings(EXE, run_command="mpirun", run_args={"oversubscribe": None})
    rs.set_tasks(2)
    assert rs.format_run_args() == ["-np", "2", "--oversubscribe"]
    assert rs.format_argv(name="ignored") == ["mpirun", "-np", "2", "--oversubscribe", rs.exe]
