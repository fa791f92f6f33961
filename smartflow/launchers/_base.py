"""What every launcher shares: bounded scheduler commands, a job's state, and the protocol a
workload manager implements (:class:`Scheduler`: submit, query many ids at once, cancel)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import anyio
import attrs

from smartflow.errors import SchedulerError
from smartflow.status import Status

#: How long one scheduler command may take before it counts as hung (seconds).
COMMAND_TIMEOUT_S = float(os.environ.get("SMARTFLOW_SCHEDULER_TIMEOUT", "20"))


@attrs.frozen
class JobState:
    """What a scheduler says of one job: a status, why (its reason or state name), and the
    exit code where the scheduler keeps one."""

    status: Status
    reason: str = ""
    exit_code: int | None = None


@attrs.frozen
class CommandResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        """What the command said, for an error: stderr, else stdout, trimmed."""
        return (self.stderr.strip() or self.stdout.strip())[-2000:]


async def run_command(argv: Sequence[str], *, stdin: bytes | None = None) -> CommandResult:
    """Run a scheduler command, bounded; :class:`SchedulerError` if it is missing or hangs.
    It inherits the environment, so ``SLURM_CONF`` and its kin reach it."""
    exe = shutil.which(argv[0])
    if exe is None:
        raise SchedulerError(f"{argv[0]!r} is not on PATH: is the workload manager installed?")
    limit = COMMAND_TIMEOUT_S
    with anyio.move_on_after(limit) as bounded:
        done = await anyio.run_process(
            [exe, *argv[1:]], input=stdin, check=False, stderr=subprocess.PIPE
        )
        return CommandResult(
            done.returncode,
            done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"),
        )
    assert bounded.cancelled_caught
    raise SchedulerError(f"{argv[0]} did not answer within {limit:g} s")


def all_on_path(*commands: str) -> bool:
    return all(shutil.which(c) is not None for c in commands)


class Scheduler(Protocol):
    """A workload manager's batch side, as a launcher drives it."""

    name: str

    async def submit(self, script: Path, submit_argv: list[str], stdin: bool) -> str:
        """Submit ``script`` (with ``submit_argv``, or on stdin); the job id. A refusal is a
        :class:`SchedulerError` holding the scheduler's message."""

    async def query(self, ids: list[str]) -> dict[str, JobState]:
        """The state of every id it still knows, in one command (absent ids: unknown)."""

    async def final_states(self, ids: list[str]) -> dict[str, JobState]:
        """Where jobs that left the queue ended, if the scheduler keeps that (else ``{}``)."""

    async def cancel(self, job_id: str, *, force: bool) -> None:
        """Ask the scheduler to end the job (``force``: kill it now)."""

    async def cancel_member(self, job_id: str, member: str) -> bool:
        """End one member's step of a running batch job, if the scheduler can (False: it
        cannot, and only the whole job can be ended)."""

    def cancel_argv(self, job_id: str) -> list[str]:
        """The command that ends the job, for the watchdog (run if the driver dies)."""
