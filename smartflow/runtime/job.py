"""What an actor owns: a :class:`JobHandle`, whatever launched it.

The runtime knows how to supervise a job, not how to start one: a launcher (``smartflow.launchers``)
turns a :class:`~smartflow.runtime.process.ProcessSpec` into a handle. A local process, an ``srun``
or ``mpirun`` step (a child process of the driver too) and a scheduler's batch job all look the same
here: an id, an exit code once it has ended, a wait, a stop ladder, and a token the watchdog records
so that the job ends even if the driver is SIGKILLed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from anyio.abc import Process

from smartflow.runtime.process import ProcessSpec, spawn
from smartflow.runtime.terminate import terminate
from smartflow.status import Status


class JobHandle(Protocol):
    """One running job of an entity (a process, a step or a batch job)."""

    @property
    def job_id(self) -> str:
        """The id shown in ``summary()``: a pid, a step id or a scheduler's job id."""

    @property
    def returncode(self) -> int | None:
        """The exit code once the job has ended, else None."""

    @property
    def reap_tokens(self) -> tuple[str, ...]:
        """What the watchdog records to end this job if the driver dies: process group ids,
        or ``!`` and a JSON argv to run (``["scancel", "12"]``)."""

    @property
    def status(self) -> Status:
        """Where the job is now: RUNNING for a process, QUEUED for a batch job that waits."""

    async def identify(self) -> str | None:
        """Learn the scheduler's id of a job started as a child process (an ``srun`` step),
        off the hot path; a further reap token once known (None: nothing to learn)."""

    def changes(self) -> AsyncIterator[Status]:
        """Each status the scheduler moves the job to while it lives (QUEUED, RUNNING,
        PAUSED); ends when the job has ended, or at once for a process."""

    async def wait(self) -> int:
        """Wait until the job has ended; its exit code."""

    async def stop(self, grace: float) -> int:
        """End the job with the launcher's ladder (polite, bounded wait, forced), shielded and
        bounded; its exit code."""

    def verdict(self) -> tuple[Status | None, str]:
        """After the job ended: the status the scheduler imposes (None: judge by the exit code)
        and why (a scheduler's reason, e.g. ``TIMEOUT: the time limit was reached``)."""


#: How an actor starts its job: the spec, and whether its output files are emptied first.
StartJob = Callable[[ProcessSpec, bool], Awaitable[JobHandle]]


class LocalProcess:
    """A child process of the driver, in its own session (so its whole group can be ended)."""

    def __init__(self, process: Process) -> None:
        self.process = process

    @property
    def job_id(self) -> str:
        return str(self.process.pid)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    @property
    def reap_tokens(self) -> tuple[str, ...]:
        return (str(self.process.pid),)

    @property
    def status(self) -> Status:
        return Status.RUNNING

    async def identify(self) -> str | None:
        return None

    async def changes(self) -> AsyncIterator[Status]:
        return
        yield

    async def wait(self) -> int:
        return await self.process.wait()

    async def stop(self, grace: float) -> int:
        return await terminate(self.process, grace)

    def verdict(self) -> tuple[Status | None, str]:
        return None, ""


async def start_local(spec: ProcessSpec, truncate: bool) -> LocalProcess:
    """The local launcher's way to start a job: spawn the child on this host."""
    return LocalProcess(await spawn(spec, truncate=truncate))
