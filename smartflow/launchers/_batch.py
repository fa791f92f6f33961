"""Batch jobs: one script per model or ensemble, one poller per launcher.

A batch entity is one submitted script that starts every member in the background (``srun ...
&``) and waits for them. Each member writes its own exit code to a file when it ends (a job's
exit code hides a failed member), so each member keeps its own status. Every member is an actor
whose :class:`BatchMember` handle shares the one :class:`BatchJob`.

The :class:`Poller` asks the scheduler about every live job of the experiment in one command per
interval: fast right after a submission, backing off while nothing changes. It runs in whichever
actor is waiting (the first waiter leads; when it is done, another takes over), so there is no
thread or background task per job, and nothing runs when no job is live. A scheduler command that
fails or hangs is retried at the next interval ("unknown, retrying"); it never fails the jobs.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import attrs

from smartflow._log import get_logger
from smartflow.errors import SchedulerError
from smartflow.launchers._base import JobState, Scheduler
from smartflow.status import Status

#: The first poll comes this soon after a submission (seconds); then the interval doubles...
FIRST_POLL_S = 0.1
#: ... up to this while nothing changes.
MAX_POLL_S = float(os.environ.get("SMARTFLOW_POLL_INTERVAL", "2.0"))
#: How long a stop waits for the scheduler to end a job it was asked to cancel (seconds).
STOP_WAIT_S = 30.0
#: How often, between scheduler queries, the exit-code files of running jobs are read.
EXIT_FILE_CHECK_S = 0.1
#: A job absent from the queue this many polls in a row, with no final state, is lost.
LOST_AFTER_POLLS = 3
_log = get_logger("launchers.batch")


def _read_exit_codes(paths: list[Path]) -> dict[Path, int]:
    codes = {}
    for path in paths:
        try:
            codes[path] = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
    return codes


@attrs.define(eq=False)
class BatchJob:
    """One submitted script and what the poller has learned of it."""

    job_id: str
    scheduler: Scheduler
    members: dict[str, BatchMember] = attrs.field(factory=dict)
    state: JobState = attrs.field(factory=lambda: JobState(Status.QUEUED))
    missing_polls: int = 0
    stop_asked: set[str] = attrs.field(factory=set)
    cancelled: bool = False
    #: Set (then replaced) each time the poller records a new state.
    changed: anyio.Event = attrs.field(factory=anyio.Event)

    def record(self, state: JobState) -> None:
        self.state, self.missing_polls = state, 0
        self.changed.set()
        self.changed = anyio.Event()

    @property
    def ended(self) -> bool:
        return self.state.status.is_terminal

    async def cancel(self, *, force: bool = False) -> None:
        """Ask the scheduler to end the job (``scancel`` or its kin; ``force``: kill it now);
        a failure is logged, the poller tells what became of the job."""
        if self.ended or (self.cancelled and not force):
            return
        self.cancelled = True
        with anyio.CancelScope(shield=True):
            try:
                await self.scheduler.cancel(self.job_id, force=force)
            except SchedulerError as exc:
                _log.warning("cancel failed", job_id=self.job_id, force=force, error=str(exc))


@attrs.define(eq=False)
class BatchMember:
    """The handle of one member of a batch job (see :class:`~smartflow.runtime.job.JobHandle`)."""

    name: str
    job: BatchJob
    exit_file: Path
    poller: Poller
    returncode: int | None = None
    done: anyio.Event = attrs.field(factory=anyio.Event)
    _verdict: tuple[Status | None, str] = attrs.field(default=(None, ""), init=False)

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def reap_tokens(self) -> tuple[str, ...]:
        return ("!" + json.dumps(self.job.scheduler.cancel_argv(self.job.job_id)),)

    @property
    def status(self) -> Status:
        state = self.job.state.status
        return Status.RUNNING if state.is_terminal else state

    async def identify(self) -> str | None:
        return None

    async def changes(self) -> AsyncIterator[Status]:
        while not self.done.is_set() and not self.job.ended:
            seen = self.job.state.status
            await _first_of(self.job.changed, self.done)
            if self.job.state.status is not seen and not self.job.ended:
                yield self.job.state.status

    async def wait(self) -> int:
        await self.poller.wait(self)
        assert self.returncode is not None
        return self.returncode

    async def stop(self, grace: float) -> int:
        """Cancel the job once every member still running has been asked to stop; a member
        stopped alone has its own step cancelled where the scheduler can (Slurm), else the job
        is cancelled (PBS, LSF, Cobalt cannot end one program of a job)."""
        with anyio.CancelScope(shield=True):
            if not self.done.is_set():
                self.job.stop_asked.add(self.name)
                live = {n for n, m in self.job.members.items() if not m.done.is_set()}
                if not live <= self.job.stop_asked and await self._cancel_alone():
                    await self._ended_within(grace + STOP_WAIT_S)
                else:
                    await self.job.cancel()
                    if not await self._ended_within(grace + STOP_WAIT_S):
                        await self.job.cancel(force=True)  # the polite cancel was not enough
                        await self._ended_within(STOP_WAIT_S)
                if not self.done.is_set():
                    self.finish(-9, Status.FAILED, "the scheduler did not end it when asked")
            assert self.returncode is not None
            return self.returncode

    async def _ended_within(self, seconds: float) -> bool:
        with anyio.move_on_after(seconds):
            await self.poller.wait(self)
        return self.done.is_set()

    async def _cancel_alone(self) -> bool:
        try:
            return await self.job.scheduler.cancel_member(self.job.job_id, self.name)
        except SchedulerError as exc:
            _log.warning("cancel of one member failed", member=self.name, error=str(exc))
            return False

    def verdict(self) -> tuple[Status | None, str]:
        return self._verdict

    def finish(self, returncode: int, status: Status | None = None, reason: str = "") -> None:
        """Record how the member ended (``status``: imposed by the scheduler, if any)."""
        if not self.done.is_set():
            self.returncode, self._verdict = returncode, (status, reason)
            self.done.set()


class Poller:
    """Every live batch job of one launcher, watched with one scheduler query per interval."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.jobs: dict[str, BatchJob] = {}
        self.queries = 0  # scheduler calls made, for benchmarks
        self._leading = False
        self._handoff = anyio.Event()
        self._wake = anyio.Event()
        self._interval = FIRST_POLL_S

    def add(self, job: BatchJob) -> None:
        self.jobs[job.job_id] = job
        self._interval = FIRST_POLL_S
        self._wake.set()

    async def wait(self, member: BatchMember) -> None:
        """Until ``member`` has ended: lead the polling, or wait for whoever leads it."""
        while not member.done.is_set():
            if not self._leading:
                self._leading = True
                try:
                    await self._lead(member)
                finally:
                    self._leading = False
                    self._handoff.set()
                    self._handoff = anyio.Event()
            else:
                await _first_of(member.done, self._handoff)

    async def _lead(self, member: BatchMember) -> None:
        while not member.done.is_set():
            changed = await self.poll_once()
            self._interval = FIRST_POLL_S if changed else min(self._interval * 2, MAX_POLL_S)
            if member.done.is_set():
                return
            await self._between_polls(member)

    async def _between_polls(self, member: BatchMember) -> None:
        """Wait for the next scheduler query (or a new job), reading the exit-code files of
        running jobs meanwhile: a member's end is a local file, no need to ask the scheduler."""
        self._wake = anyio.Event()
        deadline = anyio.current_time() + self._interval
        while not member.done.is_set():
            left = deadline - anyio.current_time()
            if left <= 0:
                return
            with anyio.move_on_after(min(left, EXIT_FILE_CHECK_S)) as napping:
                await self._wake.wait()
            if not napping.cancelled_caught:
                return  # a job was submitted: query the scheduler now
            running = [j for j in self.jobs.values() if j.state.status is Status.RUNNING]
            if await self._settle_members(running):
                return

    async def poll_once(self) -> bool:
        """One scheduler query for every live job; True if anything changed."""
        live = [job for job in self.jobs.values() if not job.ended]
        if not live:
            return False
        ids = [job.job_id for job in live]
        try:
            self.queries += 1
            states = await self.scheduler.query(ids)
        except SchedulerError as exc:
            _log.warning("job states unknown, retrying", jobs=ids, error=str(exc))
            return False
        missing = [job for job in live if job.job_id not in states]
        for job in missing:
            job.missing_polls += 1
        lost = [job for job in missing if job.missing_polls >= LOST_AFTER_POLLS]
        if lost:
            states.update(await self._final_states([job.job_id for job in lost]))
        changed = False
        for job in live:
            state = states.get(job.job_id)
            if state is None and job in lost:
                state = JobState(Status.FAILED, "lost: the job left the queue with no final state")
            if state is not None and state != job.state:
                job.record(state)
                changed = True
        return await self._settle_members(live) or changed

    async def _final_states(self, ids: list[str]) -> dict[str, JobState]:
        try:
            self.queries += 1
            return await self.scheduler.final_states(ids)
        except SchedulerError:
            return {}

    async def _settle_members(self, jobs: Sequence[BatchJob]) -> bool:
        """Finish each member that wrote its exit code, and every member of an ended job."""
        waiting = [m for job in jobs for m in job.members.values() if not m.done.is_set()]
        if not waiting:
            return False
        codes = await anyio.to_thread.run_sync(_read_exit_codes, [m.exit_file for m in waiting])
        changed = False
        for member in waiting:
            job = member.job
            code = codes.get(member.exit_file)
            if code is not None:
                imposed = Status.CANCELLED if job.cancelled else None
                member.finish(code, imposed if code != 0 else None)
            elif job.ended:
                member.finish(*_unreported(job))
            else:
                continue
            changed = True
        return changed


def _unreported(job: BatchJob) -> tuple[int, Status, str]:
    """A member of an ended job that wrote no exit code: the job's fate is its fate."""
    state = job.state
    code = state.exit_code if state.exit_code not in (None, 0) else -15
    if state.status is Status.CANCELLED or job.cancelled:
        return code, Status.CANCELLED, state.reason
    reason = state.reason or "the member reported no exit code"
    return code, Status.FAILED, f"batch job {job.job_id}: {reason}"


async def _first_of(*events: anyio.Event) -> None:
    async with anyio.create_task_group() as tg:

        async def one(event: anyio.Event) -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        for event in events:
            tg.start_soon(one, event)
