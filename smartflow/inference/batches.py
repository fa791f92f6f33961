"""One round of the worker: resolve models, fetch inputs, run (batched), write outputs, answer.

Everything taken in a round shares its round trips: one that reads the model versions and every
input, and one that writes every output, answers, and takes the next round's requests (inputs and
outputs on other shards of a cluster, or too large for one value, are routed by key).
Concurrent runs of a model stored with ``batch_size > 0`` are joined along axis 0 (up to
``batch_size``), run once and split back, as RedisAI does; a round waits up to
``min_batch_timeout`` ms for more requests while such a model has fewer than ``min_batch_size``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Sequence

import anyio
import attrs
import numpy as np

from smartflow.errors import (
    CommandError,
    InferenceError,
    InvalidModelError,
    KeyNotFoundError,
    ModelInputError,
    SmartflowError,
)
from smartflow.inference.cache import ModelCache
from smartflow.inference.runners import OnnxModel, Script
from smartflow.wire import Transport, codec, protocol
from smartflow.wire import tensors as tio
from smartflow.wire.queue import ShardQueue

#: Rounds whose inputs total less than this run on the worker's event loop: the loop has
#: nothing else to do meanwhile, and a hop to a thread costs more than a small model's run.
INLINE_BYTES = 4 * 1024 * 1024
#: Requests taken at once while a batching model waits for more.
TAKE_MORE = 64


@attrs.frozen
class Store:
    """Where a round reads and writes: the store (a cluster: inputs and outputs may live on
    any shard), this worker's shard's queue, and the largest value stored unchunked."""

    wire: Transport
    queue: ShardQueue
    max_value_bytes: int
    #: Batching models whose last round ran one request alone: the next one waits for no
    #: company unless some is queued already (sparse traffic pays no min_batch_timeout).
    alone: set[str] = attrs.field(factory=set)


@attrs.define(eq=False)
class Job:
    """A request taken from the queue, and what became of it."""

    raw: bytes
    request: protocol.Request | None
    #: What the entry carried (the model's version, inputs); None: a plain JSON request.
    carried: protocol.Entry | None = None
    inputs: list[np.ndarray] = attrs.field(factory=list)
    outputs: list[np.ndarray] | None = None
    reply: bytes | None = None

    @classmethod
    def of(cls, raw: bytes) -> Job:
        try:
            entry = protocol.decode_entry(raw)
            return cls(raw, entry.request, entry if entry.values is not None else None)
        except (ValueError, TypeError, KeyError) as exc:
            job = cls(raw, None)
            job.fail(InferenceError(f"malformed request: {exc}"))
            return job

    @property
    def request_id(self) -> str:
        return self.request.id if self.request else "unknown"

    @property
    def succeeded(self) -> bool:
        return self.reply is not None and protocol.is_ok(self.reply)

    def fail(self, error: BaseException) -> None:
        self.reply = protocol.error_reply(_kind(error), str(error))


async def handle_jobs(
    store: Store, cache: ModelCache, jobs: list[Job], take: int, log, *, woken: bool = True
) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Do one round's ``jobs`` and answer them; returns up to ``take`` requests taken for the
    next round in the same round trip as the answers. ``woken``: the jobs woke an idle worker
    (else they queued while the last round ran, and more will have queued by the next one:
    the round runs at once, batching what it has)."""
    queue = store.queue
    await _prepare(store, cache, jobs)
    extra = await _wait_for_min_batches(store, cache, jobs) if woken else []
    if extra:
        await _prepare(store, cache, extra)
        jobs += extra
    for job in jobs:
        if job.reply is None and job.request.op == "load":
            await _load(queue, cache, job)
    ready = [job for job in jobs if job.reply is None and job.request.op != "load"]
    if sum(a.nbytes for job in ready for a in job.inputs) < INLINE_BYTES:
        _run_all(cache, ready)  # small: a thread hop would cost more than the run
    else:
        await anyio.to_thread.run_sync(_run_all, cache, ready)
    here = await _write_elsewhere(store, [job for job in ready if job.reply is None])
    for job in jobs:
        if job.reply is None:
            job.fail(InferenceError("the worker finished without an answer"))  # a bug: say so
    if log.isEnabledFor(logging.DEBUG):
        log.debug("answered", requests=[(j.request_id, j.succeeded) for j in jobs])
    answers = [(job.request and job.request.id, job.reply) for job in jobs]
    try:
        return await queue.finish(here, answers, take)
    except CommandError as exc:  # nothing was answered: say why, if the store lets us
        log.warning("outputs not written", error=str(exc))
        try:
            await queue.answer(
                [(job.request and job.request.id, _failed(job, exc)) for job in jobs]
            )
        except CommandError as again:  # e.g. still out of memory: the clients will time out
            log.error("could not answer", error=str(again), requests=len(jobs))
        return []


