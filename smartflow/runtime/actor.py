"""An actor: one task owning exactly one job (a child process, a step or a batch job).

Started with ``task_group.start(actor.run)``: it starts its job through the spec's launcher
(:class:`~smartflow.runtime.job.JobHandle`), waits until it is ready, and only then reports
``task_status.started(handle)``, so a launch failure surfaces at start. It then waits for the job
to end, a :class:`StopActor` in its mailbox, or its walltime, and reports every status change to
the supervisor as a :class:`StatusEvent`.
"""

from __future__ import annotations

import math
from collections import deque

import anyio
import attrs
from anyio.abc import ObjectReceiveStream, TaskStatus
from anyio.streams.memory import MemoryObjectSendStream

from smartflow._log import get_logger
from smartflow.errors import LaunchError, SmartflowError
from smartflow.runtime.job import JobHandle, start_local
from smartflow.runtime.messages import ActorSpec, EventQueue, StatusEvent, StopActor
from smartflow.runtime.process import read_tail
from smartflow.runtime.watchdog import Watchdog
from smartflow.status import Status

#: How long a failure hook (see :class:`ActorSpec`) may take; it runs while the actor ends.
FAILURE_HOOK_S = 10.0


@attrs.frozen
class ActorHandle:
    """What the supervisor keeps of a live actor."""

    name: str
    job_id: str
    status: Status
    mailbox: MemoryObjectSendStream[StopActor]


