"""The run queue of one shard: the one class through which clients, the worker and the
experiment move requests along (the protocol and a request's life: :mod:`smartflow.wire.protocol`).

- **Clients** :meth:`ShardQueue.submit` a request and wait for its answer, in one round trip.
- **The worker** takes requests (:meth:`~ShardQueue.take`, :meth:`~ShardQueue.take_more`), reads
  their inputs (:meth:`~ShardQueue.fetch`), and writes outputs and answers
  (:meth:`~ShardQueue.finish`), over the fastest path it has to its own shard (the shard's unix
  socket where it runs beside it). A busy round costs two round trips: one that reads the model
  versions and the inputs held by this shard, and one that writes the outputs held here,
  answers, and takes the next requests.
- **The experiment** waits for a worker to serve (:meth:`~ShardQueue.wait_ready`) and, when it
  gives up on one, answers everything waiting and closes the queue
  (:meth:`~ShardQueue.mark_unavailable`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import anyio
import numpy as np

from smartflow.errors import (
    CommandError,
    ConnectionFailedError,
    InferenceError,
    KeyNotFoundError,
    RunTimeoutError,
    SmartflowError,
    WorkerUnavailableError,
)
from smartflow.wire import keyspace as ks
from smartflow.wire import protocol
from smartflow.wire import tensors as tio
from smartflow.wire.pool import ConnectionPool
from smartflow.wire.resp import (
    ErrorReply,
    RespConnection,
    command_parts,
    pack_command,
    raise_for_error,
    transaction,
)
from smartflow.wire.transport import Transport, command_op

#: How long one blocking take waits before looping (it wakes at once when a request comes).
BLOCK_S = 5.0
#: Moves up to ARGV[1] more requests from the queue to the busy list, atomically.
_DRAIN = b"""
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if items then
  for _, item in ipairs(items) do redis.call('RPUSH', KEYS[2], item) end
  return items
