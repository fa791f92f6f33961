"""The run protocol between clients and the inference worker beside each shard (pure: no I/O).

Everything goes through the store, so any Redis client in any language can ask for a run
(``docs/wire-format.md``). Each shard has a *tag* ``T``: the smallest non-negative integer whose
decimal string hashes to a slot the shard serves (``"0"`` for a single store). Its keys:

- ``smartflow.run{T}``: the request queue (a list of JSON requests, RPUSHed by clients);
- ``smartflow.busy{T}``: requests the worker took and has not answered yet (moved there
  atomically), so a restarted worker can answer what its predecessor dropped;
- ``smartflow.reply{T}:<id>``: a request's answer (a list of one JSON reply; clients BLPOP it);
- ``smartflow.model{T}:<name>``: a model or script record, one copy per shard;
  ``smartflow.modelv{T}:<name>``: its version token, which the worker checks before each run;
- ``smartflow.ready{T}:<pid>``: pushed by a worker once it serves (the experiment's readiness
  probe pops it).

When the experiment gives up restarting a shard's worker, the queue becomes a *string* saying
why (:data:`UNAVAILABLE_PREFIX`): a client's ``RPUSH`` then fails with ``WRONGTYPE`` at once, and
the client raises :class:`~smartflow.errors.WorkerUnavailableError` instead of waiting out its
run timeout.

A request's life (``ShardQueue`` in :mod:`smartflow.wire.queue` moves it along)::

                 submit: RPUSH run{T}, BLPOP reply{T}:<id>
                                    │
                                    v
        ┌────────────────────── queued ──────────────────────┐
        │ the client's BLPOP      │ take: BLMOVE / drain,     │ the experiment gives up on
        │ times out: withdrawn    │ atomically to busy{T}     │ the worker: "unavailable"
        v                         v                           v
    withdrawn                   taken ──────────────────> answered
                                  │   finish: outputs SET, RPUSH reply{T}:<id>,
                                  │   LTRIM busy{T}, in one round trip
                                  │
                                  │ the worker dies: its successor answers "crashed";
                                  │ a store error cuts the round short: "interrupted";
                                  │ the experiment gives up on the worker: "unavailable"
                                  └──> orphaned ──> answered (an error reply)

A reply nobody collects expires after :data:`REPLY_TTL_S`. The braces put every key of a shard
on that shard; a run goes to the shard holding its first input.
"""

from __future__ import annotations

import json
import secrets
import struct

import attrs

from smartflow.errors import (
    InferenceError,
    InvalidModelError,
    KeyNotFoundError,
    ModelInputError,
    RunInterruptedError,
    WorkerCrashedError,
    WorkerUnavailableError,
)

RECORD_MAGIC = b"\x93SFM"
RECORD_VERSION = 1
_RECORD_FIXED = struct.Struct("<4sB3xI")
#: The most outputs a model may have (``infer`` cleans up that many after a failed run).
MAX_OUTPUTS = 64
#: Replies nobody collects (the client timed out) vanish after this many seconds.
REPLY_TTL_S = 60
#: How the queue of a shard whose worker has given up begins (the rest says why).
UNAVAILABLE_PREFIX = b"smartflow: unavailable: "

#: Error kinds a worker answers with, and the typed error each becomes in the client.
ERROR_KINDS: dict[str, type[InferenceError] | type[KeyNotFoundError]] = {
    "not_found": KeyNotFoundError,
    "invalid_model": InvalidModelError,
    "bad_input": ModelInputError,
    "crashed": WorkerCrashedError,
    "interrupted": RunInterruptedError,
    "unavailable": WorkerUnavailableError,
    "error": InferenceError,
}


_PENDING = ".pending."


def pending_name(name: str, version: str) -> str:
    """Where ``set_model`` puts a record until every worker has loaded it."""
    return f"{name}{_PENDING}{version}"


def final_name(pending: str) -> str:
    """The model name a pending record will be stored under."""
    return pending.rpartition(_PENDING)[0]


def new_id() -> str:
    return secrets.token_hex(8)


def queue_key(tag: str) -> bytes:
    return f"smartflow.run{{{tag}}}".encode()


def busy_key(tag: str) -> bytes:
    return f"smartflow.busy{{{tag}}}".encode()


def reply_key(tag: str, request_id: str) -> bytes:
    return f"smartflow.reply{{{tag}}}:{request_id}".encode()


def ready_key(tag: str, token: str) -> bytes:
    return f"smartflow.ready{{{tag}}}:{token}".encode()


def model_key(tag: str, name: str) -> bytes:
    return f"smartflow.model{{{tag}}}:{name}".encode()