@attrs.define(eq=False)
class ProcessActor:
    spec: ActorSpec
    events: EventQueue
    watchdog: Watchdog | None = None

    async def run(self, *, task_status: TaskStatus[ActorHandle]) -> None:
        spec = self.spec
        process = await self._start(truncate=True)
        job_id = process.job_id
        log = get_logger(
            "actor", entity=spec.name, kind=spec.kind, job_id=job_id, run_id=spec.run_id
        )
        inbox_send, inbox = anyio.create_memory_object_stream[StopActor](math.inf)
        # A job that passed its readiness probe serves, so it runs, whatever the scheduler's
        # last poll said (a batch store's shards).
        status = Status.RUNNING if spec.ready is not None else process.status
        self.events.put(StatusEvent(spec.name, status, job_id))
        log.info("running" if status is Status.RUNNING else "submitted", status=str(status))
        task_status.started(ActorHandle(spec.name, job_id, status, inbox_send))
        outcome = "ended"
        note = ""  # why a crashed process was not started again
        crashes: deque[float] = deque()
        try:
            while True:
                outcome = await self._supervise(process, inbox)
                if outcome != "ended" or process.returncode == 0 or spec.restart is None:
                    break
                restarted, note = await self._restart(process, crashes, log)
                if restarted is None:
                    break
                process, job_id = restarted, restarted.job_id
                log = log.bind(job_id=job_id)
                self.events.put(StatusEvent(spec.name, Status.RUNNING, job_id))
        finally:
            with anyio.CancelScope(shield=True):  # bounded: the ladder and the hook are
                if process.returncode is None and outcome == "ended":
                    outcome = "stopped"  # we are being cancelled: that is a stop too
                returncode = await self._end(process)
                inbox.close()
                event = await self._final_event(process, returncode, outcome, note)
                if event.status is Status.FAILED:
                    await self._report_failure(event, log)
                log.info("ended", status=str(event.status), returncode=returncode)
                self.events.put(event)

    async def _restart(
        self, crashed: JobHandle, crashes: deque[float], log
    ) -> tuple[JobHandle | None, str]:  # type: ignore[no-untyped-def]
        """Start a crashed process again if its policy allows; else (None, why not)."""
        policy = self.spec.restart
        assert policy is not None
        returncode = await self._end(crashed)
        if not policy.allows(crashes, anyio.current_time()):
            log.error("crashed too often; giving up", returncode=returncode)
            return None, (
                f"crashed {len(crashes)} times within {policy.window_s:g} s; not restarted again"
            )
        log.warning("crashed; restarting", returncode=returncode, tail=await self._tail())
        try:
            return await self._start(truncate=False), ""
        except Exception as exc:  # the crash stands: report it as the actor's end
            error = launch_error(exc)
            log.error("restart failed", error=str(error))
            return None, f"restart failed: {error}"

    async def _start(self, *, truncate: bool) -> JobHandle:
        """Start the job and wait until it is ready; on failure nothing is left running."""
        start = self.spec.start or start_local
        process = await start(self.spec.process, truncate)
        if self.watchdog is not None:
            for token in process.reap_tokens:
                self.watchdog.watch(token)
        try:
            await self._wait_ready(process)
        except BaseException:
            await self._end(process)
            raise
        return process

    async def _report_failure(self, event: StatusEvent, log) -> None:  # type: ignore[no-untyped-def]
        """Run the spec's failure hook, bounded; its own failure is logged, never raised."""
        hook = self.spec.on_failed
        if hook is None:
            return
        with anyio.move_on_after(FAILURE_HOOK_S) as bounded:
            try:
                await hook(event.error_tail)
            except Exception as exc:
                log.warning("failure hook failed", error=str(launch_error(exc)))
        if bounded.cancelled_caught:
            log.warning("failure hook timed out", seconds=FAILURE_HOOK_S)

    async def _supervise(self, process: JobHandle, inbox: ObjectReceiveStream[StopActor]) -> str:
        """Wait for the process to end ("ended"), a stop request ("stopped") or its walltime."""
        outcome = "ended"
        async with anyio.create_task_group() as tg:

            async def watch_exit() -> None:
                await process.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(watch_exit)
            tg.start_soon(self._follow, process)
            with anyio.move_on_after(self.spec.process.walltime or math.inf) as walltime:
                async for _ in inbox:
                    outcome = "stopped"
                    break
            if walltime.cancelled_caught:
                outcome = "walltime"
            if outcome != "ended":
                await process.stop(self.spec.grace)
            tg.cancel_scope.cancel()
        return outcome

    async def _follow(self, job: JobHandle) -> None:
        """Report what the scheduler says while the job lives: its id once known (the
        watchdog records it too), and each status it moves the job to."""
        token = await job.identify()
        if token is not None:
            if self.watchdog is not None:
                self.watchdog.watch(token)
            self.events.put(StatusEvent(self.spec.name, job.status, job.job_id))
        async for status in job.changes():
            self.events.put(StatusEvent(self.spec.name, status, job.job_id))

    async def _end(self, process: JobHandle) -> int:
        returncode = await process.stop(self.spec.grace)
        if self.watchdog is not None:
            for token in process.reap_tokens:
                self.watchdog.forget(token)
        return returncode

    async def _wait_ready(self, process: JobHandle) -> None:
        """Run the readiness probe, failing fast if the process dies first. The probe's error
        is raised as it is (not wrapped in the task group's exception group)."""
        probe = self.spec.ready
        if probe is None:
            return
        exit_code: int | None = None
        failure: Exception | None = None
        async with anyio.create_task_group() as tg:

            async def watch_exit() -> None:
                nonlocal exit_code
                exit_code = await process.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(watch_exit)
            try:
                await probe(process)
            except Exception as exc:
                failure = exc
            tg.cancel_scope.cancel()
        if exit_code is not None:
            tail = await self._tail()
            raise LaunchError(
                f"{self.spec.name}: process exited with code {exit_code} before it was ready; "
                f"its output is in {self.spec.process.stderr_path}"
                + (f"; last output:\n{tail}" if tail else "")
            )
        if failure is not None:
            raise failure

    async def _final_event(
        self, job: JobHandle, returncode: int, outcome: str, note: str = ""
    ) -> StatusEvent:
        name, job_id = self.spec.name, job.job_id
        imposed, reason = job.verdict() if outcome == "ended" else (None, "")
        if imposed is not None and imposed is not Status.FAILED:
            return StatusEvent(name, imposed, job_id, returncode, reason)
        if outcome == "stopped":
            return StatusEvent(name, Status.CANCELLED, job_id, returncode)
        if outcome == "walltime":
            note = f"walltime of {self.spec.process.walltime:g} s exceeded; process stopped"
            return StatusEvent(name, Status.FAILED, job_id, returncode, note)
        if returncode == 0 and imposed is None:
            return StatusEvent(name, Status.COMPLETED, job_id, returncode)
        tail = "\n".join(part for part in (await self._tail(), note, reason) if part)
        return StatusEvent(name, Status.FAILED, job_id, returncode, tail)

    async def _tail(self) -> str:
        """The ends of the process's stdout and stderr, stderr last (its last line is what
        summary() shows)."""
        process = self.spec.process
        paths = dict.fromkeys([process.stdout_path, process.stderr_path])
        tails = [await anyio.to_thread.run_sync(read_tail, path) for path in paths]
        return "\n".join(t.strip() for t in tails if t.strip())


def launch_error(error: BaseException) -> SmartflowError:
    """One SmartflowError for whatever a launch raised: no exception group leaks out (of
    several errors at once, the first stands for all)."""
    if isinstance(error, BaseExceptionGroup):
        return launch_error(error.exceptions[0])
    if isinstance(error, SmartflowError):
        return error
    wrapped = LaunchError(f"launch failed: {error!r}")
    wrapped.__cause__ = error
    return wrapped
