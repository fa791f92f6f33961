"""Datasets: put, get, copy, rename, delete and poll :class:`DataSet` objects.

A dataset is one Redis value (``docs/wire-format.md``) at the key ``{<name>}.dataset``: written
with one SET and read with one GET, so no reader ever sees half of one.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartflow.client import _dataset_codec as dsc
from smartflow.client._core import Seam, poll
from smartflow.client._prefix import Kind
from smartflow.client.dataset import DataSet
from smartflow.errors import InvalidArgumentError, KeyNotFoundError, UnsupportedTypeError
from smartflow.wire.resp import RespConnection
from smartflow.wire.values import get_buffers, put_values


def dataset_key(stored_name: str) -> bytes:
    """The key of a dataset, from its name as stored (after prefixing)."""
    return f"{{{stored_name}}}.dataset".encode()


async def get_datasets(conn: RespConnection, keys: Sequence[tuple[bytes, str]]) -> list[DataSet]:
    """GET many datasets in one pipelined round trip, each read into one aligned buffer."""
    buffers = await get_buffers(conn, keys, "dataset")
    return [dsc.decode(buf, name) for buf, (_, name) in zip(buffers, keys, strict=True)]


class DatasetOps(Seam):
    """The dataset part of the client: SmartRedis's dataset API, async."""

    async def put_dataset(self, dataset: DataSet) -> None:
        """Store ``dataset`` under its name (replacing a dataset of that name), atomically."""
        item = self._encode_dataset(dataset)
        await self._one(
            f"put_dataset {dataset.name!r}", item.key, lambda c: put_values(c, [item], "dataset")
        )

    async def get_dataset(self, name: str) -> DataSet:
        """The dataset stored under ``name``."""
        key = self._dataset_key_in(name)
        what = f"get_dataset {name!r}"
        (dataset,) = await self._one(what, key, lambda c: get_datasets(c, [(key, name)]))
        return dataset

    async def delete_dataset(self, name: str) -> None:
        """Delete a dataset; deleting one that does not exist is no error (as for tensors)."""
        key = self._dataset_key_in(name)
        await self._command(f"delete_dataset {name!r}", key, b"DEL", key)

    async def copy_dataset(self, src_name: str, dest_name: str) -> None:
        """Copy a dataset to a new name (replacing a dataset there)."""
        src, dest = self._dataset_key_in(src_name), self._dataset_key_out(dest_name)
        if src == dest:
            raise InvalidArgumentError(
                f"copy_dataset: source and destination are both {src_name!r}"
            )
        if self._wire.across_slots(src, dest):
            dataset = await self.get_dataset(src_name)
            await self.put_dataset(_renamed(dataset, dest_name))
            return
        copied = await self._command(
            f"copy_dataset {src_name!r}", src, b"COPY", src, dest, b"REPLACE"
        )
        if not copied:
            raise KeyNotFoundError(f"copy_dataset: dataset {src_name!r} does not exist")

    async def rename_dataset(self, old_name: str, new_name: str) -> None:
        """Rename a dataset (replacing a dataset at the new name)."""
        old, new = self._dataset_key_in(old_name), self._dataset_key_out(new_name)
        if old == new:
            raise InvalidArgumentError(f"rename_dataset: old and new names are both {old_name!r}")
        if self._wire.across_slots(old, new):
            await self.copy_dataset(old_name, new_name)
            await self.delete_dataset(old_name)
            return
        if not await self._exists(f"rename_dataset {old_name!r}", old):
            raise KeyNotFoundError(f"rename_dataset: dataset {old_name!r} does not exist")
        await self._command(f"rename_dataset {old_name!r}", old, b"RENAME", old, new)

    async def dataset_exists(self, name: str) -> bool:
        """True when a dataset is stored under ``name``."""
        return await self._exists(f"dataset_exists {name!r}", self._dataset_key_in(name))

    async def poll_dataset(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for the dataset."""
        key = self._dataset_key_in(name)
        return await poll(
            lambda: self._exists(f"poll_dataset {name!r}", key), poll_frequency_ms, num_tries
        )

    # -- internals ----------------------------------------------------------------------------

    def _encode_dataset(self, dataset: object) -> dsc.EncodedDataset:
        if not isinstance(dataset, DataSet):
            raise UnsupportedTypeError(f"expected a DataSet, got {type(dataset).__name__}")
        if dataset.is_empty():
            raise InvalidArgumentError(
                f"dataset {dataset.name!r} has no tensors and no metadata: nothing to store"
            )
        item = dsc.encode(dataset, self._dataset_key_out(dataset.name))
        if item.value_len > self._config.max_value_bytes:
            raise InvalidArgumentError(
                f"dataset {dataset.name!r} is {item.value_len} bytes, over the store's value "
                f"limit of {self._config.max_value_bytes}; put its largest tensors with "
                "put_tensor (which chunks them) and keep their names in the dataset's metadata"
            )
        return item

    def _dataset_key_out(self, name: object) -> bytes:
        return dataset_key(self._key_out(Kind.DATASET, name).decode())

    def _dataset_key_in(self, name: object) -> bytes:
        return dataset_key(self._key_in(Kind.DATASET, name).decode())


def _renamed(dataset: DataSet, name: str) -> DataSet:
    return DataSet._restore(name, *dataset._contents())
