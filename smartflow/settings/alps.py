"""Cray ALPS: ``aprun`` steps (:class:`AprunSettings`), on PBS or Cobalt systems.

``aprun --pes=N [options] exe args [: --pes=M ... exe2 args]``. ALPS forwards the environment of
aprun to the PEs, so nothing about the environment goes on the command line (no ``-e K=V``).
"""

from __future__ import annotations

import math
from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.settings import _common
from smartflow.settings.launch import LauncherRunSettings

__all__ = ["AprunSettings"]


@attrs.define(eq=False, init=False)
class AprunSettings(LauncherRunSettings):
    """``aprun --pes=N [--cpu-time-limit=S] [options] exe args``."""

    RUN_COMMAND: ClassVar[str] = "aprun"
    LAUNCHER: ClassVar[str] = "pbs"
    RESERVED: ClassVar[dict[str, str | None]] = {
        "pes": "set_tasks", "n": "set_tasks", "cpu-time-limit": "set_walltime",
        "t": "set_walltime", "e": "env_vars (ALPS forwards aprun's environment)", "wdir": None,
    }  # fmt: skip

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-pe``."""
        self._set("cpus-per-pe", _checks.count(cpus_per_task, "cpus_per_task"))

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--pes-per-node``; the total stays ``--pes`` (:meth:`set_tasks`)."""
        self._set("pes-per-node", _checks.count(tasks_per_node, "tasks_per_node"))

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--node-list=a,b``."""
        self._set("node-list", ",".join(_common.names(host_list, "host_list")))

    def set_hostlist_from_file(self, file_path: str) -> None:
        """``--node-list-file``."""
        self._set("node-list-file", _common.path(file_path, "file_path"))

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        """``--exclude-node-list=a,b``."""
        self._set("exclude-node-list", ",".join(_common.names(host_list, "host_list")))

    def set_cpu_bindings(self, bindings: int | list[int]) -> None:
        """``--cpu-binding=0,1``."""
        self._set("cpu-binding", ",".join(map(str, _common.ints(bindings, "bindings"))))

    def set_memory_per_node(self, memory_per_node: int) -> None:
        """``--memory-per-pe`` in MB (SmartSim's mapping)."""
        self._set("memory-per-pe", _checks.count(memory_per_node, "memory_per_node"))

    def set_verbose_launch(self, verbose: bool) -> None:
        """``--debug=7`` (False removes it)."""
        if _common.flag(verbose, "verbose"):
            self._set("debug", 7)
        else:
            self.run_args.pop("debug", None)

    def set_quiet_launch(self, quiet: bool) -> None:
        """``--quiet`` (False removes it)."""
        self._switch("quiet", quiet, "quiet")

    def _launch_args(self) -> list[str]:
        args = [f"--pes={self.tasks}"]
        if self.walltime is not None:
            # ALPS's limit is CPU time per PE (SmartSim's mapping); smartflow also stops the
            # step itself once the walltime has passed.
            args.append(f"--cpu-time-limit={math.ceil(self.walltime)}")
        return args
