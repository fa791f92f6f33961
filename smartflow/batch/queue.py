"""The split queue of one job, in the store: the module both the dispatcher and task managers use.

Every key of a job shares one hash tag (``{sfjob:<id>}``), so the scripts below work on a
clustered store too. A split goes through::

    pending --take--> inflight:<tm> --finish--> results (first writer wins) + finished
       ^                   |
       +----requeue--------+   (its task manager was declared dead: it is fenced, and the
                                split goes back to the front of pending)

- *take* moves a split id atomically from ``pending`` into the task manager's in-flight list and
  records the take time (the store's clock) and the attempt. A split that already has a result
  (a speculated copy whose original finished) is dropped instead of taken.
- *finish* writes the result with ``HSETNX``: a speculated copy or the late answer of a task
  manager declared dead never duplicates or overwrites a result. The winner also drops the
  split's inputs, no longer needed. A fenced task manager's finish is refused outright, and so
  is its next take: it exits.
- Nothing is lost when a task manager dies: its in-flight list holds what it had taken.

A busy task manager makes one round trip per split (*finish* and the next *take* in one
script), and a dispatcher that keeps up two (a blocking pop, then one script that reads every
answered split). Results read by the dispatcher are replaced by an empty tombstone (the memory
is freed, and ``HSETNX`` still refuses a late writer).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs

from smartflow.client import Client

#: What a task manager's take pops to learn that the job is over (pushed once per TM).
STOP = b"stop"
RUNNING = b"running"

#: The task manager's side, shared by its scripts. KEYS: 1 pending, 2 its in-flight list,
#: 3 started, 4 attempts, 5 fenced, 6 state, 7 results, 8 splits, 9 finished; ARGV[1]: the TM.
_TM_FUNCTIONS = b"""
local function claim(k)
  if k == 'stop' then redis.call('LREM', KEYS[2], 1, k); return {-2} end
  if redis.call('HEXISTS', KEYS[7], k) == 1 then redis.call('LREM', KEYS[2], 1, k); return nil end
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[3], k, t[1] * 1000 + math.floor(t[2] / 1000))
  local attempt = redis.call('HINCRBY', KEYS[4], k, 1)
  return {1, k, redis.call('HGET', KEYS[8], k), attempt}
end
local function take()
  if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return {-1} end
  if redis.call('GET', KEYS[6]) ~= 'running' then return {-2} end
  while true do
    local k = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
    if not k then return {0} end
    local taken = claim(k)
    if taken then return taken end
  end
end
local function finish(k, payload)
  if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return -1 end
  redis.call('LREM', KEYS[2], 1, k)
  if redis.call('HSETNX', KEYS[7], k, payload) == 1 then
    redis.call('HDEL', KEYS[3], k)
    redis.call('HDEL', KEYS[8], k)
    redis.call('RPUSH', KEYS[9], k)
    return 1
  end
  return 0
end
"""
_TAKE = _TM_FUNCTIONS + b"return take()"
#: For a split a blocking LMOVE has already moved into the in-flight list (ARGV[2]).
_CLAIM = (
    _TM_FUNCTIONS
    + b"""
if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return {-1} end
return claim(ARGV[2]) or {0}
"""
)
#: Answer split ARGV[2] with ARGV[3] and take the next one, in one round trip.
_FINISH_TAKE = (
    _TM_FUNCTIONS
    + b"""
local won = finish(ARGV[2], ARGV[3])
if won == -1 then return {-1} end
local taken = take()
table.insert(taken, 1, won)
return taken
"""
)

#: The dispatcher's collection: the answered splits (ARGV[2], popped already by a blocking
#: pop, then up to ARGV[1] more) with their results, each replaced by a tombstone.
_COLLECT = b"""
local ids = {}
if ARGV[2] then table.insert(ids, ARGV[2]) end
local more = redis.call('LPOP', KEYS[1], ARGV[1])
if more then for _, k in ipairs(more) do table.insert(ids, k) end end
local out = {}
for _, k in ipairs(ids) do
  table.insert(out, k)
  table.insert(out, redis.call('HGET', KEYS[2], k))
  redis.call('HSET', KEYS[2], k, '')
end
return out
"""

#: Fence a task manager declared dead and put its splits back at the front of pending; splits
#: past their attempts are returned instead, for the dispatcher to fail.
_REQUEUE = b"""
redis.call('SADD', KEYS[4], ARGV[1])
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
local back, over = {}, {}
for i = #items, 1, -1 do
  local k = items[i]
  if k ~= 'stop' and redis.call('HEXISTS', KEYS[3], k) == 0 then
    if tonumber(redis.call('HGET', KEYS[5], k) or '0') > tonumber(ARGV[2]) then
      table.insert(over, k)
    else
      redis.call('LPUSH', KEYS[2], k)
      table.insert(back, k)
    end
  end
