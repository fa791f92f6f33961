"""LSF: ``jsrun`` steps (:class:`JsrunSettings`) and ``bsub`` jobs (:class:`BsubBatchSettings`).

jsrun runs MPMD from an Explicit Resource File, not from ``a : b`` on the command line:
:meth:`JsrunSettings.erf_text` is the file (SmartSim's format) and
:meth:`JsrunSettings.format_erf_argv` the command that runs it. Variables are forwarded by name
(``-E NAME``); their values travel in the process environment.

bsub parses ``#BSUB`` lines only from a script read on stdin (``bsub < script``), so
:attr:`BsubBatchSettings.submit_stdin` is True and :meth:`~BsubBatchSettings.submit_argv` names
no script.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError
from smartflow.settings import _common
from smartflow.settings.batch import BatchSettings
from smartflow.settings.launch import LauncherRunSettings

__all__ = ["BsubBatchSettings", "JsrunSettings"]

_ERF_KEYS = ("rank", "rank_count", "host", "cpu", "gpu", "memory")
#: Resource-set options an ERF replaces (jsrun refuses them next to --erf_input).
_ERF_REPLACES = (
    "nrs", "n", "cpu_per_rs", "c", "gpu_per_rs", "g", "rs_per_host", "r", "tasks_per_rs", "a",
    "memory_per_rs", "m", "bind", "b", "launch_distribution", "d", "rs_per_socket", "K",
)  # fmt: skip


def _count_or(value: object, word: str, what: str, *, zero: bool = False) -> str:
    """An int (>= 1, or >= 0 with ``zero``) or jsrun's keyword (``ALL_CPUS``) as text."""
    if value == word:
        return word
    return str(_checks.at_least_zero(value, what) if zero else _checks.count(value, what))


