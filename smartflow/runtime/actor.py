"""An actor: one task owning exactly one child process.

Started with ``task_group.start(actor.run)``: it spawns the process, waits until it is ready, and
only then reports ``task_status.started(handle)``, so a launch failure surfaces at start. It then
waits for the process to end, a :class:`StopActor` in its mailbox, or its walltime, and reports
every status change to the supervisor as a :class:`StatusEvent`.
"""

from __future__ import annotations

import math

import anyio
import attrs
from anyio.abc import ObjectReceiveStream, Process, TaskStatus
from anyio.streams.memory import MemoryObjectSendStream

from smartflow._log import get_logger
from smartflow.errors import LaunchError, SmartflowError
from smartflow.runtime.messages import ActorSpec, EventQueue, StatusEvent, StopActor
from smartflow.runtime.process import read_tail, spawn
from smartflow.runtime.terminate import terminate
from smartflow.runtime.watchdog import Watchdog
from smartflow.status import Status


@attrs.frozen
class ActorHandle:
    """What the supervisor keeps of a live actor."""

    name: str
    pid: int
    mailbox: MemoryObjectSendStream[StopActor]


@attrs.define(eq=False)
class ProcessActor:
    spec: ActorSpec
    events: EventQueue
    watchdog: Watchdog | None = None

    async def run(self, *, task_status: TaskStatus[ActorHandle]) -> None:
        spec = self.spec
        process = await self._start()
        job_id = str(process.pid)
        log = get_logger(
            "actor", entity=spec.name, kind=spec.kind, job_id=job_id, run_id=spec.run_id
        )
        inbox_send, inbox = anyio.create_memory_object_stream[StopActor](math.inf)
        self.events.put(StatusEvent(spec.name, Status.RUNNING, job_id))
        log.info("running", pid=process.pid)
        task_status.started(ActorHandle(spec.name, process.pid, inbox_send))
        outcome = "ended"
        restarts = spec.restarts
        try:
            while True:
                outcome = await self._supervise(process, inbox)
                if outcome != "ended" or process.returncode == 0 or restarts <= 0:
                    break
                restarts -= 1
                crashed_with = await self._end(process)
                log.warning("crashed; restarting", returncode=crashed_with, tail=await self._tail())
                try:
                    process = await self._start()
                except Exception as exc:  # the crash stands: report it as the actor's end
                    log.error("restart failed", error=str(exc))
                    break
                job_id = str(process.pid)
                log = log.bind(job_id=job_id)
                self.events.put(StatusEvent(spec.name, Status.RUNNING, job_id))
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None and outcome == "ended":
                    outcome = "stopped"  # we are being cancelled: that is a stop too
                returncode = await self._end(process)
                inbox.close()
                event = await self._final_event(job_id, returncode, outcome)
                log.info("ended", status=str(event.status), returncode=returncode)
                self.events.put(event)

    async def _start(self) -> Process:
        """Spawn the process and wait until it is ready; on failure nothing is left running."""
        process = await spawn(self.spec.process)
        if self.watchdog is not None:
            self.watchdog.watch(process.pid)
        try:
            await self._wait_ready(process)
        except BaseException:
            await self._end(process)
            raise
        return process

    async def _supervise(self, process: Process, inbox: ObjectReceiveStream[StopActor]) -> str:
        """Wait for the process to end ("ended"), a stop request ("stopped") or its walltime."""
        outcome = "ended"
        async with anyio.create_task_group() as tg:

            async def watch_exit() -> None:
                await process.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(watch_exit)
            with anyio.move_on_after(self.spec.process.walltime or math.inf) as walltime:
                async for _ in inbox:
                    outcome = "stopped"
                    break
            if walltime.cancelled_caught:
                outcome = "walltime"
            if outcome != "ended":
                await terminate(process, self.spec.grace)
            tg.cancel_scope.cancel()
        return outcome

    async def _end(self, process: Process) -> int:
        returncode = await terminate(process, self.spec.grace)
        if self.watchdog is not None:
            self.watchdog.forget(process.pid)
        return returncode

    async def _wait_ready(self, process: Process) -> None:
        """Run the readiness probe, failing fast if the process dies first."""
        probe = self.spec.ready
        if probe is None:
            return
        exit_code: int | None = None
        async with anyio.create_task_group() as tg:

            async def watch_exit() -> None:
                nonlocal exit_code
                exit_code = await process.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(watch_exit)
            await probe(process)
            tg.cancel_scope.cancel()
        if exit_code is not None:
            tail = await self._tail()
            raise LaunchError(
                f"{self.spec.name}: process exited with code {exit_code} before it was ready"
                + (f"; last output:\n{tail}" if tail else "")
            )

    async def _final_event(self, job_id: str, returncode: int, outcome: str) -> StatusEvent:
        name = self.spec.name
        if outcome == "stopped":
            return StatusEvent(name, Status.CANCELLED, job_id, returncode)
        if outcome == "walltime":
            note = f"walltime of {self.spec.process.walltime:g} s exceeded; process stopped"
            return StatusEvent(name, Status.FAILED, job_id, returncode, note)
        if returncode == 0:
            return StatusEvent(name, Status.COMPLETED, job_id, returncode)
        return StatusEvent(name, Status.FAILED, job_id, returncode, await self._tail())

    async def _tail(self) -> str:
        paths = {self.spec.process.stderr_path, self.spec.process.stdout_path}
        tails = [await anyio.to_thread.run_sync(read_tail, path) for path in sorted(paths)]
        return "\n".join(t.strip() for t in tails if t.strip())


def launch_error(error: BaseException) -> SmartflowError:
    """One SmartflowError for whatever a launch raised (no exception groups leak out)."""
    if isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        return launch_error(error.exceptions[0])
    if isinstance(error, SmartflowError):
        return error
    wrapped = LaunchError(f"launch failed: {error!r}")
    wrapped.__cause__ = error
    return wrapped
