"""The experiment's view of a worker's health, through the store: ready, or given up.

- **Ready.** A worker that serves pushes ``smartflow.ready{T}:<token>`` (a token the experiment
  gave it: a launcher need not know its pid); the experiment's readiness probe blocks on it
  (``BLPOP``, no polling), so ``exp.start(db)`` returns once every worker serves, and a worker
  that cannot fails the start, typed, naming the worker and its log.
- **Given up.** When the supervisor stops restarting a worker, every request waiting on the
  shard's queue or busy list is answered "unavailable", and the queue (a list) is replaced by a
  string that says why, so a client's next ``RPUSH`` fails with ``WRONGTYPE`` at once and the
  client raises :class:`~smartflow.errors.WorkerUnavailableError` instead of waiting out its run
  timeout (see :mod:`smartflow.client._runs`).
"""

from __future__ import annotations

import anyio

from smartflow.client import Client
from smartflow.client import _runs as runs
from smartflow.client._links import on_fast_path
from smartflow.client._resp import RespConnection, pack_command, raise_for_error, transaction
from smartflow.errors import StoreStartError
from smartflow.inference.queue import shard_of


def _client(shard: str, seeds: list[str] | None, password: str) -> Client:
    cluster = seeds is not None
    return Client(address=",".join(seeds) if cluster else shard, cluster=cluster, password=password)


async def wait_until_serving(
    shard: str, seeds: list[str] | None, password: str, token: str, timeout_s: float
) -> None:
    """Return once the worker of ``shard`` that was given ``token`` serves;
    :class:`StoreStartError` when it has not said so within ``timeout_s``."""
    with anyio.move_on_after(timeout_s) as waiting:
        async with _client(shard, seeds, password) as client:
            pool, tag = shard_of(client, shard)
            key = runs.ready_key(tag, token)
            left = max(waiting.deadline - anyio.current_time(), 0.001)

            async def pop(conn: RespConnection) -> object:
                await conn.send(pack_command(b"BLPOP", key, f"{left:.3f}"))
                reply = await conn.read_reply()
                raise_for_error(reply, "wait for the inference worker")
                return reply

            ready = await on_fast_path(pool, client._config, "wait for the worker", pop, left + 1)
            if ready is not None:
                return
    raise StoreStartError(f"it did not report serving within {timeout_s:g} s")


async def mark_unavailable(shard: str, seeds: list[str] | None, password: str, why: str) -> int:
    """Answer every request waiting for the worker of ``shard`` "unavailable" and make its queue
    refuse new ones, saying ``why``; returns how many requests were answered."""
    async with _client(shard, seeds, password) as client:
        pool, tag = shard_of(client, shard)
        queue, busy = runs.queue_key(tag), runs.busy_key(tag)
        swap = [
            pack_command(b"LRANGE", queue, 0, -1),
            pack_command(b"LRANGE", busy, 0, -1),
            pack_command(b"DEL", queue, busy),
            pack_command(b"SET", queue, runs.UNAVAILABLE_PREFIX + why.encode()),
        ]
        what = "mark the worker unavailable"
        queued, taken, _, _ = await on_fast_path(
            pool, client._config, what, lambda c: transaction(c, swap, what)
        )
        answers = []
        for raw in [*queued, *taken]:
            try:
                request = runs.Request.decode(raw)
            except (ValueError, TypeError, KeyError):
                continue  # nobody can be waiting for an answer to what nobody can read
            reply = runs.reply_key(tag, request.id)
            answers += [
                pack_command(b"RPUSH", reply, runs.error_reply("unavailable", why)),
                pack_command(b"EXPIRE", reply, runs.REPLY_TTL_S),
            ]
        if answers:
            await on_fast_path(pool, client._config, what, lambda c: transaction(c, answers, what))
        return len(answers) // 2
