"""Slurm: ``srun`` steps (:class:`SrunSettings`) and ``sbatch`` jobs (:class:`SbatchSettings`).

An srun step always gets an explicit ``--nodes`` and ``--ntasks`` and, unless ``--exact`` is
asked for, ``--overlap``: without them a step inside an allocation waits silently for CPUs that
another step (a store shard, a model) holds. Environment variables are never rendered as
``--export=K=V`` (which splits values at commas and shows them in ``ps``); srun's default
``--export=ALL`` passes the process environment the launcher sets (:meth:`launch_env`).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError
from smartflow.settings import _common
from smartflow.settings.batch import BatchSettings
from smartflow.settings.launch import LauncherRunSettings
from smartflow.settings.run import RunSettings

__all__ = ["SbatchSettings", "SrunSettings"]

_NOT_ENV = "env_vars (they travel in srun's process environment, --export=ALL)"


@attrs.define(eq=False, init=False)
class SrunSettings(LauncherRunSettings):
    """``srun --nodes=N --ntasks=T --overlap [options] exe args`` (``alloc=``: ``--jobid``)."""

    nodes: int = 1
    tasks_per_node: int | None = None
    #: The allocation (job id) to run in; None: the one srun finds ($SLURM_JOB_ID) or a new one.
    alloc: str | None = None
    _tasks_given: bool = False

    RUN_COMMAND: ClassVar[str] = "srun"
    LAUNCHER: ClassVar[str] = "slurm"
    RESERVED: ClassVar[dict[str, str | None]] = {
        "nodes": "set_nodes", "N": "set_nodes", "ntasks": "set_tasks", "n": "set_tasks",
        "ntasks-per-node": "set_tasks_per_node", "time": "set_walltime", "t": "set_walltime",
        "jobid": "SrunSettings(alloc=...)", "export": _NOT_ENV, "multi-prog": "make_mpmd",
        "job-name": None, "J": None, "output": None, "o": None, "error": None, "e": None,
        "chdir": None, "D": None,
    }  # fmt: skip

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_args: dict[str, str | int | float | None] | None = None,
        env_vars: dict[str, str | None] | None = None,
        alloc: str | int | None = None,
        *,
        run_command: str | None = None,
        launcher: str | None = None,
    ) -> None:
        super().__init__(
            exe, exe_args, run_args, env_vars, run_command=run_command, launcher=launcher
        )
        if alloc is not None:
            if isinstance(alloc, int) and not isinstance(alloc, bool):
                alloc = str(_checks.count(alloc, "alloc"))
            self.alloc = _common.text(alloc, "alloc")

    # -- counts: ntasks follows nodes x tasks_per_node until set_tasks fixes it ----------------

    def set_nodes(self, nodes: int) -> None:
        """``--nodes``."""
        self.nodes = _checks.count(nodes, "nodes")
        self._derive_tasks()

    def set_tasks(self, tasks: int) -> None:
        """``--ntasks`` (otherwise nodes x tasks per node, or 1)."""
        self.tasks = _checks.count(tasks, "tasks")
        self._tasks_given = True

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--ntasks-per-node``."""
        self.tasks_per_node = _checks.count(tasks_per_node, "tasks_per_node")
        self._derive_tasks()

    def _derive_tasks(self) -> None:
        if not self._tasks_given and self.tasks_per_node is not None:
            self.tasks = self.nodes * self.tasks_per_node

    # -- options --------------------------------------------------------------------------------

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-task``."""
        self._set("cpus-per-task", _checks.count(cpus_per_task, "cpus_per_task"))

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--nodelist=a,b``."""
        self._set("nodelist", ",".join(_common.names(host_list, "host_list")))

    def set_hostlist_from_file(self, file_path: str) -> None:
        """``--nodefile``."""
        self._set("nodefile", _common.path(file_path, "file_path"))

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        """``--exclude=a,b``."""
        self._set("exclude", ",".join(_common.names(host_list, "host_list")))

    def set_cpu_bindings(self, bindings: int | list[int]) -> None:
        """``--cpu_bind=map_cpu:0,1`` (one CPU id per task on a node)."""
        ids = _common.ints(bindings, "bindings")
        self._set("cpu_bind", "map_cpu:" + ",".join(map(str, ids)))

    def set_memory_per_node(self, memory_per_node: int) -> None:
        """``--mem=<MB>M``."""
        self._set("mem", f"{_checks.count(memory_per_node, 'memory_per_node')}M")

    def set_verbose_launch(self, verbose: bool) -> None:
        """``--verbose`` (False removes it)."""
        self._switch("verbose", verbose, "verbose")

    def set_quiet_launch(self, quiet: bool) -> None:
        """``--quiet`` (False removes it)."""
        self._switch("quiet", quiet, "quiet")

    def set_broadcast(self, dest_path: str | None = None) -> None:
        """``--bcast[=dest_path]``: copy the executable to the nodes first."""
        self._set("bcast", "" if dest_path is None else _common.path(dest_path, "dest_path"))

    def set_node_feature(self, feature_list: str | list[str]) -> None:
        """``-C``: a list means all of them (``a&b``); a str is passed as written (``a|b``)."""
        if isinstance(feature_list, str):
            self._set("C", _common.text(feature_list, "feature_list"))
        else:
            self._set("C", "&".join(_common.names(feature_list, "feature_list")))

    def set_het_group(self, het_group: int | list[int]) -> None:
        """``--het-group=0,1``: the components of a heterogeneous allocation to run in."""
        groups = _common.ints(het_group, "het_group")
        if self.mpmd:
            raise InvalidArgumentError("set_het_group: srun cannot put an MPMD step in a het group")
        self._set("het-group", ",".join(map(str, groups)))

    def _check_mpmd(self, parts: list[RunSettings]) -> None:
        for settings in (self, *parts):
            assert isinstance(settings, SrunSettings)
            if "het-group" in settings.run_args:
                raise InvalidArgumentError("make_mpmd: srun cannot run a het-group step as MPMD")
            if settings.alloc not in (None, self.alloc):
                raise InvalidArgumentError(
                    f"make_mpmd: the parts run in different allocations ({self.alloc!r}, "
                    f"{settings.alloc!r}); one srun runs in one"
                )

    # -- rendering ------------------------------------------------------------------------------

    def _head_args(self, name: str | None) -> list[str]:
        head = [f"--jobid={self.alloc}"] if self.alloc else []
        return [*head, f"--job-name={name}"] if name else head

    def _launch_args(self) -> list[str]:
        args = [f"--nodes={self.nodes}", f"--ntasks={self.tasks}"]
        if self.tasks_per_node is not None:
            args.append(f"--ntasks-per-node={self.tasks_per_node}")
        if "exact" not in self.run_args and "overlap" not in self.run_args:
            args.append("--overlap")
        if self.walltime is not None:
            args.append(f"--time={_common.format_walltime(self.walltime)}")
        return args