@attrs.define(eq=False, init=False)
class JsrunSettings(LauncherRunSettings):
    """``jsrun [--np=N] [resource-set options] [-E NAME ...] exe args``."""

    #: ``--np``; None leaves the count to the resource sets (nrs x tasks_per_rs).
    tasks: int | None = None  # type: ignore[assignment]
    #: This program's ERF rank line: rank / rank_count, host, cpu, gpu, memory.
    erf_sets: dict[str, str] = attrs.field(factory=dict)
    mpmd_preamble_lines: list[str] = attrs.field(factory=list)
    #: Put into the output file names with ``--stdio_mode individual`` (``_%t``: per task).
    individual_suffix: str = ""

    RUN_COMMAND: ClassVar[str] = "jsrun"
    LAUNCHER: ClassVar[str] = "lsf"
    TEXT_MPMD: ClassVar[bool] = False
    RESERVED: ClassVar[dict[str, str | None]] = {
        "np": "set_tasks", "p": "set_tasks", "E": "env_vars", "env": "env_vars",
        "erf_input": "make_mpmd and format_erf_argv", "U": "make_mpmd and format_erf_argv",
        "chdir": None, "h": None, "stdio_stdout": None, "o": None, "stdio_stderr": None,
        "k": None,
    }  # fmt: skip

    def set_num_rs(self, num_rs: int | str) -> None:
        """``--nrs`` (an int or ``ALL_HOSTS``)."""
        self._set("nrs", _count_or(num_rs, "ALL_HOSTS", "num_rs"))

    def set_cpus_per_rs(self, cpus_per_rs: int | str) -> None:
        """``--cpu_per_rs`` (an int or ``ALL_CPUS``)."""
        self._set("cpu_per_rs", _count_or(cpus_per_rs, "ALL_CPUS", "cpus_per_rs"))

    def set_gpus_per_rs(self, gpus_per_rs: int | str) -> None:
        """``--gpu_per_rs`` (an int >= 0 or ``ALL_GPUS``)."""
        self._set("gpu_per_rs", _count_or(gpus_per_rs, "ALL_GPUS", "gpus_per_rs", zero=True))

    def set_rs_per_host(self, rs_per_host: int) -> None:
        """``--rs_per_host``."""
        self._set("rs_per_host", _checks.count(rs_per_host, "rs_per_host"))

    def set_tasks_per_rs(self, tasks_per_rs: int) -> None:
        """``--tasks_per_rs``."""
        self._set("tasks_per_rs", _checks.count(tasks_per_rs, "tasks_per_rs"))

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """Tasks per resource set (:meth:`set_tasks_per_rs`, as SmartSim)."""
        self.set_tasks_per_rs(tasks_per_node)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """CPUs per resource set (:meth:`set_cpus_per_rs`, as SmartSim)."""
        self.set_cpus_per_rs(_checks.count(cpus_per_task, "cpus_per_task"))

    def set_memory_per_rs(self, memory_per_rs: int) -> None:
        """``--memory_per_rs`` in MB."""
        self._set("memory_per_rs", _checks.count(memory_per_rs, "memory_per_rs"))

    def set_memory_per_node(self, memory_per_node: int) -> None:
        """Memory per resource set (:meth:`set_memory_per_rs`, as SmartSim)."""
        self.set_memory_per_rs(memory_per_node)

    def set_binding(self, binding: str) -> None:
        """``--bind`` (``packed:21``, ``none``, ...)."""
        self._set("bind", _common.text(binding, "binding"))

    def set_individual_output(self, suffix: str | None = None) -> None:
        """``--stdio_mode individual``; ``suffix`` goes into the output file names."""
        self.individual_suffix = "" if suffix is None else _common.text(suffix, "suffix")
        self._set("stdio_mode", "individual")

    def set_mpmd_preamble(self, preamble_lines: list[str]) -> None:
        """The ERF's header lines (``overlapping-rs : allow``, ``launch_distribution : ...``)."""
        self.mpmd_preamble_lines = _common.lines(preamble_lines, "preamble_lines")

    def set_erf_sets(self, erf_sets: dict[str, str]) -> None:
        """This program's ERF resources: ``{"rank": "0, 1"}`` or ``{"rank_count": "2"}``,
        ``host``, ``cpu`` (``"{0:21}"``), ``gpu``, ``memory``."""
        if not isinstance(erf_sets, dict):
            raise InvalidArgumentError(f"erf_sets must be a dict, got {erf_sets!r}")
        for key, value in erf_sets.items():
            if key not in _ERF_KEYS:
                raise InvalidArgumentError(f"erf_sets: {key!r} is not one of {_ERF_KEYS}")
            _common.text(value, f"erf_sets[{key!r}]")
        self.erf_sets = dict(erf_sets)

    # -- rendering ------------------------------------------------------------------------------

    def _launch_args(self) -> list[str]:
        return [] if self.tasks is None else [f"--np={self.tasks}"]

    def _env_args(self, names: list[str]) -> list[str]:
        return [token for name in names for token in ("-E", name)]

    def _apps(self) -> list[JsrunSettings]:
        return [self, *self.mpmd]  # type: ignore[list-item]

    def erf_text(self) -> str:
        """The Explicit Resource File running these settings and their MPMD parts."""
        preamble = list(self.mpmd_preamble_lines)
        distribution = next(
            (line for line in preamble if line.lstrip().startswith("launch_distribution")), None
        )
        if distribution is None:
            given = (
                a.run_args.get("launch_distribution") or a.run_args.get("d") for a in self._apps()
            )
            distribution = f"launch_distribution : {next((g for g in given if g), 'packed')}"
        else:
            preamble.remove(distribution)
        out = [distribution, *preamble, ""]
        for app_id, app in enumerate(self._apps()):
            words = [app.exe, *app.exe_args]
            if any("\n" in w or "\r" in w for w in words):
                raise InvalidArgumentError("erf_text: an ERF line cannot hold a newline")
            out.append(f"app {app_id} : {' '.join(words)}")
        out.append("")
        for app_id, app in enumerate(self._apps()):
            sets = app.erf_sets
            ranks = f"rank: {sets['rank']}" if "rank" in sets else sets.get("rank_count", "1")
            res = [f"host: {sets.get('host', '*')}", f"cpu: {sets.get('cpu', '*')}"]
            res += [f"{k}: {sets[k]}" for k in ("gpu", "memory") if k in sets]
            out.append(f"{ranks} : {{ {'; '.join(res)} }} : app {app_id}")
        return "\n".join(out) + "\n"

    def format_erf_argv(self, erf_path: str) -> list[str]:
        """``jsrun [options] [-E NAME ...] --erf_input <erf_path>`` (write :meth:`erf_text`
        there first). Resource-set options are refused: the ERF's rank lines replace them."""
        path = _common.path(erf_path, "erf_path")
        for app in self._apps():
            clash = [key for key in app.run_args if key in _ERF_REPLACES]
            if clash or app.tasks is not None:
                raise InvalidArgumentError(
                    f"format_erf_argv: jsrun takes resources from the ERF; remove "
                    f"{clash or ['set_tasks']} and use set_erf_sets"
                )
        self._check_run_args()
        user = [
            token
            for key, value in self.run_args.items()
            for token in _common.render_option(key, value, join=self.LONG_JOIN)
        ]
        names = _common.env_names(self.launch_env())
        return [self.run_command, *user, *self._env_args(names), "--erf_input", path]


