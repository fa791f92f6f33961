"""MPI run commands: :class:`MpirunSettings`, :class:`MpiexecSettings`, :class:`OrterunSettings`.

``<cmd> -n N [options] [-x NAME ...] exe args [: -n M ... exe2 args]``. The options are
Open MPI's (as in SmartSim), rendered as separate tokens (``--map-by ppr:1:node``): Open MPI and
MPICH's Hydra both parse that form, not every version parses ``--map-by=ppr:1:node``.

Environment: values never go on the command line. Open MPI's ``mpirun``/``orterun`` get the
*names* as ``-x NAME`` (forward this variable from my environment to every rank, remote ones
included). ``mpiexec`` gets nothing: it may be Open MPI's, MPICH's Hydra (which forwards the whole
environment by default and has no ``-x``) or Intel MPI's, and ``-x`` or ``-genvlist`` would break
the other ones; local ranks inherit the environment in every case. Use MpirunSettings for Open MPI
runs across nodes.
"""

from __future__ import annotations

import math
from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.settings import _common
from smartflow.settings.launch import LauncherRunSettings

__all__ = ["MpiexecSettings", "MpirunSettings", "OrterunSettings"]


@attrs.define(eq=False, init=False)
class _MPISettings(LauncherRunSettings):
    """What the three MPI run commands share (SmartSim's ``_BaseMPISettings``)."""

    LAUNCHER: ClassVar[str] = "local"
    LONG_JOIN: ClassVar[str] = " "
    RESERVED: ClassVar[dict[str, str | None]] = {
        "n": "set_tasks", "np": "set_tasks", "c": "set_tasks", "timeout": "set_walltime",
        "x": "env_vars", "genv": "env_vars", "env": "env_vars", "wdir": None,
    }  # fmt: skip
    #: Whether the variables' names are forwarded with ``-x NAME`` (Open MPI).
    FORWARD_ENV: ClassVar[bool] = True

    def set_task_map(self, task_mapping: str) -> None:
        """``--map-by`` (``ppr:1:node``, ``slot:PE=2``, ...)."""
        self._set("map-by", _common.text(task_mapping, "task_mapping"))

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-proc``."""
        self._set("cpus-per-proc", _checks.count(cpus_per_task, "cpus_per_task"))

    def set_cpu_binding_type(self, bind_type: str) -> None:
        """``--bind-to`` (``core``, ``socket``, ``none``, ...)."""
        self._set("bind-to", _common.text(bind_type, "bind_type"))

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--npernode``; the total stays ``-n`` (:meth:`set_tasks`)."""
        self._set("npernode", _checks.count(tasks_per_node, "tasks_per_node"))

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--host a,b``."""
        self._set("host", ",".join(_common.names(host_list, "host_list")))

    def set_hostlist_from_file(self, file_path: str) -> None:
        """``--hostfile``."""
        self._set("hostfile", _common.path(file_path, "file_path"))

    def set_verbose_launch(self, verbose: bool) -> None:
        """``--verbose`` (False removes it)."""
        self._switch("verbose", verbose, "verbose")

    def set_quiet_launch(self, quiet: bool) -> None:
        """``--quiet`` (False removes it)."""
        self._switch("quiet", quiet, "quiet")

    def set_broadcast(self, dest_path: str | None = None) -> None:
        """``--preload-binary``: copy the executable to the nodes first (no destination)."""
        if dest_path is not None:
            self._refuse(
                f"set_broadcast({dest_path!r})", "--preload-binary takes no destination path"
            )
        self._set("preload-binary")

    def _launch_args(self) -> list[str]:
        args = ["-n", str(self.tasks)]
        if self.walltime is not None:
            args += ["--timeout", str(math.ceil(self.walltime))]
        return args

    def _env_args(self, names: list[str]) -> list[str]:
        return [token for name in names for token in ("-x", name)] if self.FORWARD_ENV else []


@attrs.define(eq=False, init=False)
class MpirunSettings(_MPISettings):
    """``mpirun -n N ...`` (Open MPI); variables forwarded by name (``-x NAME``)."""

    RUN_COMMAND: ClassVar[str] = "mpirun"


@attrs.define(eq=False, init=False)
class MpiexecSettings(_MPISettings):
    """``mpiexec -n N ...``; no environment options (see the module's note)."""

    RUN_COMMAND: ClassVar[str] = "mpiexec"
    FORWARD_ENV: ClassVar[bool] = False


@attrs.define(eq=False, init=False)
class OrterunSettings(_MPISettings):
    """``orterun -n N ...`` (Open MPI's own name for mpirun); ``-x NAME`` as mpirun."""

    RUN_COMMAND: ClassVar[str] = "orterun"
