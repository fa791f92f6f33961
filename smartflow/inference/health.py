"""The experiment's view of a worker's health, through the store: ready, or given up.

- **Ready.** A worker that serves pushes ``smartflow.ready{T}:<token>`` (a token the experiment
  gave it: a launcher need not know its pid); the experiment's readiness probe blocks on it
  (``BLPOP``, no polling), so ``exp.start(db)`` returns once every worker serves, and a worker
  that cannot fails the start, typed, naming the worker and its log.
- **Given up.** When the supervisor stops restarting a worker, every request waiting on the
  shard's queue or busy list is answered "unavailable", and the queue (a list) is replaced by a
  string that says why, so a client's next ``RPUSH`` fails with ``WRONGTYPE`` at once and the
  client raises :class:`~smartflow.errors.WorkerUnavailableError` instead of waiting out its run
  timeout (see :mod:`smartflow.wire.protocol`).
"""

from __future__ import annotations

import anyio

from smartflow.errors import StoreStartError
from smartflow.wire import Limits, Transport, parse_address
from smartflow.wire.queue import ShardQueue


def _transport(shard: str, seeds: list[str] | None, password: str) -> Transport:
    addresses = seeds if seeds is not None else [shard]
    return Transport(
        [parse_address(a) for a in addresses], password, cluster=seeds is not None, limits=Limits()
    )


async def _queue_of(wire: Transport, shard: str) -> ShardQueue:
    await wire.connect()
    return ShardQueue(wire, wire.shard_at(shard))


async def wait_until_serving(
    shard: str, seeds: list[str] | None, password: str, token: str, timeout_s: float
) -> None:
    """Return once the worker of ``shard`` that was given ``token`` serves;
    :class:`StoreStartError` when it has not said so within ``timeout_s``."""
    wire = _transport(shard, seeds, password)
    try:
        with anyio.move_on_after(timeout_s) as waiting:
            queue = await _queue_of(wire, shard)
            left = max(waiting.deadline - anyio.current_time(), 0.001)
            if await queue.wait_ready(token, left):
                return
    finally:
        wire.close()
    raise StoreStartError(f"it did not report serving within {timeout_s:g} s")


async def mark_unavailable(shard: str, seeds: list[str] | None, password: str, why: str) -> int:
    """Answer every request waiting for the worker of ``shard`` "unavailable" and make its queue
    refuse new ones, saying ``why``; returns how many requests were answered."""
    wire = _transport(shard, seeds, password)
    try:
        return await (await _queue_of(wire, shard)).mark_unavailable(why)
    finally:
        wire.close()