def _failed(job: Job, error: BaseException) -> bytes:
    """``job``'s reply once its outputs could not be written (errors stand as they were)."""
    if job.succeeded:
        return protocol.error_reply(_kind(error), str(error))
    return job.reply  # type: ignore[return-value]


async def _prepare(store: Store, cache: ModelCache, jobs: list[Job]) -> None:
    """Check the models' versions and get the runs' inputs: from what the entries carried
    (no I/O), else in one round trip where every input lives on this shard, else as two
    concurrent ones; runs of a model that cannot be had fail."""
    asked = [job for job in jobs if job.reply is None and job.request.op != "load"]
    if not asked:
        return
    carried = _carried_versions(asked)
    if carried:
        names = sorted(carried)
        await cache.update(store.queue, names, [carried[name] for name in names])
    fetch = [job for job in asked if not _unpack(job)]
    models = cache.named({job.request.model for job in asked} - set(carried))
    if fetch or models:
        await _fetch(store, cache, fetch, models)
    for job in asked:
        if job.reply is None and (error := cache.error(job.request.model)) is not None:
            job.fail(error)


def _carried_versions(jobs: list[Job]) -> dict[str, bytes | None]:
    """The version of each model that every job asking for it carried, and carried alike
    (others are read from the store: their current version)."""
    seen: dict[str, set[bytes | None]] = {}
    plain: set[str] = set()
    for job in jobs:
        if job.carried is None:
            plain.add(job.request.model)
        else:
            seen.setdefault(job.request.model, set()).add(job.carried.version)
    return {m: next(iter(v)) for m, v in seen.items() if len(v) == 1 and m not in plain}


def _unpack(job: Job) -> bool:
    """Give ``job`` the inputs its entry carried; False when one must be read from the store
    (too large to carry, or chunked), True when it has them all or has failed."""
    if job.carried is None:
        return False
    arrays = []
    for name, value in zip(job.request.inputs, job.carried.values, strict=True):
        if value == protocol.MISSING:
            job.fail(KeyNotFoundError(f"tensor {name!r} does not exist"))
            return True
        if isinstance(value, int):
            return False
        try:
            arrays.append(codec.decode(value, name))
        except SmartflowError as exc:
            job.fail(exc)
            return True
    job.inputs = arrays
    return True


async def _fetch(store: Store, cache: ModelCache, jobs: list[Job], models: list[str]) -> None:
    """Read ``models``' versions and ``jobs``' inputs from the store."""
    names = sorted({name for job in jobs for name in job.request.inputs})
    keys = [(name.encode(), name) for name in names]  # requests name keys as stored
    queue = store.queue
    here = queue.holds([key for key, _ in keys])
    if not (here and await _prepare_here(store, cache, jobs, models, keys)):
        await _both(cache.resolve(queue, set(models)), _fetch_inputs(store.wire, jobs))


async def _both(first: Awaitable[None], second: Awaitable[None]) -> None:
    """Await both concurrently; the first error is raised as it is (a store error the round's
    caller handles), never wrapped in an exception group."""
    errors: list[Exception] = []

    async def run(step: Awaitable[None]) -> None:
        try:
            await step
        except Exception as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, first)
        tg.start_soon(run, second)
    if errors:
        raise errors[0]


async def _prepare_here(
    store: Store,
    cache: ModelCache,
    jobs: list[Job],
    models: list[str],
    keys: list[tuple[bytes, str]],
) -> bool:
    """Versions and inputs, all on this shard, in one round trip; False when the fetch failed
    as a whole (a key holding no tensor, say), for the slower path to find whose input it is."""
    queue = store.queue
    try:
        versions, values = await queue.fetch(cache.version_keys(queue, models), keys)
    except SmartflowError:
        return False
    await cache.update(queue, models, versions)
    await _assign_inputs(store.wire, jobs, keys, values)
    return True


async def _assign_inputs(
    wire: Transport,
    jobs: list[Job],
    keys: list[tuple[bytes, str]],
    values: list[np.ndarray | tio.ChunkedRef | KeyNotFoundError],
) -> None:
    """Give each job its inputs from a fetch; a job missing one fails. A tensor stored in
    chunks is read in full first."""
    arrays: dict[str, np.ndarray | KeyNotFoundError] = {}
    for (key, name), value in zip(keys, values, strict=True):
        if isinstance(value, tio.ChunkedRef):
            try:
                value = await tio.read_chunked_again(wire, f"get_tensor {name!r}", key, value)
            except KeyNotFoundError as exc:
                value = exc
        arrays[name] = value
    for job in jobs:
        inputs = [arrays[name] for name in job.request.inputs]
        missing = next((a for a in inputs if isinstance(a, KeyNotFoundError)), None)
        if missing is not None:
            job.fail(missing)
        else:
            job.inputs = inputs  # type: ignore[assignment]


