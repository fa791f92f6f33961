"""Cobalt: ``qsub`` jobs (:class:`CobaltBatchSettings`), as SmartSim had them up to v0.6.0.

SmartSim dropped Cobalt in 2024 (no known system still runs it); the shapes are kept for
completeness. The script must be executable; it is submitted as ``qsub <script>``.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError
from smartflow.settings import _common
from smartflow.settings.batch import BatchSettings

__all__ = ["CobaltBatchSettings"]


@attrs.define(eq=False, init=False)
class CobaltBatchSettings(BatchSettings):
    """``#COBALT`` directives: ``--jobname``, ``--nodecount``, ``--time``, ``--queue``, ..."""

    tasks: int | None = None

    batch_cmd: ClassVar[str] = "qsub"
    DIRECTIVE: ClassVar[str] = "#COBALT"
    WHO: ClassVar[str] = "qsub (Cobalt)"
    LONG_JOIN: ClassVar[str] = " "
    RESERVED: ClassVar[dict[str, str | None]] = {
        "jobname": None, "o": None, "output": None, "O": None, "outputprefix": None, "e": None,
        "error": None, "cwd": None, "nodecount": "set_nodes", "n": "set_nodes",
        "time": "set_walltime", "t": "set_walltime", "queue": "set_queue", "q": "set_queue",
        "project": "set_account", "A": "set_account", "proccount": "set_tasks",
    }  # fmt: skip

    def set_tasks(self, tasks: int) -> None:
        """``--proccount``."""
        self.tasks = _checks.count(tasks, "tasks")

    def _directive_options(self, job_name: str, output: str, error: str) -> list[list[str]]:
        opts = [["-o", output], ["-e", error], ["--jobname", job_name]]
        if self.nodes is not None:
            opts.append(["--nodecount", str(self.nodes)])
        if self.walltime is not None:
            opts.append(["--time", _common.hms(self.walltime)])
        if self.queue:
            opts.append(["--queue", self.queue])
        if self.account:
            opts.append(["--project", self.account])
        if self.hosts:
            if "attrs" in self.batch_args:
                raise InvalidArgumentError(
                    "qsub (Cobalt): give the hosts with set_hostlist or batch_args 'attrs' "
                    "(location=...), not both"
                )
            opts.append(["--attrs", "location=" + ",".join(self.hosts)])
        if self.tasks is not None:
            opts.append(["--proccount", str(self.tasks)])
        return opts