end
return {}
"""


_MULTI = pack_command(b"MULTI")
_EXEC = pack_command(b"EXEC")


class ShardQueue:
    """The request queue, busy list and replies of one shard (see the module docstring)."""

    def __init__(
        self,
        wire: Transport,
        shard: ConnectionPool,
        path: ConnectionPool | None = None,
        *,
        tag: str | None = None,
    ) -> None:
        """``shard`` is the shard as ``wire`` routes to it (how keys are known to live there);
        ``path`` reaches the same shard by a faster way, if there is one (its unix socket).
        ``tag`` is the shard's tag, computed from the slot map unless given."""
        self._wire = wire
        self._own = shard
        self._pool = path or shard
        self.tag = tag if tag is not None else wire.tag_for(shard)
        self._queue = protocol.queue_key(self.tag)
        self._busy = protocol.busy_key(self.tag)
        #: Subscribed to the queue's keyspace events, for precise short waits (opened lazily).
        self._subscriber: RespConnection | None = None
        self._drains: dict[int, bytes] = {}

    # -- the client's side --------------------------------------------------------------------

    async def submit(
        self,
        what: str,
        request: protocol.Request,
        timeout_s: float,
        *,
        version_key: bytes | None = None,
        inline_keys: Sequence[bytes] = (),
        inline_values: Sequence[memoryview] = (),
    ) -> tuple[int, bytes]:
        """Send ``request`` and wait up to ``timeout_s`` for its answer, in one round trip;
        returns the number of outputs it wrote and the raw reply. With ``version_key`` the
        entry is built inline in the store (:data:`protocol.SUBMIT_SCRIPT`): it carries the
        model's version, the values at ``inline_keys`` (keys on this shard), and
        ``inline_values``, in the order of the request's inputs. No answer in time: the request
        is withdrawn (if the worker had not taken it) and :class:`RunTimeoutError` raised."""
        if version_key is None:
            push = [pack_command(b"RPUSH", self._queue, request.encode())]
        else:
            push = command_parts(
                b"EVAL",
                protocol.SUBMIT_SCRIPT,
                2 + len(inline_keys),
                self._queue,
                version_key,
                *inline_keys,
                protocol.inline_head(request),
                protocol.INLINE_LIMIT,
                *inline_values,
            )
        reply_key = protocol.reply_key(self.tag, request.id)
        submit = _Submit(self._queue, reply_key, request, push, timeout_s)
        try:
            answer = await self._on(what, submit.run, timeout_s)
        except WorkerUnavailableError:
            try:
                value = await self._on(what, command_op("GET", b"GET", self._queue))
            except CommandError:  # a list again (a new worker took over): no reason to read
                value = None
            raise WorkerUnavailableError(f"{what}: {_unavailable_reason(value)}") from None
        if answer is None:
            raise RunTimeoutError(f"{what}: no answer from the inference worker in {timeout_s:g} s")
        return protocol.raise_for_reply(answer, what), answer

    # -- the worker's side --------------------------------------------------------------------

    async def take_more(self, at_most: int, within_s: float) -> list[bytes]:
        """Take what is queued now; if nothing is, wait up to ``within_s`` for a request and take
        it. The wait wakes on the queue's keyspace notification: a blocking take's timeout
        would be rounded up to the store's next cron tick (100 ms at Redis's default ``hz``),
        far too coarse for a ``min_batch_timeout`` of a few milliseconds."""
        taken = await self._on("take requests", lambda c: self._drain(c, at_most))
        if taken or within_s <= 0:
            return taken
        try:
            subscriber = await self._subscribed()
            with anyio.move_on_after(within_s) as waiting:
                await ks.next_event(subscriber)
            if waiting.cancelled_caught:  # it may have stopped mid-message: start afresh
                self.close()
        except ConnectionFailedError:  # e.g. dropped for an unread backlog: reopen next time
            self.close()
        return await self._on("take requests", lambda c: self._drain(c, at_most))

    async def _subscribed(self) -> RespConnection:
        if self._subscriber is None:
            with anyio.fail_after(self._wire.limits.connect_timeout):
                conn = await self._pool.open_dedicated()
            try:
                flags = await ks.subscribe(conn, [self._queue])
                if "K" not in flags or not ("l" in flags or "A" in flags):
                    wanted = ks.union(flags, "Kl")
                    await self._on("enable list events", lambda c: ks.config_set(c, wanted))
            except BaseException:
                conn.close()
                raise
            self._subscriber = conn
        return self._subscriber

    def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None

    def _drain_command(self, at_most: int) -> bytes:
        command = self._drains.get(at_most)
        if command is None:  # the worker takes the same few counts over and over
            command = pack_command(b"EVAL", _DRAIN, 2, self._queue, self._busy, at_most)
            self._drains[at_most] = command
        return command

    async def _drain(self, conn: RespConnection, at_most: int) -> list[bytes]:
        await conn.send(self._drain_command(at_most))
        more = await conn.read_reply()
        raise_for_error(more, "take requests")
        return more or []  # type: ignore[return-value]

    async def take(self) -> list[bytes]:
        """Block until a request comes (or :data:`BLOCK_S` passes) and take it, moving it to the
        busy list. Only the one: the requests queued behind it are taken with the answers of
        its round (:meth:`finish`), so a lone request costs no extra round trip."""
        return await self._on("take requests", self._take, BLOCK_S)

    @functools.cached_property
    def _block(self) -> bytes:
        return pack_command(b"BLMOVE", self._queue, self._busy, b"LEFT", b"RIGHT", BLOCK_S)

    async def _take(self, conn: RespConnection) -> list[bytes]:
        await conn.send(self._block)
        first = await conn.read_reply()
        raise_for_error(first, "BLMOVE")
        return [] if first is None else [first]  # type: ignore[list-item]

    async def answer(self, answers: Sequence[tuple[str | None, bytes]]) -> None:
        """Answer the requests at the head of the busy list, in order: (its id, the reply) for
        each (an id of None: a malformed request nobody waits for, dropped unanswered); all in
        one round trip."""
        commands = self._answer_commands(answers)

        async def send(conn: RespConnection) -> None:
            await conn.send(b"".join(commands), replies=len(commands))
            for _ in commands:
                raise_for_error(await conn.read_reply(), "answer requests")

        await self._on("answer requests", send)

    def _answer_commands(self, answers: Sequence[tuple[str | None, bytes]]) -> list[bytes]:
        """The replies, then one LTRIM of the busy list: a worker answers every request it took
        in a round, and they are the busy list's head, in the order taken (trimming them
        costs nothing like removing each by its value, which carries its inputs)."""
        commands = []
        for request_id, reply in answers:
            if request_id is None:
                continue
            key = protocol.reply_key(self.tag, request_id)
            commands += [
                pack_command(b"RPUSH", key, reply),
                pack_command(b"EXPIRE", key, protocol.REPLY_TTL_S),
            ]
        return [*commands, pack_command(b"LTRIM", self._busy, len(answers), -1)]

    def holds(self, keys: Sequence[bytes]) -> bool:
        """Whether every key lives on this shard (always, for a single store)."""
        return self._wire.holds(self._own, keys)

    async def fetch(
        self, versions: list[bytes], tensors: list[tuple[bytes, str]]
    ) -> tuple[list[bytes | None], list[np.ndarray | tio.ChunkedRef | KeyNotFoundError]]:
        """The values at ``versions`` (MGET) and the tensors at ``tensors`` (key, name), all
        held by this shard, in one round trip; a missing tensor comes back as its error."""

        async def fetch(conn: RespConnection):  # type: ignore[no-untyped-def]
            head = pack_command(b"MGET", *versions) if versions else b""
            gets = b"".join(pack_command(b"GET", key) for key, _ in tensors)
            await conn.send(head + gets, replies=len(tensors) + bool(versions))
            found: list[bytes | None] = []
            if versions:
                found = await conn.read_reply()  # type: ignore[assignment]
                raise_for_error(found, "MGET")
            values: list[np.ndarray | tio.ChunkedRef | KeyNotFoundError] = []
            for _, name in tensors:
                try:
                    values.append(await tio.read_tensor(conn, name))
                except KeyNotFoundError as exc:  # its reply was read whole: go on
                    values.append(exc)
            return found, values

        return await self._on("read models and inputs", fetch)

    async def finish(
        self, outputs: Sequence[tio.EncodedTensor], answers: list[tuple[str | None, bytes]],
        take: int,
    ) -> list[bytes]:  # fmt: skip
        """Write ``outputs`` (held by this shard), then send ``answers``, so no answer goes out
        for an output that was not written; with the answers, take up to ``take`` more
        requests. On a single store this is one round trip (a transaction); on a cluster, whose
        transactions cannot span slots, two. Raises :class:`CommandError` when the outputs
        could not be written: then nothing was answered and nothing taken."""
        commands = self._answer_commands(answers)

        async def finish(conn: RespConnection) -> list[bytes]:
            if self._wire.cluster:
                await _write(conn, outputs)
                await conn.send(b"".join(commands) + self._drain_command(take), len(commands) + 1)
                replies = [await conn.read_reply() for _ in range(len(commands) + 1)]
                return _taken(replies)
            return await self._finish_at_once(conn, outputs, commands, take)

        return await self._on("write outputs and answer", finish)

    async def _finish_at_once(
        self,
        conn: RespConnection,
        outputs: Sequence[tio.EncodedTensor],
        commands: list[bytes],
        take: int,
    ) -> list[bytes]:
        def parts() -> Iterator[bytes | memoryview]:
            yield _MULTI
            yield from tio.set_parts(outputs)
            yield from commands
            yield self._drain_command(take)  # inside: a refused round takes nothing either
            yield _EXEC

        queued = len(outputs) + len(commands) + 1
        await conn.send_parts(parts(), replies=queued + 2)
        replies = [await conn.read_reply() for _ in range(queued + 2)]
        executed = replies[-1]
        if not isinstance(executed, list):  # refused at queueing (out of memory, say): no effect
            refused = next((r for r in replies if isinstance(r, ErrorReply)), executed)
            raise CommandError(f"write outputs: refused by the store: {refused}")
        return _taken(executed)

    async def answer_orphans(self, kind: str = "crashed", message: str = "") -> int:
        """Answer every request in the busy list, taken and never answered: by a previous
        worker ("crashed"), or by this one in a round a store error cut short."""
        message = message or (
            "the inference worker died while running this request; it was restarted"
        )

        read = command_op("LRANGE busy", b"LRANGE", self._busy, 0, -1)
        taken: list[bytes] = await self._on("read the busy list", read)  # type: ignore[assignment]
        answers: list[tuple[str | None, bytes]] = []
        for raw in taken:
            try:
                request_id: str | None = protocol.decode_entry(raw).request.id
            except (ValueError, TypeError, KeyError):
                request_id = None  # nobody can be waiting for an answer to what nobody can read
            answers.append((request_id, protocol.error_reply(kind, message)))
        if answers:
            await self.answer(answers)
        return sum(request_id is not None for request_id, _ in answers)

    async def announce_ready(self, token: str) -> None:
        """Tell the experiment's readiness probe this worker serves (the key expires unread
        if nobody waits for it)."""
        key = protocol.ready_key(self.tag, token)

        async def push(conn: RespConnection) -> None:
            expire = pack_command(b"EXPIRE", key, protocol.REPLY_TTL_S)
            commands = [pack_command(b"RPUSH", key, b"1"), expire]
            await conn.send(b"".join(commands), replies=2)
            for _ in commands:
                raise_for_error(await conn.read_reply(), "announce readiness")

        await self._on("announce readiness", push)

    async def get(self, keys: list[bytes]) -> list[bytes | None]:
        """MGET of keys on this shard (model records and versions)."""
        return await self._on("read models", command_op("MGET", b"MGET", *keys))

    # -- the experiment's side ----------------------------------------------------------------

    async def wait_ready(self, token: str, timeout_s: float) -> bool:
        """Whether the worker given ``token`` said it serves within ``timeout_s`` (a BLPOP: the
        wait wakes the moment it does)."""
        key = protocol.ready_key(self.tag, token)
        pop = command_op("wait for the inference worker", b"BLPOP", key, f"{timeout_s:.3f}")
        return await self._on("wait for the worker", pop, timeout_s) is not None

    async def mark_unavailable(self, why: str) -> int:
        """Answer every request waiting on this shard "unavailable" and make its queue refuse
        new ones, saying ``why``; returns how many requests were answered."""
        swap = [
            pack_command(b"LRANGE", self._queue, 0, -1),
            pack_command(b"LRANGE", self._busy, 0, -1),
            pack_command(b"DEL", self._queue, self._busy),
            pack_command(b"SET", self._queue, protocol.UNAVAILABLE_PREFIX + why.encode()),
        ]
        what = "mark the worker unavailable"
        queued, taken, _, _ = await self._on(what, lambda c: transaction(c, swap, what))
        answers = []
        for raw in [*queued, *taken]:
            try:
                request = protocol.decode_entry(raw).request
            except (ValueError, TypeError, KeyError):
                continue  # nobody can be waiting for an answer to what nobody can read
            reply = protocol.reply_key(self.tag, request.id)
            answers += [
                pack_command(b"RPUSH", reply, protocol.error_reply("unavailable", why)),
                pack_command(b"EXPIRE", reply, protocol.REPLY_TTL_S),
            ]
        if answers:
            await self._on(what, lambda c: transaction(c, answers, what))
        return len(answers) // 2

    async def _on(self, what: str, operation, blocks_s: float = 0.0):  # type: ignore[no-untyped-def]
        """``operation`` on the shard, within the command timeout (plus ``blocks_s`` for an
        operation that blocks on purpose: a take, a submit)."""
        limit = blocks_s + self._wire.limits.command_timeout
        return await self._wire.on(self._pool, what, operation, limit)