@attrs.define(eq=False, init=False)
class SbatchSettings(BatchSettings):
    """``#SBATCH`` directives; submitted with ``sbatch --parsable <script>`` (prints the id)."""

    cpus_per_task: int | None = None

    batch_cmd: ClassVar[str] = "sbatch"
    DIRECTIVE: ClassVar[str] = "#SBATCH"
    WHO: ClassVar[str] = "sbatch"
    RESERVED: ClassVar[dict[str, str | None]] = {
        "job-name": None, "J": None, "output": None, "o": None, "error": None, "e": None,
        "parsable": None, "nodes": "set_nodes", "N": "set_nodes", "time": "set_walltime",
        "t": "set_walltime", "partition": "set_partition", "p": "set_partition",
        "account": "set_account", "A": "set_account", "cpus-per-task": "set_cpus_per_task",
        "c": "set_cpus_per_task", "nodelist": "set_hostlist", "w": "set_hostlist",
    }  # fmt: skip

    def __init__(
        self,
        nodes: int | None = None,
        time: str | int | None = None,
        account: str | None = None,
        batch_args: dict[str, str | None] | None = None,
        *,
        partition: str | None = None,
        queue: str | None = None,
    ) -> None:
        """SmartSim's order (nodes, time, account, batch_args); ``queue`` is the partition."""
        self.__attrs_init__()
        self._setup(nodes=nodes, time=time, account=account, batch_args=batch_args)
        for value in (queue, partition):
            if value is not None and value != "":
                self.set_partition(value)

    def set_partition(self, partition: str) -> None:
        """``--partition``."""
        self.queue = _common.text(partition, "partition")

    def set_queue(self, queue: str) -> None:
        """The partition (:meth:`set_partition`)."""
        self.set_partition(queue)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-task``."""
        self.cpus_per_task = _checks.count(cpus_per_task, "cpus_per_task")

    def _directive_options(self, job_name: str, output: str, error: str) -> list[list[str]]:
        values = {
            "job-name": job_name, "output": output, "error": error, "nodes": self.nodes,
            "time": self.time or None, "partition": self.queue or None,
            "account": self.account or None, "cpus-per-task": self.cpus_per_task,
            "nodelist": ",".join(self.hosts) or None,
        }  # fmt: skip
        return [[f"--{key}={value}"] for key, value in values.items() if value is not None]

    def _submit_options(self, output: str | None, error: str | None) -> list[str]:
        return ["--parsable"]
