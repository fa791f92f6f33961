"""One round of the worker: resolve models, fetch inputs, run (batched), write outputs, answer.

Everything taken in a round shares its round trips: one MGET of model versions, one pipelined
fetch of every input, one write of every output, one pipeline of answers. Concurrent runs of a
model stored with ``batch_size > 0`` are joined along axis 0 (up to ``batch_size``), run once
and split back, as RedisAI does; a round waits up to ``min_batch_timeout`` ms for more requests
while such a model has fewer than ``min_batch_size``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import anyio
import attrs
import numpy as np

from smartflow.client import Client
from smartflow.client import _runs as runs
from smartflow.errors import (
    InferenceError,
    InvalidModelError,
    KeyNotFoundError,
    ModelInputError,
    SmartflowError,
)
from smartflow.inference.cache import ModelCache
from smartflow.inference.queue import Queue
from smartflow.inference.runners import OnnxModel, Script

#: Rounds whose inputs total less than this run on the worker's event loop: the loop has
#: nothing else to do meanwhile, and a hop to a thread costs more than a small model's run.
INLINE_BYTES = 4 * 1024 * 1024


@attrs.define(eq=False)
class Job:
    """A request taken from the queue, and what became of it."""

    raw: bytes
    request: runs.Request | None
    inputs: list[np.ndarray] = attrs.field(factory=list)
    outputs: list[np.ndarray] | None = None
    reply: bytes | None = None

    @classmethod
    def of(cls, raw: bytes) -> Job:
        try:
            return cls(raw, runs.Request.decode(raw))
        except (ValueError, TypeError, KeyError) as exc:
            job = cls(raw, None)
            job.fail(InferenceError(f"malformed request: {exc}"))
            return job

    @property
    def request_id(self) -> str:
        return self.request.id if self.request else "unknown"

    def fail(self, error: BaseException) -> None:
        self.reply = runs.error_reply(_kind(error), str(error))


async def handle_jobs(
    client: Client, queue: Queue, cache: ModelCache, jobs: list[Job], log
) -> None:  # type: ignore[no-untyped-def]
    await _prepare(client, queue, cache, jobs)
    extra = await _wait_for_min_batches(queue, cache, jobs)
    await _prepare(client, queue, cache, extra)
    jobs += extra
    for job in jobs:
        if job.reply is None and job.request.op == "load":
            await _load(queue, cache, job)
    ready = [job for job in jobs if job.reply is None and job.request.op != "load"]
    if sum(a.nbytes for job in ready for a in job.inputs) < INLINE_BYTES:
        _run_all(cache, ready)  # small: a thread hop would cost more than the run
    else:
        await anyio.to_thread.run_sync(_run_all, cache, ready)
    await _write_outputs(client, [job for job in ready if job.reply is None])
    for job in jobs:
        if job.reply is None:
            job.fail(InferenceError("the worker finished without an answer"))  # a bug: say so
        log.debug("answered", request=job.request_id, ok=b'"ok": true' in job.reply)
    await queue.answer([(job.raw, job.request_id, job.reply) for job in jobs])


async def _prepare(client: Client, queue: Queue, cache: ModelCache, jobs: list[Job]) -> None:
    """Check the models' versions and fetch the runs' inputs, concurrently (two round trips
    that do not depend on each other); runs of a model that cannot be had fail."""
    runs_ = [job for job in jobs if job.reply is None and job.request.op != "load"]
    if not runs_:
        return
    async with anyio.create_task_group() as tg:
        tg.start_soon(cache.resolve, queue, {job.request.model for job in runs_})
        tg.start_soon(_fetch_inputs, client, runs_)
    for job in runs_:
        if job.reply is None and (error := cache.error(job.request.model)) is not None:
            job.fail(error)


async def _wait_for_min_batches(queue: Queue, cache: ModelCache, jobs: list[Job]) -> list[Job]:
    """Take more requests while a batching model has fewer than its ``min_batch_size``."""
    extra: list[Job] = []
    waits = [cache.record(job.request.model) for job in jobs if _is_run(job)]
    waits = [r for r in waits if r is not None and r.batch_size and r.min_batch_size > 1]
    if not waits:
        return extra
    deadline = time.monotonic() + max(r.min_batch_timeout for r in waits) / 1000

    def short() -> bool:
        models = [j.request.model for j in jobs + extra if _is_run(j)]
        return any(models.count(m) < cache.record(m).min_batch_size for m in cache.batching(models))

    while short() and (left := deadline - time.monotonic()) > 0:
        taken = await queue.take_more(64, within_s=left)
        extra += [Job.of(raw) for raw in taken]  # their models are resolved with their inputs
    return extra


def _is_run(job: Job) -> bool:
    return job.request is not None and job.request.op == "run"


async def _load(queue: Queue, cache: ModelCache, job: Job) -> None:
    try:
        await cache.load_pending(queue, job.request.model)
        job.reply = runs.ok_reply()
    except Exception as exc:
        job.fail(exc)


async def _fetch_inputs(client: Client, jobs: list[Job]) -> None:
    names = sorted({name for job in jobs for name in job.request.inputs})
    try:
        arrays = await client.get_tensors(names) if names else {}
    except KeyNotFoundError:  # someone's input is missing: find whose, one job at a time
        for job in jobs:
            try:
                fetched = await client.get_tensors(list(job.request.inputs))
                job.inputs = [fetched[n] for n in job.request.inputs]
            except SmartflowError as exc:
                job.fail(exc)
        return
    except SmartflowError as exc:
        for job in jobs:
            job.fail(exc)
        return
    for job in jobs:
        job.inputs = [arrays[n] for n in job.request.inputs]


def _run_all(cache: ModelCache, jobs: list[Job]) -> None:
    """Run every job (in a worker thread): batching models' jobs joined where they can be."""
    by_model: dict[str, list[Job]] = {}
    for job in jobs:
        by_model.setdefault(job.request.model, []).append(job)
    for model, group in by_model.items():
        runner = cache.runner(model)
        record = runner.record
        if isinstance(runner, OnnxModel) and record.batch_size > 0 and len(group) > 1:
            for start in range(0, len(group), max(record.batch_size, 1)):
                _run_joined(runner, group[start : start + record.batch_size])
        else:
            for job in group:
                _run_one(runner, job)


