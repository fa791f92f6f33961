"""One run of one job, in the driver: publish the splits, start task managers, collect results,
and watch the task managers (reap the dead, start replacements, speculate on stragglers).

It is one loop, not a task per duty: a blocking pop of the job's ``finished`` list wakes it for
each answered split, and the same pop's timeout is the timer of the watch (task-manager
statuses, heartbeats, split ages). Whatever ends the run (done, an error, a cancel), its
cleanup is shielded and bounded: the job is closed in the store, its task managers leave on
their own or are stopped, and its keys are deleted.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from smartflow._log import get_logger
from smartflow.batch import codec
from smartflow.batch.job import InferenceJob, JobResults, JobSummary, Progress, SplitTiming
from smartflow.batch.outputs import write_split, write_summary
from smartflow.batch.policies import Plan, plan_job
from smartflow.batch.queue import Scan, SplitQueue
from smartflow.batch.records import OK, Result
from smartflow.batch.task_manager import DB_VAR, JOB_VAR, TM_VAR, onnx_predict
from smartflow.client import Client
from smartflow.entities import TaskManager
from smartflow.errors import (
    BatchJobError,
    ClientTimeoutError,
    CommandError,
    ConnectionFailedError,
    ExperimentError,
    InvalidArgumentError,
    SmartflowError,
)

if TYPE_CHECKING:
    from smartflow.batch.dispatcher import BatchJobHandle, Dispatcher

#: How often task managers' statuses and heartbeats are looked at (at most).
WATCH_S = 0.25
#: How often stragglers are looked for, once speculation may start (the seed's 500 ms).
SPECULATE_S = 0.5
#: A task manager that has never beaten is declared dead only after this long.
STARTUP_GRACE_S = 60.0
#: How long task managers get to leave on their own once the job is over.
LEAVE_S = 2.0
#: Bounds each cleanup step, so a lost store cannot hold a cancelled job.
CLEANUP_S = 10.0
PROGRESS_LOG_S = 5.0


class JobRun:
    """Runs one job (see the module docstring)."""

    def __init__(self, dispatcher: Dispatcher, handle: BatchJobHandle) -> None:
        self.dispatcher = dispatcher
        self.handle = handle
        self.job: InferenceJob = handle.job
        self.exp = dispatcher.experiment
        self.job_id = f"{self.job.name}-{uuid.uuid4().hex[:8]}"
        self.log = get_logger("batch.job", job=self.job.name, job_id=self.job_id)
        n = len(self.job.inputs)
        self.records: list[Result | None] = [None] * n
        self.plan: Plan
        self.live: dict[str, TaskManager] = {}  # holding a slot
        self.launched_at: dict[str, float] = {}
        self.seen_alive: set[str] = set()
        self.all_tms: list[TaskManager] = []
        self.wanted = 0
        self.replacements = 0
        self.last_failure = ""
        self.done: set[int] = set()
        self.speculated: set[int] = set()
        self.retries = 0
        self.failed_splits: list[int] = []
        self.timings: list[SplitTiming] = []
        self.outputs: list[str] = []
        self.began = time.monotonic()
        self.inputs_done = 0
        self.bar: Any = None
        #: Task-manager slots taken at admission and not yet used by a started one.
        self.unstarted = 0

    # -- the run --------------------------------------------------------------------------------

    async def run(self) -> JobResults:
        db = self.dispatcher.db
        if not db.is_launched:
            raise ExperimentError(
                f"job {self.job.name!r}: store {db.name!r} is not running; start it first"
            )
        model = await self._model_bytes()
        if self.job.via == "onnxruntime":  # a corrupt model fails here, before any TM starts
            await anyio.to_thread.run_sync(onnx_predict, model, 1)
        n = len(self.job.inputs)
        self.plan = plan_job(
            n, self.job.split_size, self.job.num_task_managers, self.dispatcher.policy
        )
        if self.plan.num_splits == 0:
            return JobResults([], self._summary())
        granted = await self.dispatcher.admit(self.handle, self.plan)
        self.began = time.monotonic()  # the job's time counts from here, not from the queue
        self.unstarted = granted
        try:
            await self._run_admitted(model)
        except (ConnectionFailedError, ClientTimeoutError) as exc:
            raise BatchJobError(
                f"job {self.job.name!r} lost its store {self.dispatcher.db.name!r}: {exc}"
            ) from exc
        except CommandError as exc:
            raise BatchJobError(f"job {self.job.name!r}: its store refused: {exc}") from exc
        finally:
            self.dispatcher.release(self.unstarted)  # slots taken at admission, never used
            self.unstarted = 0
            self.dispatcher.leave()
        return await self._finish()

    async def _run_admitted(self, model: bytes) -> None:
        db = self.dispatcher.db
        async with Client(address=",".join(db.get_address()), cluster=db.num_shards > 1) as client:
            queue = SplitQueue(client, self.job_id)
            finished = False
            try:
                await self._publish(queue, client, model)
                await self._start_first()
                await self._drive(queue)
                finished = True
            finally:
                with anyio.CancelScope(shield=True):
                    await self._clean_up(queue, client, finished)

    async def _finish(self) -> JobResults:
        results = [r for r in self.records if r is not None]
        if len(results) != len(self.records):  # an invariant: every split answered once
            raise BatchJobError(f"job {self.job.name!r} ended with unanswered inputs")
        summary = self._summary()
        if self.job.output is not None:
            self.outputs.append(
                await anyio.to_thread.run_sync(
                    write_summary, self.job.output, self.job.name, summary.as_dict()
                )
            )
            summary.outputs = list(self.outputs)
        self.log.info(
            "job done", inputs=len(results), seconds=round(summary.seconds, 3),
            inputs_per_s=round(summary.inputs_per_s, 1), errors=summary.errors,
            retries=summary.retries, speculated=len(summary.speculated),
            task_managers=len(summary.task_managers),
        )  # fmt: skip
        return JobResults(results, summary)

    async def _model_bytes(self) -> bytes:
        model = self.job.model
        if isinstance(model, bytes):
            return model
        return await anyio.to_thread.run_sync(Path(model).read_bytes)

    async def _publish(self, queue: SplitQueue, client: Client, model: bytes) -> None:
        spec = self.job.stage_spec()
        if self.job.via == "store":
            spec["model_key"] = f"sfjob.{self.job_id}.model"
            await client.set_model(spec["model_key"], model, "ONNX")
        size = self.plan.split_size
        inputs = self.job.inputs
        payloads = await anyio.to_thread.run_sync(
            lambda: [
                codec.encode_split(first, inputs[first : first + size])
                for first in range(0, len(inputs), size)
            ]
        )  # CPU work (arrays are archived): off the event loop
        await queue.publish(json.dumps(spec).encode(), model, payloads)
        self.log.info("job published", inputs=len(inputs), splits=len(payloads), split_size=size)

    # -- task managers --------------------------------------------------------------------------

    async def _start_first(self) -> None:
        """Start the task managers whose slots the job was admitted with."""
        granted, self.unstarted = self.unstarted, 0
        if granted < self.plan.num_task_managers:
            self.log.warning(
                "task managers capped", asked=self.plan.num_task_managers, allowed=granted,
                max_task_managers=self.dispatcher.max_task_managers,
            )  # fmt: skip
        self.wanted = granted
        await self._start_task_managers(granted, reserved=True)

    async def _start_task_managers(self, wanted: int, reserved: bool = False) -> int:
        """Start ``wanted`` task managers (their slots ``reserved`` already, or taken now as
        far as the cap allows); returns how many started. On failure their slots are freed."""
        granted = wanted if reserved else self.dispatcher.reserve(wanted)
        if not granted:
            return 0
        tms = []
        try:
            tms = [self._new_task_manager() for _ in range(granted)]
            await self.exp.start(*tms, block=False)
        except BaseException:
            self.dispatcher.release(granted)
            raise
        now = time.monotonic()
        for tm in tms:
            self.live[tm.name] = tm
            self.launched_at[tm.name] = now
        self.all_tms += tms
        self.log.info("task managers started", names=[tm.name for tm in tms])
        return granted

    def _new_task_manager(self) -> TaskManager:
        env = {
            JOB_VAR: self.job_id,
            DB_VAR: self.dispatcher.db.db_identifier,
            "PYTHONPATH": _python_path(self.job),
        }
        for _ in range(1000):  # a name another dispatcher of this experiment has taken: skip
            name = self.dispatcher.next_name(self.job.name)
            settings = self.exp.create_run_settings(
                sys.executable,
                ["-m", "smartflow.batch.task_manager"],
                run_args=self.dispatcher.run_args or None,
                env_vars={**env, TM_VAR: name},
            )
            try:
                return self.exp.create_task_manager(name, self.job.name, settings)
            except InvalidArgumentError:
                continue
        raise BatchJobError(f"no free task-manager name for job {self.job.name!r}")

    async def _declare_dead(self, queue: SplitQueue, name: str, why: str) -> None:
        """Fence ``name``, put its splits back at the front of the queue (failing those out
        of retries), free its slot; a replacement is started by the next watch."""
        back, over = await queue.requeue(name, self.job.max_split_retries)
        self.live.pop(name, None)
        self.dispatcher.release()
        self.retries += len(back)
        self.last_failure = why
        self.log.warning("task manager lost", entity=name, why=why, requeued=back, failed=over)
        for split in over:
            attempts = await queue.attempts_of(split)
            error = f"split {split} failed after {attempts} attempt(s); last: {why}"
            if await queue.fail_split(split, codec.failed_result(
                self._split_len(split), error, {"tm": name, "attempt": attempts, "seconds": 0.0}
            )):  # fmt: skip
                self.failed_splits.append(split)

    async def _replace(self) -> None:
        missing = self.wanted - len(self.live)
        if missing <= 0 or len(self.done) == self.plan.num_splits:
            return
        budget = self.wanted * (self.job.max_split_retries + 1) + 2
        if self.replacements >= budget:
            raise BatchJobError(
                f"job {self.job.name!r}: task managers keep failing ({self.replacements} "
                f"replaced); last: {self.last_failure}"
            )
        started = await self._start_task_managers(min(missing, budget - self.replacements))
        self.replacements += started

    # -- the loop -------------------------------------------------------------------------------

    async def _drive(self, queue: SplitQueue) -> None:
        next_watch = next_speculation = next_log = 0.0
        total = self.plan.num_splits
        self.bar = progress_bar(self.job.name, total)
        while len(self.done) < total:
            now = time.monotonic()
            wait = max(0.0, min(next_watch, next_log) - now)
            for split, payload in await queue.answered(min(wait, WATCH_S)):
                await self._collect(split, payload)
            now = time.monotonic()
            if now >= next_watch:
                next_watch = now + self._watch_interval()
                await self._watch(queue, speculate=now >= next_speculation)
                if now >= next_speculation:
                    next_speculation = now + SPECULATE_S
            if now >= next_log:
                next_log = now + PROGRESS_LOG_S
                self.log.info("job progress", progress=str(self._progress()))

    def _watch_interval(self) -> float:
        return min(WATCH_S, self.job.keep_alive_interval / 2)

    async def _watch(self, queue: SplitQueue, speculate: bool) -> None:
        for name, tm in list(self.live.items()):
            (status,) = await self.exp.get_status(tm)
            if status.is_terminal:
                record = self._record(name)
                why = f"{name} ended {status}" + (f": {record}" if record else "")
                await self._declare_dead(queue, name, why)
        look = self.job.keep_alive or (self.job.speculation and speculate)
        if look and self.live:
            scan = await queue.scan(list(self.live))
            if self.job.keep_alive:
                await self._reap(queue, scan)
            if self.job.speculation and speculate:
                await self._speculate(queue, scan)
        await self._replace()

    def _record(self, name: str) -> str:
        for row in self.exp.summary(format="records"):
            if row["name"] == name:
                tail = (row["error"] or "").strip().splitlines()
                code = row["returncode"]
                return (f"return code {code}" if code is not None else "") + (
                    f", {tail[-1]}" if tail else ""
                )
        return ""

    async def _reap(self, queue: SplitQueue, scan: Scan) -> None:
        """Declare dead each task manager whose heartbeat expired. One that holds a split has
        beaten (its first beat precedes its first take); one that holds none may still be
        starting, so it gets STARTUP_GRACE_S before its first beat."""
        now = time.monotonic()
        for name, beating in scan.alive.items():
            if beating:
                self.seen_alive.add(name)
                continue
            started = name in self.seen_alive or scan.inflight.get(name)
            if started or now - self.launched_at[name] > STARTUP_GRACE_S:
                ttl = self.job.keep_alive_interval * 3
                await self._declare_dead(queue, name, f"{name}: no heartbeat for {ttl:.1f} s")

    async def _speculate(self, queue: SplitQueue, scan: Scan) -> None:
        total = self.plan.num_splits
        if not self.timings or len(self.done) < self.job.speculation_quantile * total:
            return
        median = statistics.median(t.seconds for t in self.timings)
        limit = max(self.job.speculation_multiplier * median, self.job.speculation_min_runtime)
        for tm, splits in scan.inflight.items():
            for split in splits:
                started = scan.started_ms.get(split)
                if split in self.speculated or split in self.done or started is None:
                    continue
                age = (scan.now_ms - started) / 1000
                if age > limit:
                    self.speculated.add(split)
                    await queue.speculate(split)
                    self.log.info("split speculated", split=split, age_s=round(age, 3),
                                  median_s=round(median, 3), holder=tm)  # fmt: skip
                    if await self._start_task_managers(1):
                        self.wanted += 1

    # -- results --------------------------------------------------------------------------------

    def _split_len(self, split: int) -> int:
        size = self.plan.split_size
        return min(size, len(self.job.inputs) - split * size)

    async def _collect(self, split: int, payload: bytes) -> None:
        if split in self.done:
            return
        statuses, errors, rows, meta = await anyio.to_thread.run_sync(codec.decode_result, payload)
        first = split * self.plan.split_size
        inputs = self.job.inputs
        records = [
            Result(first + j, inputs[first + j], status, row, error)  # type: ignore[arg-type]
            for j, (status, error, row) in enumerate(zip(statuses, errors, rows, strict=True))
        ]
        if len(records) != self._split_len(split):
            raise BatchJobError(f"split {split} came back with {len(records)} records")
        for record in records:
            self.records[record.index] = record
        self.done.add(split)
        self.inputs_done += len(records)
        self.timings.append(SplitTiming(
            split, len(records), float(meta.get("seconds", 0.0)), str(meta.get("tm", "")),
            int(meta.get("attempt", 1)), split in self.speculated,
            sum(r.status != OK for r in records),
        ))  # fmt: skip
        if self.job.output is not None:
            where = await anyio.to_thread.run_sync(
                write_split, self.job.output, self.job.name, split, records,
                self.job.output_format,
            )  # fmt: skip
            self.outputs.append(where)
        progress = self._progress()
        self.handle._report(progress)
        if self.bar is not None:
            self.bar.update(1)

    def _progress(self) -> Progress:
        return Progress(
            self.job.name, len(self.done), self.plan.num_splits, self.inputs_done,
            len(self.job.inputs), time.monotonic() - self.began, self.retries,
            len(self.speculated),
        )  # fmt: skip

    def _summary(self) -> JobSummary:
        return JobSummary(
            job=self.job.name,
            inputs=len(self.job.inputs),
            splits=self.plan.num_splits,
            split_size=self.plan.split_size,
            seconds=time.monotonic() - self.began,
            task_managers=[tm.name for tm in self.all_tms],
            retries=self.retries,
            speculated=sorted(self.speculated),
            failed_splits=sorted(self.failed_splits),
            errors=sum(1 for r in self.records if r is not None and r.status != OK),
            timings=sorted(self.timings, key=lambda t: t.split),
        )

    # -- cleanup --------------------------------------------------------------------------------

    async def _clean_up(self, queue: SplitQueue, client: Client, finished: bool) -> None:
        if self.bar is not None:
            self.bar.close()
        state = b"done" if finished else b"cancelled"
        with anyio.move_on_after(CLEANUP_S):
            try:
                await queue.close(state, len(self.all_tms))
            except SmartflowError as exc:
                self.log.warning("could not close the job in its store", error=str(exc))
        if self.all_tms:
            if finished:
                await self.exp.wait(*self.all_tms, timeout=LEAVE_S)
            running = [tm for tm in self.all_tms if not await self.exp.finished(tm)]
            if running:
                await self.exp.stop(*running)
        self.dispatcher.release(len(self.live))
        self.live.clear()
        with anyio.move_on_after(CLEANUP_S):
            try:
                await queue.delete([tm.name for tm in self.all_tms])
                if self.job.via == "store":
                    await client.delete_model(f"sfjob.{self.job_id}.model")
            except SmartflowError as exc:
                self.log.warning("could not delete the job's keys", error=str(exc))


def _python_path(job: InferenceJob) -> str:
    """The driver's PYTHONPATH plus the roots the job's stage modules import from, so a task
    manager (another process, in its own directory) imports them as the driver did."""
    roots: list[str] = []
    for spec in (job.load, job.preprocess):
        if spec is None:
            continue
        module = sys.modules.get(spec.split(":", 1)[0])
        path = getattr(module, "__file__", None)
        if path is None:
            continue
        root = Path(path).resolve().parent
        depth = spec.split(":", 1)[0].count(".")
        if Path(path).name == "__init__.py":
            depth += 1
        for _ in range(depth):
            root = root.parent
        roots.append(str(root))
    existing = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(dict.fromkeys([*roots, *filter(None, existing.split(os.pathsep))]))


def progress_bar(job: str, splits: int) -> Any:
    """A tqdm bar of a job's splits when running in a notebook kernel with tqdm installed;
    None elsewhere (the log line and ``handle.progress()`` report progress everywhere)."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=splits, desc=job, unit="split")
