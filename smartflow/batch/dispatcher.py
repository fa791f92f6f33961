"""Dispatcher: runs batch inference jobs on task managers its experiment launches, under caps.

``run_job`` runs one job and returns its records; ``enqueue_job`` queues one and returns a
handle at once. Jobs start in the order they were enqueued (FIFO: a job that does not fit waits
at the head instead of going to the back), at most ``max_job_managers`` at a time, and all their
task managers together never exceed ``max_task_managers`` (speculation's extra ones and
replacements included). The jobs run in a task the dispatcher owns, so a handle works from a
script, a notebook cell or a service alike; closing the experiment cancels them all.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import anyio

from smartflow._checks import count
from smartflow._log import get_logger
from smartflow.batch._run import JobRun
from smartflow.batch.job import InferenceJob, JobResults, JobSummary, Progress
from smartflow.batch.policies import Plan, apply_caps, resolve_policy
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import ExperimentError, JobCancelledError, UnsupportedTypeError

if TYPE_CHECKING:
    from smartflow.experiment import Experiment


class BatchJobHandle:
    """A job given to :meth:`Dispatcher.enqueue_job`: wait for it, cancel it, follow it."""

    def __init__(self, job: InferenceJob) -> None:
        self.job = job
        #: "queued", "running", "done", "failed" or "cancelled".
        self.state = "queued"
        self.summary: JobSummary | None = None
        self._done = anyio.Event()
        self._results: JobResults | None = None
        self._error: BaseException | None = None
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        self._latest: Progress | None = None
        self._watchers: list[anyio.abc.ObjectSendStream[Progress]] = []

    def __repr__(self) -> str:
        return f"BatchJobHandle({self.job.name!r}, {self.state})"

    @property
    def done(self) -> bool:
        return self._done.is_set()

    async def wait(self) -> JobResults:
        """The job's records, in input order, once it has finished; raises the job's error
        (:class:`~smartflow.errors.JobCancelledError` if it was cancelled). Cancelling the
        waiter does not cancel the job."""
        await self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._results is not None
        return self._results

    async def cancel(self) -> None:
        """Cancel the job (queued or running) and wait until its task managers are stopped."""
        self._cancel_requested = True
        if self._scope is not None:
            self._scope.cancel()
        with anyio.CancelScope(shield=True):
            await self._done.wait()

    async def progress(self) -> AsyncIterator[Progress]:
        """Each progress update from now until the job ends (the latest one first)."""
        send, receive = anyio.create_memory_object_stream[Progress](math.inf)
        if self._latest is not None:
            send.send_nowait(self._latest)
        if self.done:
            send.close()
        else:
            self._watchers.append(send)
        async with receive:
            async for update in receive:
                yield update

    # -- set by the dispatcher ------------------------------------------------------------------

    def _report(self, progress: Progress) -> None:
        self._latest = progress
        for watcher in self._watchers:
            watcher.send_nowait(progress)

    def _end(self, state: str, results: JobResults | None, error: BaseException | None) -> None:
        if self._done.is_set():
            return
        self.state, self._results, self._error = state, results, error
        if results is not None:
            self.summary = results.summary
        for watcher in self._watchers:
            watcher.close()
        self._watchers.clear()
        self._done.set()


class Dispatcher:
    """Runs :class:`~smartflow.batch.InferenceJob` s; create it with ``exp.create_dispatcher``
    (see the module docstring)."""

    def __init__(
        self,
        experiment: Experiment,
        db: Orchestrator,
        max_job_managers: int = 1,
        max_task_managers: int = 8,
        policy: str | Callable[..., Any] = "default",
        run_args: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(db, Orchestrator):
            raise UnsupportedTypeError(f"db must be an Orchestrator, not {type(db).__name__}")
        self.experiment = experiment
        self.db = db
        self.max_job_managers = count(max_job_managers, "max_job_managers")
        self.max_task_managers = count(max_task_managers, "max_task_managers")
        self.policy = resolve_policy(policy)
        if run_args is not None and not isinstance(run_args, dict):
            raise UnsupportedTypeError("run_args must be a dict of run-command options")
        self.run_args = dict(run_args or {})
        self._log = get_logger("batch.dispatcher", experiment=experiment.name)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._waiting: deque[BatchJobHandle] = deque()
        self._running_jobs = 0
        self._in_use = 0
        self._changed = anyio.Event()
        self._send, self._receive = anyio.create_memory_object_stream[BatchJobHandle](math.inf)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Dispatcher({self.db.name!r}, jobs {self._running_jobs}/{self.max_job_managers}, "
            f"task managers {self._in_use}/{self.max_task_managers})"
        )

    @property
    def task_managers_in_use(self) -> int:
        return self._in_use

    async def run_job(self, job: InferenceJob) -> JobResults:
        """Run ``job`` and return its records in input order (``.summary`` says how it went).
        Cancelling this call cancels the job and stops its task managers."""
        handle = self.enqueue_job(job)
        try:
            return await handle.wait()
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await handle.cancel()
            raise

    def enqueue_job(self, job: InferenceJob) -> BatchJobHandle:
        """Queue ``job`` to run under the caps (FIFO) and return its handle at once."""
        if not isinstance(job, InferenceJob):
            raise UnsupportedTypeError(f"job must be an InferenceJob, not {type(job).__name__}")
        if self._closed:
            raise ExperimentError("this dispatcher's experiment is closed")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._serve(), name=f"smartflow-dispatcher-{self.db.name}"
            )
        handle = BatchJobHandle(job)
        self._waiting.append(handle)
        self._send.send_nowait(handle)
        return handle

    async def aclose(self) -> None:
        """Cancel every job (their task managers are stopped); the experiment calls this."""
        self._closed = True
        self._send.close()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait([task])
        self._receive.close()  # never served, if no job was ever enqueued

    # -- the jobs' task -------------------------------------------------------------------------

    async def _serve(self) -> None:
        async with anyio.create_task_group() as tg:
            async with self._receive:
                async for handle in self._receive:
                    tg.start_soon(self._run, handle)

    async def _run(self, handle: BatchJobHandle) -> None:
        results: JobResults | None = None
        error: BaseException | None = None
        try:
            with anyio.CancelScope() as scope:
                handle._scope = scope
                if handle._cancel_requested:
                    scope.cancel()
                try:
                    results = await JobRun(self, handle).run()
                except Exception as exc:
                    error = exc
        finally:
            if handle in self._waiting:
                self._waiting.remove(handle)
                self._notify()
            if results is not None:
                handle._end("done", results, None)
            elif error is not None:
                handle._end("failed", None, error)
            else:
                handle._end(
                    "cancelled", None, JobCancelledError(f"job {handle.job.name!r} was cancelled")
                )

    # -- caps (used by the job runs) ------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def admit(self, handle: BatchJobHandle, plan: Plan) -> int:
        """Wait until ``handle`` is first in line, a job slot is free and a task manager can
        start; then it runs, with the task-manager slots returned here already taken (the
        plan's, capped: at most those free, at least one)."""
        while not (
            self._waiting
            and self._waiting[0] is handle
            and self._running_jobs < self.max_job_managers
            and self._in_use < self.max_task_managers
        ):
            await self._changed.wait()
        self._waiting.popleft()
        self._running_jobs += 1
        handle.state = "running"
        granted = self.reserve(
            apply_caps(plan, self.max_task_managers, self._in_use).num_task_managers
        )
        self._notify()
        return granted

    def leave(self) -> None:
        self._running_jobs -= 1
        self._notify()

    def reserve(self, wanted: int) -> int:
        """Take up to ``wanted`` task-manager slots; returns how many were free."""
        granted = max(0, min(wanted, self.max_task_managers - self._in_use))
        self._in_use += granted
        return granted

    def release(self, slots: int = 1) -> None:
        self._in_use -= slots
        self._notify()

    def next_name(self, job: str) -> str:
        """``<job>.tm<i>``, numbered on across runs of jobs with the same name."""
        numbers = self._numbers.setdefault(job, itertools.count(1))
        return f"{job}.tm{next(numbers)}"
