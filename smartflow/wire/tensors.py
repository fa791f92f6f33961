"""Tensors on the wire: pipelined SETs and GETs without extra copies, chunked when very large.

The functions taking a connection speak to one shard; :func:`put_items`, :func:`get_keyed` and
:func:`read_chunked_again` route over a :class:`~smartflow.wire.transport.Transport` and are
shared by the client and the inference worker.

A tensor too large for one Redis value is a Redis *list* at its key: a manifest, then its chunks
(``docs/wire-format.md``). It is built under a temporary key in the same slot and renamed into
place, so a reader sees a whole tensor or none, and a ``SET`` of a small tensor over it (the
ordinary put) replaces the whole list: nothing is ever left behind.
"""

from __future__ import annotations

import functools
import itertools
import secrets
from collections.abc import Iterator, Sequence

import anyio
import anyio.lowlevel
import attrs
import numpy as np
from redis.crc import key_slot

from smartflow.errors import (
    ConnectionFailedError,
    KeyNotFoundError,
    SmartflowError,
    TensorFormatError,
)
from smartflow.wire import codec
from smartflow.wire.resp import (
    CRLF,
    ErrorReply,
    RespConnection,
    pack_command,
    raise_for_error,
    transaction,
)
from smartflow.wire.resp import set_prefix as _set_prefix
from smartflow.wire.transport import Transport


@attrs.frozen
class EncodedTensor:
    """A tensor checked and ready to send: its key, header and payload view."""

    name: str
    key: bytes
    array: np.ndarray
    header: bytes
    #: A time to live in milliseconds (scratch tensors); 0: the tensor stays.
    expire_ms: int = 0

    @classmethod
    def of(cls, name: str, key: bytes, value: object, expire_ms: int = 0) -> EncodedTensor:
        array = codec.as_storable(value, name=f"tensor {name!r}")
        return cls(name, key, array, codec.encode_header(array), expire_ms)

    @property
    def value_len(self) -> int:
        return len(self.header) + self.array.nbytes

    def value(self) -> bytes:
        """The tensor as stored, in one new ``bytes`` (a copy: for values that travel inside
        another, such as a run's request or reply)."""
        return self.header + codec.payload_view(self.array)


@attrs.frozen
class ChunkedRef:
    """What a GET found in place of a tensor: a key that holds no string, so a chunked tensor's
    list (or something that is no tensor at all, which reading it as a list says)."""

    name: str


