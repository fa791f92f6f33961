"""Tensor payloads over a :class:`RespConnection`: pipelined SETs and GETs without extra copies."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence

import attrs
import numpy as np

from smartflow.client import codec
from smartflow.client._resp import CRLF, ErrorReply, RespConnection, pack_command, raise_for_error
from smartflow.client._resp import set_prefix as _set_prefix
from smartflow.errors import (
    ConnectionFailedError,
    InvalidArgumentError,
    KeyNotFoundError,
    TensorFormatError,
)


@attrs.frozen
class EncodedTensor:
    """A tensor checked and ready to send: its key, header and payload view."""

    name: str
    key: bytes
    array: np.ndarray
    header: bytes

    @classmethod
    def of(cls, name: str, key: bytes, value: object) -> EncodedTensor:
        array = codec.as_storable(value, name=f"tensor {name!r}")
        return cls(name, key, array, codec.encode_header(array))

    @property
    def value_len(self) -> int:
        return len(self.header) + self.array.nbytes


class ChunkMissingError(TensorFormatError):
    """A chunk named by a manifest is gone: the tensor was overwritten or deleted meanwhile."""


@attrs.frozen
class ChunkedRef:
    """A manifest read in place of a tensor: the chunks still have to be fetched."""

    name: str
    header: codec.TensorHeader
    manifest: codec.ChunkManifest


def chunk_prefix(key: str) -> str:
    """Where a large tensor's chunks live: under the key's own hash tag, so on its shard.

    A key without a hash tag hashes as a whole; ``{key}`` then makes the chunks hash the same.
    """
    open_at = key.find("{")
    close_at = key.find("}", open_at + 1) if open_at >= 0 else -1
    if open_at >= 0 and close_at > open_at + 1:
        return f"{key}:chunk:"
    if "}" in key:
        raise InvalidArgumentError(
            f"tensor name {key!r}: a tensor larger than one Redis value needs a name that "
            "either has a {hash tag} or contains no '}'"
        )
    return f"{{{key}}}:chunk:"


def set_parts(items: Sequence[EncodedTensor]) -> Iterator[bytes | memoryview]:
    """The SET commands of ``items``, as parts for ``send_parts`` (payloads are not copied)."""
    for item in items:
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


async def bulk_length(conn: RespConnection, name: str, kind: str = "tensor") -> int:
    """The length line of a bulk reply; errors and nil replies are raised, fully consumed."""
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
            raise TensorFormatError(f"key {name!r} holds a Redis list/hash/set, not a {kind}")
        raise_for_error(error, f"get_tensor {name!r}")
    raise ConnectionFailedError(f"protocol error: unexpected reply {line[:40]!r}")


async def read_tensor(conn: RespConnection, name: str) -> np.ndarray | ChunkedRef:
    """Read one GET reply holding a tensor; the payload lands directly in the new array."""
    n = await bulk_length(conn, name)
    if n < codec.PREFIX_LEN:
        codec.header_length(await conn.read_exact(n), name)  # raises: not a tensor
    prefix = await conn.read_exact(codec.PREFIX_LEN)
    header_len = codec.header_length(prefix, name)
    if header_len > n:
        raise TensorFormatError(f"key {name!r}: tensor header truncated")
    raw_header = prefix + await conn.read_exact(header_len - codec.PREFIX_LEN)
    header = codec.decode_header(raw_header, name)
    if header.chunked:
        body = await conn.read_exact(n - header_len)
        await conn.expect_crlf()
        conn.reply_done()
        return ChunkedRef(name, header, codec.decode_manifest(raw_header + body, header, name))
    codec.check_length(header, n - header_len, name)
    array = np.empty(header.shape, header.dtype)
    await conn.read_into(codec.payload_view(array))
    await conn.expect_crlf()
    conn.reply_done()
    return array


async def read_chunks(conn: RespConnection, ref: ChunkedRef) -> np.ndarray:
    """Fetch a chunked tensor's chunks straight into one array."""
    manifest = ref.manifest
    array = np.empty(ref.header.shape, ref.header.dtype)
    view = codec.payload_view(array)
    keys = manifest.chunk_keys()
    await conn.send(b"".join(pack_command(b"GET", key) for key in keys), replies=len(keys))
    for i, key in enumerate(keys):
        target = view[i * manifest.chunk_bytes : (i + 1) * manifest.chunk_bytes]
        try:
            n = await bulk_length(conn, key)
        except KeyNotFoundError as exc:
            raise ChunkMissingError(
                f"tensor {ref.name!r}: its chunk {key!r} is missing (deleted or overwritten)"
            ) from exc
        if n != len(target):
            raise TensorFormatError(
                f"tensor {ref.name!r}: chunk {key!r} has {n} bytes, not {len(target)}"
            )
        await conn.read_into(target)
        await conn.expect_crlf()
        conn.reply_done()
    return array


def chunk_values(
    item: EncodedTensor, chunk_bytes: int
) -> tuple[list[tuple[bytes, memoryview]], bytes]:
    """The (key, chunk) pairs of a large tensor and the manifest to write after them."""
    payload = codec.payload_view(item.array)
    # A fresh token per write: an overwrite never touches the chunks a reader of the previous
    # manifest may be fetching, so it sees the old tensor whole (or a clear "chunk missing").
    prefix = f"{chunk_prefix(item.key.decode())}{secrets.token_hex(4)}:"
    count = -(-len(payload) // chunk_bytes)
    manifest = codec.ChunkManifest(count, chunk_bytes, len(payload), prefix)
    pairs = [
        (key.encode(), payload[i * chunk_bytes : (i + 1) * chunk_bytes])
        for i, key in enumerate(manifest.chunk_keys())
    ]
    return pairs, codec.encode_manifest(item.array, manifest)
