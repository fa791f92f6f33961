"""The inference worker: one process beside each shard, running models and scripts for clients.

    python -m smartflow.inference.worker --shard HOST:PORT [--cluster SEED,SEED...] [--local SOCK]

The store's secret comes in ``SSDB_PASSWORD``. The worker talks to its shard over the shard's
unix socket when it can reach it (``--local``: cheaper than loopback TCP), else its address. It
takes requests from its shard's queue (:mod:`smartflow.wire.protocol`), moving each atomically to
its busy list; fetches the model versions and inputs of everything it took in one pipelined call
(inputs may live on other shards: it is a cluster client); runs them, joining concurrent runs of
a batching model along axis 0; writes every output, answers and takes the next requests in one
round trip. A restarted worker first answers what its predecessor left in
the busy list with "crashed", so no client waits for an answer that will never come; then it
announces that it serves (the experiment's readiness probe waits for that, see
:mod:`smartflow.inference.health`). A store error in a round (a timeout, a dropped connection)
ends only that round: its requests are answered "interrupted" and the worker serves on. A bad
argument or ``SMARTFLOW_INFERENCE_THREADS`` ends it at once with a typed message on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AsyncExitStack

import anyio
import attrs

from smartflow._log import get_logger
from smartflow.client import ClientConfig
from smartflow.errors import SmartflowError
from smartflow.inference.batches import Job, Store, handle_jobs
from smartflow.inference.cache import ModelCache
from smartflow.inference.runners import inference_threads
from smartflow.wire import Limits, Transport, parse_address
from smartflow.wire.queue import ShardQueue

#: How the worker's connections show in CLIENT LIST.
WORKER_CLIENT_NAME = "smartflow-inference-worker"
#: Requests taken from the queue at once (more wait for the next round).
TAKE_AT_MOST = 64
#: Retries while the store does not answer after a store error: from this delay, doubling...
RECOVERY_FIRST_DELAY_S = 0.05
#: ... up to this one.
RECOVERY_MAX_DELAY_S = 2.0


async def serve(shard: str, seeds: str | None, local: str | None, threads: int) -> None:
    config = ClientConfig.from_env()
    limits = attrs.evolve(config.wire_limits(), client_name=WORKER_CLIENT_NAME)
    async with AsyncExitStack() as stack:
        near = await _near(stack, local, limits)
        if near is not None and seeds is None:
            wire = near  # a single store: the unix socket reaches all of it
        else:
            addresses = [parse_address(a) for a in (seeds or shard).split(",")]
            wire = Transport(addresses, _secret(), cluster=seeds is not None, limits=limits)
            stack.callback(wire.close)
            await wire.connect()
        own = wire.shard_at(shard)
        queue = ShardQueue(wire, own, path=near.shards()[0] if near is not None else None)
        stack.callback(queue.close)
        log = get_logger("inference", entity=f"worker@{shard}", tag=queue.tag, pid=os.getpid())
        orphans = await queue.answer_orphans()
        await queue.announce_ready(os.environ.get("SMARTFLOW_WORKER_TOKEN") or str(os.getpid()))
        log.info("serving", orphans_answered=orphans, unix_socket=near is not None)
        store = Store(wire, queue, config.max_value_bytes)
        await _serve_rounds(store, ModelCache(threads), log)


async def _serve_rounds(store: Store, cache: ModelCache, log) -> None:  # type: ignore[no-untyped-def]
    """Take and handle requests until cancelled. A store error (a timeout, a dropped
    connection) ends only the round it happened in: its requests are answered "interrupted"
    once the store answers again, and the worker goes on serving."""
    queue = store.queue
    taken: list[bytes] = []
    while True:
        try:
            woken = not taken
            if woken:
                taken = await queue.take()
            if taken:
                jobs = [Job.of(raw) for raw in taken]
                taken = await handle_jobs(store, cache, jobs, TAKE_AT_MOST, log, woken=woken)
        except SmartflowError as exc:
            taken = []
            queue.close()  # its subscriber may be broken too
            await _answer_interrupted(queue, exc, log)


async def _answer_interrupted(queue: ShardQueue, error: SmartflowError, log) -> None:  # type: ignore[no-untyped-def]
    """Answer what the interrupted round took, retrying (backing off) while the store does not
    answer; a worker whose shard is gone is stopped with it by the experiment."""
    message = f"the worker's round was interrupted by a store error: {error}"
    delay = RECOVERY_FIRST_DELAY_S
    while True:
        try:
            answered = await queue.answer_orphans("interrupted", message)
        except SmartflowError as again:
            log.warning("store unreachable; retrying", error=str(again), retry_in_s=delay)
            await anyio.sleep(delay)
            delay = min(delay * 2, RECOVERY_MAX_DELAY_S)
            continue
        log.warning("round interrupted by a store error", error=str(error), answered=answered)
        return


async def _near(stack: AsyncExitStack, local: str | None, limits: Limits) -> Transport | None:
    """A transport over the shard's unix socket, when this worker runs beside it (else None: a
    worker on another host sees the socket file on a shared file system, but cannot connect)."""
    if local is None:
        return None
    wire = Transport([parse_address(f"unix://{local}")], _secret(), cluster=False, limits=limits)
    try:
        await wire.connect()
    except SmartflowError:
        wire.close()
        return None
    stack.callback(wire.close)
    return wire


def _secret() -> str | None:
    return os.environ.get("SSDB_PASSWORD") or None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="smartflow inference worker")
    parser.add_argument("--shard", required=True, help="the shard this worker serves")
    parser.add_argument("--cluster", default=None, help="comma-separated cluster seeds")
    parser.add_argument("--local", default=None, help="the shard's unix socket, if it has one")
    args = parser.parse_args(argv)
    try:
        parse_address(args.shard)
        threads = inference_threads(os.environ)
    except SmartflowError as exc:  # before serving: the readiness probe reports this line
        sys.exit(f"smartflow inference worker: {type(exc).__name__}: {exc}")
    try:
        anyio.run(serve, args.shard, args.cluster, args.local, threads)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