def _run_one(runner: OnnxModel | Script, job: Job) -> None:
    try:
        if isinstance(runner, Script):
            job.outputs = runner.run(job.request.function, job.inputs)
        elif job.request.function:
            raise ModelInputError(f"{runner.name!r} is a model, not a script: use run_model")
        else:
            job.outputs = runner.run(job.inputs)
    except Exception as exc:
        job.fail(exc)


def _run_joined(runner: OnnxModel, jobs: list[Job]) -> None:
    """Concatenate the jobs' inputs along axis 0, run once, split the outputs back; jobs whose
    inputs cannot be joined (or are wrong) run alone, so one bad request spoils no other."""
    good = []
    for job in jobs:
        try:
            runner.check(job.inputs)
            good.append(job)
        except ModelInputError as exc:
            job.fail(exc)
    if not _joinable(good):
        for job in good:
            _run_one(runner, job)
        return
    sizes = [job.inputs[0].shape[0] for job in good]
    joined = [np.concatenate(parts) for parts in zip(*(job.inputs for job in good), strict=True)]
    try:
        outputs = runner.run(joined)
    except Exception as exc:
        for job in good:
            job.fail(exc)
        return
    bounds = np.cumsum(sizes)[:-1]
    per_output = [np.split(out, bounds) for out in outputs]
    for i, job in enumerate(good):
        job.outputs = [np.ascontiguousarray(parts[i]) for parts in per_output]


def _joinable(jobs: Sequence[Job]) -> bool:
    if len(jobs) < 2:
        return False
    first = jobs[0].inputs
    return all(
        a.ndim >= 1 and b.ndim >= 1 and a.shape[1:] == b.shape[1:] and a.dtype == b.dtype
        for job in jobs[1:]
        for a, b in zip(first, job.inputs, strict=True)
    )


async def _write_outputs(client: Client, jobs: list[Job]) -> None:
    tensors: dict[str, np.ndarray] = {}
    for job in jobs:
        request, outputs = job.request, job.outputs or []
        if request.output_prefix:
            names = [f"{request.output_prefix}{i}" for i in range(len(outputs))]
        elif len(request.outputs) != len(outputs):
            job.fail(ModelInputError(
                f"model {request.model!r} has {len(outputs)} outputs; the request names "
                f"{len(request.outputs)}"
            ))  # fmt: skip
            continue
        else:
            names = list(request.outputs)
        tensors.update(zip(names, outputs, strict=True))
        job.reply = runs.ok_outputs(len(outputs))
    if not tensors:
        return
    try:
        await client.put_tensors(tensors)
    except SmartflowError as exc:
        for job in jobs:
            job.fail(exc)


def _kind(error: BaseException) -> str:
    if isinstance(error, KeyNotFoundError):
        return "not_found"
    if isinstance(error, InvalidModelError):
        return "invalid_model"
    if isinstance(error, ModelInputError):
        return "bad_input"
    return "error"
