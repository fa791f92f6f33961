"""Aggregation lists: Redis lists of references to datasets already put, as in SmartRedis.

A list lives at the key ``{<name>}.list`` and holds dataset names as stored (prefix included), so
a consumer can gather what many ensemble members produced. Fetching a list's datasets is one
LRANGE, then one pipelined round trip per shard, the shards concurrently.
"""

from __future__ import annotations

from smartflow._checks import at_least_zero, integer
from smartflow.client._core import Seam, poll
from smartflow.client._datasets import dataset_key, get_datasets
from smartflow.client._prefix import Kind
from smartflow.client.dataset import DataSet
from smartflow.errors import InvalidArgumentError, KeyNotFoundError, UnsupportedTypeError


def list_key(stored_name: str) -> bytes:
    """The key of an aggregation list, from its name as stored (after prefixing)."""
    return f"{{{stored_name}}}.list".encode()


class ListOps(Seam):
    """The aggregation-list part of the client: SmartRedis's list API, async."""

    async def append_to_list(self, list_name: str, dataset: DataSet) -> None:
        """Append a reference to ``dataset``, which must have been put with ``put_dataset``."""
        key = self._list_key_out(list_name)
        if not isinstance(dataset, DataSet):
            raise UnsupportedTypeError(
                f"append_to_list takes a DataSet, got {type(dataset).__name__}"
            )
        stored = self._key_out(Kind.DATASET, dataset.name).decode()
        what = f"append_to_list {list_name!r}"
        if not await self._exists(what, dataset_key(stored)):
            raise KeyNotFoundError(
                f"{what}: dataset {dataset.name!r} is not in the store; put_dataset it first"
            )
        await self._command(what, key, b"RPUSH", key, stored)

    async def delete_list(self, list_name: str) -> None:
        """Delete a list (not its datasets); deleting a missing list is no error."""
        key = self._list_key_in(list_name)
        await self._command(f"delete_list {list_name!r}", key, b"DEL", key)

    async def copy_list(self, src_name: str, dest_name: str) -> None:
        """Copy a list's references to a new list (replacing a list there)."""
        src, dest = self._list_key_in(src_name), self._list_key_out(dest_name)
        if src == dest:
            raise InvalidArgumentError(f"copy_list: source and destination are both {src_name!r}")
        what = f"copy_list {src_name!r}"
        if not self._wire.across_slots(src, dest):
            if not await self._command(what, src, b"COPY", src, dest, b"REPLACE"):
                raise KeyNotFoundError(f"copy_list: list {src_name!r} does not exist")
            return
        entries = await self._command(what, src, b"LRANGE", src, 0, -1)
        if not entries:
            raise KeyNotFoundError(f"copy_list: list {src_name!r} does not exist")
        # DEL and RPUSH in one MULTI on the list's shard: no reader sees it half-written.
        replace = [(b"DEL", dest), (b"RPUSH", dest, *entries)]  # type: ignore[misc]
        await self._transaction(what, replace, key=dest)

    async def rename_list(self, old_name: str, new_name: str) -> None:
        """Rename a list (replacing a list at the new name)."""
        old, new = self._list_key_in(old_name), self._list_key_out(new_name)
        if old == new:
            raise InvalidArgumentError(f"rename_list: old and new names are both {old_name!r}")
        if self._wire.across_slots(old, new):
            await self.copy_list(old_name, new_name)
            await self.delete_list(old_name)
            return
        what = f"rename_list {old_name!r}"
        if not await self._exists(what, old):
            raise KeyNotFoundError(f"rename_list: list {old_name!r} does not exist")
        await self._command(what, old, b"RENAME", old, new)

    async def get_list_length(self, list_name: str) -> int:
        """The number of entries (0 for a list that does not exist)."""
        key = self._list_key_in(list_name)
        return int(await self._command(f"get_list_length {list_name!r}", key, b"LLEN", key))  # type: ignore[call-overload]

    async def poll_list_length(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """Poll until the list has exactly ``list_length`` entries; False when tries run out."""
        return await self._poll_length(name, list_length, poll_frequency_ms, num_tries, "==")

    async def poll_list_length_gte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """Poll until the list has at least ``list_length`` entries."""
        return await self._poll_length(name, list_length, poll_frequency_ms, num_tries, ">=")

    async def poll_list_length_lte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """Poll until the list has at most ``list_length`` entries."""
        return await self._poll_length(name, list_length, poll_frequency_ms, num_tries, "<=")

    async def get_datasets_from_list(self, list_name: str) -> list[DataSet]:
        """Every dataset the list refers to, in list order."""
        return await self.get_dataset_list_range(list_name, 0, -1)

    async def get_dataset_list_range(
        self, list_name: str, start_index: int, end_index: int
    ) -> list[DataSet]:
        """The datasets at positions ``start_index`` to ``end_index``, both included; negative
        positions count from the end. As with LRANGE, bounds past either end are clipped and a
        range that selects nothing (reversed, or wholly outside) gives an empty list."""
        key = self._list_key_in(list_name)
        integer(start_index, "start_index")
        integer(end_index, "end_index")
        what = f"get_dataset_list_range {list_name!r}"
        raw = await self._command(what, key, b"LRANGE", key, start_index, end_index)
        names = [entry.decode() for entry in raw]
        if not names:
            return []
        keys = [(dataset_key(name), name) for name in names]
        try:
            return await self._split(what, [k for k, _ in keys], keys, get_datasets)
        except KeyNotFoundError as exc:
            raise KeyNotFoundError(
                f"list {list_name!r} refers to a dataset that is gone: {exc}"
            ) from exc

    # -- internals ----------------------------------------------------------------------------

    async def _poll_length(
        self, name: str, length: int, poll_frequency_ms: int, num_tries: int, op: str
    ) -> bool:
        key = self._list_key_in(name)
        at_least_zero(length, "list_length")
        what = f"poll_list_length {name!r}"
        holds = {"==": int.__eq__, ">=": int.__ge__, "<=": int.__le__}[op]

        async def check() -> bool:
            return holds(int(await self._command(what, key, b"LLEN", key)), length)  # type: ignore[call-overload]

        return await poll(check, poll_frequency_ms, num_tries)

    def _list_key_out(self, name: object) -> bytes:
        return list_key(self._key_out(Kind.LIST, name).decode())

    def _list_key_in(self, name: object) -> bytes:
        return list_key(self._key_in(Kind.LIST, name).decode())
