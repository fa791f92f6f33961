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
        │ times out: LREM         │ atomically to busy{T}     │ the worker: "unavailable"
        v                         v                           v
    withdrawn                   taken ──────────────────> answered
                                  │   finish: outputs SET, RPUSH reply{T}:<id>,
                                  │   LREM busy{T}, in one round trip
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
    #: Milliseconds the outputs live (``infer``'s scratch outputs, which a client that timed
    #: out will never read); 0: they stay.
    expire_ms: int = 0
    id: str = attrs.field(factory=new_id)

    def encode(self) -> bytes:
        return json.dumps(attrs.asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Request:
        fields = json.loads(raw)
        fields["inputs"], fields["outputs"] = tuple(fields["inputs"]), tuple(fields["outputs"])
        return cls(**fields)


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
    an ``output_prefix`` request wrote."""
    reply = json.loads(raw)
    if reply.get("ok"):
        return int(reply.get("outputs", 0))
    error = ERROR_KINDS.get(reply.get("kind", "error"), InferenceError)
    raise error(f"{what}: {reply.get('message', 'the worker gave no reason')}")