@attrs.define(eq=False, init=False)
class BsubBatchSettings(BatchSettings):
    """``#BSUB`` directives; submitted as ``bsub < script`` (:attr:`submit_stdin`)."""

    smts: int = 0
    tasks: int | None = None
    #: ``set_expert_mode_req``'s (resource requirement, slots), or None.
    expert_mode: tuple[str, int] | None = None

    batch_cmd: ClassVar[str] = "bsub"
    submit_stdin: ClassVar[bool] = True
    DIRECTIVE: ClassVar[str] = "#BSUB"
    WHO: ClassVar[str] = "bsub"
    SINGLE_DASH: ClassVar[bool] = True
    RESERVED: ClassVar[dict[str, str | None]] = {
        "J": None, "o": None, "e": None, "oo": None, "eo": None, "W": "set_walltime",
        "P": "set_project", "nnodes": "set_nodes", "q": "set_queue", "m": "set_hostlist",
        "n": "set_tasks", "csm": "set_expert_mode_req", "R": "set_expert_mode_req",
    }  # fmt: skip

    def __init__(
        self,
        nodes: int | None = None,
        time: str | int | None = None,
        project: str | None = None,
        batch_args: dict[str, str | None] | None = None,
        smts: int = 0,
        *,
        queue: str | None = None,
        account: str | None = None,
    ) -> None:
        """SmartSim's order; ``account`` is the project (``-P``)."""
        self.__attrs_init__()
        given = project if project not in (None, "") else account
        self._setup(nodes=nodes, time=time, queue=queue, account=given, batch_args=batch_args)
        if smts:
            self.set_smts(smts)

    @property
    def project(self) -> str:
        """``-P``: the project (the account)."""
        return self.account

    def set_project(self, project: str) -> None:
        """``-P``."""
        self.set_account(project)

    def set_smts(self, smts: int) -> None:
        """``-alloc_flags smtN`` (unless ``alloc_flags`` in batch_args already names an smt)."""
        self.smts = _checks.count(smts, "smts")

    def set_nodes(self, nodes: int) -> None:
        """``-nnodes``."""
        if self.expert_mode:
            self._refuse(f"set_nodes({nodes!r})", "expert mode (-csm y) sets the resources")
        super().set_nodes(nodes)

    def set_tasks(self, tasks: int) -> None:
        """``-n``."""
        if self.expert_mode:
            self._refuse(f"set_tasks({tasks!r})", "expert mode (-csm y) sets the slots")
        self.tasks = _checks.count(tasks, "tasks")

    def set_expert_mode_req(self, res_req: str, slots: int) -> None:
        """``-csm y -R "<res_req>" -n <slots>``: expert mode. It replaces the node and task
        counts (they are cleared, and set_nodes / set_tasks are refused from now on)."""
        res_req = _common.text(res_req, "res_req")
        if '"' in res_req:
            raise InvalidArgumentError(f"set_expert_mode_req: {res_req!r} must not hold a quote")
        self.expert_mode = (res_req, _checks.count(slots, "slots"))
        self.nodes = self.tasks = None

    def _directive_options(self, job_name: str, output: str, error: str) -> list[list[str]]:
        opts = [["-J", job_name], ["-o", output], ["-e", error]]
        if self.walltime is not None:
            opts.append(["-W", _common.hours_minutes(self.walltime)])
        if self.account:
            opts.append(["-P", self.account])
        if self.nodes is not None:
            opts.append(["-nnodes", str(self.nodes)])
        if self.queue:
            opts.append(["-q", self.queue])
        if self.hosts:
            opts.append(["-m", f'"{" ".join(self.hosts)}"'])
        if self.tasks is not None:
            opts.append(["-n", str(self.tasks)])
        if self.expert_mode:
            res_req, slots = self.expert_mode
            opts += [["-csm", "y"], ["-R", f'"{res_req}"'], ["-n", str(slots)]]
        return opts

    def _user_options(self) -> list[list[str]]:
        flags = self.batch_args.get("alloc_flags", "").strip('"').split()
        if self.smts and not any(f.startswith("smt") for f in flags):
            flags.append(f"smt{self.smts}")
        user = {k: v for k, v in self.batch_args.items() if k != "alloc_flags"}
        opts = [_common.render_option(k, v, long="-", join=" ") for k, v in user.items()]
        if flags:
            opts.append(["-alloc_flags", f'"{" ".join(flags)}"' if len(flags) > 1 else flags[0]])
        return opts

    def submit_argv(
        self, script_path: str, *, output: str | None = None, error: str | None = None
    ) -> list[str]:
        """``["bsub"]``: feed the script at ``script_path`` on stdin (``bsub < script``)."""
        _common.path(script_path, "script_path")
        return [self.batch_cmd]
