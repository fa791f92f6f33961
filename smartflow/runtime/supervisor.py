"""The supervisor: the actor that owns every other actor of an experiment.

It runs in a task of its own (created by the experiment, so it survives across notebook cells),
holds the anyio task group the actors live in, answers typed messages from its mailbox and keeps
the status table current from the actors' events. ``summary()`` and ``get_status()`` read that
table and need no I/O.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from smartflow._log import get_logger
from smartflow.errors import ExperimentError
from smartflow.runtime.actor import ActorHandle, ProcessActor, launch_error
from smartflow.runtime.messages import (
    ActorSpec,
    EventQueue,
    Launch,
    Shutdown,
    StatusEvent,
    Stop,
    StopActor,
    SupervisorMessage,
)
from smartflow.runtime.watchdog import Watchdog
from smartflow.status import Status


@attrs.define(eq=False)
class StatusRecord:
    """The supervisor's row for one entity."""

    name: str
    kind: str
    run_id: int = 0
    status: Status = Status.NEW
    job_id: str | None = None
    returncode: int | None = None
    error_tail: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    ended: anyio.Event = attrs.field(factory=anyio.Event)

    def apply(self, event: StatusEvent) -> bool:
        """Record ``event``; False (and nothing changes) once this run has ended."""
        if self.ended.is_set():
            return False
        self.status = event.status
        self.job_id = event.job_id or self.job_id
        if event.status is Status.RUNNING and self.started_at is None:
            self.started_at = event.when
        if event.status.is_terminal:
            self.returncode, self.error_tail, self.ended_at = (
                event.returncode,
                event.error_tail,
                event.when,
            )
            self.ended.set()
        return True