def version_key(tag: str, name: str) -> bytes:
    return f"smartflow.modelv{{{tag}}}:{name}".encode()


@attrs.frozen
class ModelRecord:
    """A stored model or script: how to run it, and its bytes (ONNX, or UTF-8 Python source)."""

    backend: str
    device: str
    data: bytes
    batch_size: int = 0
    min_batch_size: int = 0
    min_batch_timeout: int = 0
    tag: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    version: str = attrs.field(factory=new_id)

    def encode(self) -> bytes:
        meta = attrs.asdict(self, filter=lambda a, _: a.name != "data")
        header = json.dumps(meta, separators=(",", ":")).encode()
        return _RECORD_FIXED.pack(RECORD_MAGIC, RECORD_VERSION, len(header)) + header + self.data

    @classmethod
    def decode(cls, value: bytes, name: str) -> ModelRecord:
        if len(value) < _RECORD_FIXED.size or value[:4] != RECORD_MAGIC:
            raise InferenceError(f"model {name!r}: the stored value is not a smartflow model")
        _, version, header_len = _RECORD_FIXED.unpack_from(value)
        if version != RECORD_VERSION:
            raise InferenceError(f"model {name!r}: record version {version} is not supported")
        start = _RECORD_FIXED.size
        meta = json.loads(value[start : start + header_len])
        meta["inputs"], meta["outputs"] = tuple(meta["inputs"]), tuple(meta["outputs"])
        return cls(data=value[start + header_len :], **meta)


@attrs.frozen
class Request:
    """One thing for the worker to do: ``op`` is "run", "run_script" or "load"."""

    op: str
    model: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    function: str = ""
    #: When set, output ``i`` goes to ``output_prefix + str(i)`` for every output the model
    #: has, and the reply says how many (``infer``); ``outputs`` is then empty.
    output_prefix: str = ""
    #: Milliseconds the outputs live (scratch outputs, which a client that timed out will
    #: never read); 0: they stay.
    expire_ms: int = 0
    #: The outputs go back in the reply (:func:`outputs_reply`), not to keys (``infer``).
    reply_outputs: bool = False
    id: str = attrs.field(factory=new_id)

    def encode(self) -> bytes:
        fields = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        return json.dumps(fields, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes | memoryview) -> Request:
        fields = json.loads(bytes(raw))
        fields["inputs"], fields["outputs"] = tuple(fields["inputs"]), tuple(fields["outputs"])
        return cls(**fields)

    def id_marker(self) -> bytes:
        """Bytes found in every queue entry of this request, and in no other's."""
        return f'"id":"{self.id}"'.encode()


_REQUEST_FIELDS = [a.name for a in attrs.fields(Request)]


# -- queue entries that carry their inputs -------------------------------------------------------
#
# A queue entry is either a JSON request (any client can send one) or an *inline* entry:
#
#     INLINE_MAGIC, field(JSON request), field(model version), field(input 1), ..., field(input n)
#
# where field(v) is len(v) as FIELD_DIGITS zero-padded decimal digits, then v; a negative length
# carries no value and says why (MISSING, NOT_A_STRING, NOT_SENT). An input's value is the
# tensor as stored (header and data). The submit script (SUBMIT_SCRIPT) builds an inline entry
# in the store, reading the version and the inputs there, atomically with the RPUSH; the worker
# then needs no round trip to read them.

INLINE_MAGIC = b"SFQ1"
FIELD_DIGITS = 12
#: Lengths that carry no value: the key does not exist; it holds no string (a chunked tensor's
#: list, or no tensor at all); it was not put in the entry (too large: read it from the store).
MISSING, NOT_A_STRING, NOT_SENT = -1, -2, -3
#: Inputs larger than this stay in the store; the worker reads them.
INLINE_LIMIT = 4 * 1024 * 1024

#: KEYS: the queue, the model's version key, the inputs to put in the entry (keys on this
#: shard). ARGV: the entry's head (magic and request field), INLINE_LIMIT, then input values
#: given by the client. Refuses with WRONGTYPE when the worker was given up on.
SUBMIT_SCRIPT = b"""
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  return redis.error_reply('WRONGTYPE the inference worker of this shard has stopped')
end
local function field(value)
  if not value then return string.format('%012d', -1) end
  return string.format('%012d', #value) .. value
end
local limit = tonumber(ARGV[2])
local parts = {ARGV[1], field(redis.call('GET', KEYS[2]))}
for i = 3, #KEYS do
  local size = redis.pcall('STRLEN', KEYS[i])
  if type(size) == 'table' then
    parts[#parts + 1] = string.format('%012d', -2)
  elseif size > limit then
    parts[#parts + 1] = string.format('%012d', -3)
  else
    parts[#parts + 1] = field(redis.call('GET', KEYS[i]))
  end
end
for i = 3, #ARGV do parts[#parts + 1] = field(ARGV[i]) end
return redis.call('RPUSH', KEYS[1], table.concat(parts))
"""

