"""The common base of the workload managers' run commands (srun, mpirun, jsrun, aprun, ...).

Each subclass owns its command line::

    [run_command, *head args, *launcher args, *run_args, *env names, exe, *exe_args, *extra]
        [":", *launcher args, *run_args, *env names, exe, *exe_args]...      (MPMD parts)

and refuses, at the setter, what its run command cannot honour, naming the run command.
Environment *values* never go on the command line: they travel in the process environment
(:meth:`launch_env`), and a run command that must be told which variables to forward gets
their names only (``-x NAME``, ``-E NAME``). The run command itself is not looked up on PATH,
so settings can be built and previewed where the workload manager is not installed; only
``exe`` is resolved.
"""

from __future__ import annotations

from typing import ClassVar, NoReturn

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.settings import _common
from smartflow.settings.run import RunSettings

__all__ = ["LauncherRunSettings"]


@attrs.define(eq=False, init=False)
class LauncherRunSettings(RunSettings):
    """Settings of one workload-manager run command; see the subclasses."""

    #: Settings appended by :meth:`make_mpmd` (copies, taken when appended).
    mpmd: list[RunSettings] = attrs.field(factory=list)

    #: The run command's name, rendered first unless ``run_command=`` overrides it.
    RUN_COMMAND: ClassVar[str] = ""
    #: The launcher these settings belong to by default.
    LAUNCHER: ClassVar[str] = ""
    #: run_args smartflow owns: option -> the setter to use, or None (smartflow sets it).
    RESERVED: ClassVar[dict[str, str | None]] = {}
    #: How a long run_arg joins its value: "=" (``--k=v``) or " " (``--k v``).
    LONG_JOIN: ClassVar[str] = "="
    #: Whether MPMD renders on the command line as ``a : b``.
    TEXT_MPMD: ClassVar[bool] = True

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_args: dict[str, str | int | float | None] | None = None,
        env_vars: dict[str, str | None] | None = None,
        *,
        run_command: str | None = None,
        launcher: str | None = None,
    ) -> None:
        """``run_command`` overrides the binary (a name or a path; default the class's)."""
        self.__attrs_init__(
            exe=exe,
            exe_args=exe_args,
            run_command=self.RUN_COMMAND if run_command is None else run_command,
            run_args=run_args,
            env_vars=env_vars,
            launcher=self.LAUNCHER if launcher is None else launcher,
        )

    def __attrs_post_init__(self) -> None:
        _common.text(self.run_command, "run_command")
        _common.text(self.launcher, "launcher")
        self._check_run_args()
        _common.env_names(self.env_vars)

    # -- helpers for the subclasses' setters ----------------------------------------------------

    def _check_run_args(self) -> None:
        _common.check_options(self.run_args, self.RESERVED, self.RUN_COMMAND, "run_args")

    def _set(self, key: str, value: object = "") -> None:
        """Record a setter's option in ``run_args`` ("" renders a bare flag)."""
        self.run_args[key] = str(value)

    def _switch(self, key: str, on: object, what: str) -> None:
        if _common.flag(on, what):
            self.run_args[key] = ""
        else:
            self.run_args.pop(key, None)

    # -- setters every run command here supports --------------------------------------------------

    def set_tasks(self, tasks: int) -> None:
        """The number of tasks (ranks), rendered by each class's tasks option."""
        self.tasks = _checks.count(tasks, "tasks")

    def set_nodes(self, nodes: int) -> None:
        """Only 1 (nothing to render, as on the local launcher): this run command takes no node
        count; more nodes come from the tasks and the tasks per node."""
        if _checks.count(nodes, "nodes") != 1:
            self._refuse(f"set_nodes({nodes!r})", "it takes no node count; set tasks instead")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        self._refuse(f"set_tasks_per_node({tasks_per_node!r})", "it has no such option")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        self._refuse(f"set_cpus_per_task({cpus_per_task!r})", "it has no such option")

    def _refuse(self, call: str, why: str = "") -> NoReturn:
        reason = why or "it has no such option (SmartSim only warned, #594)"
        raise InvalidArgumentError(f"{call}: {self.RUN_COMMAND} cannot honour it; {reason}")

    def update_env(self, env_vars: dict[str, str]) -> None:
        new = _common.str_dict(env_vars, "env_vars")
        _common.env_names(new)
        self.env_vars.update(new)

    # -- MPMD -----------------------------------------------------------------------------------

    def make_mpmd(self, settings: RunSettings) -> None:
        """Run ``settings`` (of the same class) in the same launch, as ``... : ...``.

        A copy is appended (later changes to ``settings`` do not reach this launch); parts of
        its own MPMD are flattened in. Every part shares one process environment, so a
        variable given two different values is refused."""
        if type(settings) is not type(self):
            raise UnsupportedTypeError(
                f"make_mpmd: {self.RUN_COMMAND} combines {type(self).__name__} settings only, "
                f"got {type(settings).__name__}"
            )
        if settings is self or any(part is settings for part in self.mpmd):
            raise InvalidArgumentError("make_mpmd: these settings are already part of the launch")
        head = settings.copy()
        assert isinstance(head, LauncherRunSettings)
        parts: list[RunSettings] = [head, *head.mpmd]
        head.mpmd = []
        self._check_mpmd(parts)
        self._merged_env(parts)
        self.mpmd.extend(parts)

    def _check_mpmd(self, parts: list[RunSettings]) -> None:
        """A subclass refuses parts it cannot launch together."""

    def _merged_env(self, parts: list[RunSettings]) -> dict[str, str]:
        merged = dict(self.env_vars)
        for part in parts:
            for key, value in part.env_vars.items():
                if merged.setdefault(key, value) != value:
                    raise InvalidArgumentError(
                        f"make_mpmd: {key!r} has two values across the MPMD parts; they share "
                        "one process environment"
                    )
        return merged

    def launch_env(self) -> dict[str, str]:
        """The variables the launched process's environment must carry: these settings' and
        every MPMD part's (the launcher sets them; srun's default ``--export=ALL``, ALPS and
        OpenMPI's ``-x NAME`` forward them to the tasks)."""
        return self._merged_env(self.mpmd)

    # -- rendering ------------------------------------------------------------------------------

    def _launch_args(self) -> list[str]:
        """The options smartflow always renders (tasks count, walltime, ...)."""
        return []

    def _head_args(self, name: str | None) -> list[str]:
        """Options rendered once, before the first part (allocation, step name)."""
        return []

    def _env_args(self, names: list[str]) -> list[str]:
        """Names of the variables the run command must forward; values never."""
        return []

    def format_run_args(self) -> list[str]:
        """The launcher options then the user's ``run_args`` (``--k=v`` / ``-k v`` / bare)."""
        self._check_run_args()
        user = [
            token
            for key, value in self.run_args.items()
            for token in _common.render_option(key, value, join=self.LONG_JOIN)
        ]
        return [*self._launch_args(), *user]

    def format_env_vars(self) -> list[str]:
        return self._env_args(_common.env_names(self.env_vars))

    def _part(self, extra_args: list[str]) -> list[str]:
        return [
            *self.format_run_args(),
            *self.format_env_vars(),
            self.exe,
            *self.exe_args,
            *extra_args,
        ]

    def format_argv(
        self, extra_args: list[str] | None = None, *, name: str | None = None
    ) -> list[str]:
        """The full step command line; ``name`` is the step's name where the run command
        takes one. ``extra_args`` (the model's parameters) go to the first program."""
        if name is not None:
            _common.text(name, "name")
        if self.mpmd and not self.TEXT_MPMD:
            raise InvalidArgumentError(
                f"{self.RUN_COMMAND} runs MPMD through a resource file, not on the command line"
            )
        self.launch_env()  # refuses a variable given two values since make_mpmd
        argv = [self.run_command, *self._head_args(name), *self._part(list(extra_args or []))]
        for part in self.mpmd:
            assert isinstance(part, LauncherRunSettings)
            argv += [":", *part._part([])]
        return argv
