"""PBS: ``qsub`` jobs (:class:`QsubBatchSettings`); its steps use aprun, mpirun or mpiexec.

The output and error files go on the ``qsub`` command line as well as in ``#PBS -o/-e``:
Slurm's torque wrapper (``slurm-wlm-torque``) ignores the ``#PBS`` ones.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.settings import _common
from smartflow.settings.batch import BatchSettings

__all__ = ["QsubBatchSettings"]

#: Resources a setter owns: set_resource refuses them.
_OWNED_RESOURCES = {
    "select": "set_nodes", "nodes": "set_nodes", "walltime": "set_walltime", "ncpus": "set_ncpus",
    "host": "set_hostlist",
}  # fmt: skip


@attrs.define(eq=False, init=False)
class QsubBatchSettings(BatchSettings):
    """``#PBS`` directives: ``-l select=N[:ncpus=C]``, ``-l walltime=``, ``-q``, ``-A``, ..."""

    ncpus: int | None = None
    #: Other ``-l name=value`` resources (``place``, ``mem``, ``filesystems``, ...).
    resources: dict[str, str] = attrs.field(factory=dict)

    batch_cmd: ClassVar[str] = "qsub"
    DIRECTIVE: ClassVar[str] = "#PBS"
    WHO: ClassVar[str] = "qsub (PBS)"
    SINGLE_DASH: ClassVar[bool] = True
    RESERVED: ClassVar[dict[str, str | None]] = {
        "N": None, "o": None, "e": None, "l": "set_resource", "q": "set_queue", "A": "set_account",
    }  # fmt: skip

    def __init__(
        self,
        nodes: int | None = None,
        ncpus: int | None = None,
        time: str | int | None = None,
        queue: str | None = None,
        account: str | None = None,
        resources: dict[str, str | int] | None = None,
        batch_args: dict[str, str | None] | None = None,
    ) -> None:
        """SmartSim's order (nodes, ncpus, time, queue, account, resources, batch_args)."""
        self.__attrs_init__()
        self._setup(nodes=nodes, time=time, queue=queue, account=account, batch_args=batch_args)
        if ncpus is not None:
            self.set_ncpus(ncpus)
        if resources is not None:
            if not isinstance(resources, dict):
                raise InvalidArgumentError(f"resources must be a dict, got {resources!r}")
            for name, value in resources.items():
                self.set_resource(name, value)

    def set_ncpus(self, num_cpus: int) -> None:
        """``:ncpus=`` on each select chunk (CPUs per node)."""
        self.ncpus = _checks.count(num_cpus, "ncpus")

    def set_resource(self, resource_name: str, value: str | int) -> None:
        """``-l resource_name=value``."""
        name = _common.option_key(_common.text(resource_name, "resource_name"), "resource")
        if name in _OWNED_RESOURCES:
            self._refuse(f"set_resource({name!r})", f"use {_OWNED_RESOURCES[name]}")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise UnsupportedTypeError(f"set_resource({name!r}): {value!r} must be a str or int")
        self.resources[name] = _common.text(str(value), f"resource {name!r}")

    def _select(self) -> str | None:
        cpus = f":ncpus={self.ncpus}" if self.ncpus else ""
        if self.hosts:
            if self.nodes is not None and self.nodes != len(self.hosts):
                raise InvalidArgumentError(
                    f"qsub (PBS): {self.nodes} nodes but {len(self.hosts)} hosts; a host list "
                    "gives one chunk per host"
                )
            return "select=" + "+".join(f"1{cpus}:host={host}" for host in self.hosts)
        if self.nodes is None and not cpus:
            return None
        return f"select={self.nodes or 1}{cpus}"

    def _directive_options(self, job_name: str, output: str, error: str) -> list[list[str]]:
        opts = [["-N", job_name], ["-o", output], ["-e", error], ["-V"]]
        select = self._select()
        if select:
            opts.append(["-l", select])
        if self.walltime is not None:
            opts.append(["-l", f"walltime={_common.hms(self.walltime)}"])
        if self.queue:
            opts.append(["-q", self.queue])
        if self.account:
            opts.append(["-A", self.account])
        opts += [["-l", f"{name}={value}"] for name, value in self.resources.items()]
        return opts

    def _submit_options(self, output: str | None, error: str | None) -> list[str]:
        return [*(["-o", output] if output else []), *(["-e", error] if error else [])]