def _taken(replies: list) -> list[bytes]:
    """The requests taken, from the replies of answering and taking. Answers went out, so a
    failure is no :class:`CommandError` (its handler would answer again)."""
    failed = next((r for r in replies if isinstance(r, ErrorReply)), None)
    if failed is not None:
        raise InferenceError(f"answer requests and take more: {failed.message}")
    return replies[-1] or []


async def _write(conn: RespConnection, outputs: Sequence[tio.EncodedTensor]) -> None:
    """SET ``outputs``; any failure is a :class:`CommandError` (the caller answers with it)."""
    if not outputs:
        return
    try:
        await tio.put_many(conn, outputs)
    except SmartflowError as exc:
        raise CommandError(f"write outputs: {exc}") from exc


class _Submit:
    """Push a request and BLPOP its reply in one round trip (see :meth:`ShardQueue.submit`)."""

    def __init__(
        self,
        queue: bytes,
        reply: bytes,
        request: protocol.Request,
        push: list[bytes | memoryview],
        timeout_s: float,
    ) -> None:
        self._queue = queue
        self._reply = reply
        self._request = request
        self._push = push
        self._timeout_s = timeout_s

    async def run(self, conn: RespConnection) -> bytes | None:
        """The reply; None when none came in time (the request is then taken back off the
        queue, if the worker had not picked it up)."""
        pop = pack_command(b"BLPOP", self._reply, f"{self._timeout_s:.3f}")
        await conn.send_parts([*self._push, pop], replies=2)
        pushed = await conn.read_reply()
        if isinstance(pushed, ErrorReply) and pushed.code == "WRONGTYPE":
            # The queue is the string left by an experiment that gave up on the worker; the
            # BLPOP's reply stays unread, so the connection is closed, not pooled.
            raise WorkerUnavailableError("the inference worker of this shard has stopped")
        answer = await conn.read_reply()
        what = f"{self._request.op} {self._request.model!r}"
        raise_for_error(pushed, what)
        raise_for_error(answer, what)
        if isinstance(answer, list) and len(answer) == 2:
            return answer[1]
        marker = self._request.id_marker()
        await conn.send(pack_command(b"EVAL", protocol.WITHDRAW_SCRIPT, 1, self._queue, marker))
        raise_for_error(await conn.read_reply(), "take back a timed-out request")
        return None


def _unavailable_reason(value: object) -> str:
    """Why the shard's worker is unavailable, as the experiment wrote it in its queue's place."""
    if isinstance(value, bytes) and value.startswith(protocol.UNAVAILABLE_PREFIX):
        return value[len(protocol.UNAVAILABLE_PREFIX) :].decode("utf-8", errors="replace")
    return "the inference worker of this shard has stopped"
