"""Client calls for tensors, datasets, keys and aggregation lists."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from smartflow.smartredis._args import ints, strs
from smartflow.smartredis.dataset import Dataset
from smartflow.smartredis.util import Dtypes, exception_handler, typecheck


class DataOps:
    """Tensors, datasets, existence checks, polling and aggregation lists."""

    _client: Any

    # -- tensors --------------------------------------------------------------------------

    @exception_handler
    def put_tensor(self, name: str, data: np.ndarray) -> None:
        """Store ``data`` under ``name`` (SmartRedis's tensor dtypes only)."""
        typecheck(name, "name", str)
        typecheck(data, "data", np.ndarray)
        Dtypes.tensor_from_numpy(data)
        self._client.put_tensor(name, data)

    @exception_handler
    def get_tensor(self, name: str) -> np.ndarray:
        typecheck(name, "name", str)
        return self._client.get_tensor(name)

    @exception_handler
    def delete_tensor(self, name: str) -> None:
        typecheck(name, "name", str)
        self._client.delete_tensor(name)

    @exception_handler
    def copy_tensor(self, src_name: str, dest_name: str) -> None:
        strs(src_name=src_name, dest_name=dest_name)
        self._client.copy_tensor(src_name, dest_name)

    @exception_handler
    def rename_tensor(self, old_name: str, new_name: str) -> None:
        strs(old_name=old_name, new_name=new_name)
        self._client.rename_tensor(old_name, new_name)

    # -- raw bytes (SmartRedis after 0.6.1; the C++ client has them too) -----------------
    # Stored as a 1-D uint8 tensor, so any client reads them and prefixing treats them as
    # tensors.

    @exception_handler
    def put_bytes(self, name: str, data: io.BytesIO | bytes | bytearray | memoryview) -> None:
        """Store raw bytes (a ``BytesIO`` or any bytes-like object) under ``name``."""
        typecheck(name, "name", str)
        raw = data.getbuffer() if isinstance(data, io.BytesIO) else data
        typecheck(raw, "data", (bytes, bytearray, memoryview))
        self._client.put_tensor(name, np.frombuffer(raw, dtype=np.uint8))

    @exception_handler
    def get_bytes(self, name: str) -> io.BytesIO:
        """The bytes stored under ``name``, as a ``BytesIO``."""
        typecheck(name, "name", str)
        return io.BytesIO(self._client.get_tensor(name).tobytes())

    @exception_handler
    def delete_bytes(self, name: str) -> None:
        typecheck(name, "name", str)
        self._client.delete_tensor(name)

    @exception_handler
    def bytes_exists(self, name: str) -> bool:
        typecheck(name, "name", str)
        return self._client.tensor_exists(name)

    @exception_handler
    def poll_bytes(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        ints(poll_frequency_ms=poll_frequency_ms, num_tries=num_tries)
        return self._client.poll_tensor(name, poll_frequency_ms, num_tries)

    # -- datasets -------------------------------------------------------------------------

    @exception_handler
    def put_dataset(self, dataset: Dataset) -> None:
        typecheck(dataset, "dataset", Dataset)
        self._client.put_dataset(dataset.get_data())

    @exception_handler
    def get_dataset(self, name: str) -> Dataset:
        typecheck(name, "name", str)
        return Dataset.from_pybind(self._client.get_dataset(name))

    @exception_handler
    def delete_dataset(self, name: str) -> None:
        typecheck(name, "name", str)
        self._client.delete_dataset(name)

    @exception_handler
    def copy_dataset(self, src_name: str, dest_name: str) -> None:
        strs(src_name=src_name, dest_name=dest_name)
        self._client.copy_dataset(src_name, dest_name)

    @exception_handler
    def rename_dataset(self, old_name: str, new_name: str) -> None:
        strs(old_name=old_name, new_name=new_name)
        self._client.rename_dataset(old_name, new_name)

    # -- existence and polling ------------------------------------------------------------

    @exception_handler
    def tensor_exists(self, name: str) -> bool:
        typecheck(name, "name", str)
        return self._client.tensor_exists(name)

    @exception_handler
    def dataset_exists(self, name: str) -> bool:
        typecheck(name, "name", str)
        return self._client.dataset_exists(name)

    @exception_handler
    def model_exists(self, name: str) -> bool:
        typecheck(name, "name", str)
        return self._client.model_exists(name)

    @exception_handler
    def key_exists(self, key: str) -> bool:
        typecheck(key, "key", str)
        return self._client.key_exists(key)

    @exception_handler
    def poll_key(self, key: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(key, "key", str)
        ints(poll_frequency_ms=poll_frequency_ms, num_tries=num_tries)
        return self._client.poll_key(key, poll_frequency_ms, num_tries)

    @exception_handler
    def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        ints(poll_frequency_ms=poll_frequency_ms, num_tries=num_tries)
        return self._client.poll_tensor(name, poll_frequency_ms, num_tries)

    @exception_handler
    def poll_dataset(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        ints(poll_frequency_ms=poll_frequency_ms, num_tries=num_tries)
        return self._client.poll_dataset(name, poll_frequency_ms, num_tries)

    @exception_handler
    def poll_model(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        ints(poll_frequency_ms=poll_frequency_ms, num_tries=num_tries)
        return self._client.poll_model(name, poll_frequency_ms, num_tries)

    # -- aggregation lists ----------------------------------------------------------------

    @exception_handler
    def append_to_list(self, list_name: str, dataset: Dataset) -> None:
        typecheck(list_name, "list_name", str)
        typecheck(dataset, "dataset", Dataset)
        self._client.append_to_list(list_name, dataset.get_data())

    @exception_handler
    def delete_list(self, list_name: str) -> None:
        typecheck(list_name, "list_name", str)
        self._client.delete_list(list_name)

    @exception_handler
    def copy_list(self, src_name: str, dest_name: str) -> None:
        strs(src_name=src_name, dest_name=dest_name)
        self._client.copy_list(src_name, dest_name)

    @exception_handler
    def rename_list(self, src_name: str, dest_name: str) -> None:
        strs(src_name=src_name, dest_name=dest_name)
        self._client.rename_list(src_name, dest_name)

    @exception_handler
    def get_list_length(self, list_name: str) -> int:
        typecheck(list_name, "list_name", str)
        return self._client.get_list_length(list_name)

    def _poll_length(self, how: str, name: str, length: int, every_ms: int, tries: int) -> bool:
        typecheck(name, "name", str)
        ints(list_length=length, poll_frequency_ms=every_ms, num_tries=tries)
        return getattr(self._client, how)(name, length, every_ms, tries)

    @exception_handler
    def poll_list_length(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        return self._poll_length(
            "poll_list_length", name, list_length, poll_frequency_ms, num_tries
        )

    @exception_handler
    def poll_list_length_gte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        return self._poll_length(
            "poll_list_length_gte", name, list_length, poll_frequency_ms, num_tries
        )

    @exception_handler
    def poll_list_length_lte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        return self._poll_length(
            "poll_list_length_lte", name, list_length, poll_frequency_ms, num_tries
        )

    @exception_handler
    def get_datasets_from_list(self, list_name: str) -> list[Dataset]:
        typecheck(list_name, "list_name", str)
        return [Dataset.from_pybind(d) for d in self._client.get_datasets_from_list(list_name)]

    @exception_handler
    def get_dataset_list_range(
        self, list_name: str, start_index: int, end_index: int
    ) -> list[Dataset]:
        typecheck(list_name, "list_name", str)
        ints(start_index=start_index, end_index=end_index)
        found = self._client.get_dataset_list_range(list_name, start_index, end_index)
        return [Dataset.from_pybind(d) for d in found]
