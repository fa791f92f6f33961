"""Tensors: put, get, copy, rename, delete and poll numpy arrays (chunked when very large)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from smartflow.client import _tensor_io as tio
from smartflow.client import codec
from smartflow.client._core import ClientCore, poll
from smartflow.client._prefix import Kind
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    TensorFormatError,
    UnsupportedTypeError,
)

#: Reads of a chunked tensor that is overwritten while being read: retried with the new manifest.
_CHUNKED_READ_TRIES = 3


class TensorOps(ClientCore):
    """The tensor half of the client: SmartRedis's tensor API, async."""

    # -- tensors ------------------------------------------------------------------------------

    async def put_tensor(self, name: str, tensor: np.ndarray) -> None:
        """Store ``tensor`` under ``name`` (replacing what was there)."""
        item = tio.EncodedTensor.of(name, self._key_out(Kind.TENSOR, name), tensor)
        if item.value_len > self._config.max_value_bytes:
            await self._put_chunked(item)
            return
        await self._fast(f"put_tensor {name!r}", item.key, lambda conn: tio.put_many(conn, [item]))

    async def get_tensor(self, name: str) -> np.ndarray:
        """The tensor stored under ``name``: a new writeable, aligned array."""
        (array,) = await self._get_arrays([name])
        return array

    async def put_tensors(self, tensors: Mapping[str, np.ndarray]) -> None:
        """Store many tensors in one pipelined round trip; all are checked before any is sent."""
        if not isinstance(tensors, Mapping):
            raise UnsupportedTypeError("put_tensors takes a mapping of name -> numpy array")
        items = [
            tio.EncodedTensor.of(name, self._key_out(Kind.TENSOR, name), value)
            for name, value in tensors.items()
        ]
        await self._put_items(items)

    async def get_tensors(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """The named tensors, fetched in one pipelined round trip."""
        if isinstance(names, str):
            raise UnsupportedTypeError("get_tensors takes an iterable of names, not one string")
        names = list(names)
        return dict(zip(names, await self._get_arrays(names), strict=True))

    async def delete_tensor(self, name: str) -> None:
        """Delete a tensor (and its chunks). Like SmartRedis, deleting a missing key is no error;
        a key that holds something other than a tensor is refused and left alone."""
        key = self._key_in(Kind.TENSOR, name)
        ref = await self._probe(name, key, missing_ok=True)
        doomed = [key] + [k.encode() for k in ref.manifest.chunk_keys()] if ref else [key]
        await self._slow(f"delete_tensor {name!r}", lambda r: r.delete(*doomed))

    async def copy_tensor(self, src_name: str, dest_name: str) -> None:
        """Copy a tensor to a new name (replacing what was there)."""
        src, dest = self._key_in(Kind.TENSOR, src_name), self._key_out(Kind.TENSOR, dest_name)
        if src == dest:
            raise InvalidArgumentError(f"copy_tensor: source and destination are both {src_name!r}")
        if await self._probe(src_name, src) is not None or self._across_slots(src, dest):
            await self.put_tensor(dest_name, await self.get_tensor(src_name))
            return
        replaced = await self._chunked_at(dest_name, dest)
        await self._slow(f"copy_tensor {src_name!r}", lambda r: r.copy(src, dest, replace=True))
        await self._delete_chunks(dest_name, replaced)

    async def rename_tensor(self, old_name: str, new_name: str) -> None:
        """Rename a tensor (replacing what was at the new name)."""
        old, new = self._key_in(Kind.TENSOR, old_name), self._key_out(Kind.TENSOR, new_name)
        if old == new:
            raise InvalidArgumentError(f"rename_tensor: old and new names are both {old_name!r}")
        if await self._probe(old_name, old) is not None or self._across_slots(old, new):
            await self.copy_tensor(old_name, new_name)
            await self.delete_tensor(old_name)
            return
        replaced = await self._chunked_at(new_name, new)
        await self._slow(f"rename_tensor {old_name!r}", lambda r: r.rename(old, new))
        await self._delete_chunks(new_name, replaced)

    async def tensor_exists(self, name: str) -> bool:
        """True when a tensor is stored under ``name`` (read through the data source prefix)."""
        return await self._exists(f"tensor_exists {name!r}", self._key_in(Kind.TENSOR, name))

    async def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for the tensor."""
        key = self._key_in(Kind.TENSOR, name)
        return await poll(
            lambda: self._exists(f"poll_tensor {name!r}", key), poll_frequency_ms, num_tries
        )

    async def _put_items(self, items: list[tio.EncodedTensor]) -> None:
        """Store encoded tensors: the small ones in one pipelined round trip per shard."""
        limit = self._config.max_value_bytes
        small = [item for item in items if item.value_len <= limit]
        large = [item for item in items if item.value_len > limit]
        for item in large:
            tio.chunk_prefix(item.key.decode())  # refuse an unchunkable name before writing any
        if small:
            await self._fast_split("put_tensors", [item.key for item in small], small, tio.put_many)
        for item in large:
            await self._put_chunked(item)

    async def _get_arrays(self, names: list[str]) -> list[np.ndarray]:
        return await self._get_keyed([(self._key_in(Kind.TENSOR, name), name) for name in names])

    async def _get_keyed(self, keys: list[tuple[bytes, str]]) -> list[np.ndarray]:
        """The tensors at stored ``keys`` (each with the name errors should use)."""
        if not keys:
            return []
        what = f"get_tensor {keys[0][1]!r}" if len(keys) == 1 else "get_tensors"
        values = await self._fast_split(what, [k for k, _ in keys], keys, tio.get_many)
        for i, value in enumerate(values):
            if isinstance(value, tio.ChunkedRef):
                values[i] = await self._read_chunked(what, keys[i][0], value)
        return values

    async def _read_chunked(self, what: str, key: bytes, ref: tio.ChunkedRef) -> np.ndarray:
        """Fetch a chunked tensor's chunks; if an overwrite removed them meanwhile, read the
        new manifest and try again (a few times: a writer could keep racing us)."""
        for _ in range(_CHUNKED_READ_TRIES - 1):
            try:
                return await self._fast(what, key, lambda conn, r=ref: tio.read_chunks(conn, r))
            except tio.ChunkMissingError:
                again = [(key, ref.name)]
                (fresh,) = await self._fast(what, key, lambda c, a=again: tio.get_many(c, a))
                if not isinstance(fresh, tio.ChunkedRef):
                    return fresh
                ref = fresh
        return await self._fast(what, key, lambda conn: tio.read_chunks(conn, ref))

    async def _put_chunked(self, item: tio.EncodedTensor) -> None:
        pairs, manifest = tio.chunk_values(item, self._config.max_value_bytes)
        previous = await self._chunked_at(item.name, item.key)
        what = f"put_tensor {item.name!r}"
        for pair in pairs:  # one chunk per round trip keeps memory and timeouts per chunk bounded
            await self._fast(what, pair[0], lambda conn, p=pair: tio.put_raw(conn, [p]))
        # The manifest goes last: a reader sees the whole tensor or no tensor.
        last = [(item.key, manifest)]
        await self._fast(what, item.key, lambda conn: tio.put_raw(conn, last))
        await self._delete_chunks(item.name, previous)  # the replaced tensor's, once unseen

    async def _delete_chunks(self, name: str, ref: tio.ChunkedRef | None) -> None:
        if ref is not None:
            stale = [key.encode() for key in ref.manifest.chunk_keys()]
            await self._slow(f"tensor {name!r}", lambda r: r.delete(*stale))

    async def _chunked_at(self, name: str, key: bytes) -> tio.ChunkedRef | None:
        """The manifest at ``key`` when it holds a chunked tensor; None for anything else."""
        try:
            return await self._probe(name, key, missing_ok=True)
        except TensorFormatError:
            return None  # not a tensor: replacing it leaves nothing behind

    async def _probe(
        self, name: str, key: bytes, missing_ok: bool = False
    ) -> tio.ChunkedRef | None:
        """Check ``key`` holds a tensor; returns its chunk manifest when it is chunked."""
        what = f"tensor {name!r}"
        prefix = await self._slow(what, lambda r: r.getrange(key, 0, codec.PREFIX_LEN - 1))
        if not prefix and not await self._slow(what, lambda r: r.exists(key)):
            if missing_ok:
                return None
            raise KeyNotFoundError(f"tensor {name!r} does not exist")
        codec.header_length(prefix, name)
        if not prefix[5] & codec.FLAG_CHUNKED:
            return None
        ref = await self._fast(
            f"tensor {name!r}", key, lambda conn: tio.get_many(conn, [(key, name)])
        )
        return ref[0] if isinstance(ref[0], tio.ChunkedRef) else None