end
return {back, over}
"""

#: The store's clock, each task manager's heartbeat and in-flight splits, and take times.
_SCAN = b"""
local t = redis.call('TIME')
local out = {t[1] * 1000 + math.floor(t[2] / 1000), redis.call('HGETALL', KEYS[1])}
for i = 2, #KEYS, 2 do
  table.insert(out, redis.call('EXISTS', KEYS[i]))
  table.insert(out, redis.call('LRANGE', KEYS[i + 1], 0, -1))
end
return out
"""


@attrs.frozen
class Taken:
    """A split a task manager took: its id, payload and which attempt this is."""

    split: int
    payload: bytes
    attempt: int


@attrs.frozen
class Scan:
    """The dispatcher's view of a job at one moment (store clock, milliseconds)."""

    now_ms: int
    started_ms: dict[int, int]
    alive: dict[str, bool]
    inflight: dict[str, list[int]]


class Fenced(Exception):
    """This task manager was declared dead; it must stop (internal to the task manager)."""


class JobOver(Exception):
    """The job has ended (done or cancelled); the task manager exits (internal)."""


class SplitQueue:
    """The keys and scripts of one job's split queue (see the module docstring)."""

    def __init__(self, client: Client, job_id: str) -> None:
        self.client = client
        self.job_id = job_id
        self.tag = f"{{sfjob:{job_id}}}"
        self.spec = self._key("spec")
        self.model = self._key("model")
        self.splits = self._key("splits")
        self.results = self._key("results")
        self.pending = self._key("pending")
        self.started = self._key("started")
        self.attempts = self._key("attempts")
        self.finished = self._key("finished")
        self.fenced = self._key("fenced")
        self.state = self._key("state")

    def _key(self, what: str) -> str:
        return f"{self.tag}:{what}"

    def inflight(self, tm: str) -> str:
        return self._key(f"inflight:{tm}")

    def heartbeat_key(self, tm: str) -> str:
        return self._key(f"hb:{tm}")

    async def _eval(self, script: bytes, keys: Sequence[str], *args: bytes | str | int) -> object:
        return await self.client.execute_command(
            "EVAL", script, len(keys), *keys, *args, key=self.tag
        )

    # -- the dispatcher's side ------------------------------------------------------------------

    async def publish(self, spec: bytes, model: bytes, payloads: Sequence[bytes]) -> None:
        """Write the job: its spec, model and splits, then queue every split and open it."""
        run = self.client.execute_command
        await self.delete()
        await run("SET", self.spec, spec)
        await run("SET", self.model, model)
        for first in range(0, len(payloads), 256):  # bounded commands for big jobs
            fields: list[bytes | str | int] = []
            for k, payload in enumerate(payloads[first : first + 256], start=first):
                fields += [k, payload]
            await run("HSET", self.splits, *fields)
            await run("RPUSH", self.pending, *range(first, first + len(fields) // 2))
        await run("SET", self.state, RUNNING)

    async def answered(self, wait_s: float) -> list[tuple[int, bytes]]:
        """Splits answered since the last call, with their results (the stored copies become
        tombstones that keep refusing later writers); waits up to ``wait_s`` seconds for one."""
        keys = [self.finished, self.results]
        reply = await self._eval(_COLLECT, keys, 1024)
        if not reply and wait_s >= 0.001:  # BLPOP 0 would block for ever
            popped = await self.client.execute_command("BLPOP", self.finished, f"{wait_s:.3f}")
            if popped:
                reply = await self._eval(_COLLECT, keys, 1024, popped[1])  # type: ignore[index]
        pairs = reply or []
        return [(int(pairs[i]), pairs[i + 1]) for i in range(0, len(pairs), 2)]  # type: ignore[index,arg-type]

    async def fail_split(self, split: int, payload: bytes) -> bool:
        """Answer a split with ``payload`` (its inputs' errors) unless someone has answered."""
        won = await self.client.execute_command("HSETNX", self.results, split, payload)
        if won:
            await self.client.execute_command("RPUSH", self.finished, split)
        return bool(won)

    async def scan(self, task_managers: Sequence[str]) -> Scan:
        keys = [self.started]
        for tm in task_managers:
            keys += [self.heartbeat_key(tm), self.inflight(tm)]
        reply = await self._eval(_SCAN, keys)
        now, started, *rest = reply  # type: ignore[misc]
        alive, inflight = {}, {}
        for i, tm in enumerate(task_managers):
            alive[tm] = bool(rest[2 * i])
            inflight[tm] = [int(k) for k in rest[2 * i + 1] if k != STOP]
        times = {int(started[i]): int(started[i + 1]) for i in range(0, len(started), 2)}
        return Scan(int(now), times, alive, inflight)

    async def requeue(self, tm: str, max_retries: int) -> tuple[list[int], list[int]]:
        """Fence ``tm`` and put its unanswered splits back at the front of the queue; returns
        those put back and those past ``max_retries`` (not put back: fail them)."""
        keys = [self.inflight(tm), self.pending, self.results, self.fenced, self.attempts]
        back, over = await self._eval(_REQUEUE, keys, tm, max_retries)  # type: ignore[misc]
        return [int(k) for k in back], [int(k) for k in over]

    async def speculate(self, split: int) -> None:
        """Copy ``split`` to the front of the queue (the first result still wins)."""
        await self.client.execute_command("LPUSH", self.pending, split)

    async def attempts_of(self, split: int) -> int:
        return int(await self.client.execute_command("HGET", self.attempts, split) or 0)  # type: ignore[arg-type]

    async def close(self, state: bytes, task_managers: int) -> None:
        """Mark the job over and wake every task manager waiting for a split."""
        run = self.client.execute_command
        await run("SET", self.state, state)
        if task_managers:
            await run("LPUSH", self.pending, *([STOP] * task_managers))

    async def delete(self, task_managers: Sequence[str] = ()) -> None:
        keys = [
            self.spec, self.model, self.splits, self.results, self.pending, self.started,
            self.attempts, self.finished, self.fenced, self.state,
        ]  # fmt: skip
        for tm in task_managers:
            keys += [self.inflight(tm), self.heartbeat_key(tm)]
        await self.client.execute_command("DEL", *keys, key=self.tag)

    # -- the task manager's side ----------------------------------------------------------------

    def _tm_keys(self, tm: str) -> list[str]:
        return [
            self.pending, self.inflight(tm), self.started, self.attempts, self.fenced,
            self.state, self.results, self.splits, self.finished,
        ]  # fmt: skip

    async def take(self, tm: str, wait_s: float) -> Taken | None:
        """The next split for ``tm``; waits up to ``wait_s`` when none is queued (None then).
        Raises :class:`Fenced` or :class:`JobOver` when the task manager must stop."""
        reply = await self._eval(_TAKE, self._tm_keys(tm), tm)
        return await self._taken_or_wait(tm, reply, wait_s)

    async def finish_and_take(
        self, tm: str, split: int, payload: bytes, wait_s: float
    ) -> tuple[bool, Taken | None]:
        """Answer ``split`` (False: another answer came first, this one is dropped) and take
        the next split, in one round trip while splits are queued."""
        reply = await self._eval(_FINISH_TAKE, self._tm_keys(tm), tm, split, payload)
        if reply[0] == -1:  # type: ignore[index]
            raise Fenced(tm)
        # The answer is stored before the take: a JobOver raised by the take loses nothing.
        won = reply[0] == 1  # type: ignore[index]
        return won, await self._taken_or_wait(tm, reply[1:], wait_s)  # type: ignore[index]

    async def _taken_or_wait(self, tm: str, reply: object, wait_s: float) -> Taken | None:
        if reply[0] == 0 and wait_s > 0:  # type: ignore[index]
            moved = await self.client.execute_command(
                "BLMOVE", self.pending, self.inflight(tm), "LEFT", "RIGHT", f"{wait_s:.3f}"
            )
            if moved is None:
                return None
            reply = await self._eval(_CLAIM, self._tm_keys(tm), tm, moved)  # type: ignore[arg-type]
        return _taken(reply)

    async def read_spec(self) -> tuple[bytes, bytes]:
        """The job's spec and model bytes."""
        spec = await self.client.execute_command("GET", self.spec)
        model = await self.client.execute_command("GET", self.model)
        if spec is None or model is None:
            raise JobOver(self.job_id)
        return spec, model  # type: ignore[return-value]


def _taken(reply: object) -> Taken | None:
    status = reply[0]  # type: ignore[index]
    if status == -1:
        raise Fenced()
    if status == -2:
        raise JobOver()
    if status == 0:
        return None
    _, split, payload, attempt = reply  # type: ignore[misc]
    return Taken(int(split), payload, int(attempt))


def heartbeat_command(queue: SplitQueue, tm: str, ttl_s: float) -> tuple[object, ...]:
    """The command a task manager's heartbeat thread sends: the key lives ``ttl_s``."""
    return ("SET", queue.heartbeat_key(tm), int(time.time() * 1000), "PX", int(ttl_s * 1000))
