"""RunSettings: how to run one executable on the local launcher, and the base of every run
command's settings (:mod:`smartflow.settings.launch` and the per-launcher modules).

A setting the chosen launcher cannot honour is refused when it is set (SmartSim only logged it and
went on, #594). The local launcher runs one process per model, or ``-np N`` ranks through an
explicit MPI ``run_command``, on this host, and enforces a walltime itself.
"""

from __future__ import annotations

import copy as _copy
import shutil
from pathlib import Path
from typing import ClassVar, NoReturn

import attrs

from smartflow import _checks
from smartflow.errors import ExecutableNotFoundError, InvalidArgumentError
from smartflow.settings import _common
from smartflow.settings._common import format_walltime, parse_walltime
from smartflow.settings.batch import BatchSettings

__all__ = ["BatchSettings", "RunSettings", "parse_walltime", "resolve_executable"]

_MPI_COMMANDS = ("mpirun", "mpiexec")


def resolve_executable(exe: str) -> str:
    """The absolute path of ``exe`` (a path, or a name looked up on PATH)."""
    if not isinstance(exe, str) or not exe:
        raise InvalidArgumentError(f"exe must be a non-empty str, got {exe!r}")
    found = shutil.which(exe)
    if found is None:
        raise ExecutableNotFoundError(
            f"executable {exe!r} not found on PATH or not executable; give a full path"
        )
    return str(Path(found).absolute())


# Kept under their old names for code that imported them from here.
_str_list = _common.str_list
_str_dict = _common.str_dict