class Supervisor:
    """Starts, stops and watches actors on behalf of one experiment."""

    def __init__(self, name: str) -> None:
        self._log = get_logger("supervisor", experiment=name)
        self._mailbox, self._inbox = anyio.create_memory_object_stream[SupervisorMessage](math.inf)
        self._events = EventQueue()
        self._handles: dict[str, ActorHandle] = {}
        self._subscribers: list[MemoryObjectSendStream[StatusEvent]] = []
        self._watchdog: Watchdog | None = None
        self._stop_requested: set[str] = set()
        self._in_flight: set[Launch | Stop] = set()
        self._companions: dict[str, tuple[str, ...]] = {}
        self._closed = False
        self.table: dict[str, StatusRecord] = {}

    def subscribe(self) -> MemoryObjectReceiveStream[StatusEvent]:
        """A stream of every status change from now on; it ends when the supervisor does."""
        send, receive = anyio.create_memory_object_stream[StatusEvent](math.inf)
        if self._closed:
            send.close()
        else:
            self._subscribers.append(send)
        return receive

    async def wait_ended(self, names: list[str]) -> None:
        """Wait until every named entity has reached a terminal status."""
        for name in names:
            await self.table[name].ended.wait()

    async def request(self, message: SupervisorMessage) -> object:
        """Send ``message`` and wait for the supervisor's answer."""
        try:
            self._mailbox.send_nowait(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise ExperimentError("the experiment is closed") from exc
        return await message.reply.wait()

    def fail_requests(self, error: BaseException) -> None:
        """Answer every request still waiting with ``error``: none may wait on a dead supervisor.

        Called when :meth:`run` ends and, by whoever created its task, when that task is done
        (a task cancelled before it first ran never reaches ``run``'s cleanup)."""
        self._closed = True
        self._mailbox.close()
        for message in list(self._in_flight):
            message.reply.set_error(error)
        while True:
            try:
                message = self._inbox.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            message.reply.set_error(error)
        self._inbox.close()

    async def run(self) -> None:
        """The supervisor's life: serve messages until :class:`Shutdown`, then stop everyone."""
        shutdown: Shutdown | None = None
        try:
            self._watchdog = await Watchdog.start()
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._consume_events)
                try:
                    async for message in self._inbox:
                        if isinstance(message, Shutdown):
                            shutdown = message
                            break
                        self._in_flight.add(message)
                        tg.start_soon(self._serve, tg, message)
                finally:
                    # Shut down, or cancelled (asyncio.run ending with this task alive): ending
                    # the group ends every actor: a live one with the termination ladder (its
                    # cleanup is shielded), a launching one by ending what it had spawned.
                    tg.cancel_scope.cancel()
        finally:
            self._record_final_statuses()
            self.fail_requests(ExperimentError("the experiment was closed"))
            self._events.close()
            for subscriber in self._subscribers:
                subscriber.close()
            if self._watchdog is not None:
                await self._watchdog.aclose()
            if shutdown is not None:
                shutdown.reply.set_result(None)

    def _record_final_statuses(self) -> None:
        """Every actor has finished: apply what they reported; whoever never could (a launch
        cancelled before it began) is CANCELLED, so the table never says Running for a corpse."""
        for event in self._events.drain():
            self._apply(event)
        for record in list(self.table.values()):
            if not record.ended.is_set():
                note = "the experiment closed before it was running"
                self._apply(StatusEvent(record.name, Status.CANCELLED, error_tail=note))

    async def _serve(self, tg: anyio.abc.TaskGroup, message: Launch | Stop) -> None:
        try:
            if isinstance(message, Launch):
                message.reply.set_result(await self._launch(tg, message))
            else:
                message.reply.set_result(await self._stop(message.names))
        except Exception as exc:
            message.reply.set_error(launch_error(exc))
        except BaseException:  # the supervisor is closing under this request
            message.reply.set_error(ExperimentError("the experiment was closed meanwhile"))
            raise
        finally:
            self._in_flight.discard(message)

    async def _launch(self, tg: anyio.abc.TaskGroup, message: Launch) -> list[ActorHandle]:
        """Start every actor of ``message`` concurrently (their waits for worker threads and
        readiness overlap; the forks themselves are serial on the loop thread). All or
        nothing: if any fails, the others are stopped and the first failure is raised."""
        names = [spec.name for spec in message.specs]
        busy = [n for n in names if n in self.table and not self.table[n].ended.is_set()]
        if busy or len(set(names)) != len(names):
            raise ExperimentError(f"{', '.join(busy or names)} already running or launching")
        for spec in message.specs:
            self.table[spec.name] = StatusRecord(spec.name, spec.kind, spec.run_id)
        outcomes: dict[str, ActorHandle | BaseException] = {}
        async with anyio.create_task_group() as launching:
            for spec in message.specs:
                launching.start_soon(self._launch_one, tg, spec, outcomes)
        errors = [o for o in outcomes.values() if isinstance(o, BaseException)]
        if errors:
            await self._stop(tuple(n for n in names if not isinstance(outcomes[n], BaseException)))
            raise errors[0]
        return [outcomes[name] for name in names]  # type: ignore[misc]

    async def _launch_one(
        self, tg: anyio.abc.TaskGroup, spec: ActorSpec, outcomes: dict[str, object]
    ) -> None:
        actor = ProcessActor(spec, self._events, self._watchdog)
        try:
            handle = await tg.start(actor.run)
        except BaseException as exc:
            self._stop_requested.discard(spec.name)
            failed = isinstance(exc, Exception)
            status = Status.FAILED if failed else Status.CANCELLED
            # Applied now, not queued: a retry of this name may follow at once.
            note = str(launch_error(exc)) if failed else "cancelled while it was starting"
            self._apply(StatusEvent(spec.name, status, error_tail=note))
            outcomes[spec.name] = exc
            if not failed:
                raise
            return
        outcomes[spec.name] = handle
        self._handles[spec.name] = handle
        if spec.companions:
            self._companions[spec.name] = spec.companions
        self.table[spec.name].apply(StatusEvent(spec.name, handle.status, handle.job_id))
        if spec.name in self._stop_requested:  # a stop arrived while it was launching
            self._stop_requested.discard(spec.name)
            handle.mailbox.send_nowait(StopActor())

    async def _stop(self, names: tuple[str, ...]) -> None:
        """Ask each named actor to stop, and wait until all, and their companions, have
        reported their end."""
        companions = [c for name in names for c in self._companions.get(name, ())]
        self._ask_to_stop(names)
        for name in (*names, *companions):
            if name in self.table:
                await self.table[name].ended.wait()

    def _ask_to_stop(self, names: tuple[str, ...]) -> None:
        for name in names:
            handle = self._handles.get(name)
            if handle is not None:
                try:
                    handle.mailbox.send_nowait(StopActor())
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    pass  # it has ended on its own
            elif name in self.table and not self.table[name].ended.is_set():
                self._stop_requested.add(name)  # still launching: stopped once it is live

    async def _consume_events(self) -> None:
        while True:
            self._apply(await self._events.get())

    def _apply(self, event: StatusEvent) -> None:
        record = self.table.get(event.name)
        if record is None or not record.apply(event):
            return
        if event.status.is_terminal and event.name in self._handles:
            self._handles.pop(event.name).mailbox.close()
        if event.status.is_terminal:
            self._ask_to_stop(self._companions.pop(event.name, ()))
        for subscriber in list(self._subscribers):
            try:
                subscriber.send_nowait(event)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._subscribers.remove(subscriber)  # its watcher left
                subscriber.close()
        self._log.debug("status", entity=event.name, status=str(event.status))


def fail_requests_when_done(supervisor: Supervisor) -> Callable[[asyncio.Task[None]], None]:
    """A done-callback for the supervisor's task: no request may wait on a dead supervisor."""

    def fail(task: asyncio.Task[None]) -> None:
        crash = None if task.cancelled() else task.exception()
        error = ExperimentError(
            "the experiment was closed"
            if crash is None
            else f"the experiment's supervisor failed: {launch_error(crash)}"
        )
        error.__cause__ = crash
        supervisor.fail_requests(error)

    return fail