async def _wait_for_min_batches(store: Store, cache: ModelCache, jobs: list[Job]) -> list[Job]:
    """Take more requests while a batching model has fewer than its ``min_batch_size``, up to
    its ``min_batch_timeout``, as RedisAI does, when a request woke an idle worker; except that
    a model whose last such round ran one request alone only takes what is queued already, so
    sparse traffic never waits."""
    extra: list[Job] = []
    waits = [cache.record(job.request.model) for job in jobs if _is_run(job)]
    waits = [r for r in waits if r is not None and r.batch_size and r.min_batch_size > 1]
    if not waits:
        return extra
    deadline = time.monotonic() + max(r.min_batch_timeout for r in waits) / 1000

    def counts() -> dict[str, int]:
        models = [j.request.model for j in jobs + extra if _is_run(j)]
        return {m: models.count(m) for m in cache.batching(models)}

    def short() -> bool:
        return any(n < cache.record(m).min_batch_size for m, n in counts().items())

    coming = not set(counts()) <= store.alone
    while short() and (left := deadline - time.monotonic()) > 0:
        taken = await store.queue.take_more(TAKE_MORE, within_s=left if coming else 0)
        if not taken:
            break
        coming = True
        extra += [Job.of(raw) for raw in taken]  # their inputs are resolved after this
    for model, n in counts().items():
        (store.alone.add if n == 1 else store.alone.discard)(model)
    return extra


def _is_run(job: Job) -> bool:
    return job.request is not None and job.request.op == "run"


async def _load(queue: ShardQueue, cache: ModelCache, job: Job) -> None:
    try:
        await cache.load_pending(queue, job.request.model)
        job.reply = protocol.ok_reply()
    except Exception as exc:
        job.fail(exc)


async def _fetch_inputs(wire: Transport, jobs: list[Job]) -> None:
    names = sorted({name for job in jobs for name in job.request.inputs})
    try:
        arrays = dict(zip(names, await _get(wire, names), strict=True))
    except SmartflowError:  # someone's input is missing or no tensor: find whose, job by job
        for job in jobs:
            try:
                job.inputs = await _get(wire, list(job.request.inputs))
            except SmartflowError as exc:
                job.fail(exc)
        return
    for job in jobs:
        job.inputs = [arrays[n] for n in job.request.inputs]


async def _get(wire: Transport, names: list[str]) -> list[np.ndarray]:
    """The tensors stored at ``names`` (keys as stored), from whichever shards hold them."""
    return await tio.get_keyed(wire, [(name.encode(), name) for name in names])


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


async def _write_elsewhere(store: Store, jobs: list[Job]) -> list[tio.EncodedTensor]:
    """Name every job's outputs and mark it answered; write the outputs that live elsewhere
    (another shard, or too large for one value) now, and return those this shard holds, for
    :meth:`ShardQueue.finish` to write with the answers."""
    here: list[tio.EncodedTensor] = []
    elsewhere: list[tuple[Job, list[tio.EncodedTensor]]] = []
    limit = store.max_value_bytes
    for job in jobs:
        if job.request.reply_outputs:
            _reply_with_outputs(job)
            continue
        names = _output_names(job)
        if names is None:
            continue
        ttl = job.request.expire_ms
        items = [
            tio.EncodedTensor.of(name, name.encode(), array, ttl)
            for name, array in zip(names, job.outputs or [], strict=True)
        ]
        if store.queue.holds([i.key for i in items]) and all(i.value_len <= limit for i in items):
            here += items
        else:
            elsewhere.append((job, items))
        job.reply = protocol.ok_outputs(len(items))
    if elsewhere:
        try:
            await tio.put_items(
                store.wire, [item for _, items in elsewhere for item in items], limit
            )
        except SmartflowError as exc:
            for job, _ in elsewhere:
                job.fail(exc)
    return here


def _reply_with_outputs(job: Job) -> None:
    """Answer ``job`` with its outputs in the reply (``infer``): nothing is stored."""
    try:
        items = [
            tio.EncodedTensor.of(f"output {i}", b"", array)
            for i, array in enumerate(job.outputs or [])
        ]
    except SmartflowError as exc:
        job.fail(exc)
        return
    job.reply = b"".join(protocol.outputs_reply([item.value() for item in items]))


def _output_names(job: Job) -> list[str] | None:
    """Where ``job``'s outputs go; None (and the job failed) when it named the wrong number."""
    request, outputs = job.request, job.outputs or []
    if request.output_prefix:
        return [f"{request.output_prefix}{i}" for i in range(len(outputs))]
    if len(request.outputs) != len(outputs):
        job.fail(ModelInputError(
            f"model {request.model!r} has {len(outputs)} outputs; the request names "
            f"{len(request.outputs)}"
        ))  # fmt: skip
        return None
    return list(request.outputs)


def _kind(error: BaseException) -> str:
    if isinstance(error, KeyNotFoundError):
        return "not_found"
    if isinstance(error, InvalidModelError):
        return "invalid_model"
    if isinstance(error, ModelInputError):
        return "bad_input"
    return "error"
