"""An actor: one task owning exactly one child process.

Started with ``task_group.start(actor.run)``: it spawns the process, waits until it is ready, and
only then reports ``task_status.started(handle)``, so a launch failure surfaces at start. It then
waits for either the process to end or a :class:`StopActor` in its mailbox, and reports every status
change to the supervisor as a :class:`StatusEvent`.
"""

from __future__ import annotations

import math

import anyio
import attrs
from anyio.abc import Process, TaskStatus
from anyio.streams.memory import MemoryObjectSendStream

from smartflow._log import get_logger
from smartflow.errors import LaunchError, SmartflowError
from smartflow.runtime.messages import ActorSpec, StatusEvent, StopActor
from smartflow.runtime.process import read_tail, spawn
from smartflow.runtime.terminate import terminate
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
    events: MemoryObjectSendStream[StatusEvent]

    async def run(self, *, task_status: TaskStatus[ActorHandle]) -> None:
        with self.events:
            await self._run(task_status)

    async def _run(self, task_status: TaskStatus[ActorHandle]) -> None:
        spec = self.spec
        log = get_logger("actor", entity=spec.name, kind=spec.kind)
        process = await spawn(spec.process)
        job_id = str(process.pid)
        log = log.bind(job_id=job_id)
        try:
            await self._wait_ready(process)
        except BaseException:
            await terminate(process, spec.grace)
            raise
        inbox_send, inbox = anyio.create_memory_object_stream[StopActor](math.inf)
        await self._emit(StatusEvent(spec.name, Status.RUNNING, job_id))
        log.info("running", pid=process.pid)
        task_status.started(ActorHandle(spec.name, process.pid, inbox_send))
        stopped = False
        try:
            stopped = await self._supervise(process, inbox)
        finally:
            with anyio.CancelScope(shield=True):
                # Still running here means we are being cancelled: that is a stop, too.
                stopped = stopped or process.returncode is None
                returncode = await terminate(process, spec.grace)
                inbox.close()
                event = await self._final_event(job_id, returncode, stopped)
                log.info("ended", status=str(event.status), returncode=returncode)
                await self._emit(event)

    async def _supervise(self, process: Process, inbox: anyio.abc.ObjectReceiveStream) -> bool:
        """Wait for the process to end or a stop request; True when stopped on request."""
        stopped = False
        async with anyio.create_task_group() as tg:

            async def watch_exit() -> None:
                await process.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(watch_exit)
            async for _ in inbox:
                stopped = True
                await terminate(process, self.spec.grace)
                break
            tg.cancel_scope.cancel()
        return stopped

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

    async def _final_event(self, job_id: str, returncode: int, stopped: bool) -> StatusEvent:
        if stopped:
            return StatusEvent(self.spec.name, Status.CANCELLED, job_id, returncode)
        if returncode == 0:
            return StatusEvent(self.spec.name, Status.COMPLETED, job_id, returncode)
        tail = await self._tail()
        return StatusEvent(self.spec.name, Status.FAILED, job_id, returncode, tail)

    async def _tail(self) -> str:
        paths = {self.spec.process.stderr_path, self.spec.process.stdout_path}
        tails = [await anyio.to_thread.run_sync(read_tail, path) for path in sorted(paths)]
        return "\n".join(t.strip() for t in tails if t.strip())

    async def _emit(self, event: StatusEvent) -> None:
        try:
            await self.events.send(event)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the supervisor has gone; nobody is left to tell


def launch_error(error: BaseException) -> SmartflowError:
    """One SmartflowError for whatever a launch raised (no exception groups leak out)."""
    if isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        return launch_error(error.exceptions[0])
    if isinstance(error, SmartflowError):
        return error
    return LaunchError(f"launch failed: {error!r}")
