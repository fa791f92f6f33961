"""Typed messages between the experiment, its supervisor and the actors.

Requests flow down (experiment -> supervisor -> actor) and carry a :class:`Reply` the sender
awaits; status changes flow up as :class:`StatusEvent` so the supervisor always holds the current
table without asking anyone.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import attrs

from smartflow.runtime.job import JobHandle, StartJob
from smartflow.runtime.process import ProcessSpec
from smartflow.status import Status


@attrs.define(eq=False)
class Reply:
    """A one-shot answer slot: the receiver sets a value or an error, the sender awaits it."""

    _done: anyio.Event = attrs.field(factory=anyio.Event, init=False)
    _value: Any = attrs.field(default=None, init=False)
    _error: BaseException | None = attrs.field(default=None, init=False)

    def set_result(self, value: Any) -> None:
        if not self._done.is_set():
            self._value = value
            self._done.set()

    def set_error(self, error: BaseException) -> None:
        if not self._done.is_set():
            self._error = error
            self._done.set()

    async def wait(self) -> Any:
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class EventQueue:
    """An unbounded queue of status events that loses nothing to cancellation.

    Actors ``put`` without awaiting (a final status is sent from cleanup code that must not
    block); a getter cancelled while it waits leaves every event in the queue, which a memory
    stream's receive cannot promise, so whoever takes over after a cancel sees them all.
    """

    def __init__(self) -> None:
        self._items: deque[StatusEvent] = deque()
        self._ready = anyio.Event()
        self._closed = False

    def put(self, event: StatusEvent) -> None:
        if not self._closed:
            self._items.append(event)
            self._ready.set()

    async def get(self) -> StatusEvent:
        """The next event; :class:`anyio.EndOfStream` once closed and empty."""
        while not self._items:
            if self._closed:
                raise anyio.EndOfStream
            if self._ready.is_set():
                self._ready = anyio.Event()
            await self._ready.wait()
        return self._items.popleft()

    def drain(self) -> list[StatusEvent]:
        """Take every queued event without waiting."""
        items = list(self._items)
        self._items.clear()
        return items

    def close(self) -> None:
        self._closed = True
        self._ready.set()


#: Waits until a freshly started process serves (a store answering PING); raises if it never does.
ReadinessProbe = Callable[[JobHandle], Awaitable[None]]
#: Called, shielded and bounded, when an actor ends FAILED (not when stopped), with its error
#: text: how a store marks a worker that has given up, so clients fail at once.
FailureHook = Callable[[str], Awaitable[None]]


@attrs.frozen
class RestartPolicy:
    """Restart a process that crashes (ends with a non-zero code, unasked), but give up once it
    has crashed ``limit`` times within any ``window_s`` seconds: a rate, not a lifetime count,
    so a process that stays up earns its budget back."""

    limit: int
    window_s: float

    def allows(self, crashes: deque[float], now: float) -> bool:
        """Whether a crash at ``now`` may be followed by a restart; records it in ``crashes``
        (the times of earlier crashes, oldest first), forgetting those outside the window."""
        while crashes and crashes[0] <= now - self.window_s:
            crashes.popleft()
        crashes.append(now)
        return len(crashes) <= self.limit


@attrs.frozen
class ActorSpec:
    """What the supervisor needs to run one actor."""

    name: str
    kind: str
    process: ProcessSpec
    ready: ReadinessProbe | None = None
    grace: float = 5.0
    #: Which ``Experiment.start`` call launched it.
    run_id: int = 0
    #: Actors stopped when this one ends, however it ends (a co-located store).
    companions: tuple[str, ...] = ()
    #: How a process that crashes is started again (None: it is not).
    restart: RestartPolicy | None = None
    on_failed: FailureHook | None = None
    #: How its job is started (a launcher's); None: a local child process.
    start: StartJob | None = None


@attrs.frozen
class StatusEvent:
    """An actor's status changed."""

    name: str
    status: Status
    job_id: str | None = None
    returncode: int | None = None
    error_tail: str = ""
    when: float = attrs.field(factory=time.time)

    def __str__(self) -> str:
        code = "" if self.returncode is None else f" (return code {self.returncode})"
        return f"{self.name}: {self.status}{code}"


@attrs.frozen(eq=False)
class Launch:
    specs: tuple[ActorSpec, ...]
    reply: Reply = attrs.field(factory=Reply)


@attrs.frozen(eq=False)
class Stop:
    names: tuple[str, ...]
    reply: Reply = attrs.field(factory=Reply)


@attrs.frozen(eq=False)
class Shutdown:
    reply: Reply = attrs.field(factory=Reply)


@attrs.frozen
class StopActor:
    """Sent to an actor's own mailbox: end your process with the termination ladder."""


SupervisorMessage = Launch | Stop | Shutdown
