"""Tensors: put, get, copy, rename, delete and poll numpy arrays (chunked when very large)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import anyio
import anyio.lowlevel
import numpy as np

from smartflow.client import _tensor_io as tio
from smartflow.client import codec
from smartflow.client._core import ClientCore, poll
from smartflow.client._prefix import Kind
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    SmartflowError,
    TensorFormatError,
    UnsupportedTypeError,
)

#: Reads of a chunked tensor that is overwritten while being read: retried with the new manifest.
_CHUNKED_READ_TRIES = 5


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
        if isinstance(names, str | bytes) or not isinstance(names, Iterable):
            raise UnsupportedTypeError(
                f"get_tensors takes an iterable of names (str), got {type(names).__name__}"
                + ("; use get_tensor for one" if isinstance(names, str) else "")
            )
        names = list(names)
        return dict(zip(names, await self._get_arrays(names), strict=True))

    async def delete_tensor(self, name: str) -> None:
        """Delete a tensor (a chunked one with all its chunks). Like SmartRedis, deleting a
        missing key is no error; a key that holds something other than a tensor is refused and
        left alone."""
        key = self._key_in(Kind.TENSOR, name)
        if await self._probe(name, key, missing_ok=True):
            await self._slow(f"delete_tensor {name!r}", lambda r: r.delete(key))

    async def copy_tensor(self, src_name: str, dest_name: str) -> None:
        """Copy a tensor to a new name (replacing what was there)."""
        src, dest = self._key_in(Kind.TENSOR, src_name), self._key_out(Kind.TENSOR, dest_name)
        if src == dest:
            raise InvalidArgumentError(f"copy_tensor: source and destination are both {src_name!r}")
        await self._probe(src_name, src)
        if self._across_slots(src, dest):
            await self.put_tensor(dest_name, await self.get_tensor(src_name))
            return
        await self._slow(f"copy_tensor {src_name!r}", lambda r: r.copy(src, dest, replace=True))

    async def rename_tensor(self, old_name: str, new_name: str) -> None:
        """Rename a tensor (replacing what was at the new name)."""
        old, new = self._key_in(Kind.TENSOR, old_name), self._key_out(Kind.TENSOR, new_name)
        if old == new:
            raise InvalidArgumentError(f"rename_tensor: old and new names are both {old_name!r}")
        await self._probe(old_name, old)
        if self._across_slots(old, new):
            await self.copy_tensor(old_name, new_name)
            await self.delete_tensor(old_name)
            return
        await self._slow(f"rename_tensor {old_name!r}", lambda r: r.rename(old, new))

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
        """Read the chunked tensor at ``key``; if a write replaced it meanwhile, read again (a
        few times: a writer could keep racing us), whatever it now holds. The same write
        found broken twice is damaged: :class:`TensorFormatError`."""
        again = [(key, ref.name)]
        seen: bytes | None = None
        for _ in range(_CHUNKED_READ_TRIES):
            try:
                return await self._fast(what, key, lambda c: tio.read_chunked(c, key, ref.name))
            except tio.TensorChanged as changed:
                if changed.token is not None and changed.token == seen:
                    raise TensorFormatError(
                        f"{what}: {changed.reason}: the stored tensor is corrupt"
                    ) from None
                seen = changed.token
                (fresh,) = await self._fast(what, key, lambda c: tio.get_many(c, again))
                if not isinstance(fresh, tio.ChunkedRef):
                    return fresh
        raise TensorFormatError(f"{what}: the tensor kept being replaced while it was read")

    async def _put_chunked(self, item: tio.EncodedTensor) -> None:
        """Build the tensor's list under a temporary key in its slot, then rename it into place:
        readers see the old tensor or the new one, and nothing of the old one stays."""
        temporary = tio.temporary_key(item.key)
        what = f"put_tensor {item.name!r}"
        try:
            # One element per round trip keeps memory and timeouts bounded per chunk. A push is
            # shielded so that a cancellation waits for its reply: a push cancelled after it was
            # sent could otherwise reach the shard after the cleanup's DEL and outlive it.
            for element in tio.chunk_values(item, self._config.max_value_bytes):
                await anyio.lowlevel.checkpoint()  # a cancellation lands here, between pushes
                with anyio.CancelScope(shield=True):
                    await self._fast(
                        what, temporary, lambda c, e=element: tio.push_element(c, temporary, e)
                    )
            key, ttl = item.key, item.expire_ms
            await self._fast(what, key, lambda c: tio.rename_into_place(c, temporary, key, ttl))
        except BaseException:
            with anyio.move_on_after(self._config.command_timeout, shield=True):
                try:  # else its TTL removes it
                    await self._slow(what, lambda r: r.delete(temporary))
                except SmartflowError:
                    pass
            raise

    async def _probe(self, name: str, key: bytes, missing_ok: bool = False) -> bool:
        """Whether ``key`` holds a tensor, inline or chunked: False if it does not exist and
        ``missing_ok``, else :class:`KeyNotFoundError`; :class:`TensorFormatError` when it
        holds something else."""
        what = f"tensor {name!r}"
        for _ in range(_CHUNKED_READ_TRIES):
            try:
                prefix = await self._slow(what, lambda r: r.getrange(key, 0, codec.PREFIX_LEN - 1))
            except TensorFormatError:  # no string: a chunked tensor's list, or no tensor at all
                try:
                    await self._fast(what, key, lambda c: tio.read_manifest(c, key, name))
                except tio.TensorChanged:
                    continue  # a small tensor replaced it just now: look again
                return True
            if not prefix and not await self._slow(what, lambda r: r.exists(key)):
                if missing_ok:
                    return False
                raise KeyNotFoundError(f"tensor {name!r} does not exist")
            codec.header_length(prefix, name)
            return True
        raise TensorFormatError(f"{what}: the key kept changing type while it was checked")
