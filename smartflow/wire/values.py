"""Values that are not tensors, on the wire: written from parts, read into aligned buffers.

A dataset is one such value (its format is :mod:`smartflow.client._dataset_codec`'s): its parts
go out without copies, and a GET reply lands in one new aligned ``uint8`` buffer that the
dataset's tensors are then views of.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from smartflow.wire.resp import CRLF, RespConnection, pack_command, raise_for_error, set_prefix
from smartflow.wire.tensors import bulk_length


class Value(Protocol):
    """A value ready to send: its name (for errors), key, length and parts."""

    name: str
    key: bytes
    value_len: int
    parts: Sequence[bytes | memoryview]


async def put_values(conn: RespConnection, items: Sequence[Value], kind: str) -> None:
    """SET every value in one pipelined round trip; payloads go out without copies."""

    def parts() -> Iterator[bytes | memoryview]:
        for item in items:
            yield set_prefix(item.key, item.value_len)
            yield from item.parts
            yield CRLF

    await conn.send_parts(parts(), replies=len(items))
    for item in items:
        raise_for_error(await conn.read_reply(), f"put_{kind} {item.name!r}")


async def get_buffers(
    conn: RespConnection, keys: Sequence[tuple[bytes, str]], kind: str
) -> list[np.ndarray]:
    """GET many values in one pipelined round trip, each read into one new aligned buffer; a
    missing one is a :class:`~smartflow.errors.KeyNotFoundError` naming it as a ``kind``."""
    await conn.send(b"".join(pack_command(b"GET", key) for key, _ in keys), replies=len(keys))
    buffers = []
    for _, name in keys:
        n = await bulk_length(conn, name, kind)
        buf = np.empty(n, np.uint8)
        await conn.read_into(memoryview(buf))
        await conn.expect_crlf()
        conn.reply_done()
        buffers.append(buf)
    return buffers
