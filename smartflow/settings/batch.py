"""BatchSettings: the base of the workload managers' batch-job settings.

A subclass (``SbatchSettings``, ``QsubBatchSettings``, ``BsubBatchSettings``,
``CobaltBatchSettings``) renders the batch script's directive lines (:meth:`directives`) and the
submit command (:meth:`submit_argv`); the launcher writes the script::

    #!/bin/bash
    <directives(job_name, output, error)>
    <preamble>
    <one line per step> &
    wait

As in SmartSim, the constructor's ``nodes``, ``time``, ``queue`` and ``account`` go through the
setters, so they are checked the same way. ``batch_args`` are rendered after the directives
smartflow writes; the options smartflow writes itself, or that a setter owns, are refused there.
"""

from __future__ import annotations

import copy as _copy
import shlex
from typing import ClassVar

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError
from smartflow.settings import _common
from smartflow.settings._common import format_walltime

__all__ = ["BatchSettings"]


@attrs.define(eq=False, init=False)
class BatchSettings:
    """Batch-job settings common to every workload manager (this base renders nothing)."""

    nodes: int | None = None
    #: The walltime as text (``HH:MM:SS`` or ``D-HH:MM:SS``), "" when unset.
    time: str = ""
    #: The walltime in seconds, None when unset.
    walltime: float | None = None
    queue: str = ""
    account: str = ""
    batch_args: dict[str, str] = attrs.field(
        factory=dict, converter=lambda v: _common.str_dict(v, "batch_args")
    )
    hosts: list[str] = attrs.field(factory=list)
    #: Lines the script runs after the directives, before the steps (module loads, exports).
    preamble: list[str] = attrs.field(factory=list)

    #: The submit command.
    batch_cmd: ClassVar[str] = ""
    #: True where the script must be fed on stdin (``bsub < script``), not named.
    submit_stdin: ClassVar[bool] = False
    #: The directive prefix (``#SBATCH``).
    DIRECTIVE: ClassVar[str] = ""
    #: Named in refusals.
    WHO: ClassVar[str] = "BatchSettings"
    #: batch_args smartflow owns: option -> the setter to use, or None (smartflow sets it).
    RESERVED: ClassVar[dict[str, str | None]] = {}
    #: PBS and LSF options all take one dash and a space: ``-k value``.
    SINGLE_DASH: ClassVar[bool] = False
    #: How a long batch_arg joins its value: "=" (``--k=v``) or " " (``--k v``).
    LONG_JOIN: ClassVar[str] = "="

    def __init__(
        self,
        nodes: int | None = None,
        time: str | int | None = None,
        queue: str | None = None,
        account: str | None = None,
        batch_args: dict[str, str | None] | None = None,
    ) -> None:
        self.__attrs_init__()
        self._setup(nodes=nodes, time=time, queue=queue, account=account, batch_args=batch_args)

    def _setup(
        self,
        *,
        nodes: object = None,
        time: object = None,
        queue: object = None,
        account: object = None,
        batch_args: object = None,
    ) -> None:
        """Apply constructor values through the setters (None and "" mean unset)."""
        self.batch_args = batch_args  # type: ignore[assignment]  # converted
        self._check_batch_args()
        if nodes is not None:
            self.set_nodes(nodes)  # type: ignore[arg-type]
        if time is not None and time != "":
            self.set_walltime(time)  # type: ignore[arg-type]
        if queue is not None and queue != "":
            self.set_queue(queue)  # type: ignore[arg-type]
        if account is not None and account != "":
            self.set_account(account)  # type: ignore[arg-type]

    def _check_batch_args(self) -> None:
        _common.check_options(self.batch_args, self.RESERVED, self.WHO, "batch_args")

    def _refuse(self, call: str, why: str) -> None:
        raise InvalidArgumentError(f"{call}: {self.WHO} cannot honour it; {why}")

    # -- setters ------------------------------------------------------------------------------

    def set_batch_arg(self, arg: str, value: str | None = None) -> None:
        """One more option of the batch command (None: a bare flag), checked as
        ``batch_args`` are; nothing changes if it is refused."""
        before = self.batch_args
        self.batch_args = {**before, arg: value}  # type: ignore[assignment]  # converted
        try:
            self._check_batch_args()
        except BaseException:
            self.batch_args = before
            raise

    def set_nodes(self, nodes: int) -> None:
        self.nodes = _checks.count(nodes, "nodes")

    def set_walltime(self, walltime: str | int) -> None:
        """``HH:MM:SS``, ``D-HH:MM:SS`` or an int number of seconds."""
        self.walltime = _common.batch_walltime(walltime)
        self.time = format_walltime(self.walltime)

    def set_queue(self, queue: str) -> None:
        self.queue = _common.text(queue, "queue")

    def set_account(self, account: str) -> None:
        self.account = _common.text(account, "account")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """The hosts the job must run on: one name or a list of names."""
        self.hosts = _common.names(host_list, "host_list")

    def add_preamble(self, lines: str | list[str]) -> None:
        """Lines to run after the directives and before the steps (a str may hold several)."""
        self.preamble.extend(_common.lines(lines, "preamble"))

    def copy(self) -> BatchSettings:
        clone = _copy.copy(self)
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, list | dict):
                object.__setattr__(clone, field.name, type(value)(value))
        return clone

    # -- rendering ------------------------------------------------------------------------------

    def _generic(self, what: str) -> None:
        if not self.DIRECTIVE:
            raise InvalidArgumentError(
                f"{what}: BatchSettings is the generic base; use the workload manager's class "
                "(SbatchSettings, QsubBatchSettings, BsubBatchSettings, CobaltBatchSettings) "
                "or batch_settings_class(launcher)"
            )

    def _directive_options(self, job_name: str, output: str, error: str) -> list[list[str]]:
        """Each directive's tokens, smartflow's own first (a subclass's job)."""
        return []

    def _user_options(self) -> list[list[str]]:
        long, join = ("-", " ") if self.SINGLE_DASH else ("--", self.LONG_JOIN)
        return [
            _common.render_option(key, value, long=long, join=join)
            for key, value in self.batch_args.items()
        ]

    def directives(self, job_name: str, output: str, error: str) -> list[str]:
        """The script's directive lines (``#SBATCH --job-name=...``), ``batch_args`` last."""
        self._generic("directives")
        job_name = _common.text(job_name, "job_name")
        output = _common.text(output, "output")
        error = _common.text(error, "error")
        self._check_batch_args()
        options = [*self._directive_options(job_name, output, error), *self._user_options()]
        return [f"{self.DIRECTIVE} {' '.join(map(_quoted, tokens))}" for tokens in options]

    def _submit_options(self, output: str | None, error: str | None) -> list[str]:
        return []

    def submit_argv(
        self, script_path: str, *, output: str | None = None, error: str | None = None
    ) -> list[str]:
        """The submit command line for the written script."""
        self._generic("submit_argv")
        script = _common.path(script_path, "script_path")
        output = _common.optional_text(output, "output")
        error = _common.optional_text(error, "error")
        return [self.batch_cmd, *self._submit_options(output, error), script]


def _quoted(token: str) -> str:
    """A directive token as the scheduler's parser reads it: a value with spaces or quotes is
    shell-quoted (``--comment='a b'``; the option name stays bare, as sbatch wants it)."""
    if token == shlex.quote(token) or (len(token) > 1 and token[0] == token[-1] == '"'):
        return token  # plain, or quoted already (LSF's ``-m "h1 h2"``)
    if token.startswith("-") and "=" in token:
        key, value = token.split("=", 1)
        return f"{key}={shlex.quote(value)}"
    return shlex.quote(token)