class TensorChanged(Exception):
    """A chunked tensor was replaced while it was read (an internal signal: read again).
    ``token`` is the write the reader had seen, if any: seen twice, the tensor was not being
    replaced, it is damaged, as ``reason`` says."""

    def __init__(self, reason: str, token: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token = token


#: A chunked tensor's temporary list lives this long unless renamed into place (or refreshed by
#: the next chunk): a writer that dies midway leaves nothing behind for long.
TEMPORARY_TTL_MS = 120_000


@functools.lru_cache(maxsize=1024)
def _tag_of_slot(slot: int) -> str:
    """The smallest integer whose decimal string hashes to ``slot`` (a hash tag for it)."""
    return str(next(n for n in itertools.count() if key_slot(b"%d" % n) == slot))


def temporary_key(key: bytes) -> bytes:
    """A fresh key in ``key``'s slot (so on its shard, and renamable onto it)."""
    return f"smartflow.tmp{{{_tag_of_slot(key_slot(key))}}}:{secrets.token_hex(8)}".encode()


def set_parts(items: Sequence[EncodedTensor]) -> Iterator[bytes | memoryview]:
    """The SET commands of ``items``, as parts for ``send_parts`` (payloads are not copied)."""
    for item in items:
        if item.expire_ms:
            yield _set_prefix(item.key, item.value_len, options=2)
            yield item.header
            yield codec.payload_view(item.array)
            yield b"\r\n$2\r\nPX\r\n$%d\r\n%d\r\n" % (len(str(item.expire_ms)), item.expire_ms)
            continue
        yield _set_prefix(item.key, item.value_len)
        yield item.header
        yield codec.payload_view(item.array)
        yield CRLF


async def put_many(conn: RespConnection, items: Sequence[EncodedTensor]) -> None:
    """SET every tensor in one pipelined round trip."""
    await conn.send_parts(set_parts(items), replies=len(items))
    for item in items:
        raise_for_error(await conn.read_reply(), f"put_tensor {item.name!r}")


async def put_raw(conn: RespConnection, pairs: Sequence[tuple[bytes, bytes | memoryview]]) -> None:
    """SET raw values (chunks, manifests) in one pipelined round trip."""

    def parts() -> Iterator[bytes | memoryview]:
        for key, value in pairs:
            yield from (_set_prefix(key, len(value)), value, CRLF)

    await conn.send_parts(parts(), replies=len(pairs))
    for key, _ in pairs:
        raise_for_error(await conn.read_reply(), f"SET {key.decode(errors='replace')!r}")


async def get_many(
    conn: RespConnection, keys: Sequence[tuple[bytes, str]]
) -> list[np.ndarray | ChunkedRef]:
    """GET many tensors in one pipelined round trip, each read into its own new array."""
    await conn.send(b"".join(pack_command(b"GET", key) for key, _ in keys), replies=len(keys))
    return [await read_tensor(conn, name) for _, name in keys]


#: What :func:`bulk_length` returns for a key that holds a list, hash or set.
NOT_A_STRING = -2


async def bulk_length(
    conn: RespConnection, name: str, kind: str = "tensor", *, other_types: bool = False
) -> int:
    """The length line of a bulk reply; errors and nil replies are raised, fully consumed. A
    key holding another type is refused, or, with ``other_types``, :data:`NOT_A_STRING`."""
    line = await conn.read_line()
    prefix = line[:1]
    if prefix == b"$":
        n = int(line[1:])
        if n >= 0:
            return n
        conn.reply_done()
        raise KeyNotFoundError(f"{kind} {name!r} does not exist")
    if prefix == b"-":
        conn.reply_done()
        error = ErrorReply(line[1:].decode("utf-8", errors="replace"))
        if error.code == "WRONGTYPE":
            if other_types:
                return NOT_A_STRING
            raise TensorFormatError(f"key {name!r} holds a Redis list/hash/set, not a {kind}")
        raise_for_error(error, f"get_tensor {name!r}")
    raise ConnectionFailedError(f"protocol error: unexpected reply {line[:40]!r}")


async def read_tensor(conn: RespConnection, name: str) -> np.ndarray | ChunkedRef:
    """Read one GET reply holding a tensor; the payload lands directly in the new array."""
    n = await bulk_length(conn, name, other_types=True)
    if n == NOT_A_STRING:
        return ChunkedRef(name)
    if n < codec.PREFIX_LEN:
        codec.header_length(await conn.read_exact(n), name)  # raises: not a tensor
    prefix = await conn.read_exact(codec.PREFIX_LEN)
    header_len = codec.header_length(prefix, name)
    if header_len > n:
        raise TensorFormatError(f"key {name!r}: tensor header truncated")
    raw_header = prefix + await conn.read_exact(header_len - codec.PREFIX_LEN)
    header = codec.decode_header(raw_header, name)
    if header.chunked:
        raise TensorFormatError(f"key {name!r}: a chunk manifest stored as a plain value")
    codec.check_length(header, n - header_len, name)
    array = np.empty(header.shape, header.dtype)
    await conn.read_into(codec.payload_view(array))
    await conn.expect_crlf()
    conn.reply_done()
    return array


async def read_manifest(
    conn: RespConnection, key: bytes, name: str
) -> tuple[codec.TensorHeader, codec.ChunkManifest]:
    """The manifest of the chunked tensor at ``key``: a missing key is a
    :class:`KeyNotFoundError`, a plain value :class:`TensorChanged` (a small tensor replaced
    it: read again), anything else that is no chunked tensor a :class:`TensorFormatError`."""
    await conn.send(pack_command(b"LINDEX", key, 0))
    value = await conn.read_reply()
    if value is None:
        raise KeyNotFoundError(f"tensor {name!r} does not exist")
    if isinstance(value, ErrorReply):
        if value.code == "WRONGTYPE" and await _holds_string(conn, key):
            raise TensorChanged("a plain value replaced it")
        raise TensorFormatError(f"key {name!r} holds a Redis hash/set, not a tensor")
    return codec.decode_manifest(value, name)  # type: ignore[arg-type]


async def _holds_string(conn: RespConnection, key: bytes) -> bool:
    await conn.send(pack_command(b"TYPE", key))
    return await conn.read_reply() == b"string"


async def read_chunked(conn: RespConnection, key: bytes, name: str) -> np.ndarray:
    """Read a chunked tensor's list straight into one array. Every chunk and the manifest again
    go out in one pipeline; :class:`TensorChanged` when the tensor was replaced meanwhile."""
    header, manifest = await read_manifest(conn, key, name)
    array = np.empty(header.shape, header.dtype)
    view = codec.payload_view(array)
    count = manifest.chunk_count
    commands = [pack_command(b"LINDEX", key, i + 1) for i in range(count)]
    await conn.send(b"".join(commands) + pack_command(b"LINDEX", key, 0), replies=count + 1)
    for i in range(count):
        target = view[i * manifest.chunk_bytes : (i + 1) * manifest.chunk_bytes]
        try:
            n = await bulk_length(conn, name, other_types=True)
        except KeyNotFoundError:  # deleted, or replaced by a shorter list
            raise TensorChanged(f"its chunk {i} is missing", manifest.token) from None
        if n != len(target):  # replaced (or damaged): the connection, mid-reply, is dropped
            size = "no string" if n == NOT_A_STRING else f"{n} bytes"
            reason = f"its chunk {i} has {size}, not {len(target)}"
            raise TensorChanged(reason, manifest.token)
        await conn.read_into(target)
        await conn.expect_crlf()
        conn.reply_done()
    again = await conn.read_reply()
    if not isinstance(again, bytes) or codec.decode_manifest(again, name)[1] != manifest:
        raise TensorChanged("replaced while it was read")
    return array


def chunk_values(item: EncodedTensor, chunk_bytes: int) -> list[bytes | memoryview]:
    """The elements of a large tensor's list: its manifest, then its chunks (views, no copy)."""
    payload = codec.payload_view(item.array)
    count = -(-len(payload) // chunk_bytes)
    manifest = codec.ChunkManifest(count, chunk_bytes, len(payload), secrets.token_bytes(8))
    chunks = [payload[i * chunk_bytes : (i + 1) * chunk_bytes] for i in range(count)]
    return [codec.encode_manifest(item.array, manifest), *chunks]


async def push_element(conn: RespConnection, key: bytes, element: bytes | memoryview) -> None:
    """RPUSH one element onto a temporary list and keep it from expiring for a while."""

    def parts() -> Iterator[bytes | memoryview]:
        yield b"*3\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, len(element))
        yield element
        yield CRLF
        yield pack_command(b"PEXPIRE", key, TEMPORARY_TTL_MS)

    await conn.send_parts(parts(), replies=2)
    for _ in range(2):
        raise_for_error(await conn.read_reply(), "put_tensor (a chunk)")


async def rename_into_place(
    conn: RespConnection, temporary: bytes, key: bytes, expire_ms: int = 0
) -> None:
    """Make the finished temporary list the tensor at ``key``, whatever ``key`` held (to live
    ``expire_ms`` milliseconds, or for good)."""
    lifetime = (
        pack_command(b"PEXPIRE", key, expire_ms) if expire_ms else pack_command(b"PERSIST", key)
    )
    commands = [pack_command(b"RENAME", temporary, key), lifetime]
    await transaction(conn, commands, "put_tensor (chunked)")


# -- over a transport (routed by key) ------------------------------------------------------------

#: Reads of a chunked tensor that is overwritten while being read: retried with the new manifest.
CHUNKED_READ_TRIES = 5


async def put_items(wire: Transport, items: Sequence[EncodedTensor], max_value_bytes: int) -> None:
    """Store encoded tensors: the small ones in one pipelined round trip per shard, those over
    ``max_value_bytes`` chunked."""
    small = [item for item in items if item.value_len <= max_value_bytes]
    if small:
        await wire.split("put_tensors", [item.key for item in small], small, put_many)
    for item in items:
        if item.value_len > max_value_bytes:
            await put_chunked(wire, item, max_value_bytes)


async def get_keyed(wire: Transport, keys: Sequence[tuple[bytes, str]]) -> list[np.ndarray]:
    """The tensors at stored ``keys`` (each with the name errors should use), one pipelined
    round trip per shard, chunked ones read in full."""
    if not keys:
        return []
    what = f"get_tensor {keys[0][1]!r}" if len(keys) == 1 else "get_tensors"
    values = await wire.split(what, [k for k, _ in keys], list(keys), get_many)
    for i, value in enumerate(values):
        if isinstance(value, ChunkedRef):
            values[i] = await read_chunked_again(wire, what, keys[i][0], value)
    return values


async def read_chunked_again(wire: Transport, what: str, key: bytes, ref: ChunkedRef) -> np.ndarray:
    """Read the chunked tensor at ``key``; if a write replaced it meanwhile, read again (a few
    times: a writer could keep racing us), whatever it now holds. The same write found broken
    twice is damaged: :class:`TensorFormatError`."""
    again = [(key, ref.name)]
    seen: bytes | None = None
    for _ in range(CHUNKED_READ_TRIES):
        try:
            return await wire.one(what, key, lambda c: read_chunked(c, key, ref.name))
        except TensorChanged as changed:
            if changed.token is not None and changed.token == seen:
                raise TensorFormatError(
                    f"{what}: {changed.reason}: the stored tensor is corrupt"
                ) from None
            seen = changed.token
            (fresh,) = await wire.one(what, key, lambda c: get_many(c, again))
            if not isinstance(fresh, ChunkedRef):
                return fresh
    raise TensorFormatError(f"{what}: the tensor kept being replaced while it was read")


async def put_chunked(wire: Transport, item: EncodedTensor, chunk_bytes: int) -> None:
    """Build the tensor's list under a temporary key in its slot, then rename it into place:
    readers see the old tensor or the new one, and nothing of the old one stays."""
    temporary = temporary_key(item.key)
    what = f"put_tensor {item.name!r}"
    try:
        # One element per round trip keeps memory and timeouts bounded per chunk. A push is
        # shielded so that a cancellation waits for its reply: a push cancelled after it was
        # sent could otherwise reach the shard after the cleanup's DEL and outlive it.
        for element in chunk_values(item, chunk_bytes):
            await anyio.lowlevel.checkpoint()  # a cancellation lands here, between pushes
            with anyio.CancelScope(shield=True):
                await wire.one(what, temporary, lambda c, e=element: push_element(c, temporary, e))
        key, ttl = item.key, item.expire_ms
        await wire.one(what, key, lambda c: rename_into_place(c, temporary, key, ttl))
    except BaseException:
        with anyio.move_on_after(wire.limits.command_timeout, shield=True):
            try:  # else its TTL removes it
                await wire.command(what, temporary, b"DEL", temporary)
            except SmartflowError:
                pass
        raise
