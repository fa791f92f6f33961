"""The local RunSettings: the SmartSim setters it cannot honour are refused, naming it."""

from __future__ import annotations

import pytest

from smartflow.errors import InvalidArgumentError
from smartflow.settings import RunSettings
from tests.settings._helpers import EXE


@pytest.mark.parametrize(
    ("setter", "args"),
    [
        ("set_task_map", ("ppr:1:node",)),
        ("set_hostlist", (["n1"],)),
        ("set_hostlist_from_file", ("/hosts",)),
        ("set_excluded_hosts", ("n1",)),
        ("set_cpu_bindings", ([0],)),
        ("set_memory_per_node", (100,)),
        ("set_verbose_launch", (True,)),
        ("set_quiet_launch", (True,)),
        ("set_broadcast", ()),
        ("set_node_feature", ("gpu",)),
        ("set_binding", ("packed",)),
        ("set_mpmd_preamble", (["x"],)),
    ],
)
def test_local_refuses_what_it_cannot_honour(setter: str, args: tuple) -> None:
    rs = RunSettings(EXE)
    with pytest.raises(InvalidArgumentError) as info:
        getattr(rs, setter)(*args)
    assert "local launcher" in str(info.value) and setter in str(info.value)
    assert rs.format_argv() == [rs.exe] and rs.run_args == {}


def test_local_walltime_keeps_seconds_and_is_stricter_on_nonsense() -> None:
    rs = RunSettings(EXE)
    rs.set_walltime("1-00:00:10")
    assert rs.walltime == 86410.0
    for bad in ("00:60:00", "00:00:60", "00:00:00", "00:00:01\n"):
        with pytest.raises(InvalidArgumentError):
            rs.set_walltime(bad)
    assert rs.walltime == 86410.0


def test_local_format_argv_accepts_a_name() -> None:
    rs = RunSettings(EXE, ["a"])
    assert rs.format_argv(["b"], name="model") == [rs.exe, "a", "b"]
    assert rs.launch_env() == {} and rs.format_env_vars() == []