#: KEYS: the queue. ARGV: a request's :meth:`Request.id_marker`. Takes the request back off the
#: queue (a client that stopped waiting); 1 if it was still queued, else 0.
WITHDRAW_SCRIPT = b"""
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.find(item, ARGV[1], 1, true) then
    return redis.call('LREM', KEYS[1], 1, item)
  end
end
return 0
"""


def field(value: bytes | memoryview) -> bytes:
    """The length prefix of a field holding ``value``."""
    return b"%0*d" % (FIELD_DIGITS, len(value))


def inline_head(request: Request) -> bytes:
    """How an inline entry of ``request`` begins: the magic and the request's field."""
    body = request.encode()
    return INLINE_MAGIC + field(body) + body


@attrs.frozen
class Entry:
    """A queue entry, decoded: its request, and what it carries inline (None: a plain JSON
    entry, nothing carried)."""

    request: Request
    #: The model's version token when the entry was queued; None: the model did not exist.
    version: bytes | None = None
    #: Per input: its stored value, or MISSING, NOT_A_STRING or NOT_SENT.
    values: tuple[memoryview | int, ...] | None = None


def decode_entry(raw: bytes) -> Entry:
    """A queue entry of either kind; ValueError (or TypeError, KeyError) when malformed."""
    if not raw.startswith(INLINE_MAGIC):
        return Entry(Request.decode(raw))
    fields = _fields(memoryview(raw), len(INLINE_MAGIC))
    if len(fields) < 2 or isinstance(fields[0], int):
        raise ValueError("inline entry without a request")
    request = Request.decode(fields[0])  # type: ignore[arg-type]
    version = fields[1]
    # An entry built on a cluster carries no inputs (they may live on any shard).
    values = tuple(fields[2:]) or (NOT_SENT,) * len(request.inputs)
    if len(values) != len(request.inputs):
        raise ValueError(
            f"inline entry has {len(values)} inputs; its request names {len(request.inputs)}"
        )
    return Entry(request, bytes(version) if not isinstance(version, int) else None, values)


def outputs_reply(values: list[bytes | memoryview]) -> list[bytes | memoryview]:
    """A success reply carrying ``values`` (tensors as stored), as parts: the JSON reply, a
    newline, then one field per output."""
    parts: list[bytes | memoryview] = [ok_outputs(len(values)), b"\n"]
    for value in values:
        parts += [field(value), value]
    return parts


def reply_values(raw: bytes) -> list[memoryview]:
    """The output values an :func:`outputs_reply` carries."""
    return _fields(memoryview(raw), raw.index(b"\n") + 1)  # type: ignore[return-value]


def _fields(view: memoryview, at: int) -> list[memoryview | int]:
    """The fields from ``at`` to the end of ``view``: each value, or a negative length."""
    fields: list[memoryview | int] = []
    while at < len(view):
        size = int(bytes(view[at : at + FIELD_DIGITS]))
        at += FIELD_DIGITS
        if size < 0:
            fields.append(size)
            continue
        if at + size > len(view):
            raise ValueError("field truncated")
        fields.append(view[at : at + size])
        at += size
    return fields


def ok_reply() -> bytes:
    return json.dumps({"ok": True}).encode()


def error_reply(kind: str, message: str) -> bytes:
    return json.dumps({"ok": False, "kind": kind, "message": message}).encode()


def ok_outputs(count: int) -> bytes:
    return json.dumps({"ok": True, "outputs": count}).encode()


#: How every success reply above begins (``json.dumps`` keeps the keys' order).
_OK_PREFIX = ok_reply()[:-1]


def is_ok(reply: bytes) -> bool:
    """Whether ``reply`` is a success reply, without parsing it."""
    return reply.startswith(_OK_PREFIX)


def raise_for_reply(raw: bytes, what: str) -> int:
    """Turn a worker's error reply into the matching typed error; returns the number of outputs
    an ``output_prefix`` or ``reply_outputs`` request wrote."""
    end = raw.find(b"\n")
    reply = json.loads(raw if end < 0 else raw[:end])
    if reply.get("ok"):
        return int(reply.get("outputs", 0))
    error = ERROR_KINDS.get(reply.get("kind", "error"), InferenceError)
    raise error(f"{what}: {reply.get('message', 'the worker gave no reason')}")
