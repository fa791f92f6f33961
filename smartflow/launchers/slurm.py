"""Slurm: steps are ``srun`` child processes, batch jobs are ``sbatch --parsable`` scripts.

A step's exit code is its status: srun exits with its largest task's code (128+n for a signal),
and killing srun ends the step, so the driver's own child watching is enough, with no ``sacct``
on the hot path. Batch jobs are watched by the launcher's poller with one ``squeue`` call for every
live id; ``sacct -c`` (the job-completion log) is only a fallback for jobs that left the queue,
and Slurm without accounting is the normal case, never an error. Every command honours
``SLURM_CONF``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import anyio
from anyio.abc import Process

from smartflow.errors import SchedulerError
from smartflow.launchers._base import JobState, run_command
from smartflow.launchers._launcher import Launcher
from smartflow.runtime.job import LocalProcess, StartJob
from smartflow.runtime.process import ProcessSpec, spawn
from smartflow.status import Status

_QUEUED = {"PENDING", "CONFIGURING", "REQUEUE_HOLD", "RESV_DEL_HOLD"}
_RUNNING = {"RUNNING", "COMPLETING", "STAGE_OUT"}
_PAUSED = {"SUSPENDED", "REQUEUED", "REQUEUE_FED", "RESIZING", "SIGNALING", "STOPPED"}
#: States that end a job as FAILED, with what summary() says of each.
_FAILED = {
    "TIMEOUT": "the time limit was reached",
    "OUT_OF_MEMORY": "it ran out of memory",
    "NODE_FAIL": "a node it ran on failed",
    "BOOT_FAIL": "its nodes failed to boot",
    "DEADLINE": "its deadline passed",
    "PREEMPTED": "it was preempted",
    "FAILED": "it exited with a non-zero code",
    "SPECIAL_EXIT": "it ended in a special exit state",
    "REVOKED": "it was revoked",
}
#: How long a step's Slurm id is looked for after its start (it is shown once found).
IDENTIFY_TIMEOUT_S = 30.0
#: How many times a member's step is looked for before the whole job is cancelled instead.
_MEMBER_LOOKUPS = 10
#: When one job shows several lines (a heterogeneous job's components), the worst one stands.
_PRECEDENCE = [Status.FAILED, Status.CANCELLED, Status.RUNNING, Status.PAUSED, Status.QUEUED]


def job_state(state: str, reason: str = "", exit_code: int | None = None) -> JobState:
    """A Slurm state (``squeue %T``, ``sacct State``: ``CANCELLED by 0`` too) as a status."""
    word = state.split()[0].rstrip("+") if state.strip() else ""
    if word in _QUEUED:
        return JobState(Status.QUEUED, reason if reason not in ("None", "") else word, exit_code)
    if word in _RUNNING:
        return JobState(Status.RUNNING, word, exit_code)
    if word in _PAUSED:
        return JobState(Status.PAUSED, word, exit_code)
    if word == "COMPLETED":
        return JobState(Status.COMPLETED, word, exit_code)
    if word == "CANCELLED":
        return JobState(Status.CANCELLED, state.strip(), exit_code)
    why = _FAILED.get(word, "an unknown state")
    return JobState(Status.FAILED, f"{word or state!r}: {why}", exit_code)


def base_id(job_id: str) -> str:
    """The job a line belongs to: ``123+1`` (a heterogeneous component) and ``123_4`` (an array
    task) and ``123.0`` (a step) all belong to ``123``."""
    for mark in "+_.":
        job_id = job_id.split(mark, 1)[0]
    return job_id


def parse_squeue(text: str) -> dict[str, JobState]:
    """``squeue -h -o '%i|%T|%r'`` lines, one state per job (the worst of its components)."""
    found: dict[str, list[JobState]] = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 2 or not parts[0]:
            continue
        reason = parts[2] if len(parts) > 2 else ""
        found.setdefault(base_id(parts[0]), []).append(job_state(parts[1], reason))
    return {job: _worst(states) for job, states in found.items()}


def parse_sacct(text: str) -> dict[str, JobState]:
    """``sacct -n -P -o JobID,State,ExitCode`` lines (jobs only: steps are skipped)."""
    found: dict[str, JobState] = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 3 or "." in parts[0]:
            continue
        code = parts[2].split(":", 1)[0]
        found[base_id(parts[0])] = job_state(
            parts[1], exit_code=int(code) if code.isdigit() else None
        )
    return found


def _worst(states: list[JobState]) -> JobState:
    for status in _PRECEDENCE:
        for state in states:
            if state.status is status:
                return state
    return states[0]


def parse_sbatch(stdout: str) -> str:
    """``sbatch --parsable`` prints ``id`` or ``id;cluster``."""
    job_id = stdout.strip().splitlines()[-1].split(";", 1)[0] if stdout.strip() else ""
    if not base_id(job_id).isdigit():
        raise SchedulerError(f"sbatch printed no job id: {stdout.strip()[:200]!r}")
    return job_id


class SlurmScheduler:
    """The batch side of Slurm (see the module docstring)."""

    name = "slurm"

    async def submit(self, script: Path, submit_argv: list[str], stdin: bool) -> str:
        result = await run_command(submit_argv)
        if result.returncode != 0:
            raise SchedulerError(f"sbatch refused the job: {result.message}")
        return parse_sbatch(result.stdout)

    async def query(self, ids: list[str]) -> dict[str, JobState]:
        result = await run_command(
            ["squeue", "-h", "-t", "all", "-j", ",".join(ids), "-o", "%i|%T|%r"]
        )
        if result.returncode != 0:
            if "Invalid job id" in result.message:
                return {}  # every id has left the queue (squeue refuses the whole list)
            raise SchedulerError(f"squeue failed: {result.message}")
        return parse_squeue(result.stdout)

    async def final_states(self, ids: list[str]) -> dict[str, JobState]:
        # -c reads the job-completion log; Slurm without accounting storage still keeps that.
        result = await run_command(["sacct", "-c", "-n", "-P", "-o", "JobID,State,ExitCode"])
        if result.returncode != 0:
            return {}
        wanted = set(ids)
        return {k: v for k, v in parse_sacct(result.stdout).items() if k in wanted}

    async def cancel(self, job_id: str, *, force: bool) -> None:
        result = await run_command(["scancel", *(["-s", "KILL"] if force else []), job_id])
        if result.returncode != 0 and "Invalid job id" not in result.message:
            raise SchedulerError(f"scancel {job_id} failed: {result.message}")

    async def cancel_member(self, job_id: str, member: str) -> bool:
        """Cancel the member's step, found by its name (``srun --job-name=<member>``); a job
        that has just started may not have created it yet, so it is looked for a moment."""
        for attempt in range(_MEMBER_LOOKUPS):
            listed = await run_command(["squeue", "-h", "-s", "-j", job_id, "-o", "%i|%j"])
            steps = [
                line.split("|", 1)[0]
                for line in listed.stdout.splitlines()
                if line.partition("|")[2].strip() == member
            ]
            if steps:
                return (await run_command(["scancel", *steps])).returncode == 0
            if listed.returncode != 0 or attempt + 1 == _MEMBER_LOOKUPS:
                return False
            await anyio.sleep(0.2)
        return False

    def cancel_argv(self, job_id: str) -> list[str]:
        return ["scancel", job_id]


class StepIds:
    """Finds the Slurm ids of the steps a launcher started, by their unique names, for all of
    them at once: one lookup round (an ``squeue`` of this user's jobs, and one ``squeue -s`` of
    the allocations steps run in) serves every step that waits, so twenty steps started together
    cost a couple of calls, not twenty."""

    def __init__(self) -> None:
        self._pending: set[tuple[str, str | None]] = set()
        self._found: dict[tuple[str, str | None], str] = {}
        self._lookup: anyio.Event | None = None

    async def find(
        self, name: str, allocation: str | None, running: Callable[[], bool]
    ) -> str | None:
        """The id of step ``name`` (in ``allocation``, or a job of its own), while ``running()``;
        None if it was not found within :data:`IDENTIFY_TIMEOUT_S`."""
        key = (name, allocation)
        self._pending.add(key)
        try:
            delay = 0.05
            with anyio.move_on_after(IDENTIFY_TIMEOUT_S):
                while running():
                    await self._round()
                    if key in self._found:
                        return self._found.pop(key)
                    await anyio.sleep(delay)
                    delay = min(delay * 2, 1.0)
            return None
        finally:
            self._pending.discard(key)
            self._found.pop(key, None)

    async def _round(self) -> None:
        """Join the lookup under way, or make one for every step still pending."""
        if self._lookup is not None:
            await self._lookup.wait()
            return
        self._lookup = done = anyio.Event()
        try:
            await self._look_up(set(self._pending))
        finally:
            self._lookup = None
            done.set()

    async def _look_up(self, wanted: set[tuple[str, str | None]]) -> None:
        allocations = sorted({a for _, a in wanted if a is not None})
        commands = []
        if any(a is None for _, a in wanted):
            commands.append(["squeue", "-h", "--me", "-o", "%i|%j"])
        if allocations:
            commands.append(["squeue", "-h", "-s", "-j", ",".join(allocations), "-o", "%i|%j"])
        for argv in commands:
            try:
                result = await run_command(argv)
            except SchedulerError:
                continue
            for line in result.stdout.splitlines():
                slurm_id, _, step = line.strip().partition("|")
                in_job = base_id(slurm_id) if "." in slurm_id else None
                key = (step, in_job)
                if key in wanted:
                    self._found[key] = slurm_id


class SlurmStep(LocalProcess):
    """An ``srun`` child process. Its exit is its status; its Slurm id is looked up off the hot
    path (:meth:`identify`) for ``summary()`` and for the watchdog: a SIGKILLed srun ends a
    step inside an allocation, but not the job an srun outside one obtained for itself."""

    def __init__(
        self, process: Process, name: str, ids: StepIds, allocation: str | None = None
    ) -> None:
        super().__init__(process)
        self.name = name
        self.allocation = allocation or os.environ.get("SLURM_JOB_ID") or None
        self.slurm_id: str | None = None
        self._ids = ids

    @property
    def job_id(self) -> str:
        return self.slurm_id or super().job_id

    @property
    def reap_tokens(self) -> tuple[str, ...]:
        tokens = super().reap_tokens
        if self.slurm_id is not None:
            tokens += ("!" + json.dumps(["scancel", self.slurm_id]),)
        return tokens

    async def identify(self) -> str | None:
        """Find the step (inside an allocation) or job (outside one) by its unique name."""
        if not self.name:
            return None  # not an srun step (an mpirun one, say): there is nothing to find
        found = await self._ids.find(self.name, self.allocation, lambda: self.returncode is None)
        if found is None:
            return None
        self.slurm_id = found
        return "!" + json.dumps(["scancel", found])


class SlurmLauncher(Launcher):
    """``srun`` steps (inside the allocation when the driver runs in one, ``SLURM_JOB_ID``;
    otherwise srun obtains its own) and ``sbatch`` batch jobs."""

    name = "slurm"

    def __init__(self) -> None:
        super().__init__()
        self.step_ids = StepIds()

    def make_scheduler(self) -> SlurmScheduler:
        return SlurmScheduler()

    @property
    def start_step(self) -> StartJob:
        async def start(spec: ProcessSpec, truncate: bool) -> SlurmStep:
            process = await spawn(spec, truncate=truncate)
            name = srun_option(spec.argv, "job-name") or ""
            return SlurmStep(process, name, self.step_ids, srun_option(spec.argv, "jobid"))

        return start


def srun_option(argv: tuple[str, ...], option: str) -> str | None:
    """The value of ``--option=value`` on an srun command line (None: absent, or not srun)."""
    if not argv or os.path.basename(argv[0]) != "srun":
        return None
    for arg in argv[1:]:
        if arg.startswith(f"--{option}="):
            return arg.split("=", 1)[1]
        if arg == ":":
            break  # an MPMD part's options are its own
    return None


LAUNCHER = SlurmLauncher
