"""Tensors: put, get, copy, rename, delete and poll numpy arrays (chunked when very large)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from smartflow.client._core import Seam, poll
from smartflow.client._prefix import Kind
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    TensorFormatError,
    UnsupportedTypeError,
)
from smartflow.wire import codec
from smartflow.wire import tensors as tio


class TensorOps(Seam):
    """The tensor half of the client: SmartRedis's tensor API, async."""

    # -- tensors ------------------------------------------------------------------------------

    async def put_tensor(self, name: str, tensor: np.ndarray) -> None:
        """Store ``tensor`` under ``name`` (replacing what was there)."""
        item = tio.EncodedTensor.of(name, self._key_out(Kind.TENSOR, name), tensor)
        if item.value_len > self._config.max_value_bytes:
            await self._put_items([item])
            return
        await self._one(f"put_tensor {name!r}", item.key, lambda conn: tio.put_many(conn, [item]))

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
            await self._command(f"delete_tensor {name!r}", key, b"DEL", key)

    async def copy_tensor(self, src_name: str, dest_name: str) -> None:
        """Copy a tensor to a new name (replacing what was there)."""
        src, dest = self._key_in(Kind.TENSOR, src_name), self._key_out(Kind.TENSOR, dest_name)
        if src == dest:
            raise InvalidArgumentError(f"copy_tensor: source and destination are both {src_name!r}")
        await self._probe(src_name, src)
        if self._wire.across_slots(src, dest):
            await self.put_tensor(dest_name, await self.get_tensor(src_name))
            return
        await self._command(f"copy_tensor {src_name!r}", src, b"COPY", src, dest, b"REPLACE")

    async def rename_tensor(self, old_name: str, new_name: str) -> None:
        """Rename a tensor (replacing what was at the new name)."""
        old, new = self._key_in(Kind.TENSOR, old_name), self._key_out(Kind.TENSOR, new_name)
        if old == new:
            raise InvalidArgumentError(f"rename_tensor: old and new names are both {old_name!r}")
        await self._probe(old_name, old)
        if self._wire.across_slots(old, new):
            await self.copy_tensor(old_name, new_name)
            await self.delete_tensor(old_name)
            return
        await self._command(f"rename_tensor {old_name!r}", old, b"RENAME", old, new)

    async def tensor_exists(self, name: str) -> bool:
        """True when a tensor is stored under ``name`` (read through the data source prefix)."""
        return await self._exists(f"tensor_exists {name!r}", self._key_in(Kind.TENSOR, name))

    async def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for the tensor."""
        key = self._key_in(Kind.TENSOR, name)
        return await poll(
            lambda: self._exists(f"poll_tensor {name!r}", key), poll_frequency_ms, num_tries
        )

    async def _get_arrays(self, names: list[str]) -> list[np.ndarray]:
        return await self._get_keyed([(self._key_in(Kind.TENSOR, name), name) for name in names])

    async def _probe(self, name: str, key: bytes, missing_ok: bool = False) -> bool:
        """Whether ``key`` holds a tensor, inline or chunked: False if it does not exist and
        ``missing_ok``, else :class:`KeyNotFoundError`; :class:`TensorFormatError` when it
        holds something else."""
        what = f"tensor {name!r}"
        for _ in range(tio.CHUNKED_READ_TRIES):
            try:
                prefix = await self._command(what, key, b"GETRANGE", key, 0, codec.PREFIX_LEN - 1)
            except TensorFormatError:  # no string: a chunked tensor's list, or no tensor at all
                try:
                    await self._one(what, key, lambda c: tio.read_manifest(c, key, name))
                except tio.TensorChanged:
                    continue  # a small tensor replaced it just now: look again
                return True
            if not prefix and not await self._exists(what, key):
                if missing_ok:
                    return False
                raise KeyNotFoundError(f"tensor {name!r} does not exist")
            codec.header_length(prefix, name)
            return True
        raise TensorFormatError(f"{what}: the key kept changing type while it was checked")
