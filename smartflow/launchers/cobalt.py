"""Cobalt: steps are ``aprun``/``mpirun``/``mpiexec`` child processes, batch jobs are
``qsub <script>`` (the script must be executable).

Batch jobs are watched by the launcher's poller with one ``qstat --header JobId:State <ids>``
call for every live id. Cobalt forgets a job as soon as it ends and keeps no exit code: a job gone
from qstat has no final state (:meth:`CobaltScheduler.final_states` is ``{}``), and each member's
exit file gives that member's own status. A member that wrote none when its job left the queue is
FAILED ("lost").

States: queued, starting, user_hold, admin_hold and dep_hold are QUEUED; running is RUNNING, and
so are exiting, killing and terminating (the job is ending: its members' exit files come next);
dep_fail (a job it depends on failed) is FAILED.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio

from smartflow.errors import SchedulerError
from smartflow.launchers._base import JobState, run_command
from smartflow.launchers._launcher import Launcher
from smartflow.status import Status

_QUEUED = {"queued", "starting", "user_hold", "admin_hold", "dep_hold"}
_RUNNING = {"running", "exiting", "killing", "terminating"}


def job_state(state: str) -> JobState:
    """A Cobalt ``State`` as a status."""
    word = state.strip().lower()
    if word in _QUEUED:
        return JobState(Status.QUEUED, word)
    if word in _RUNNING:
        return JobState(Status.RUNNING, word)
    if word == "dep_fail":
        return JobState(Status.FAILED, "dep_fail: a job it depends on failed")
    return JobState(Status.FAILED, f"{state.strip()!r}: an unknown state")


def parse_qstat(text: str) -> dict[str, JobState]:
    """``qstat --header JobId:State`` output: a header, a line of ``=``, then ``id state`` rows."""
    found: dict[str, JobState] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            found[parts[0]] = job_state(parts[1])
    return found


def parse_qsub(stdout: str) -> str:
    """The first line of qsub's output that is a number (notices may come first)."""
    for line in stdout.splitlines():
        if line.strip().isdigit():
            return line.strip()
    raise SchedulerError(f"qsub printed no job id: {stdout.strip()[:200]!r}")


class CobaltScheduler:
    """The batch side of Cobalt (see the module docstring)."""

    name = "cobalt"

    async def submit(self, script: Path, submit_argv: list[str], stdin: bool) -> str:
        await anyio.to_thread.run_sync(os.chmod, script, 0o700)  # Cobalt runs the script itself
        result = await run_command(submit_argv)
        if result.returncode != 0:
            raise SchedulerError(f"qsub refused the job: {result.message}")
        return parse_qsub(result.stdout)

    async def query(self, ids: list[str]) -> dict[str, JobState]:
        result = await run_command(["qstat", "--header", "JobId:State", *ids])
        found = parse_qstat(result.stdout)
        if result.returncode != 0 and not found and result.message:
            raise SchedulerError(f"qstat failed: {result.message}")
        # qstat exits 1 saying nothing when it knows none of the ids: every one has ended.
        return {job_id: found[job_id] for job_id in ids if job_id in found}

    async def final_states(self, ids: list[str]) -> dict[str, JobState]:
        return {}  # Cobalt keeps nothing of a job that has ended

    async def cancel(self, job_id: str, *, force: bool) -> None:
        result = await run_command(["qdel", job_id])  # Cobalt's qdel has no forced form
        if result.returncode != 0:
            raise SchedulerError(f"qdel {job_id} failed: {result.message}")

    async def cancel_member(self, job_id: str, member: str) -> bool:
        return False  # Cobalt cannot end one program of a running job: the whole job is cancelled

    def cancel_argv(self, job_id: str) -> list[str]:
        return ["qdel", job_id]


class CobaltLauncher(Launcher):
    """``aprun``/``mpirun``/``mpiexec`` steps (child processes of the driver, as on every
    launcher) and ``qsub`` batch jobs."""

    name = "cobalt"

    def make_scheduler(self) -> CobaltScheduler:
        return CobaltScheduler()


LAUNCHER = CobaltLauncher