@attrs.define(eq=False)
class RunSettings:
    """How one model runs: ``[run_command run_args] exe exe_args`` with ``env_vars`` added.

    This class is the local launcher's; its subclasses (``SrunSettings``, ``MpirunSettings``, ...)
    own their run command's command line. ``env_vars`` always travel in the process environment,
    never on the command line.
    """

    exe: str = attrs.field(converter=resolve_executable)
    exe_args: list[str] = attrs.field(
        factory=list, converter=lambda v: _common.str_list(v, "exe_args")
    )
    run_command: str | None = None
    run_args: dict[str, str] = attrs.field(
        factory=dict, converter=lambda v: _common.str_dict(v, "run_args")
    )
    env_vars: dict[str, str] = attrs.field(
        factory=dict, converter=lambda v: _common.str_dict(v, "env_vars")
    )
    launcher: str = "local"
    tasks: int = 1
    #: Seconds; the process is stopped (and FAILED) when it runs longer.
    walltime: float | None = None

    #: Who refuses a setting it cannot honour (named in the error).
    WHO: ClassVar[str] = "the local launcher"

    def __attrs_post_init__(self) -> None:
        if self.run_command in (None, "", "auto"):
            self.run_command = None
        elif self.run_command not in _MPI_COMMANDS:
            self.run_command = resolve_executable(self.run_command)
        else:
            resolve_executable(self.run_command)

    def _refuse(self, call: str, why: str = "") -> NoReturn:
        reason = why or (
            "it runs processes on this host only; use a workload manager's settings "
            "(SrunSettings, MpirunSettings, ...)"
        )
        raise InvalidArgumentError(f"{call}: {self.WHO} cannot honour it; {reason}")

    # SmartSim's setters; each refuses what the local launcher cannot do.

    def set_tasks(self, tasks: int) -> None:
        """Number of ranks; more than one needs an MPI ``run_command`` locally."""
        _checks.count(tasks, "tasks")
        if tasks > 1 and self.run_command is None:
            raise InvalidArgumentError(
                f"set_tasks({tasks}): the local launcher starts one process per model; create "
                "the settings with run_command='mpirun' for MPI ranks"
            )
        self.tasks = tasks

    def set_nodes(self, nodes: int) -> None:
        _checks.count(nodes, "nodes")
        if nodes != 1:
            raise InvalidArgumentError(
                f"set_nodes({nodes}): the local launcher runs on this host only"
            )

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        _checks.count(tasks_per_node, "tasks_per_node")
        self.set_tasks(tasks_per_node)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        _checks.count(cpus_per_task, "cpus_per_task")
        if cpus_per_task != 1:
            raise InvalidArgumentError(
                f"set_cpus_per_task({cpus_per_task}): the local launcher does not reserve CPUs"
            )

    def set_walltime(self, walltime: str) -> None:
        """``HH:MM:SS`` or ``D-HH:MM:SS``: the process is stopped (and FAILED) past it."""
        self.walltime = parse_walltime(walltime)

    def set_time(self, hours: int = 0, minutes: int = 0, seconds: int = 0) -> None:
        """:meth:`set_walltime` from parts (SmartSim's ``set_time``)."""
        total = sum(
            _checks.at_least_zero(value, what) * scale
            for value, what, scale in ((hours, "hours", 3600), (minutes, "minutes", 60),
                                       (seconds, "seconds", 1))
        )  # fmt: skip
        if total == 0:
            raise InvalidArgumentError("set_time(0, 0, 0): a walltime must be longer than zero")
        self.set_walltime(format_walltime(total))

    # Setters of SmartSim's base class that the local launcher cannot honour.

    def set_task_map(self, task_mapping: str) -> None:
        self._refuse(f"set_task_map({task_mapping!r})")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        self._refuse(f"set_hostlist({host_list!r})")

    def set_hostlist_from_file(self, file_path: str) -> None:
        self._refuse(f"set_hostlist_from_file({file_path!r})")

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        self._refuse(f"set_excluded_hosts({host_list!r})")

    def set_cpu_bindings(self, bindings: int | list[int]) -> None:
        self._refuse(f"set_cpu_bindings({bindings!r})")

    def set_memory_per_node(self, memory_per_node: int) -> None:
        self._refuse(f"set_memory_per_node({memory_per_node!r})")

    def set_verbose_launch(self, verbose: bool) -> None:
        self._refuse(f"set_verbose_launch({verbose!r})")

    def set_quiet_launch(self, quiet: bool) -> None:
        self._refuse(f"set_quiet_launch({quiet!r})")

    def set_broadcast(self, dest_path: str | None = None) -> None:
        self._refuse(f"set_broadcast({dest_path!r})")

    def set_node_feature(self, feature_list: str | list[str]) -> None:
        self._refuse(f"set_node_feature({feature_list!r})")

    def set_binding(self, binding: str) -> None:
        self._refuse(f"set_binding({binding!r})")

    def set_mpmd_preamble(self, preamble_lines: list[str]) -> None:
        self._refuse(f"set_mpmd_preamble({preamble_lines!r})")

    def make_mpmd(self, settings: RunSettings) -> None:
        self._refuse(
            "make_mpmd", "it runs one program per model; use MpirunSettings or SrunSettings"
        )

    def add_exe_args(self, args: str | list[str]) -> None:
        self.exe_args.extend(_common.str_list(args, "exe_args"))

    def update_env(self, env_vars: dict[str, str]) -> None:
        self.env_vars.update(_common.str_dict(env_vars, "env_vars"))

    # Rendering.

    def format_run_args(self) -> list[str]:
        """What goes between the run command and the executable (nothing without one)."""
        if self.run_command is None:
            return []
        run_args = [f"--{k}={v}" if v else f"--{k}" for k, v in self.run_args.items()]
        return ["-np", str(self.tasks), *run_args]

    def format_env_vars(self) -> list[str]:
        """Environment options for the command line: none, they go in the process environment."""
        return []

    def launch_env(self) -> dict[str, str]:
        """The variables the launched process's environment must carry."""
        return dict(self.env_vars)

    def format_argv(
        self, extra_args: list[str] | None = None, *, name: str | None = None
    ) -> list[str]:
        """The exact command line; ``name`` (the step's name) is not used locally."""
        if name is not None:
            _common.text(name, "name")
        argv = [self.exe, *self.exe_args, *(extra_args or [])]
        if self.run_command is None:
            return argv
        return [self.run_command, *self.format_run_args(), *argv]

    def copy(self) -> RunSettings:
        """An independent copy: lists and dicts are copied, MPMD parts are copied too."""
        clone = _copy.copy(self)
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, list):
                object.__setattr__(
                    clone,
                    field.name,
                    [v.copy() if isinstance(v, RunSettings) else v for v in value],
                )
            elif isinstance(value, dict | set):
                object.__setattr__(clone, field.name, type(value)(value))
        return clone
